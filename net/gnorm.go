package net

import (
	"math"

	"github.com/hyperconn/hyperconn/internal/f32"
	"github.com/hyperconn/hyperconn/internal/f64"
	"github.com/hyperconn/hyperconn/internal/gemm"
	"github.com/hyperconn/hyperconn/internal/rms"
)

// rmsNorm is RMSNorm generic over its element type (see RMSNorm). Row sums
// of squares are accumulated in float64; a row whose factor 1/rms is tiny
// (a huge row) is normalised in float64 before the gain is applied, one
// factor at a time, so that nothing overflows or underflows. Other rows
// run f32's AVX2 kernels in float32 and plain loops in float64.
type rmsNorm[F Float] struct {
	c    int
	eps  float64
	gain *Tensor[F]

	// keep makes forward keep each row's factor in inv for backward,
	// which must then be given the input of the last forward (as the
	// networks' own norms are); without it (the public RMSNorm's passes)
	// backward computes the factors again.
	keep bool
	inv  []float64
}

// rmsNorm32 is the float32 instantiation that a Float32 Model's layers use.
type rmsNorm32 = rmsNorm[float32]

// newRMSNormOf returns the generic layer for the freshly built float64
// RMSNorm n (see newLinearOf).
func newRMSNormOf[F Float](a *arena32, prefix string, n *RMSNorm) *rmsNorm[F] {
	return &rmsNorm[F]{c: n.C, eps: n.Eps, gain: tensorOf[F](a, prefix+n.Gain.Name, &n.Gain), keep: true}
}

// newRMSNorm32 is newRMSNormOf at float32.
func newRMSNorm32(a *arena32, prefix string, n *RMSNorm) *rmsNorm32 {
	return newRMSNormOf[float32](a, prefix, n)
}

// tiny32 is the factor below which the float32 RMSNorm works in float64:
// the square of a float32 factor below 2^−60 (an RMS above 1.2e18) comes
// near float32's underflow (2^−126), and the factor itself is subnormal
// above an RMS of 2^126 ≈ 8.5e37.
const tiny32 = 0x1p-60

// invRMS returns 1/√(mean(x²) + ε) of one row in float64, and whether it
// is so small (the row so large) that the row must be normalised before
// the gain and in float64: rms.Inv and rms.Tiny in float64 (a scaled sum
// for rows whose squares overflow; NaN if the factor is not a normal
// float64), the float64 sum of f32.SumSquares in float32 (which cannot
// overflow a float64) and tiny32.
func (n *rmsNorm[F]) invRMS(x []F) (inv float64, huge bool) {
	if x32, ok := any(x).([]float32); ok {
		inv = 1 / math.Sqrt(f32.SumSquares(x32)/float64(n.c)+n.eps)
		return inv, inv < tiny32
	}
	x64 := any(x).([]float64)
	var ss float64
	for _, v := range x64 {
		ss += v * v
	}
	inv = rms.Inv(ss, x64, n.c, n.eps)
	return inv, rms.Tiny(inv)
}

// huge is the second result of invRMS for the factor inv.
func (n *rmsNorm[F]) huge(inv float64) bool {
	if is32[F]() {
		return inv < tiny32
	}
	return rms.Tiny(inv)
}

// forward writes the normalised rows of x into dst (both rows·C; dst may
// be x).
func (n *rmsNorm[F]) forward(dst, x []F, rows int) {
	if rows < 0 || len(x) != rows*n.c || len(dst) != rows*n.c {
		panic(ErrShape)
	}
	g := n.gain.Value
	if n.keep {
		if cap(n.inv) < rows {
			n.inv = make([]float64, rows)
		}
		n.inv = n.inv[:rows]
	}
	for r := range rows {
		xr, dr := x[r*n.c:(r+1)*n.c], dst[r*n.c:(r+1)*n.c]
		inv, huge := n.invRMS(xr)
		if n.keep {
			n.inv[r] = inv
		}
		switch d := any(dr).(type) {
		case []float32:
			if !huge {
				f32.MulScaled(d, any(g).([]float32), any(xr).([]float32), float32(inv))
				continue
			}
		case []float64:
			if !huge {
				g, xr := any(g).([]float64), any(xr).([]float64)
				for j, v := range xr {
					d[j] = g[j] * v * inv
				}
				continue
			}
		}
		for j, v := range xr { // huge row: normalise before the gain
			dr[j] = g[j] * F(float64(v)*inv)
		}
	}
}

