package f32

import (
	"errors"
	"math"

	"github.com/hyperconn/hyperconn/internal/cpu"
)

// ErrShape is the panic value of a kernel called with slices of different
// lengths.
var ErrShape = errors.New("f32: slice lengths differ")

// HasAVX2 reports whether the exported kernels run the AVX2 assembly (amd64
// with AVX2 enabled by the operating system). Tests may set it to false to
// force the pure-Go twins.
var HasAVX2 = cpu.AVX2

// AdamWConsts are the per-step scalars of one AdamW update (see AdamW).
type AdamWConsts struct {
	Scale      float32 // multiplies every gradient first (the clipping factor)
	Beta1      float32
	Beta2      float32
	StepSize   float32 // lr / (1 − β₁ᵗ)
	InvSqrtBC2 float32 // 1 / √(1 − β₂ᵗ)
	Eps        float32
	Decay      float32 // multiplies the parameter (1 − lr·λ; 1 for no decay)
}

// AdamW applies one AdamW update to val, with gradients grad and moments m
// and v (all the same length; it panics with ErrShape otherwise). Per
// element, each operation rounded to float32:
//
//	g = grad·Scale
//	m = β₁·m + (1−β₁)·g
//	v = β₂·v + (1−β₂)·(g·g)
//	val = val·Decay − (StepSize·m) / (√v·InvSqrtBC2 + Eps)
//
// with 1−β₁ and 1−β₂ computed in float32. grad is not modified.
func AdamW(val, grad, m, v []float32, c *AdamWConsts) {
	if len(grad) != len(val) || len(m) != len(val) || len(v) != len(val) {
		panic(ErrShape)
	}
	n := 0
	if HasAVX2 {
		n = len(val) &^ 7
		if n > 0 {
			t := adamWTable(c)
			adamWAVX2(val[:n], grad[:n], m[:n], v[:n], &t)
		}
	}
	AdamWGo(val[n:], grad[n:], m[n:], v[n:], c)
}

// AdamWGo is the pure-Go twin of AdamW.
func AdamWGo(val, grad, m, v []float32, c *AdamWConsts) {
	if len(grad) != len(val) || len(m) != len(val) || len(v) != len(val) {
		panic(ErrShape)
	}
	s, b1, b2, ob1, ob2 := c.Scale, c.Beta1, c.Beta2, 1-c.Beta1, 1-c.Beta2
	step, isb, eps, df := c.StepSize, c.InvSqrtBC2, c.Eps, c.Decay
	m, v, grad = m[:len(val)], v[:len(val)], grad[:len(val)]
	for i := range val {
		g := grad[i] * s
		mi := float32(b1*m[i]) + float32(ob1*g)
		vi := float32(b2*v[i]) + float32(ob2*float32(g*g))
		m[i], v[i] = mi, vi
		den := float32(sqrt32(vi)*isb) + eps
		val[i] = float32(val[i]*df) - float32(step*mi)/den
	}
}

// sqrt32 is the correctly rounded float32 square root (the float64 root
// of a float32 rounds to the correct float32).
func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

// The constants of GELU, rounded to float32.
const (
	invSqrt2   = float32(0.7071067811865476) // 1/√2
	invSqrt2Pi = float32(0.3989422804014327) // 1/√(2π)
	log2e      = float32(1.4426950408889634)
	ln2        = float32(math.Ln2)
)

// erfP and erfQ are the numerator (degree 6 in x²) and denominator (degree
// 4) of Erf, highest degree first: the minimax fit used by Eigen and XLA
// for float32 on [−4, 4].
var (
	erfP = [7]float32{-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06, -5.69250639462346e-05, -7.34990630326855e-04, -2.95459980854025e-03, -1.60960333262415e-02}
	erfQ = [5]float32{-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03, -7.37332916720468e-03, -1.42647390514189e-02}
)

// Erf approximates erf(x) in float32: x·P(x²)/Q(x²) with x clamped to
// [−4, 4] (beyond which float32 erf is ±1 to the last bit). Its error
// against math.Erf is below 1e-6 (TestErf). Erf(NaN) is NaN.
func Erf(x float32) float32 {
	x = min(max(x, -4), 4)
	x2 := x * x
	p := erfP[0]
	for _, c := range erfP[1:] {
		p = float32(p*x2) + c
	}
	q := erfQ[0]
	for _, c := range erfQ[1:] {
		q = float32(q*x2) + c
	}
	return float32(x*p) / q
}

// Exp approximates eˣ in float32 for x ≤ 0 with a relative error below
// 1e-5 (about 1e-6 for x ≥ −20; TestExp): x·log₂e is split into an integer
// k and a fraction f ∈ [−½, ½], 2^f is a degree-6 Taylor polynomial of
// e^(f·ln 2), and 2^k goes into the exponent bits. Below −87 it returns 0
// (the result would be subnormal). Exp(NaN) is NaN. For x > 0 the result
// is meaningless.
func Exp(x float32) float32 {
	if x < -87 {
		return 0
	}
	t := x * log2e
	k := float32(math.Floor(float64(t + 0.5)))
	f := (t - k) * ln2
	p := float32(1.0 / 720)
	for _, c := range [...]float32{1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5, 1, 1} {
		p = float32(p*f) + c
	}
	return p * math.Float32frombits(uint32(int32(k)+127)<<23)
}

