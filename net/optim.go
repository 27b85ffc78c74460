package net

import (
	"errors"
	"fmt"
	"math"

	"github.com/hyperconn/hyperconn/internal/f64"
)

var (
	// ErrConfig is wrapped by the errors returned for an invalid optimiser
	// configuration or learning rate.
	ErrConfig = errors.New("net: invalid configuration")

	// ErrState is wrapped by the errors returned when an optimiser state
	// given to SetState does not fit the optimiser's parameters.
	ErrState = errors.New("net: optimizer state mismatch")
)

// Defaults applied by NewAdamW to zero fields of AdamWConfig.
const (
	DefaultBeta1 = 0.9
	DefaultBeta2 = 0.999
	DefaultEps   = 1e-8
)

// AdamWConfig configures AdamW. A zero field takes the documented default.
type AdamWConfig struct {
	Beta1 float64 // first-moment decay in (0, 1); 0 means DefaultBeta1.
	Beta2 float64 // second-moment decay in (0, 1); 0 means DefaultBeta2.
	Eps   float64 // added to √v̂; 0 means DefaultEps.

	// WeightDecay is the decoupled decay λ ≥ 0 applied to every parameter
	// whose NoDecay is false; 0 means no decay.
	WeightDecay float64
}

// AdamW is Adam with decoupled weight decay (Loshchilov & Hutter, arXiv
// 1711.05101). With the learning rate η of step t, gradient g and
// λ = WeightDecay (0 for NoDecay parameters), each value p becomes
//
//	m ← β1·m + (1−β1)·g,   v ← β2·v + (1−β2)·g²
//	p ← p·(1 − η·λ) − η·(m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + ε),
//
// the update order of PyTorch's torch.optim.AdamW. The moments are stored
// flat, parameter after parameter in the order given to NewAdamW, which is
// also the layout of State. A step allocates nothing.
type AdamW struct {
	cfg    AdamWConfig
	params []*Param
	m, v   []float64
	step   int
}

// NewAdamW returns an AdamW over params with zero moments. It returns an
// error wrapping ErrConfig if a configuration value is out of range, a
// parameter is nil, listed twice or has len(Grad) ≠ len(Value).
func NewAdamW(params []*Param, cfg AdamWConfig) (*AdamW, error) {
	if cfg.Beta1 == 0 {
		cfg.Beta1 = DefaultBeta1
	}
	if cfg.Beta2 == 0 {
		cfg.Beta2 = DefaultBeta2
	}
	if cfg.Eps == 0 {
		cfg.Eps = DefaultEps
	}
	switch {
	case !(cfg.Beta1 > 0 && cfg.Beta1 < 1):
		return nil, fmt.Errorf("net: adamw: beta1 %v not in (0, 1): %w", cfg.Beta1, ErrConfig)
	case !(cfg.Beta2 > 0 && cfg.Beta2 < 1):
		return nil, fmt.Errorf("net: adamw: beta2 %v not in (0, 1): %w", cfg.Beta2, ErrConfig)
	case !(cfg.Eps > 0) || math.IsInf(cfg.Eps, 0):
		return nil, fmt.Errorf("net: adamw: eps %v not positive and finite: %w", cfg.Eps, ErrConfig)
	case !(cfg.WeightDecay >= 0) || math.IsInf(cfg.WeightDecay, 0):
		return nil, fmt.Errorf("net: adamw: weight decay %v not non-negative and finite: %w", cfg.WeightDecay, ErrConfig)
	}
	seen := make(map[*Param]bool, len(params))
	total := 0
	for i, p := range params {
		switch {
		case p == nil:
			return nil, fmt.Errorf("net: adamw: parameter %d is nil: %w", i, ErrConfig)
		case seen[p]:
			return nil, fmt.Errorf("net: adamw: parameter %q listed twice: %w", p.Name, ErrConfig)
		case len(p.Grad) != len(p.Value):
			return nil, fmt.Errorf("net: adamw: parameter %q has %d gradients for %d values: %w", p.Name, len(p.Grad), len(p.Value), ErrConfig)
		}
		seen[p] = true
		total += len(p.Value)
	}
	return &AdamW{
		cfg:    cfg,
		params: append([]*Param(nil), params...),
		m:      make([]float64, total),
		v:      make([]float64, total),
	}, nil
}

