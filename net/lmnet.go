package net

import (
	"fmt"
	"math"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/f32"
)

// lmBody is the LM's layers at one precision: *lmNet[float64] or
// *lmNet[float32].
type lmBody interface {
	grow(m *LM, rows int)
	forward(m *LM, batch int) (float64, error)
	backward(m *LM)
}

// lmNet is the LM's layers, written once for both precisions, and their
// activations. The residual streams and the mixers are the LM's own, in
// float64; values cross at the branch boundaries through wide, narrow and
// as64, which are no-ops at float64.
type lmNet[F Float] struct {
	emb   embedding[F]
	br    []lmBranch[F]
	final *rmsNorm[F]
	head  *linear[F]
	gelu  gelu[F]
	ws    lmActs[F]
}

// lmBranch is the branch of one sub-layer: the pre-norm, then attention
// (qkv, attn, out) or the MLP (up, GELU, down).
type lmBranch[F Float] struct {
	norm     *rmsNorm[F]
	qkv, out *linear[F]
	attn     *Attention[F]
	up, down *linear[F]
}

// lmActs holds one batch's activations and gradients in F.
type lmActs[F Float] struct {
	emb                  []F
	in, u, h, a, cdf     [][]F // per sub-layer: branch input, normed, qkv or pre-GELU (with the bias), attention or post-GELU, Φ(pre-GELU)
	f, red, fin          []F
	logits, dlogits      []F
	dfin, dred, df       []F
	dh, da, du, din, dem []F
}

// newLMNet builds the layers of m from the float64 layers NewLM drew:
// views of them at float64, their float32 roundings in m's arena at
// float32 (with the mixers' float32 storage attached), in the order of the
// float64 parameters.
func newLMNet[F Float](m *LM, in *lmInit) (*lmNet[F], error) {
	a, cfg := m.arena, m.cfg
	f := &lmNet[F]{br: make([]lmBranch[F], len(m.subs))}
	f.emb = embedding[F]{c: m.c, seq: cfg.Seq, tok: tensorOf[F](a, in.name[&in.tok], &in.tok), pos: tensorOf[F](a, in.name[&in.pos], &in.pos)}
	for i := range m.subs {
		if fs := in.stores[i]; fs != nil {
			for _, p := range fs.Float32Params() {
				q := a.add(in.name[p], p)
				if err := fs.SetFloat32Storage(p, q.Value, q.Grad); err != nil {
					return nil, fmt.Errorf("net: lm: sub-layer %d: %w", i, err)
				}
				m.subs[i].mix = append(m.subs[i].mix, q)
			}
		}
		prefix := fmt.Sprintf("block%d.%s.", i/2, [2]string{"attn", "mlp"}[i%2])
		b := &f.br[i]
		b.norm = newRMSNormOf[F](a, prefix, in.norms[i])
		l0, l1 := newLinearOf[F](a, prefix, in.lin[i][0]), newLinearOf[F](a, prefix, in.lin[i][1])
		if i%2 == 0 {
			b.qkv, b.out = l0, l1
			b.attn = NewAttention[F](cfg.Heads, m.c/cfg.Heads, cfg.Seq)
		} else {
			b.up, b.down = l0, l1
		}
	}
	f.final = newRMSNormOf[F](a, "", in.final)
	f.head = newLinearOf[F](a, "", in.head)
	k := len(m.subs)
	w := &f.ws
	w.in, w.u, w.h, w.a, w.cdf = make([][]F, k), make([][]F, k), make([][]F, k), make([][]F, k), make([][]F, k)
	return f, nil
}

// grow sizes the activations for rows tokens.
func (f *lmNet[F]) grow(m *LM, rows int) {
	c, hid, v := m.c, m.hid, m.cfg.Vocab
	w := &f.ws
	for i := range f.br {
		w.in[i] = growF(w.in[i], rows*c)
		w.u[i] = growF(w.u[i], rows*c)
		if i%2 == 0 {
			w.h[i] = growF(w.h[i], rows*3*c)
			w.a[i] = growF(w.a[i], rows*c)
		} else {
			w.h[i] = growF(w.h[i], rows*hid)
			w.a[i] = growF(w.a[i], rows*hid)
			w.cdf[i] = growF(w.cdf[i], rows*hid)
		}
	}
	for _, s := range []*[]F{&w.emb, &w.f, &w.red, &w.fin, &w.dfin, &w.dred, &w.df, &w.du, &w.din, &w.dem} {
		*s = growF(*s, rows*c)
	}
	if l64, ok := any(&w.logits).(*[]float64); ok {
		*l64 = m.w.logits // at float64 the head writes the LM's own logits
	} else { // at float32 the LM's float64 logits are not kept
		w.logits = growF(w.logits, rows*v)
	}
	w.dlogits = growF(w.dlogits, rows*v)
	w.dh = growF(w.dh, rows*max(3*c, hid))
	w.da = growF(w.da, rows*max(c, hid))
}

// growF returns s resized to length k, reusing its storage when it can.
func growF[F Float](s []F, k int) []F {
	if cap(s) >= k {
		return s[:k]
	}
	return make([]F, k)
}

