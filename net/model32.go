package net

import (
	"fmt"
	"math"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/f32"
	"github.com/hyperconn/hyperconn/internal/gemm"
)

// model32 is the float32 half of a Model built with Config.Float32: the
// embedding, each block's RMSNorm and MLP, the final norm and the head, in
// float32, their parameters in one arena, with the mixers' parameters that
// can be held in float32 (hc.Float32Storage: the coefficient heads' Φ).
// The residual streams, the rest of the mixers and the logits stay float64
// (see the package documentation).
type model32 struct {
	arena  arena32
	embed  *linear32
	blocks []block32
	final  *rmsNorm32
	head   *linear32
	gelu   gelu32
	ws     workspace32
}

type block32 struct {
	mix      []*Param32 // the mixer's parameters held in float32, if any
	norm     *rmsNorm32
	up, down *linear32
}

// workspace32 holds the float32 activations and gradients of one batch,
// and the float64 buffers at the branch boundaries.
type workspace32 struct {
	x, emb                []float32
	in, u, h, a, cdf      [][]float32 // per block: branch input, normed, pre-GELU (with the bias), post-GELU, Φ(pre-GELU)
	f, red, fin, logits   []float32
	dlogits, dfin, dred   []float32
	df, da, du, din, dem  []float32
	in64, f64, df64, d64b []float64
}

// storeMixersFloat32 turns hc.Float32Storage on in float32 models. Tests
// turn it off to write checkpoints laid out as builds before it did (the
// heads' Φ among the float64 parameters).
var storeMixersFloat32 = true

// newModel32 converts the float64 layers of m (freshly initialised) into
// float32 and drops them from m, whose params and names keep the mixers'
// float64 parameters only; isMixer[i] tells whether m.params[i] is a
// mixer's. A mixer's parameters that it can hold in float32
// (hc.Float32Storage; its float32 products must be on) move into the arena
// too, under the same names, in the float64 model's order.
func newModel32(m *Model, isMixer []bool) (*model32, error) {
	name := make(map[*Param]string, len(m.params))
	for i, p := range m.params {
		name[p] = m.names[i]
	}
	// The mixers that keep parameters in float32, and those parameters.
	stores := make([]hc.Float32Storage, len(m.blocks))
	moved := map[*Param]bool{}
	for l := range m.blocks {
		if fs, ok := m.blocks[l].layer.Mixer().(hc.Float32Storage); ok && storeMixersFloat32 {
			stores[l] = fs
			for _, p := range fs.Float32Params() {
				moved[p] = true
			}
		}
	}
	total := 0
	for i, p := range m.params {
		if !isMixer[i] || moved[p] {
			total += len(p.Value)
		}
	}
	f := &model32{arena: arena32{value: make([]float32, 0, total), grad: make([]float32, 0, total)}}
	a := &f.arena
	f.embed = newLinear32(a, "", m.embed)
	f.blocks = make([]block32, len(m.blocks))
	for l := range m.blocks {
		b := &m.blocks[l]
		prefix := fmt.Sprintf("block%d.", l)
		var mix []*Param32
		if fs := stores[l]; fs != nil {
			for _, p := range fs.Float32Params() {
				q := a.add(name[p], p)
				if err := fs.SetFloat32Storage(p, q.Value, q.Grad); err != nil {
					return nil, fmt.Errorf("net: block %d: %w", l, err)
				}
				mix = append(mix, q)
			}
		}
		f.blocks[l] = block32{mix: mix, norm: newRMSNorm32(a, prefix, b.norm), up: newLinear32(a, prefix, b.up), down: newLinear32(a, prefix, b.down)}
		b.norm, b.up, b.down = nil, nil, nil
	}
	f.final = newRMSNorm32(a, "", m.final)
	f.head = newLinear32(a, "", m.head)
	m.embed, m.final, m.head = nil, nil, nil
	// Keep the mixers' float64 parameters only.
	params, names := m.params[:0:0], m.names[:0:0]
	for i, p := range m.params {
		if isMixer[i] && !moved[p] {
			params = append(params, p)
			names = append(names, m.names[i])
		}
	}
	m.params, m.names = params, names
	d := len(m.blocks)
	w := &f.ws
	w.in, w.u, w.h, w.a, w.cdf = make([][]float32, d), make([][]float32, d), make([][]float32, d), make([][]float32, d), make([][]float32, d)
	return f, nil
}

