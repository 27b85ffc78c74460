package net

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/hyperconn/hyperconn/hc"
)

// Defaults applied by NewLM to zero fields of LMConfig.
const (
	DefaultLMHeads = 4
	DefaultLMSeq   = 64
)

// LMConfig describes a decoder-only transformer language model (see LM).
// Vocab, Width and Depth have no default; every other zero field takes the
// documented default.
type LMConfig struct {
	// Mixer names the hyper-connection of every sub-layer (see MixerNames);
	// "" means DefaultMixer.
	Mixer string `json:"mixer"`
	// N is the number of residual streams n; 0 means DefaultN (1 for
	// MixerResidual).
	N int `json:"n"`
	// Vocab is the number of token values (≥ 2); tokens are 0..Vocab−1.
	Vocab int `json:"vocab"`
	// Seq is the context length T; 0 means DefaultLMSeq.
	Seq int `json:"seq"`
	// Width is the model width C (≥ 1, a multiple of Heads).
	Width int `json:"width"`
	// Heads is the number of attention heads; 0 means DefaultLMHeads (or
	// 1 when Width is not a multiple of it).
	Heads int `json:"heads"`
	// Depth is the number of transformer blocks L (≥ 1); each has two
	// sub-layers, so the model has 2L mixers.
	Depth int `json:"depth"`
	// Hidden is the MLP expansion h (C → h·C → C); 0 means DefaultHidden.
	Hidden int `json:"hidden"`
	// Seed seeds the PCG generator that draws the initial weights.
	Seed uint64 `json:"seed"`
}

// withDefaults returns cfg with zero fields filled in, validated.
func (cfg LMConfig) withDefaults() (LMConfig, error) {
	if cfg.Mixer == "" {
		cfg.Mixer = DefaultMixer
	}
	if cfg.N == 0 {
		cfg.N = DefaultN
	}
	if cfg.Mixer == MixerResidual {
		cfg.N = 1
	}
	if cfg.Seq == 0 {
		cfg.Seq = DefaultLMSeq
	}
	if cfg.Heads == 0 {
		cfg.Heads = DefaultLMHeads
		if cfg.Width%cfg.Heads != 0 {
			cfg.Heads = 1
		}
	}
	if cfg.Hidden == 0 {
		cfg.Hidden = DefaultHidden
	}
	bad := func(field string, v any, want string) (LMConfig, error) {
		return LMConfig{}, fmt.Errorf("net: lm config: %s = %v, want %s: %w", field, v, want, ErrConfig)
	}
	switch {
	case cfg.Vocab < 2 || cfg.Vocab > 256:
		return bad("Vocab", cfg.Vocab, "2…256 (byte-level tokens)")
	case cfg.Depth < 1:
		return bad("Depth", cfg.Depth, "≥ 1")
	case cfg.Width < 1:
		return bad("Width", cfg.Width, "≥ 1")
	case cfg.Seq < 1:
		return bad("Seq", cfg.Seq, "≥ 1")
	case cfg.Heads < 1 || cfg.Width%cfg.Heads != 0:
		return bad("Heads", cfg.Heads, fmt.Sprintf("≥ 1 and dividing Width = %d", cfg.Width))
	case cfg.N < 1:
		return bad("N", cfg.N, "≥ 1")
	case cfg.Hidden < 1:
		return bad("Hidden", cfg.Hidden, "≥ 1")
	}
	return cfg, nil
}

// lmSub is one sub-layer of the LM: a mixer's Layer around a pre-norm
// branch, attention (qkv, attn, out) or MLP (up, down).
type lmSub struct {
	layer    *hc.Layer
	norm     *RMSNorm
	qkv, out *Linear
	attn     *Attention[float64]
	up, down *Linear
}

