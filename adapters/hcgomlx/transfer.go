package hcgomlx

import (
	"fmt"
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// tensorOf returns v as a flat tensor of m's dtype.
func (m *Mixer) tensorOf(v []float64) *tensors.Tensor {
	if m.dtype == dtypes.Float32 {
		w := make([]float32, len(v))
		for i, x := range v {
			w[i] = float32(x)
		}
		return tensors.FromFlatDataAndDimensions(w, len(w))
	}
	return tensors.FromFlatDataAndDimensions(append([]float64(nil), v...), len(v))
}

// CopyFromNative sets the variables of m in scope to the current values of
// the native mixer's Params (rounded to float32 for a Float32 Mixer),
// creating those that do not exist: a native → GoMLX transfer, for example to
// fine-tune in GoMLX a mixer trained by package net. It returns an error
// wrapping ErrParams, and changes nothing, if an existing variable has the
// wrong shape or dtype, or a native value is not finite (or overflows
// float32).
func (m *Mixer) CopyFromNative(scope *model.Scope) error {
	ps := m.native.Params()
	for _, p := range ps {
		for i, x := range p.Value {
			if math.IsNaN(x) || math.IsInf(x, 0) || (m.dtype == dtypes.Float32 && math.IsInf(float64(float32(x)), 0)) {
				return fmt.Errorf("%w: native %s[%d] = %v is not finite in %s", ErrParams, p.Name, i, x, m.dtype)
			}
		}
		if v := scope.GetVariable(p.Name); v != nil {
			if s := v.Shape(); s.Rank() != 1 || s.Dimensions[0] != len(p.Value) || s.DType != m.dtype {
				return fmt.Errorf("%w: variable %q has shape %s, want (%s)[%d]", ErrParams, p.Name, s, m.dtype, len(p.Value))
			}
		}
	}
	for _, p := range ps {
		t := m.tensorOf(p.Value)
		if v := scope.GetVariable(p.Name); v != nil {
			if err := v.SetValue(t); err != nil {
				return fmt.Errorf("%w: variable %q: %w", ErrParams, p.Name, err)
			}
			continue
		}
		if _, err := scope.CreateVariable(p.Name, t); err != nil {
			return fmt.Errorf("%w: variable %q: %w", ErrParams, p.Name, err)
		}
	}
	return nil
}

// CopyToNative copies the values of m's variables in scope into the native
// mixer's Params (widened to float64): a GoMLX → native transfer, after
// which the native diagnostics (hc.Layer.MeanResTo, birkhoff.Decompose of
// H_res, package net's depth records) apply to the GoMLX-trained mixer. It
// returns an error wrapping ErrParams, and changes no Param, if a variable is
// missing, has the wrong shape or dtype, has no value yet, or holds a value
// that is not finite.
func (m *Mixer) CopyToNative(scope *model.Scope) error {
	ps := m.native.Params()
	vals := make([][]float64, len(ps))
	for k, p := range ps {
		v := scope.GetVariable(p.Name)
		if v == nil {
			return fmt.Errorf("%w: no variable %q in scope %q", ErrParams, p.Name, scope.Scope())
		}
		if s := v.Shape(); s.Rank() != 1 || s.Dimensions[0] != len(p.Value) || s.DType != m.dtype {
			return fmt.Errorf("%w: variable %q has shape %s, want (%s)[%d]", ErrParams, p.Name, s, m.dtype, len(p.Value))
		}
		t, err := v.Value()
		if err != nil {
			return fmt.Errorf("%w: variable %q: %w", ErrParams, p.Name, err)
		}
		var w []float64
		if m.dtype == dtypes.Float32 {
			for _, x := range tensors.MustCopyFlatData[float32](t) {
				w = append(w, float64(x))
			}
		} else {
			w = tensors.MustCopyFlatData[float64](t)
		}
		for i, x := range w {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("%w: variable %s[%d] = %v is not finite", ErrParams, p.Name, i, x)
			}
		}
		vals[k] = w
	}
	for k, p := range ps {
		copy(p.Value, vals[k])
	}
	return nil
}
