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
	// Float32 computes the embeddings, every sub-layer's RMSNorm, attention
	// (qkv, attention core, out) and MLP, the final norm and the head in
	// float32 — weights, activations, gradients and AdamW moments, in one
	// arena; products through gemm's float32 path (the packed kernels, or
	// OpenBLAS Sgemm with -tags openblas) — from the float32 rounding of the
	// float64 initial weights, as Config.Float32 does for Model. The
	// residual streams, the mixers and the loss stay float64, with
	// conversions at the branch boundaries; mixers with hc.Float32Products
	// run their own products in float32, and those with hc.Float32Storage
	// keep Φ in the arena. Params then holds the mixers' float64 tensors
	// and Params32 the others. false, the default, is the float64 path.
	Float32 bool `json:"float32,omitempty"`
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

// lmSub is one sub-layer of the LM: the mixer's Layer around the branch
// (whose generic layers live in the LM's lmNet), and the mixer's
// parameters that a Float32 LM keeps in its arena (hc.Float32Storage).
type lmSub struct {
	layer *hc.Layer
	mix   []*Param32
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
// The layers are the ones written once for both precisions (generic over
// Float), run at float64 or, with LMConfig.Float32, at float32; the
// residual streams and mixers are float64 in both. Like Model, an LM keeps
// the activations of the last batch for Backward, reuses its buffers and is
// not safe for concurrent use.
type LM struct {
	cfg    LMConfig
	n, c   int
	hid    int
	subs   []lmSub
	body   lmBody   // *lmNet[float64] or *lmNet[float32]: the layers and their activations
	arena  *arena32 // LMConfig.Float32: the float32 parameters; nil otherwise
	params []*Param
	names  []string
	rows   int
	ready  bool
	labels []int
	tokens []byte
	w      lmWork
}

// lmWork holds the float64 side of one batch: the residual streams and
// their gradients, and, in a Float32 LM, the float64 copies of the values
// that cross between the streams and the float32 layers.
type lmWork struct {
	streams, dX, dX2 []float64
	logits           []float64 // a float64 LM's logits of the last batch
	emb, in, f, red  []float64
	df, din, dem     []float64
}

// lmInit holds the float64 layers NewLM draws, before lmNet takes them
// over (as views at float64, as float32 roundings at float32).
type lmInit struct {
	tok, pos    Param
	norms       []*RMSNorm
	lin         [][2]*Linear // per sub-layer: qkv and out, or up and down
	final       *RMSNorm
	head        *Linear
	moved       map[*Param]bool // mixer parameters held in float32
	stores      []hc.Float32Storage
	name        map[*Param]string
	float32Size int // values of the float32 arena
}

// NewLM validates cfg and returns an LM with fresh weights drawn in a
// fixed order from PCG(Seed, 0): embeddings N(0, 0.02²), Glorot-uniform
// Linears, unit norm gains, each mixer's reference initialisation (a
// Float32 LM starts from the float32 rounding of the same weights). A bad
// field gives an error wrapping ErrConfig that names it.
func NewLM(cfg LMConfig) (*LM, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	rnd := rand.New(rand.NewPCG(cfg.Seed, 0))
	c, hid := cfg.Width, cfg.Hidden*cfg.Width
	m := &LM{cfg: cfg, n: cfg.N, c: c, hid: hid}
	in := &lmInit{moved: map[*Param]bool{}, name: map[*Param]string{}}
	var isMixer []bool
	add := func(prefix string, mixer bool, ps []*Param) {
		for _, p := range ps {
			m.params = append(m.params, p)
			m.names = append(m.names, prefix+p.Name)
			in.name[p] = prefix + p.Name
			isMixer = append(isMixer, mixer)
		}
	}
	in.tok = newParam("tok", cfg.Vocab*c, false)
	in.pos = newParam("pos", cfg.Seq*c, true)
	for _, p := range []*Param{&in.tok, &in.pos} {
		for i := range p.Value {
			p.Value[i] = 0.02 * rnd.NormFloat64()
		}
	}
	add("embed.", false, []*Param{&in.tok, &in.pos})
	m.subs = make([]lmSub, 2*cfg.Depth)
	in.norms, in.lin, in.stores = make([]*RMSNorm, len(m.subs)), make([][2]*Linear, len(m.subs)), make([]hc.Float32Storage, len(m.subs))
	for i := range m.subs {
		mx, err := NewMixer(cfg.Mixer, cfg.N, c, i)
		if err != nil {
			return nil, err
		}
		if fp, ok := mx.(hc.Float32Products); ok && cfg.Float32 {
			fp.SetFloat32Products(true)
		}
		if fs, ok := mx.(hc.Float32Storage); ok && cfg.Float32 {
			in.stores[i] = fs
			for _, p := range fs.Float32Params() {
				in.moved[p] = true
			}
		}
		m.subs[i].layer = hc.NewLayer(mx)
		in.norms[i] = NewRMSNorm("norm", c)
		prefix := fmt.Sprintf("block%d.%s.", i/2, [2]string{"attn", "mlp"}[i%2])
		add(prefix+"mixer.", true, mx.Params())
		add(prefix, false, in.norms[i].Params())
		if i%2 == 0 {
			in.lin[i] = [2]*Linear{NewLinear("qkv", c, 3*c, rnd), NewLinear("out", c, c, rnd)}
		} else {
			in.lin[i] = [2]*Linear{NewLinear("up", c, hid, rnd), NewLinear("down", hid, c, rnd)}
		}
		add(prefix, false, in.lin[i][0].Params())
		add(prefix, false, in.lin[i][1].Params())
	}
	in.final = NewRMSNorm("final", c)
	in.head = NewLinear("head", c, cfg.Vocab, rnd)
	add("", false, in.final.Params())
	add("", false, in.head.Params())
	if !cfg.Float32 {
		m.body, err = newLMNet[float64](m, in)
		return m, err
	}
	// The float64 Params keep the mixers' tensors that stay float64.
	params, names := m.params[:0:0], m.names[:0:0]
	for i, p := range m.params {
		if isMixer[i] && !in.moved[p] {
			params = append(params, p)
			names = append(names, m.names[i])
		} else {
			in.float32Size += len(p.Value)
		}
	}
	m.params, m.names = params, names
	m.arena = &arena32{value: make([]float32, 0, in.float32Size), grad: make([]float32, 0, in.float32Size)}
	m.body, err = newLMNet[float32](m, in)
	return m, err
}

// Config returns the model's configuration with defaults filled in.
func (m *LM) Config() LMConfig { return m.cfg }

// Params returns every float64 trainable tensor in a fixed order: the
// token and position embeddings, then sub-layer by sub-layer the mixer's
// parameters, the norm gain and the branch's Linears, then the final norm
// and the head. On an LMConfig.Float32 LM it holds the mixers' float64
// tensors only — those but the Φ of their coefficient heads, in the same
// order — and Params32 holds the rest, as Model's Params and Params32 do.
func (m *LM) Params() []*Param { return m.params }

// ParamNames returns the unique name of each entry of Params, e.g.
// "block2.attn.mixer.phi" or "head.w". The slice is the model's own.
func (m *LM) ParamNames() []string { return m.names }

// Params32 returns the float32 parameters of an LMConfig.Float32 LM — the
// embeddings, then sub-layer by sub-layer the mixer's parameters that it
// keeps in float32 (hc.Float32Storage), the norm gain and the branch's
// Linears, then the final norm and the head, in the order of the float64
// LM — and nil for a float64 LM. Their slices share one backing array
// owned by the model.
func (m *LM) Params32() []*Param32 {
	if m.arena == nil {
		return nil
	}
	return m.arena.params
}

// ParamNames32 returns the unique names of Params32, the names the same
// tensors have in ParamNames of a float64 LM.
func (m *LM) ParamNames32() []string {
	if m.arena == nil {
		return nil
	}
	return m.arena.names
}

// Float32 reports whether the model computes its layers in float32.
func (m *LM) Float32() bool { return m.arena != nil }

// NumParams returns the number of scalar parameters, those of Params32
// included.
func (m *LM) NumParams() int {
	k := 0
	if m.arena != nil {
		k = len(m.arena.value)
	}
	for _, p := range m.params {
		k += len(p.Value)
	}
	return k
}

// Mixer returns the mixer of sub-layer i (0 ≤ i < 2·Depth; even i are the
// attention sub-layers). In a Float32 LM the parameters it keeps in
// float32 storage live in Params32; their float64 Param is then stale.
func (m *LM) Mixer(i int) hc.Mixer { return m.subs[i].layer.Mixer() }

// grow sizes the workspace for rows tokens.
func (m *LM) grow(rows int) {
	m.rows = rows
	nc := rows * m.n * m.c
	w := &m.w
	w.streams, w.dX, w.dX2 = grow(w.streams, nc), grow(w.dX, nc), grow(w.dX2, nc)
	if m.arena != nil { // the float64 side of the float32 layers' values
		k := rows * m.c
		for _, s := range []*[]float64{&w.emb, &w.in, &w.f, &w.red, &w.df, &w.din, &w.dem} {
			*s = grow(*s, k)
		}
	} else {
		w.logits = grow(w.logits, rows*m.cfg.Vocab)
	}
	if cap(m.labels) < rows {
		m.labels = make([]int, rows)
		m.tokens = make([]byte, rows)
	}
	m.labels, m.tokens = m.labels[:rows], m.tokens[:rows]
	m.body.grow(m, rows)
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
	t, v := m.cfg.Seq, m.cfg.Vocab
	rows := batch * t
	if batch < 0 || len(x) != rows || len(y) != rows {
		panic(ErrShape)
	}
	m.ready = false
	m.grow(rows)
	for r, tok := range x {
		if int(tok) >= v {
			return 0, fmt.Errorf("net: lm: input token %d at %d, want < %d: %w", tok, r, v, ErrLabel)
		}
		m.labels[r] = int(y[r])
	}
	copy(m.tokens, x)
	loss, err = m.body.forward(m, batch)
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
	m.body.backward(m)
}
