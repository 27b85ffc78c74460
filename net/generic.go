package net

import (
	"gonum.org/v1/gonum/blas"

	"github.com/hyperconn/hyperconn/internal/f32"
)

// The layers of this file and of gnorm.go and embedding.go are written once
// for both precisions, generic over Float: the public float64 Linear,
// RMSNorm and GELU delegate to them, a Config.Float32 Model's MLP and a
// Float32 LM run them at float32, and a float64 LM at float64. Where the
// two precisions use different kernels (gemm.Mul or gemm.Mul32, f32's AVX2
// passes, math.Erf or f32's rational erf) the generic code dispatches on
// the element type at the kernel call, as mul does; where an order of
// operations differs, it is the one each precision had before the layers
// were shared, so that float64 results stay bit-identical to the earlier
// float64 layers and float32 results to the earlier float32 ones.

// Tensor is one named trainable tensor of element type F: its values, the
// gradient accumulated by the backward passes (same length, same order),
// and whether AdamW skips weight decay for it. Param32 is its float32
// instantiation; float64 parameters are Params (hc.Param), which a float64
// layer reads through a Tensor[float64] sharing their slices.
type Tensor[F Float] struct {
	Name    string
	Value   []F
	Grad    []F
	NoDecay bool

	stale bool    // Grad is logically zero (see adamW32.zeroGrad)
	ss    float64 // Σ Grad², computed while Grad was in cache, if ssOK
	ssOK  bool
}

// Param32 is one named trainable float32 tensor of a Model built with
// Config.Float32 or of an LM built with LMConfig.Float32: its values, the
// gradient accumulated by the backward passes, and whether AdamW skips
// weight decay for it. It mirrors Param.
type Param32 = Tensor[float32]

// settle clears Grad if it is stale.
func (p *Tensor[F]) settle() {
	if p.stale {
		clear(p.Grad)
		p.stale = false
	}
}

// view returns a Tensor[float64] that shares p's slices: how a float64
// layer reads a Param.
func view(p *Param) *Tensor[float64] {
	return &Tensor[float64]{Name: p.Name, Value: p.Value, Grad: p.Grad, NoDecay: p.NoDecay}
}

// tensorOf returns the Tensor[F] a generic layer reads for the float64
// parameter p of a freshly built float64 layer: for float64 a view of p
// (shared slices), for float32 a rounded copy added to the arena a under
// name.
func tensorOf[F Float](a *arena32, name string, p *Param) *Tensor[F] {
	var t any
	switch any(F(0)).(type) {
	case float32:
		t = a.add(name, p)
	default:
		t = view(p)
	}
	return t.(*Tensor[F])
}

// addTo adds x to dst element by element (same length).
func addTo[F Float](dst, x []F) {
	switch d := any(dst).(type) {
	case []float32:
		f32.Add(d, any(x).([]float32))
	default:
		x = x[:len(dst)]
		for j, v := range x {
			dst[j] += v
		}
	}
}

// addRows adds each of the rows of x (rows of len(dst) values) to dst, in
// row order: the column sums of x added to dst.
func addRows[F Float](dst, x []F) {
	c := len(dst)
	for r := range len(x) / c {
		addTo(dst, x[r*c:(r+1)*c])
	}
}

// is32 reports whether F is float32.
func is32[F Float]() bool {
	_, ok := any(F(0)).(float32)
	return ok
}

// wide returns the float64 slice through which a value computed in float64
// reaches s: s itself when F is float64, else scratch[:len(s)]; narrow then
// rounds it into s.
func wide[F Float](s []F, scratch []float64) []float64 {
	if w, ok := any(s).([]float64); ok {
		return w
	}
	return scratch[:len(s)]
}

// narrow writes src, a slice wide returned for dst, into dst: rounded when
// F is float32, nothing to do when it is float64 (src is dst).
func narrow[F Float](dst []F, src []float64) {
	if d, ok := any(dst).([]float32); ok {
		f32.From64(d, src)
	}
}