// LM is a decoder-only transformer language model whose residual
// connections are hyper-connection mixers:
//
//	tokens → embedding E[x_t] + position P[t] → Expand to n streams
//	  → L blocks of two sub-layers, each X ← H_res·X + h_postᵀ·F(h_pre·X):
//	      F_attn = Linear C→C ∘ causal multi-head attention ∘ Linear C→3C ∘ RMSNorm
//	      F_mlp  = Linear hC→C ∘ GELU ∘ Linear C→hC ∘ RMSNorm
//	  → Reduce (sum of streams) → RMSNorm → head (Linear C→Vocab)
//
// Sub-layer i (0-based; block i/2, attention when i is even) gets the
// mixer built with layer index i. The loss is the mean cross-entropy of
// the next token over every position of every sequence, in nats per token.
// Like Model, an LM keeps the activations of the last batch for Backward,
// reuses its buffers and is not safe for concurrent use.
type LM struct {
	cfg    LMConfig
	n, c   int
	hid    int
	tokEmb Param // Vocab×C
	posEmb Param // Seq×C
	subs   []lmSub
	final  *RMSNorm
	head   *Linear
	params []*Param
	names  []string
	rows   int
	ready  bool
	labels []int
	tokens []byte
	w      lmWork
}

// lmWork holds one batch's activations and gradients.
type lmWork struct {
	emb, streams        []float64
	in, u, h, a         [][]float64 // per sub-layer: branch input, normed, qkv or pre-GELU, attention or post-GELU
	f, red, fin         []float64
	logits, dlogits     []float64
	dfin, dred, dX, dX2 []float64
	df, dh, da, du, din []float64
	dem                 []float64
}

// NewLM validates cfg and returns an LM with fresh weights drawn in a
// fixed order from PCG(Seed, 0): embeddings N(0, 0.02²), Glorot-uniform
// Linears, unit norm gains, each mixer's reference initialisation. A bad
// field gives an error wrapping ErrConfig that names it.
func NewLM(cfg LMConfig) (*LM, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	rnd := rand.New(rand.NewPCG(cfg.Seed, 0))
	c, hid := cfg.Width, cfg.Hidden*cfg.Width
	m := &LM{cfg: cfg, n: cfg.N, c: c, hid: hid}
	add := func(prefix string, ps []*Param) {
		for _, p := range ps {
			m.params = append(m.params, p)
			m.names = append(m.names, prefix+p.Name)
		}
	}
	m.tokEmb = newParam("tok", cfg.Vocab*c, false)
	m.posEmb = newParam("pos", cfg.Seq*c, true)
	for _, p := range []*Param{&m.tokEmb, &m.posEmb} {
		for i := range p.Value {
			p.Value[i] = 0.02 * rnd.NormFloat64()
		}
	}
	add("embed.", []*Param{&m.tokEmb, &m.posEmb})
	m.subs = make([]lmSub, 2*cfg.Depth)
	for i := range m.subs {
		mx, err := NewMixer(cfg.Mixer, cfg.N, c, i)
		if err != nil {
			return nil, err
		}
		s := &m.subs[i]
		s.layer = hc.NewLayer(mx)
		s.norm = NewRMSNorm("norm", c)
		prefix := fmt.Sprintf("block%d.%s.", i/2, [2]string{"attn", "mlp"}[i%2])
		add(prefix+"mixer.", mx.Params())
		add(prefix, s.norm.Params())
		if i%2 == 0 {
			s.qkv = NewLinear("qkv", c, 3*c, rnd)
			s.out = NewLinear("out", c, c, rnd)
			s.attn = NewAttention[float64](cfg.Heads, c/cfg.Heads, cfg.Seq)
			add(prefix, s.qkv.Params())
			add(prefix, s.out.Params())
		} else {
			s.up = NewLinear("up", c, hid, rnd)
			s.down = NewLinear("down", hid, c, rnd)
			add(prefix, s.up.Params())
			add(prefix, s.down.Params())
		}
	}
	m.final = NewRMSNorm("final", c)
	m.head = NewLinear("head", c, cfg.Vocab, rnd)
	add("", m.final.Params())
	add("", m.head.Params())
	k := len(m.subs)
	m.w.in, m.w.u, m.w.h, m.w.a = make([][]float64, k), make([][]float64, k), make([][]float64, k), make([][]float64, k)
	return m, nil
}