// grow sizes the float32 workspace for rows examples.
func (f *model32) grow(m *Model, rows int) {
	c, hid, k := m.c, m.hid, m.cfg.Classes
	w := &f.ws
	w.x = grow32(w.x, rows*m.cfg.Inputs)
	w.emb = grow32(w.emb, rows*c)
	for l := range f.blocks {
		w.in[l] = grow32(w.in[l], rows*c)
		w.u[l] = grow32(w.u[l], rows*c)
		w.h[l] = grow32(w.h[l], rows*hid)
		w.a[l] = grow32(w.a[l], rows*hid)
		w.cdf[l] = grow32(w.cdf[l], rows*hid)
	}
	for _, s := range []*[]float32{&w.f, &w.red, &w.fin, &w.dfin, &w.dred, &w.df, &w.du, &w.din, &w.dem} {
		*s = grow32(*s, rows*c)
	}
	w.logits = grow32(w.logits, rows*k)
	w.dlogits = grow32(w.dlogits, rows*k)
	w.da = grow32(w.da, rows*hid)
	w.in64 = grow(w.in64, rows*c)
	w.f64 = grow(w.f64, rows*c)
	w.df64 = grow(w.df64, rows*c)
	w.d64b = grow(w.d64b, rows*c)
}

// grow32 is grow for float32.
func grow32(s []float32, k int) []float32 {
	if cap(s) >= k {
		return s[:k]
	}
	return make([]float32, k)
}

// logits is Model.Logits in float32 (m.f32 == f, buffers grown).
func (f *model32) logits(m *Model, x []float64, rows int) error {
	w, mw := &f.ws, &m.ws
	n, c := m.n, m.c
	to32(w.x, x)
	f.embed.forward(w.emb, w.x, rows)
	to64(mw.emb, w.emb)
	hc.Expand(mw.streams, mw.emb, rows, n, c)
	for l := range f.blocks {
		b, layer := &f.blocks[l], m.blocks[l].layer
		if err := layer.Pre(w.in64, mw.streams, rows); err != nil {
			return fmt.Errorf("net: block %d: %w: %w", l, ErrNonFinite, err)
		}
		to32(w.in[l], w.in64)
		b.norm.forward(w.u[l], w.in[l], rows)
		b.up.product(w.h[l], w.u[l], rows)
		f.gelu.forwardBias(w.a[l], w.cdf[l], w.h[l], b.up.b.Value)
		b.down.forward(w.f, w.a[l], rows)
		to64(w.f64, w.f)
		if err := layer.Post(mw.streams, w.f64); err != nil {
			return fmt.Errorf("net: block %d: %w: %w", l, ErrNonFinite, err)
		}
	}
	m.reduce(mw.red, mw.streams, rows)
	to32(w.red, mw.red)
	f.final.forward(w.fin, w.red, rows)
	f.head.forward(w.logits, w.fin, rows)
	to64(mw.logits, w.logits)
	return nil
}

// backward is Model.BackwardLogits in float32.
func (f *model32) backward(m *Model, dlogits []float64) {
	w, mw := &f.ws, &m.ws
	rows, n, c := m.rows, m.n, m.c
	to32(w.dlogits, dlogits)
	f.head.backward(w.dfin, w.dlogits, w.fin, rows)
	f.final.backward(w.dred, w.dfin, w.red, rows)
	to64(mw.dred, w.dred)
	m.reduceBackward(mw.dX, mw.dred, mw.streams, rows)
	dX, dX2 := mw.dX, mw.dX2
	for l := len(f.blocks) - 1; l >= 0; l-- {
		b, layer := &f.blocks[l], m.blocks[l].layer
		layer.PostBackward(dX2, w.df64, dX)
		m.gradNorm[l] = layer.GradNorm()
		to32(w.df, w.df64)
		b.down.backward(w.da, w.df, w.a[l], rows)
		f.gelu.backwardBias(w.da, w.da, w.h[l], w.cdf[l], b.up.b)
		b.up.backwardW(w.du, w.da, w.u[l], rows)
		b.norm.backward(w.din, w.du, w.in[l], rows)
		to64(w.d64b, w.din)
		for _, q := range b.mix { // PreBackward adds into their gradients
			q.settle()
		}
		layer.PreBackward(dX2, w.d64b)
		dX, dX2 = dX2, dX
	}
	hc.ExpandBackward(mw.dem, dX, rows, n, c)
	to32(w.dem, mw.dem)
	f.embed.backward(nil, w.dem, w.x, rows)
}

// Params32 returns the float32 parameters of a Model built with Config.Float32
// — the embedding, then block by block the mixer's parameters that it keeps in
// float32 (hc.Float32Storage: the coefficient head's Φ), the norm gain and the
// two MLP Linears, then the final norm and the head, in the order of the
// float64 model — and nil for a float64 Model. Their slices share one backing
// array owned by the model.
func (m *Model) Params32() []*Param32 {
	if m.f32 == nil {
		return nil
	}
	return m.f32.arena.params
}