// GELU writes a = x·Φ(x) and cdf = Φ(x) = ½(1 + Erf(x/√2)) for every
// element (all three the same length; it panics with ErrShape otherwise).
// a and cdf may not alias x.
func GELU(a, cdf, x []float32) {
	if len(a) != len(x) || len(cdf) != len(x) {
		panic(ErrShape)
	}
	n := 0
	if HasAVX2 {
		n = len(x) &^ 7
		if n > 0 {
			geluAVX2(a[:n], cdf[:n], x[:n], &geluTab)
		}
	}
	GELUGo(a[n:], cdf[n:], x[n:])
}

// GELUGo is the pure-Go twin of GELU.
func GELUGo(a, cdf, x []float32) {
	if len(a) != len(x) || len(cdf) != len(x) {
		panic(ErrShape)
	}
	a, cdf = a[:len(x)], cdf[:len(x)]
	for i, v := range x {
		c := 0.5 * (1 + Erf(v*invSqrt2))
		cdf[i] = c
		a[i] = v * c
	}
}

// GELUBackward writes dx = dy·gelu′(x), gelu′(x) = Φ(x) + x·φ(x), with Φ(x)
// read from cdf (as GELU wrote it) and φ(x) = Exp(−x²/2)/√(2π), computed as
// dy·(cdf + (x/√(2π))·Exp((−½x)·x)). All four have the same length (else
// it panics with ErrShape); dx may be dy.
func GELUBackward(dx, dy, x, cdf []float32) {
	if len(dx) != len(x) || len(dy) != len(x) || len(cdf) != len(x) {
		panic(ErrShape)
	}
	n := 0
	if HasAVX2 {
		n = len(x) &^ 7
		if n > 0 {
			geluBackAVX2(dx[:n], dy[:n], x[:n], cdf[:n], &geluTab)
		}
	}
	GELUBackwardGo(dx[n:], dy[n:], x[n:], cdf[n:])
}

// GELUBackwardGo is the pure-Go twin of GELUBackward.
func GELUBackwardGo(dx, dy, x, cdf []float32) {
	if len(dx) != len(x) || len(dy) != len(x) || len(cdf) != len(x) {
		panic(ErrShape)
	}
	dx, dy, cdf = dx[:len(x)], dy[:len(x)], cdf[:len(x)]
	for i, v := range x {
		phi := float32(v*invSqrt2Pi) * Exp(float32(-0.5*v)*v)
		dx[i] = dy[i] * (cdf[i] + phi)
	}
}

// Lanes is the number of partial sums SumSquares keeps.
const Lanes = 16

// SumSquares returns Σ x² accumulated in float64 in a fixed order: element
// i is added to partial sum i mod Lanes, in index order, and the partial
// sums are combined by the fixed tree of combine. The result depends only
// on x, not on the processor.
func SumSquares(x []float32) float64 {
	var s [Lanes]float64
	n := 0
	if HasAVX2 {
		n = len(x) &^ (Lanes - 1)
		if n > 0 {
			sumSquaresAVX2(x[:n], &s)
		}
	}
	for i := n; i < len(x); i++ {
		g := float64(x[i])
		s[i%Lanes] += float64(g * g)
	}
	return combine(&s)
}

// SumSquaresGo is the pure-Go twin of SumSquares.
func SumSquaresGo(x []float32) float64 {
	var s [Lanes]float64
	for i, v := range x {
		g := float64(v)
		s[i%Lanes] += float64(g * g)
	}
	return combine(&s)
}

// combine adds the partial sums: lanes l, l+4, l+8, l+12 first, as
// (s[l]+s[l+4]) + (s[l+8]+s[l+12]), then the four results as
// (r0+r1) + (r2+r3).
func combine(s *[Lanes]float64) float64 {
	var r [4]float64
	for l := range r {
		r[l] = (s[l] + s[l+4]) + (s[l+8] + s[l+12])
	}
	return (r[0] + r[1]) + (r[2] + r[3])
}

// table is a list of constants, each broadcast to eight lanes for the
// assembly.
type table [32][8]float32

// put broadcasts v into row i.
func (t *table) put(i int, v float32) {
	for l := range t[i] {
		t[i][l] = v
	}
}

// adamWTable lays out c for adamWAVX2: Scale, β₁, 1−β₁, β₂, 1−β₂,
// StepSize, InvSqrtBC2, Eps, Decay.
func adamWTable(c *AdamWConsts) (t [9][8]float32) {
	for i, v := range [...]float32{c.Scale, c.Beta1, 1 - c.Beta1, c.Beta2, 1 - c.Beta2, c.StepSize, c.InvSqrtBC2, c.Eps, c.Decay} {
		for l := range t[i] {
			t[i][l] = v
		}
	}
	return t
}

// geluTab holds GELU's constants for the assembly, one per row: 0: 1/√2,
// 1: −4, 2: 4, 3–9: erfP, 10–14: erfQ, 15: 1, 16: ½, 17: −½, 18: 1/√(2π),
// 19: −87, 20: log₂e, 21: ln 2, 22–25: the Taylor coefficients 1/720,
// 1/120, 1/24, 1/6 (the last three, ½, 1 and 1, are rows 16 and 15), and
// 26: the int32 127 (an exponent bias, stored as its bits).
var geluTab = func() (t table) {
	vals := []float32{invSqrt2, -4, 4}
	vals = append(vals, erfP[:]...)
	vals = append(vals, erfQ[:]...)
	vals = append(vals, 1, 0.5, -0.5, invSqrt2Pi, -87, log2e, ln2, 1.0/720, 1.0/120, 1.0/24, 1.0/6, math.Float32frombits(127))
	for i, v := range vals {
		t.put(i, v)
	}
	return t
}()
