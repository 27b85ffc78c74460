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
	l.product(dst, x, rows)
	for r := range rows {
		f32.Add(dst[r*l.out:(r+1)*l.out], l.b.Value)
	}
}

// product writes x·W (rows×out) into dst, without the bias: for a caller
// that adds it in its next pass over dst (gelu32.forwardBias).
func (l *linear32) product(dst, x []float32, rows int) {
	if len(x) != rows*l.in || len(dst) != rows*l.out {
		panic(ErrShape)
	}
	gemm.Mul32(blas.NoTrans, blas.NoTrans, rows, l.out, l.in, 1, x, l.in, l.w.Value, l.out, 0, dst, l.out)
}

// backward adds xᵀ·dy to W's gradient (writes it, if stale) and the column
// sums of dy to b's, and, unless dx is nil, overwrites dx with dy·Wᵀ.
func (l *linear32) backward(dx, dy, x []float32, rows int) {
	l.backwardW(dx, dy, x, rows)
	l.b.settle()
	for r := range rows {
		f32.Add(l.b.Grad, dy[r*l.out:(r+1)*l.out])
	}
}

// backwardW is backward without the bias gradient: for a caller that has
// added dy's column sums to it in its own pass over dy
// (gelu32.backwardBias).
func (l *linear32) backwardW(dx, dy, x []float32, rows int) {
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
	if dx != nil {
		gemm.Mul32(blas.NoTrans, blas.Trans, rows, l.in, l.out, 1, dy, l.out, l.w.Value, l.out, 0, dx, l.in)
	}
}

// rmsNorm32 is RMSNorm in float32 (see RMSNorm) on f32's RMS kernels; row
// sums are accumulated in float64.
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
		f32.MulScaled(dr, g, xr, inv)
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
		if inv64 < tiny32 {
			// Huge row: with x̂ = inv·x (float64, then rounded) and
			// s = Σ g·dy·x̂, dx = inv·(g·dy − x̂·s/C).
			var s float64
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
		s := f32.RMSGrad(dg, g, dyr, xr, inv) // Σ g·dy·x, and dg += dy·x·inv
		c := inv * inv * float32(s/float64(n.c))
		f32.RMSInputGrad(dxr, g, dyr, xr, inv, c)
	}
}

// gelu32 is the float32 GELU of one block: a = z·Φ(z) with Φ(z) =
// ½(1 + erf(z/√2)), keeping Φ in cdf for the backward pass; the kernels are
// f32.GELU and f32.GELUBackward (erf and exp by polynomials, errors below
// 1e-6). The forward pass first adds the preceding Linear's bias to its
// product, z = x + b (stored back into x, which the backward pass reads),
// and the backward pass adds the result's column sums to that bias's
// gradient, each row by row while the row is in cache, instead of in
// separate passes over the whole activation. It is a gemm.Ranger over the
// elements so that the element-wise work runs on every thread.
type gelu32 struct {
	a, cdf, x   []float32 // forward: outputs a, cdf; input x (z after)
	bias        []float32 // forward: the bias, one row's worth
	dx, dy      []float32 // backward
	db          []float32 // backward: the bias gradient
	backwardRun bool
	dbDone      bool // backward: Range(0, n) added dx's column sums to db
}

// Range runs the forward or backward pass on elements [lo, hi), row
// segment by row segment.
func (g *gelu32) Range(lo, hi int) {
	c := len(g.bias)
	if g.backwardRun {
		c = len(g.db)
	}
	whole := lo == 0 && hi == len(g.x)
	for lo < hi {
		j := lo % c // column of element lo
		end := min(hi, lo-j+c)
		if !g.backwardRun {
			x := g.x[lo:end]
			f32.Add(x, g.bias[j:j+end-lo])
			f32.GELU(g.a[lo:end], g.cdf[lo:end], x)
		} else {
			dx := g.dx[lo:end]
			f32.GELUBackward(dx, g.dy[lo:end], g.x[lo:end], g.cdf[lo:end])
			if whole { // one goroutine, rows in order: add while in cache
				f32.Add(g.db[j:j+end-lo], dx)
			}
		}
		lo = end
	}
	if whole && g.backwardRun {
		g.dbDone = true
	}
}

// forwardBias adds the bias b to every row of x (rows of len(b) values)
// and writes gelu(x) into a and Φ(x) into cdf.
func (g *gelu32) forwardBias(a, cdf, x, b []float32) {
	if len(b) == 0 || len(x)%len(b) != 0 || len(a) != len(x) || len(cdf) != len(x) {
		panic(ErrShape)
	}
	g.a, g.cdf, g.x, g.bias, g.backwardRun = a, cdf, x, b, false
	gemm.For(len(x), g)
	g.a, g.cdf, g.x, g.bias = nil, nil, nil, nil
}

// backwardBias overwrites dx with dy ⊙ gelu'(x), gelu'(x) = Φ(x) + x·φ(x),
// and adds dx's column sums to the bias gradient db (rows of len(db.Grad)
// values; a stale db is cleared first); dx may be dy. The sums are added
// row by row in order, as linear32.backward adds them: the result does not
// depend on whether the rows were split across threads.
func (g *gelu32) backwardBias(dx, dy, x, cdf []float32, db *Param32) {
	if len(db.Grad) == 0 || len(x)%len(db.Grad) != 0 || len(dx) != len(x) || len(dy) != len(x) || len(cdf) != len(x) {
		panic(ErrShape)
	}
	db.settle()
	g.dx, g.dy, g.x, g.cdf, g.db, g.backwardRun, g.dbDone = dx, dy, x, cdf, db.Grad, true, false
	gemm.For(len(x), g)
	if !g.dbDone { // split across threads: sum the rows now
		c := len(db.Grad)
		for r := range len(dx) / c {
			f32.Add(db.Grad, dx[r*c:(r+1)*c])
		}
	}
	g.dx, g.dy, g.x, g.cdf, g.db = nil, nil, nil, nil, nil
}

// to32 rounds src into dst (at least as long).
func to32(dst []float32, src []float64) { f32.From64(dst[:len(src)], src) }

// to64 widens src into dst (at least as long); exact.
func to64(dst []float64, src []float32) { f32.To64(dst[:len(src)], src) }