// backward adds Σ_rows dy ⊙ x·ρ to the gain's gradient (ρ = 1/rms of the
// row; a stale gradient is cleared first) and overwrites dx with
// ρ·(g⊙dy − x·ρ²·(Σ_j g_j·dy_j·x_j)/C) (all rows·C; dx may be dy). With
// keep, x must be the input of the last forward, whose factors it reads.
func (n *rmsNorm[F]) backward(dx, dy, x []F, rows int) {
	if rows < 0 || len(x) != rows*n.c || len(dy) != rows*n.c || len(dx) != rows*n.c {
		panic(ErrShape)
	}
	n.gain.settle()
	g, dg := n.gain.Value, n.gain.Grad
	for r := range rows {
		xr, dyr, dxr := x[r*n.c:(r+1)*n.c], dy[r*n.c:(r+1)*n.c], dx[r*n.c:(r+1)*n.c]
		var inv float64
		var huge bool
		if n.keep && len(n.inv) == rows {
			inv = n.inv[r]
			huge = n.huge(inv)
		} else {
			inv, huge = n.invRMS(xr)
		}
		if !huge {
			rmsRowBackward(dxr, dyr, xr, g, dg, inv, n.c)
			continue
		}
		// Huge row: ρ² underflows, so every product takes one ρ at a time:
		// with x̂ = ρ·x (in float64, then rounded) and s = Σ g·dy·x̂,
		// dx = ρ·(g·dy − x̂·s/C).
		var s float64
		for j, v := range xr {
			xh := F(float64(v) * inv)
			s += float64(g[j] * dyr[j] * xh)
			dg[j] += dyr[j] * xh
		}
		c := F(s / float64(n.c))
		for j, v := range xr {
			xh := F(float64(v) * inv)
			dxr[j] = F(inv * float64(g[j]*dyr[j]-xh*c))
		}
	}
}

// rmsRowBackward is backward on one row of normal size with factor inv:
// f32's RMSGrad and RMSInputGrad in float32, loops in float64.
func rmsRowBackward[F Float](dx, dy, x, g, dg []F, inv float64, c int) {
	if dx32, ok := any(dx).([]float32); ok {
		dy32, x32, g32, dg32 := any(dy).([]float32), any(x).([]float32), any(g).([]float32), any(dg).([]float32)
		inv32 := float32(inv)
		s := f32.RMSGrad(dg32, g32, dy32, x32, inv32) // Σ g·dy·x, and dg += dy·x·inv
		k := inv32 * inv32 * float32(s/float64(c))
		f32.RMSInputGrad(dx32, g32, dy32, x32, inv32, k)
		return
	}
	dx64, dy64, x64, g64, dg64 := any(dx).([]float64), any(dy).([]float64), any(x).([]float64), any(g).([]float64), any(dg).([]float64)
	var s float64
	for j, v := range x64 {
		s += g64[j] * dy64[j] * v
		dg64[j] += dy64[j] * v * inv
	}
	k := inv * inv * s / float64(c)
	for j, v := range x64 {
		dx64[j] = inv * (g64[j]*dy64[j] - v*k)
	}
}

// sumSquares returns Σ x² accumulated in float64 (f32.SumSquares or
// f64.SumSquares).
func sumSquares[F Float](x []F) float64 {
	if x32, ok := any(x).([]float32); ok {
		return f32.SumSquares(x32)
	}
	return f64.SumSquares(any(x).([]float64))
}

// invSqrt2Pi is 1/√(2π), the Gaussian density's factor.
const invSqrt2Pi = 0.3989422804014327