// Config returns the configuration in use, defaults filled in.
func (o *AdamW) Config() AdamWConfig { return o.cfg }

// Len returns the number of scalar parameters the optimiser updates.
func (o *AdamW) Len() int { return len(o.m) }

// Steps returns the number of steps taken so far (t of the last step).
func (o *AdamW) Steps() int { return o.step }

// Step applies one AdamW update with learning rate lr to every parameter,
// using the gradients currently in Grad (which it leaves as they are; see
// ZeroGrad). If lr is negative or not finite the error wraps ErrConfig; if a
// gradient is NaN or ±Inf the error wraps ErrNonFinite and names the
// parameter. In both cases no value, moment or step count changes.
func (o *AdamW) Step(lr float64) error { return o.update(lr, false) }

// update is Step; finite says the caller has proved every gradient finite
// (a finite global norm does), which skips Step's scan of them.
func (o *AdamW) update(lr float64, finite bool) error {
	if !(lr >= 0) || math.IsInf(lr, 0) {
		return fmt.Errorf("net: adamw: learning rate %v not non-negative and finite: %w", lr, ErrConfig)
	}
	for _, p := range o.params {
		if finite || f64.AllFinite(p.Grad) {
			continue
		}
		for i, g := range p.Grad {
			if math.IsNaN(g) || math.IsInf(g, 0) {
				return fmt.Errorf("net: adamw: gradient %v of %q at %d: %w", g, p.Name, i, ErrNonFinite)
			}
		}
	}
	o.step++
	b1, b2, eps := o.cfg.Beta1, o.cfg.Beta2, o.cfg.Eps
	bc1 := 1 - math.Pow(b1, float64(o.step))
	bc2 := 1 - math.Pow(b2, float64(o.step))
	c := f64.AdamWConsts{Beta1: b1, Beta2: b2, StepSize: lr / bc1, InvSqrtBC2: 1 / math.Sqrt(bc2), Eps: eps}
	off := 0
	for _, p := range o.params {
		k := len(p.Value)
		c.Decay = 1
		if !p.NoDecay {
			c.Decay = 1 - lr*o.cfg.WeightDecay
		}
		f64.AdamW(p.Value, p.Grad, o.m[off:off+k], o.v[off:off+k], &c)
		off += k
	}
	return nil
}

// ZeroGrad sets every gradient of the optimiser's parameters to zero.
func (o *AdamW) ZeroGrad() {
	for _, p := range o.params {
		clear(p.Grad)
	}
}

// State returns copies of the first and second moments (flat, in parameter
// order) and the step count: everything SetState needs to resume.
func (o *AdamW) State() (m, v []float64, step int) {
	return append([]float64(nil), o.m...), append([]float64(nil), o.v...), o.step
}

// SetState restores moments and step count saved by State. It returns an
// error wrapping ErrState, and changes nothing, if the lengths differ from
// Len, step is negative, a moment is not finite or a second moment is
// negative.
func (o *AdamW) SetState(m, v []float64, step int) error {
	return setState(o.m, o.v, &o.step, m, v, step)
}

