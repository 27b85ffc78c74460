package hcgomlx

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/mhc"
)

// TestTransferRoundTrip moves parameters native → GoMLX → native, in float64
// (bit for bit) and float32 (rounded once).
func TestTransferRoundTrip(t *testing.T) {
	for _, dt := range []dtypes.DType{dtypes.Float64, dtypes.Float32} {
		m := newMixer(t, caseNamed(t, "mhc-exact"), 3, 2, 0.5, 1)
		want := snapshot(m.Params())
		mix, err := New(m, dt)
		if err != nil {
			t.Fatal(err)
		}
		scope := model.NewStore().RootScope().In("mixer")
		if err := mix.CopyFromNative(scope); err != nil {
			t.Fatal(err)
		}
		for _, p := range m.Params() {
			clear(p.Value)
		}
		if err := mix.CopyToNative(scope); err != nil {
			t.Fatal(err)
		}
		for k, p := range m.Params() {
			for i, v := range p.Value {
				w := want[k][i]
				if dt == dtypes.Float32 {
					w = float64(float32(w))
				}
				if v != w {
					t.Fatalf("%s: %s[%d] = %v after the round trip, want %v", dt, p.Name, i, v, w)
				}
			}
		}
		// A second CopyFromNative overwrites the existing variables.
		m.Params()[0].Value[0] = 0.25
		if err := mix.CopyFromNative(scope); err != nil {
			t.Fatal(err)
		}
		v := scope.GetVariable(m.Params()[0].Name)
		got, _ := v.Value()
		if x := firstValue(got); x != 0.25 {
			t.Errorf("%s: CopyFromNative into an existing variable gave %v, want 0.25", dt, x)
		}
	}
}

func firstValue(t *tensors.Tensor) float64 {
	if t.DType() == dtypes.Float32 {
		return float64(tensors.MustCopyFlatData[float32](t)[0])
	}
	return tensors.MustCopyFlatData[float64](t)[0]
}

func snapshot(ps []*hc.Param) [][]float64 {
	var s [][]float64
	for _, p := range ps {
		s = append(s, slices.Clone(p.Value))
	}
	return s
}

// TestTransferErrors: bad values and mismatched variables are errors
// wrapping ErrParams, and nothing is half-written.
func TestTransferErrors(t *testing.T) {
	m, err := mhc.New(mhc.ExactConfig(3, 2, 0))
	if err != nil {
		t.Fatal(err)
	}
	mix, err := New(m, dtypes.Float64)
	if err != nil {
		t.Fatal(err)
	}
	ps := m.Params()
	before := snapshot(ps)

	// CopyToNative from an empty scope: a missing variable.
	if err := mix.CopyToNative(model.NewStore().RootScope()); !errors.Is(err, ErrParams) {
		t.Errorf("missing variables: %v, want ErrParams", err)
	}
	// A non-finite variable value (in the last Param): nothing is copied.
	scope := model.NewStore().RootScope()
	if err := mix.CopyFromNative(scope); err != nil {
		t.Fatal(err)
	}
	last := ps[len(ps)-1]
	bad := slices.Clone(last.Value)
	bad[0] = math.NaN()
	if err := scope.GetVariable(last.Name).SetValue(tensors.FromFlatDataAndDimensions(bad, len(bad))); err != nil {
		t.Fatal(err)
	}
	ps[0].Value[0] = 42 // must survive the failed copy
	if err := mix.CopyToNative(scope); !errors.Is(err, ErrParams) {
		t.Errorf("NaN variable: %v, want ErrParams", err)
	}
	if ps[0].Value[0] != 42 {
		t.Errorf("a failed CopyToNative changed %s", ps[0].Name)
	}
	ps[0].Value[0] = before[0][0]
	// A variable of the wrong size.
	scope2 := model.NewStore().RootScope()
	if _, err := scope2.CreateVariable(last.Name, tensors.FromFlatDataAndDimensions([]float64{1}, 1)); err != nil {
		t.Fatal(err)
	}
	if err := mix.CopyFromNative(scope2); !errors.Is(err, ErrParams) {
		t.Errorf("wrong-size variable: %v, want ErrParams", err)
	}
	if scope2.GetVariable(ps[0].Name) != nil {
		t.Errorf("a failed CopyFromNative created %q", ps[0].Name)
	}
	if err := mix.CopyToNative(scope2); !errors.Is(err, ErrParams) {
		t.Errorf("CopyToNative from a wrong-size variable: %v, want ErrParams", err)
	}
	// A native value that is not finite, or overflows float32.
	ps[0].Value[1] = math.Inf(1)
	if err := mix.CopyFromNative(model.NewStore().RootScope()); !errors.Is(err, ErrParams) {
		t.Errorf("infinite native value: %v, want ErrParams", err)
	}
	ps[0].Value[1] = 1e300
	mix32, _ := New(m, dtypes.Float32)
	if err := mix32.CopyFromNative(model.NewStore().RootScope()); !errors.Is(err, ErrParams) {
		t.Errorf("native value overflowing float32: %v, want ErrParams", err)
	}
	if err := mix.CopyFromNative(model.NewStore().RootScope()); err != nil {
		t.Errorf("1e300 in float64: %v", err)
	}
}