// forward is LM.Forward after the checks: m.tokens and m.labels hold the
// batch.
func (f *lmNet[F]) forward(m *LM, batch int) (float64, error) {
	w, mw := &f.ws, &m.w
	rows, n, c := m.rows, m.n, m.c
	f.emb.forward(w.emb, m.tokens)
	hc.Expand(mw.streams, as64(w.emb, mw.emb), rows, n, c)
	for i := range f.br {
		b, layer := &f.br[i], m.subs[i].layer
		in64 := wide(w.in[i], mw.in)
		if err := layer.Pre(in64, mw.streams, rows); err != nil {
			return 0, fmt.Errorf("net: lm: sub-layer %d: %w: %w", i, ErrNonFinite, err)
		}
		narrow(w.in[i], in64)
		b.norm.forward(w.u[i], w.in[i], rows)
		if b.attn != nil {
			b.qkv.forward(w.h[i], w.u[i], rows)
			b.attn.Forward(w.a[i], w.h[i], batch)
			b.out.forward(w.f, w.a[i], rows)
		} else {
			b.up.product(w.h[i], w.u[i], rows)
			f.gelu.forwardBias(w.a[i], w.cdf[i], w.h[i], b.up.b.Value)
			b.down.forward(w.f, w.a[i], rows)
		}
		if err := layer.Post(mw.streams, as64(w.f, mw.f)); err != nil {
			return 0, fmt.Errorf("net: lm: sub-layer %d: %w: %w", i, ErrNonFinite, err)
		}
	}
	red := wide(w.red, mw.red)
	hc.Reduce(red, mw.streams, rows, n, c)
	narrow(w.red, red)
	f.final.forward(w.fin, w.red, rows)
	f.head.forward(w.logits, w.fin, rows)
	if l32, ok := any(w.logits).([]float32); ok {
		return crossEntropy32(any(w.dlogits).([]float32), l32, m.labels, m.cfg.Vocab)
	}
	loss, _, err := SoftmaxCrossEntropy(any(w.dlogits).([]float64), any(w.logits).([]float64), m.labels, m.cfg.Vocab)
	return loss, err
}

// crossEntropy32 is SoftmaxCrossEntropy's loss and gradient for float32
// logits (the Float32 LM's head), without a float64 copy of them: each
// row's max-shifted exponentials by f32.ExpSum (Exp's polynomial, relative
// error below 1e-5), written into dlogits and scaled there, the log and
// the loss in float64. The errors are SoftmaxCrossEntropy's; after one,
// dlogits may be partly written.
func crossEntropy32(dlogits, logits []float32, labels []int, classes int) (float64, error) {
	if err := checkLabels(labels, classes); err != nil {
		return 0, err
	}
	if len(labels) == 0 {
		return 0, nil
	}
	scale := 1 / float64(len(labels))
	var loss float64
	for r, y := range labels {
		z, d := logits[r*classes:(r+1)*classes], dlogits[r*classes:(r+1)*classes]
		mx := z[0]
		for j, v := range z {
			if v-v != 0 { // NaN or ±Inf
				return 0, fmt.Errorf("net: softmax cross-entropy: logit %v at row %d, class %d: %w", v, r, j, ErrNonFinite)
			}
			mx = max(mx, v)
		}
		copy(d, z)
		sum := f32.ExpSum(d, mx)
		loss += math.Log(sum) - float64(z[y]-mx)
		s := float32(scale / sum)
		for j := range d {
			d[j] *= s
		}
		d[y] -= float32(scale)
	}
	return loss * scale, nil
}

// backward is LM.Backward after the checks.
func (f *lmNet[F]) backward(m *LM) {
	w, mw := &f.ws, &m.w
	rows, n, c, hid := m.rows, m.n, m.c, m.hid
	batch := rows / m.cfg.Seq
	f.head.backward(w.dfin, w.dlogits, w.fin, rows)
	f.final.backward(w.dred, w.dfin, w.red, rows)
	hc.ReduceBackward(mw.dX, as64(w.dred, mw.red), rows, n, c)
	dX, dX2 := mw.dX, mw.dX2
	for i := len(f.br) - 1; i >= 0; i-- {
		b, layer := &f.br[i], m.subs[i].layer
		df := wide(w.df, mw.df)
		layer.PostBackward(dX2, df, dX)
		narrow(w.df, df)
		if b.attn != nil {
			da, dh := w.da[:rows*c], w.dh[:rows*3*c]
			b.out.backward(da, w.df, w.a[i], rows)
			b.attn.Backward(dh, da, w.h[i], batch)
			b.qkv.backward(w.du, dh, w.u[i], rows)
		} else {
			da := w.da[:rows*hid]
			b.down.backward(da, w.df, w.a[i], rows)
			f.gelu.backwardBias(da, da, w.h[i], w.cdf[i], b.up.b)
			b.up.backwardW(w.du, da, w.u[i], rows)
		}
		b.norm.backward(w.din, w.du, w.in[i], rows)
		for _, q := range m.subs[i].mix { // PreBackward adds into their gradients
			q.settle()
		}
		layer.PreBackward(dX2, as64(w.din, mw.din))
		dX, dX2 = dX2, dX
	}
	dem := wide(w.dem, mw.dem)
	hc.ExpandBackward(dem, dX, rows, n, c)
	narrow(w.dem, dem)
	f.emb.backward(w.dem, m.tokens)
}