// setState is SetState for moments of either precision: it checks the
// state m, v, step — lengths those of dm and dv, a non-negative step,
// finite first moments and finite non-negative second moments — and
// copies it into dm, dv and *dstep, or returns an error wrapping ErrState
// and changes nothing.
func setState[F float32 | float64](dm, dv []F, dstep *int, m, v []F, step int) error {
	if len(m) != len(dm) || len(v) != len(dv) {
		return fmt.Errorf("net: adamw: state has %d and %d moments, want %d: %w", len(m), len(v), len(dm), ErrState)
	}
	if step < 0 {
		return fmt.Errorf("net: adamw: negative step %d: %w", step, ErrState)
	}
	for i := range m {
		mi, vi := float64(m[i]), float64(v[i])
		if math.IsNaN(mi) || math.IsInf(mi, 0) || !(vi >= 0) || math.IsInf(vi, 0) {
			return fmt.Errorf("net: adamw: invalid moments (%v, %v) at %d: %w", m[i], v[i], i, ErrState)
		}
	}
	copy(dm, m)
	copy(dv, v)
	*dstep = step
	return nil
}

// ClipGradNorm returns the global Euclidean norm of all gradients of params
// before clipping, and if maxNorm > 0 and the norm exceeds it, scales every
// gradient by maxNorm/norm so the global norm becomes maxNorm. A NaN or
// infinite norm is returned with the gradients left as they are, so that the
// following AdamW.Step reports the problem. The sum of squares is
// accumulated unscaled: gradients above ~1e154 overflow to +Inf.
func ClipGradNorm(params []*Param, maxNorm float64) float64 {
	var ss float64
	for _, p := range params {
		for _, g := range p.Grad {
			ss += g * g
		}
	}
	norm := math.Sqrt(ss)
	if maxNorm > 0 && norm > maxNorm && !math.IsInf(norm, 0) {
		s := maxNorm / norm
		for _, p := range params {
			for i := range p.Grad {
				p.Grad[i] *= s
			}
		}
	}
	return norm
}

// clipGrads clips the global gradient norm of params and, unless opt32 is
// nil, of opt32's float32 arena to limit (none if limit ≤ 0) and returns
// the norm before clipping. Without float32 parameters it is
// ClipGradNorm, with a scale32 of 1. With them the norm covers both kinds;
// the float64 gradients are scaled in place and the float32 ones' factor
// scale32 is returned, for adamW32.stepScaled to apply on the fly (one pass
// over them fewer).
func clipGrads(params []*Param, opt32 *adamW32, limit float64) (norm, scale32 float64) {
	if opt32 == nil {
		return ClipGradNorm(params, limit), 1
	}
	ss := opt32.sumSquares()
	for _, p := range params {
		ss += f64.SumSquares(p.Grad)
	}
	norm = math.Sqrt(ss)
	if limit > 0 && norm > limit && !math.IsInf(norm, 0) {
		scale32 = limit / norm
		for _, p := range params {
			for i := range p.Grad {
				p.Grad[i] *= scale32
			}
		}
		return norm, scale32
	}
	return norm, 1
}

// Schedule is a learning-rate schedule over a run of Total updates: linear
// warmup from Peak/Warmup up to Peak over the first Warmup updates, then
// linear decay that reaches Min at the last update and holds it afterwards.
type Schedule struct {
	Peak   float64 // learning rate of update Warmup.
	Min    float64 // floor, used by update Total and every later one.
	Warmup int     // warmup updates; 0 starts at Peak.
	Total  int     // updates in the run; Total ≤ Warmup means no decay.
}

// LR returns the learning rate of the update that follows step completed
// updates (step counts from 0, as AdamW.Steps does). With u = step+1:
//
//	u ≤ Warmup:          Peak·u/Warmup
//	Warmup < u < Total:  Peak + (Min − Peak)·(u − Warmup)/(Total − Warmup)
//	u ≥ Total:           Min (Peak if Total ≤ Warmup)
func (s Schedule) LR(step int) float64 {
	u := step + 1
	if u <= s.Warmup {
		return s.Peak * float64(u) / float64(s.Warmup)
	}
	if s.Total <= s.Warmup {
		return s.Peak
	}
	if u >= s.Total {
		return s.Min
	}
	f := float64(u-s.Warmup) / float64(s.Total-s.Warmup)
	return s.Peak + (s.Min-s.Peak)*f
}