// geluKernel writes gelu(x) = x·Φ(x) into a and, unless cdf is nil, Φ(x) =
// ½(1 + erf(x/√2)) into cdf: f32.GELU in float32 (erf and exp by
// polynomials, errors below 1e-6; cdf required), math.Erf in float64.
func geluKernel[F Float](a, cdf, x []F) {
	if a32, ok := any(a).([]float32); ok {
		f32.GELU(a32, any(cdf).([]float32), any(x).([]float32))
		return
	}
	a64, cdf64, x64 := any(a).([]float64), any(cdf).([]float64), any(x).([]float64)
	for i, v := range x64 {
		c := 0.5 * (1 + math.Erf(v/math.Sqrt2))
		if cdf64 != nil {
			cdf64[i] = c
		}
		a64[i] = v * c
	}
}

// geluBackKernel overwrites dx with dy ⊙ (Φ(x) + x·φ(x)), Φ(x) read from
// cdf (computed again when cdf is nil, float64 only); dx may be dy.
func geluBackKernel[F Float](dx, dy, x, cdf []F) {
	if dx32, ok := any(dx).([]float32); ok {
		f32.GELUBackward(dx32, any(dy).([]float32), any(x).([]float32), any(cdf).([]float32))
		return
	}
	dx64, dy64, x64, cdf64 := any(dx).([]float64), any(dy).([]float64), any(x).([]float64), any(cdf).([]float64)
	for i, v := range x64 {
		var c float64
		if cdf64 != nil {
			c = cdf64[i]
		} else {
			c = 0.5 * (1 + math.Erf(v/math.Sqrt2))
		}
		dx64[i] = dy64[i] * (c + v*invSqrt2Pi*math.Exp(-0.5*v*v))
	}
}

// gelu is the GELU of one MLP branch, generic over its element type: a =
// z·Φ(z), keeping Φ in cdf for the backward pass. The forward pass first
// adds the preceding Linear's bias to its product, z = x + b (stored back
// into x, which the backward pass reads), and the backward pass adds the
// result's column sums to that bias's gradient, each row by row while the
// row is in cache, instead of in separate passes over the whole
// activation. It is a gemm.Ranger over the elements so that the
// element-wise work runs on every thread.
type gelu[F Float] struct {
	a, cdf, x   []F // forward: outputs a, cdf; input x (z after)
	bias        []F // forward: the bias, one row's worth
	dx, dy      []F // backward
	db          []F // backward: the bias gradient
	backwardRun bool
	dbDone      bool // backward: Range(0, n) added dx's column sums to db
}

// gelu32 is the float32 instantiation that a Float32 Model's layers use.
type gelu32 = gelu[float32]

// Range runs the forward or backward pass on elements [lo, hi), row
// segment by row segment.
func (g *gelu[F]) Range(lo, hi int) {
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
			addTo(x, g.bias[j:j+end-lo])
			geluKernel(g.a[lo:end], g.cdf[lo:end], x)
		} else {
			dx := g.dx[lo:end]
			geluBackKernel(dx, g.dy[lo:end], g.x[lo:end], g.cdf[lo:end])
			if whole { // one goroutine, rows in order: add while in cache
				addTo(g.db[j:j+end-lo], dx)
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
func (g *gelu[F]) forwardBias(a, cdf, x, b []F) {
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
// row by row in order, as linear.backward adds them: the result does not
// depend on whether the rows were split across threads.
func (g *gelu[F]) backwardBias(dx, dy, x, cdf []F, db *Tensor[F]) {
	if len(db.Grad) == 0 || len(x)%len(db.Grad) != 0 || len(dx) != len(x) || len(dy) != len(x) || len(cdf) != len(x) {
		panic(ErrShape)
	}
	db.settle()
	g.dx, g.dy, g.x, g.cdf, g.db, g.backwardRun, g.dbDone = dx, dy, x, cdf, db.Grad, true, false
	gemm.For(len(x), g)
	if !g.dbDone { // split across threads: sum the rows now
		addRows(db.Grad, dx)
	}
	g.dx, g.dy, g.x, g.cdf, g.db = nil, nil, nil, nil, nil
}
