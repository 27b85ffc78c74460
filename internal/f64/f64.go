// Package f64 holds the float64 element-wise kernels of a training step:
// the AdamW update of the float64 parameters (the mixers', and every
// parameter of a float64 model), the finiteness scan of a slice, and the
// row kernels of small products (rows.go).
//
// AdamW has a pure-Go twin, AdamWGo, that defines its result; on amd64 with
// AVX2 AdamW runs assembly that evaluates the same operations in the same
// order, four lanes at a time, with no fused multiply-adds, so the two agree
// bit for bit (TestTwins). See package f32 for the float32 kernels.
package f64

import (
	"errors"
	"math"

	"github.com/hyperconn/hyperconn/internal/cpu"
)

// ErrShape is the panic value of a kernel called with slices of different
// lengths.
var ErrShape = errors.New("f64: slice lengths differ")

// HasAVX2 reports whether AdamW runs the AVX2 assembly. Tests may set it
// to false to force the pure-Go twin.
var HasAVX2 = cpu.AVX2

// AdamWConsts are the per-step scalars of one AdamW update (see AdamW).
type AdamWConsts struct {
	Beta1      float64
	Beta2      float64
	StepSize   float64 // lr / (1 − β₁ᵗ)
	InvSqrtBC2 float64 // 1 / √(1 − β₂ᵗ)
	Eps        float64
	Decay      float64 // multiplies the parameter (1 − lr·λ; 1 for no decay)
}

// AdamW applies one AdamW update to val, with gradients grad and moments m
// and v (all the same length; it panics with ErrShape otherwise). Per
// element, each operation rounded to float64:
//
//	m = β₁·m + (1−β₁)·g
//	v = β₂·v + ((1−β₂)·g)·g
//	val = val·Decay − (StepSize·m) / (√v·InvSqrtBC2 + Eps)
//
// grad is not modified.
func AdamW(val, grad, m, v []float64, c *AdamWConsts) {
	if len(grad) != len(val) || len(m) != len(val) || len(v) != len(val) {
		panic(ErrShape)
	}
	n := 0
	if HasAVX2 {
		n = len(val) &^ 3
		if n > 0 {
			t := [8]float64{c.Beta1, 1 - c.Beta1, c.Beta2, 1 - c.Beta2, c.StepSize, c.InvSqrtBC2, c.Eps, c.Decay}
			adamWAVX2(val[:n], grad[:n], m[:n], v[:n], &t)
		}
	}
	AdamWGo(val[n:], grad[n:], m[n:], v[n:], c)
}

// AdamWGo is the pure-Go twin of AdamW.
func AdamWGo(val, grad, m, v []float64, c *AdamWConsts) {
	if len(grad) != len(val) || len(m) != len(val) || len(v) != len(val) {
		panic(ErrShape)
	}
	b1, b2, ob1, ob2 := c.Beta1, c.Beta2, 1-c.Beta1, 1-c.Beta2
	step, isb, eps, df := c.StepSize, c.InvSqrtBC2, c.Eps, c.Decay
	m, v, grad = m[:len(val)], v[:len(val)], grad[:len(val)]
	for i, g := range grad {
		mi := float64(b1*m[i]) + float64(ob1*g)
		vi := float64(b2*v[i]) + float64(float64(ob2*g)*g)
		m[i], v[i] = mi, vi
		val[i] = float64(val[i]*df) - float64(step*mi)/(float64(math.Sqrt(vi)*isb)+eps)
	}
}

// AllFinite reports whether no element of s is NaN or ±Inf. It is
// branch-free: v·0 is ±0 for a finite v and NaN otherwise, and a sum of
// zeros is zero; several running sums keep it off a single dependency
// chain (sixteen, in four AVX registers, where HasAVX).
func AllFinite(s []float64) bool {
	return finite(nil, s)
}

// CopyFinite copies src into dst, like copy, and reports whether no
// element of src is NaN or ±Inf, in one pass. It panics with ErrShape if
// the lengths differ.
func CopyFinite(dst, src []float64) bool {
	if len(dst) != len(src) {
		panic(ErrShape)
	}
	return finite(dst, src)
}

// finite is AllFinite(s), copying s into dst unless dst is nil.
func finite(dst, s []float64) bool {
	var a0 float64
	i := 0
	if HasAVX && len(s) >= 16 {
		i = len(s) &^ 15
		var pd *float64
		if dst != nil {
			pd = &dst[:i][0]
		}
		a0 = finiteAVX(pd, &s[0], i)
	}
	if dst != nil {
		copy(dst[i:], s[i:])
	}
	var a1, a2, a3 float64
	for ; i+4 <= len(s); i += 4 {
		a0 += s[i] * 0
		a1 += s[i+1] * 0
		a2 += s[i+2] * 0
		a3 += s[i+3] * 0
	}
	for ; i < len(s); i++ {
		a0 += s[i] * 0
	}
	return (a0+a1)+(a2+a3) == 0
}

// SumSquares returns Σ s_i², with eight independent partial sums added in
// a fixed order, so the result is deterministic: one chain of dependent
// additions is latency-bound, four times slower on long vectors.
func SumSquares(s []float64) float64 {
	var a0, a1, a2, a3, a4, a5, a6, a7 float64
	i := 0
	for ; i+8 <= len(s); i += 8 {
		v := s[i : i+8 : i+8]
		a0 += v[0] * v[0]
		a1 += v[1] * v[1]
		a2 += v[2] * v[2]
		a3 += v[3] * v[3]
		a4 += v[4] * v[4]
		a5 += v[5] * v[5]
		a6 += v[6] * v[6]
		a7 += v[7] * v[7]
	}
	for _, v := range s[i:] {
		a0 += v * v
	}
	return ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))
}
