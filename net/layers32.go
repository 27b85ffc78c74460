package net

import (
	"math"

	"gonum.org/v1/gonum/blas"

	"github.com/hyperconn/hyperconn/internal/f32"
	"github.com/hyperconn/hyperconn/internal/gemm"
)

// Param32 is one named trainable float32 tensor of a Model built with
// Config.Float32: its values, the gradient accumulated by the backward
// passes, and whether AdamW skips weight decay for it. It mirrors Param.
type Param32 struct {
	Name    string
	Value   []float32
	Grad    []float32
	NoDecay bool

	stale bool    // Grad is logically zero (see adamW32.zeroGrad)
	ss    float64 // Σ Grad², computed while Grad was in cache, if ssOK
	ssOK  bool
}

// settle clears Grad if it is stale.
func (p *Param32) settle() {
	if p.stale {
		clear(p.Grad)
		p.stale = false
	}
}

// arena32 holds every Param32 of a model in two flat slices, so that the
// optimiser, the gradient norm and zeroing run over contiguous memory,
// split across threads by index.
type arena32 struct {
	value, grad []float32
	params      []*Param32
	names       []string
}

// add appends a float32 copy of p (rounded to nearest) to the arena under
// the given checkpoint-style name. The arena's slices must have room: see
// reserve.
func (a *arena32) add(name string, p *Param) *Param32 {
	lo, k := len(a.value), len(p.Value)
	a.value = a.value[:lo+k]
	a.grad = a.grad[:lo+k]
	q := &Param32{Name: p.Name, Value: a.value[lo : lo+k : lo+k], Grad: a.grad[lo : lo+k : lo+k], NoDecay: p.NoDecay}
	for i, v := range p.Value {
		q.Value[i] = float32(v)
	}
	a.params = append(a.params, q)
	a.names = append(a.names, name)
	return q
}

// linear32 is Linear in float32 (see Linear): y = x·W + b.
type linear32 struct {
	in, out int
	w, b    *Param32
}

// newLinear32 returns the float32 rounding of l, its parameters in a.
func newLinear32(a *arena32, prefix string, l *Linear) *linear32 {
	return &linear32{in: l.In, out: l.Out, w: a.add(prefix+l.W.Name, &l.W), b: a.add(prefix+l.B.Name, &l.B)}
}

// forward writes x·W + b (rows×out) into dst: the product, then the bias
// added row by row while the rows are still in cache.
func (l *linear32) forward(dst, x []float32, rows int) {
	if len(x) != rows*l.in || len(dst) != rows*l.out {
		panic(ErrShape)
	}
	gemm.Mul32(blas.NoTrans, blas.NoTrans, rows, l.out, l.in, 1, x, l.in, l.w.Value, l.out, 0, dst, l.out)
	for r := range rows {
		f32.Add(dst[r*l.out:(r+1)*l.out], l.b.Value)
	}
}

// backward adds xᵀ·dy to W's gradient (writes it, if stale) and the column
// sums of dy to b's, and, unless dx is nil, overwrites dx with dy·Wᵀ.
func (l *linear32) backward(dx, dy, x []float32, rows int) {
	if len(x) != rows*l.in || len(dy) != rows*l.out || (dx != nil && len(dx) != rows*l.in) {
		panic(ErrShape)
	}
	beta := float32(1)
	if l.w.stale { // overwrite instead of clearing first
		beta, l.w.stale = 0, false
	}
	gemm.Mul32(blas.Trans, blas.NoTrans, l.in, l.out, rows, 1, x, l.in, dy, l.out, beta, l.w.Grad, l.out)
	// An overwritten gradient is complete for this step (each weight is
	// used once): sum its squares for clipping now, while it is in cache.
	l.w.ssOK = beta == 0
	if l.w.ssOK {
		l.w.ss = f32.SumSquares(l.w.Grad)
	}
	l.b.settle()
	for r := range rows {
		f32.Add(l.b.Grad, dy[r*l.out:(r+1)*l.out])
	}
	if dx != nil {
		gemm.Mul32(blas.NoTrans, blas.Trans, rows, l.in, l.out, 1, dy, l.out, l.w.Value, l.out, 0, dx, l.in)
	}
}

// rmsNorm32 is RMSNorm in float32 (see RMSNorm); row sums are accumulated
// in float64.
type rmsNorm32 struct {
	c    int
	eps  float64
	gain *Param32
}

func newRMSNorm32(a *arena32, prefix string, n *RMSNorm) *rmsNorm32 {
	return &rmsNorm32{c: n.C, eps: n.Eps, gain: a.add(prefix+n.Gain.Name, &n.Gain)}
}