// Config returns the model's configuration with defaults filled in.
func (m *LM) Config() LMConfig { return m.cfg }

// Params returns every trainable tensor in a fixed order: the token and
// position embeddings, then sub-layer by sub-layer the mixer's parameters,
// the norm gain and the branch's Linears, then the final norm and the head.
func (m *LM) Params() []*Param { return m.params }

// ParamNames returns the unique name of each entry of Params, e.g.
// "block2.attn.mixer.phi" or "head.w". The slice is the model's own.
func (m *LM) ParamNames() []string { return m.names }

// NumParams returns the number of scalar parameters.
func (m *LM) NumParams() int {
	k := 0
	for _, p := range m.params {
		k += len(p.Value)
	}
	return k
}

// Mixer returns the mixer of sub-layer i (0 ≤ i < 2·Depth; even i are the
// attention sub-layers).
func (m *LM) Mixer(i int) hc.Mixer { return m.subs[i].layer.Mixer() }

// grow sizes the workspace for rows tokens.
func (m *LM) grow(rows int) {
	m.rows = rows
	n, c, hid, v := m.n, m.c, m.hid, m.cfg.Vocab
	w := &m.w
	w.emb = grow(w.emb, rows*c)
	w.streams = grow(w.streams, rows*n*c)
	for i := range m.subs {
		w.in[i] = grow(w.in[i], rows*c)
		w.u[i] = grow(w.u[i], rows*c)
		if i%2 == 0 {
			w.h[i] = grow(w.h[i], rows*3*c)
			w.a[i] = grow(w.a[i], rows*c)
		} else {
			w.h[i] = grow(w.h[i], rows*hid)
			w.a[i] = grow(w.a[i], rows*hid)
		}
	}
	w.f = grow(w.f, rows*c)
	w.red = grow(w.red, rows*c)
	w.fin = grow(w.fin, rows*c)
	w.logits = grow(w.logits, rows*v)
	w.dlogits = grow(w.dlogits, rows*v)
	w.dfin = grow(w.dfin, rows*c)
	w.dred = grow(w.dred, rows*c)
	w.dX = grow(w.dX, rows*n*c)
	w.dX2 = grow(w.dX2, rows*n*c)
	w.df = grow(w.df, rows*c)
	w.dh = grow(w.dh, rows*max(3*c, hid))
	w.da = grow(w.da, rows*max(c, hid))
	w.du = grow(w.du, rows*c)
	w.din = grow(w.din, rows*c)
	w.dem = grow(w.dem, rows*c)
	if cap(m.labels) < rows {
		m.labels = make([]int, rows)
		m.tokens = make([]byte, rows)
	}
	m.labels, m.tokens = m.labels[:rows], m.tokens[:rows]
}