// as64 returns s as float64 values: s itself when F is float64, else
// scratch[:len(s)] holding s widened (exactly).
func as64[F Float](s []F, scratch []float64) []float64 {
	switch v := any(s).(type) {
	case []float64:
		return v
	default:
		w := scratch[:len(s)]
		f32.To64(w, any(s).([]float32))
		return w
	}
}

// linear is Linear generic over its element type (see Linear): y = x·W + b
// for rows×in inputs, W in×out row-major.
type linear[F Float] struct {
	in, out int
	w, b    *Tensor[F]
}

// linear32 is the float32 instantiation that a Float32 Model's layers use.
type linear32 = linear[float32]

// newLinearOf returns the generic layer for the freshly built float64
// Linear l: a view of it for float64, its float32 rounding in the arena a
// for float32, the parameters named prefix+their name.
func newLinearOf[F Float](a *arena32, prefix string, l *Linear) *linear[F] {
	return &linear[F]{in: l.In, out: l.Out, w: tensorOf[F](a, prefix+l.W.Name, &l.W), b: tensorOf[F](a, prefix+l.B.Name, &l.B)}
}

// newLinear32 is newLinearOf at float32.
func newLinear32(a *arena32, prefix string, l *Linear) *linear32 {
	return newLinearOf[float32](a, prefix, l)
}

// forward writes x·W + b (rows×out) into dst. In float64 the bias is
// copied into dst and the product accumulated onto it (the order of the
// float64 Linear); in float32 the product comes first and the bias is added
// row by row while the rows are still in cache.
func (l *linear[F]) forward(dst, x []F, rows int) {
	if rows < 0 || len(x) != rows*l.in || len(dst) != rows*l.out {
		panic(ErrShape)
	}
	if is32[F]() {
		l.product(dst, x, rows)
		for r := range rows {
			addTo(dst[r*l.out:(r+1)*l.out], l.b.Value)
		}
		return
	}
	for r := range rows {
		copy(dst[r*l.out:(r+1)*l.out], l.b.Value)
	}
	mul(blas.NoTrans, blas.NoTrans, rows, l.out, l.in, 1, x, l.in, l.w.Value, l.out, 1, dst, l.out)
}

// product writes x·W (rows×out) into dst, without the bias: for a caller
// that adds it in its next pass over dst (gelu.forwardBias).
func (l *linear[F]) product(dst, x []F, rows int) {
	if rows < 0 || len(x) != rows*l.in || len(dst) != rows*l.out {
		panic(ErrShape)
	}
	mul(blas.NoTrans, blas.NoTrans, rows, l.out, l.in, 1, x, l.in, l.w.Value, l.out, 0, dst, l.out)
}

// backward adds xᵀ·dy to W's gradient (writes it, if stale) and the column
// sums of dy to b's, and, unless dx is nil, overwrites dx with dy·Wᵀ.
func (l *linear[F]) backward(dx, dy, x []F, rows int) {
	l.backwardW(dx, dy, x, rows)
	l.b.settle()
	addRows(l.b.Grad, dy)
}

// backwardW is backward without the bias gradient: for a caller that has
// added dy's column sums to it in its own pass over dy
// (gelu.backwardBias).
func (l *linear[F]) backwardW(dx, dy, x []F, rows int) {
	if rows < 0 || len(x) != rows*l.in || len(dy) != rows*l.out || (dx != nil && len(dx) != rows*l.in) {
		panic(ErrShape)
	}
	beta := F(1)
	if l.w.stale { // overwrite instead of clearing first
		beta, l.w.stale = 0, false
	}
	mul(blas.Trans, blas.NoTrans, l.in, l.out, rows, 1, x, l.in, dy, l.out, beta, l.w.Grad, l.out)
	// An overwritten gradient is complete for this step (each weight is
	// used once): sum its squares for clipping now, while it is in cache.
	l.w.ssOK = beta == 0
	if l.w.ssOK {
		l.w.ss = sumSquares(l.w.Grad)
	}
	if dx != nil {
		mul(blas.NoTrans, blas.Trans, rows, l.in, l.out, 1, dy, l.out, l.w.Value, l.out, 0, dx, l.in)
	}
}