// invRMS returns 1/√(mean(x²) + ε) of one row, and that factor in float64.
// (The sum of float32 squares cannot overflow a float64.)
func (n *rmsNorm32) invRMS(x []float32) (float32, float64) {
	inv := 1 / math.Sqrt(f32.SumSquares(x)/float64(n.c)+n.eps)
	return float32(inv), inv
}

// tiny32 is the factor below which rmsNorm32 works in float64: the square
// of a float32 factor below 2^−60 (an RMS above 1.2e18) comes near
// float32's underflow (2^−126), and the factor itself is subnormal above an
// RMS of 2^126 ≈ 8.5e37.
const tiny32 = 0x1p-60

func (n *rmsNorm32) forward(dst, x []float32, rows int) {
	if len(x) != rows*n.c || len(dst) != rows*n.c {
		panic(ErrShape)
	}
	g := n.gain.Value
	for r := range rows {
		xr, dr := x[r*n.c:(r+1)*n.c], dst[r*n.c:(r+1)*n.c]
		inv, inv64 := n.invRMS(xr)
		if inv64 < tiny32 { // huge row: normalise in float64 before the gain
			for j, v := range xr {
				dr[j] = g[j] * float32(float64(v)*inv64)
			}
			continue
		}
		for j, v := range xr {
			dr[j] = g[j] * v * inv
		}
	}
}

func (n *rmsNorm32) backward(dx, dy, x []float32, rows int) {
	if len(x) != rows*n.c || len(dy) != rows*n.c || len(dx) != rows*n.c {
		panic(ErrShape)
	}
	n.gain.settle()
	g, dg := n.gain.Value, n.gain.Grad
	for r := range rows {
		xr, dyr, dxr := x[r*n.c:(r+1)*n.c], dy[r*n.c:(r+1)*n.c], dx[r*n.c:(r+1)*n.c]
		inv, inv64 := n.invRMS(xr)
		var s float64
		if inv64 < tiny32 {
			// Huge row: with x̂ = inv·x (float64, then rounded) and
			// s = Σ g·dy·x̂, dx = inv·(g·dy − x̂·s/C).
			for j, v := range xr {
				xh := float32(float64(v) * inv64)
				s += float64(g[j] * dyr[j] * xh)
				dg[j] += dyr[j] * xh
			}
			c := float32(s / float64(n.c))
			for j, v := range xr {
				xh := float32(float64(v) * inv64)
				dxr[j] = float32(inv64 * float64(g[j]*dyr[j]-xh*c))
			}
			continue
		}
		for j, v := range xr {
			s += float64(g[j] * dyr[j] * v)
			dg[j] += dyr[j] * v * inv
		}
		c := inv * inv * float32(s/float64(n.c))
		for j, v := range xr {
			dxr[j] = inv * (g[j]*dyr[j] - v*c)
		}
	}
}

// gelu32 is the float32 GELU of one block: a = x·Φ(x) with Φ(x) =
// ½(1 + erf(x/√2)), keeping Φ in cdf for the backward pass; the kernels are
// f32.GELU and f32.GELUBackward (erf and exp by polynomials, errors below
// 1e-6). It is a gemm.Ranger so that the element-wise work runs on every
// thread.
type gelu32 struct {
	a, cdf, x   []float32 // forward: outputs a, cdf; input x
	dx, dy      []float32 // backward
	backwardRun bool
}

// Range runs the forward or backward pass on elements [lo, hi).
func (g *gelu32) Range(lo, hi int) {
	if !g.backwardRun {
		f32.GELU(g.a[lo:hi], g.cdf[lo:hi], g.x[lo:hi])
		return
	}
	f32.GELUBackward(g.dx[lo:hi], g.dy[lo:hi], g.x[lo:hi], g.cdf[lo:hi])
}

// forward writes gelu(x) into a and Φ(x) into cdf.
func (g *gelu32) forward(a, cdf, x []float32) {
	g.a, g.cdf, g.x, g.backwardRun = a, cdf, x, false
	gemm.For(len(x), g)
	g.a, g.cdf, g.x = nil, nil, nil
}

// backward overwrites dx with dy ⊙ gelu'(x), gelu'(x) = Φ(x) + x·φ(x);
// dx may be dy.
func (g *gelu32) backward(dx, dy, x, cdf []float32) {
	g.dx, g.dy, g.x, g.cdf, g.backwardRun = dx, dy, x, cdf, true
	gemm.For(len(x), g)
	g.dx, g.dy, g.x, g.cdf = nil, nil, nil, nil
}

// to32 rounds src into dst (at least as long).
func to32(dst []float32, src []float64) { f32.From64(dst[:len(src)], src) }

// to64 widens src into dst (at least as long); exact.
func to64(dst []float64, src []float32) { f32.To64(dst[:len(src)], src) }