// ParamNames32 returns the unique names of Params32, e.g. "block3.up.w",
// the names the same tensors have in ParamNames of a float64 Model.
func (m *Model) ParamNames32() []string {
	if m.f32 == nil {
		return nil
	}
	return m.f32.arena.names
}

// Float32 reports whether the model computes its layers in float32.
func (m *Model) Float32() bool { return m.f32 != nil }

// arenaOp is AdamW over the float32 arena as a gemm.Ranger, so that it
// runs on every thread.
type arenaOp struct{ opt *adamW32 }

func (o *arenaOp) Range(lo, hi int) { o.opt.update(lo, hi) }

// adamW32 is AdamW over a float32 arena, moments in float32 (f32.AdamW:
// the update of one element computed in float32, with step constants
// computed in float64, on the gradient times a scale, the clip factor).
type adamW32 struct {
	cfg    AdamWConfig
	a      *arena32
	m, v   []float32
	runs   []decayRun // the arena cut into runs of equal NoDecay
	step   int
	consts [2]f32.AdamWConsts // without and with weight decay
	op     arenaOp
}

// setState is AdamW.SetState for the float32 moments, with its checks: a
// moment converted from a float64 checkpoint may have rounded to infinity.
func (o *adamW32) setState(m, v []float32, step int) error {
	return setState(o.m, o.v, &o.step, m, v, step)
}

// decayRun is the arena range [lo, hi) whose parameters all have NoDecay
// equal to !decay.
type decayRun struct {
	lo, hi int
	decay  bool
}

func newAdamW32(a *arena32, cfg AdamWConfig) *adamW32 {
	o := &adamW32{cfg: cfg, a: a, m: make([]float32, len(a.value)), v: make([]float32, len(a.value))}
	off := 0
	for _, p := range a.params {
		k := len(p.Value)
		if r := len(o.runs) - 1; r >= 0 && o.runs[r].decay == !p.NoDecay {
			o.runs[r].hi += k
		} else {
			o.runs = append(o.runs, decayRun{lo: off, hi: off + k, decay: !p.NoDecay})
		}
		off += k
	}
	o.op = arenaOp{opt: o}
	return o
}

// zeroGrad marks every float32 gradient stale: logically zero, its memory
// not cleared. The backward pass overwrites a stale gradient instead of
// adding to it (a weight gradient's product runs with β = 0), which saves
// a pass over the arena; settle clears the ones it did not reach.
func (o *adamW32) zeroGrad() {
	for _, p := range o.a.params {
		p.stale, p.ssOK = true, false
	}
}

// settle clears the gradients still stale, so that every gradient holds
// its value.
func (o *adamW32) settle() {
	for _, p := range o.a.params {
		p.settle()
	}
}

// sumSquares returns Σ g² over the float32 gradients, accumulated in
// float64 parameter by parameter in a fixed order: a weight's sum as its
// backward pass left it (see linear32.backward), the others' now.
func (o *adamW32) sumSquares() float64 {
	o.settle()
	var ss float64
	for _, p := range o.a.params {
		if p.ssOK {
			ss += p.ss
		} else {
			ss += f32.SumSquares(p.Grad)
		}
	}
	return ss
}

// stepScaled applies one update with learning rate lr to gradients
// multiplied by scale. The config's values were validated by NewAdamW.
func (o *adamW32) stepScaled(lr, scale float64) {
	o.settle()
	o.step++
	b1, b2 := o.cfg.Beta1, o.cfg.Beta2
	bc1 := 1 - math.Pow(b1, float64(o.step))
	bc2 := 1 - math.Pow(b2, float64(o.step))
	c := f32.AdamWConsts{Scale: float32(scale), Beta1: float32(b1), Beta2: float32(b2), StepSize: float32(lr / bc1),
		InvSqrtBC2: float32(1 / math.Sqrt(bc2)), Eps: float32(o.cfg.Eps), Decay: 1}
	o.consts[0] = c
	c.Decay = float32(1 - lr*o.cfg.WeightDecay)
	o.consts[1] = c
	gemm.For(len(o.a.value), &o.op)
}

// update applies the step to elements [lo, hi).
func (o *adamW32) update(lo, hi int) {
	for _, r := range o.runs {
		l, h := max(lo, r.lo), min(hi, r.hi)
		if l >= h {
			continue
		}
		c := &o.consts[0]
		if r.decay {
			c = &o.consts[1]
		}
		f32.AdamW(o.a.value[l:h], o.a.grad[l:h], o.m[l:h], o.v[l:h], c)
	}
}