// Forward runs the model on batch sequences x (batch·Seq tokens, sequence
// b in x[b·Seq:(b+1)·Seq]) and scores every position against the next
// tokens y (same layout: y[r] is the token that follows x[r]). It returns
// the mean cross-entropy in nats per token and keeps what Backward needs.
// A NaN or infinity in the activations or mixer coefficients gives an
// error wrapping ErrNonFinite; a token ≥ Vocab one wrapping ErrLabel;
// after an error Backward may not be called. Forward panics with ErrShape
// if len(x) or len(y) is not batch·Seq.
func (m *LM) Forward(x, y []byte, batch int) (loss float64, err error) {
	t, c, v := m.cfg.Seq, m.c, m.cfg.Vocab
	rows := batch * t
	if batch < 0 || len(x) != rows || len(y) != rows {
		panic(ErrShape)
	}
	m.ready = false
	m.grow(rows)
	w := &m.w
	for r, tok := range x {
		if int(tok) >= v {
			return 0, fmt.Errorf("net: lm: input token %d at %d, want < %d: %w", tok, r, v, ErrLabel)
		}
		e, p := m.tokEmb.Value[int(tok)*c:int(tok+1)*c], m.posEmb.Value[(r%t)*c:(r%t+1)*c]
		dst := w.emb[r*c : (r+1)*c]
		for j := range dst {
			dst[j] = e[j] + p[j]
		}
		m.labels[r] = int(y[r])
	}
	copy(m.tokens, x)
	hc.Expand(w.streams, w.emb, rows, m.n, c)
	for i := range m.subs {
		s := &m.subs[i]
		if err := s.layer.Pre(w.in[i], w.streams, rows); err != nil {
			return 0, fmt.Errorf("net: lm: sub-layer %d: %w: %w", i, ErrNonFinite, err)
		}
		s.norm.Forward(w.u[i], w.in[i], rows)
		if s.attn != nil {
			s.qkv.Forward(w.h[i], w.u[i], rows)
			s.attn.Forward(w.a[i], w.h[i], batch)
			s.out.Forward(w.f, w.a[i], rows)
		} else {
			s.up.Forward(w.h[i], w.u[i], rows)
			GELU(w.a[i], w.h[i])
			s.down.Forward(w.f, w.a[i], rows)
		}
		if err := s.layer.Post(w.streams, w.f); err != nil {
			return 0, fmt.Errorf("net: lm: sub-layer %d: %w: %w", i, ErrNonFinite, err)
		}
	}
	hc.Reduce(w.red, w.streams, rows, m.n, c)
	m.final.Forward(w.fin, w.red, rows)
	m.head.Forward(w.logits, w.fin, rows)
	loss, _, err = SoftmaxCrossEntropy(w.dlogits, w.logits, m.labels, v)
	if err != nil {
		return 0, err
	}
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return 0, fmt.Errorf("net: lm: loss %v: %w", loss, ErrNonFinite)
	}
	m.ready = true
	return loss, nil
}

// Backward back-propagates the loss of the last successful Forward and
// adds every parameter's gradient into its Grad (zero them first). It
// panics with ErrSequence unless a Forward succeeded since the last
// Backward.
func (m *LM) Backward() {
	if !m.ready {
		panic(fmt.Errorf("%w: LM.Backward without a successful Forward", ErrSequence))
	}
	m.ready = false
	w := &m.w
	rows, n, c, t := m.rows, m.n, m.c, m.cfg.Seq
	batch := rows / t
	m.head.Backward(w.dfin, w.dlogits, w.fin, rows)
	m.final.Backward(w.dred, w.dfin, w.red, rows)
	hc.ReduceBackward(w.dX, w.dred, rows, n, c)
	dX, dX2 := w.dX, w.dX2
	for i := len(m.subs) - 1; i >= 0; i-- {
		s := &m.subs[i]
		s.layer.PostBackward(dX2, w.df, dX)
		if s.attn != nil {
			da, dh := w.da[:rows*c], w.dh[:rows*3*c]
			s.out.Backward(da, w.df, w.a[i], rows)
			s.attn.Backward(dh, da, w.h[i], batch)
			s.qkv.Backward(w.du, dh, w.u[i], rows)
		} else {
			da := w.da[:rows*m.hid]
			s.down.Backward(da, w.df, w.a[i], rows)
			GELUBackward(da, da, w.h[i])
			s.up.Backward(w.du, da, w.u[i], rows)
		}
		s.norm.Backward(w.din, w.du, w.in[i], rows)
		s.layer.PreBackward(dX2, w.din)
		dX, dX2 = dX2, dX
	}
	hc.ExpandBackward(w.dem, dX, rows, n, c)
	for r, tok := range m.tokens {
		g := w.dem[r*c : (r+1)*c]
		e, p := m.tokEmb.Grad[int(tok)*c:int(tok+1)*c], m.posEmb.Grad[(r%t)*c:(r%t+1)*c]
		for j, v := range g {
			e[j] += v
			p[j] += v
		}
	}
}
