package net

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/kromhc"
)

// ErrSequence is the panic value when Model calls come out of order:
// Backward without a successful Forward since the last Logits, Evaluate or
// Backward.
var ErrSequence = errors.New("net: call out of order")

// Defaults applied by NewModel to zero fields of Config.
const (
	DefaultMixer  = MixerMHC
	DefaultN      = 4
	DefaultHidden = 4
)

// Config describes a Model. Depth and Width have no default and must be
// at least 1; every other zero field takes the documented default.
type Config struct {
	// Mixer names the hyper-connection of every block (see MixerNames);
	// "" means DefaultMixer. MixerResidual builds the plain pre-norm
	// residual baseline, with one stream whatever N says.
	Mixer string `json:"mixer"`
	// N is the number of residual streams n; 0 means DefaultN.
	N int `json:"n"`
	// Width is the model width C (≥ 1).
	Width int `json:"width"`
	// Depth is the number of blocks L (≥ 1).
	Depth int `json:"depth"`
	// Hidden is the MLP expansion h: each branch is C → h·C → C;
	// 0 means DefaultHidden.
	Hidden int `json:"hidden"`
	// Inputs is the input dimension; 0 means ImageSize (784).
	Inputs int `json:"inputs"`
	// Classes is the number of classes; 0 means Classes (10).
	Classes int `json:"classes"`
	// Seed seeds the PCG generator that draws the initial weights.
	Seed uint64 `json:"seed"`
	// Float32 computes the embedding, every block's RMSNorm and MLP, the final
	// norm and the head in float32 (weights, activations, gradients, AdamW
	// moments; products through BLAS Sgemm), from the float32 rounding of the
	// float64 initial weights. The residual streams, the mixers (coefficients,
	// other parameters, their AdamW state) and the logits and loss stay float64,
	// with conversions at the branch boundaries; a mixer that implements
	// hc.Float32Products (the mHC family's and sHC's coefficient heads) runs its
	// own matrix products in float32, and one that implements hc.Float32Storage
	// keeps the parameters those products read (the heads' Φ) in float32 too,
	// trained with the float32 weights. In float32, GELU's erf is a rational
	// approximation (error < 1e-6) and its work and AdamW's are split across
	// gemm's threads. Params then holds the mixers' float64 tensors and Params32
	// the others. A 200-step run ends within 1% relative loss of the float64 one
	// (the tested bound; measured ~1e-5). false, the default, is the float64
	// reference path.
	Float32 bool `json:"float32,omitempty"`
	// Reduce is how the n streams become one before the final norm:
	// ReduceSum (or "", the default) sums them; ReduceMerge weighs them with
	// DeepSeek-V4's merging head (the optional head of its production mHC,
	// see MixerMHCV4), whose parameters merge.phi, merge.alpha and merge.b
	// follow the blocks in Params and stay float64 in a Float32 model.
	Reduce string `json:"reduce,omitempty"`
}

// Values of Config.Reduce.
const (
	ReduceSum   = "sum"   // the sum of the streams (hc.Reduce)
	ReduceMerge = "merge" // DeepSeek-V4's merging head: Σ_i (σ(α·x̂φ + b)_i + ε)·X_i
)

// withDefaults returns cfg with its zero fields filled in and validates it.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Mixer == "" {
		cfg.Mixer = DefaultMixer
	}
	if cfg.N == 0 {
		cfg.N = DefaultN
	}
	if cfg.Mixer == MixerResidual {
		cfg.N = 1
	}
	if cfg.Hidden == 0 {
		cfg.Hidden = DefaultHidden
	}
	if cfg.Inputs == 0 {
		cfg.Inputs = ImageSize
	}
	if cfg.Classes == 0 {
		cfg.Classes = Classes
	}
	bad := func(field string, v any, want string) (Config, error) {
		return Config{}, fmt.Errorf("net: config: %s = %v, want %s: %w", field, v, want, ErrConfig)
	}
	switch {
	case cfg.Depth < 1:
		return bad("Depth", cfg.Depth, "≥ 1")
	case cfg.Width < 1:
		return bad("Width", cfg.Width, "≥ 1")
	case cfg.N < 1:
		return bad("N", cfg.N, "≥ 1")
	case cfg.Hidden < 1:
		return bad("Hidden", cfg.Hidden, "≥ 1")
	case cfg.Inputs < 1:
		return bad("Inputs", cfg.Inputs, "≥ 1")
	case cfg.Classes < 2:
		return bad("Classes", cfg.Classes, "≥ 2")
	case cfg.Mixer == MixerMHCLite && cfg.N > MaxLiteN:
		return Config{}, fmt.Errorf("net: config: N = %d with Mixer %q: mhclite mixes all n! permutations and is refused above n = %d: %w",
			cfg.N, cfg.Mixer, MaxLiteN, ErrConfig)
	}
	if cfg.Reduce != "" && cfg.Reduce != ReduceSum && cfg.Reduce != ReduceMerge {
		return Config{}, fmt.Errorf("net: config: Reduce %q unknown, want %q or %q: %w", cfg.Reduce, ReduceSum, ReduceMerge, ErrConfig)
	}
	if cfg.Mixer == MixerKromHC {
		if _, err := kromhc.NumParams(kromhc.PaperConfig(cfg.N, cfg.Width, 0)); err != nil {
			return Config{}, fmt.Errorf("net: config: N = %d with Mixer %q: %w: %w", cfg.N, cfg.Mixer, ErrConfig, err)
		}
	}
	known := false
	for _, name := range MixerNames() {
		known = known || name == cfg.Mixer
	}
	if !known {
		return Config{}, fmt.Errorf("net: config: Mixer %q unknown, want one of %q: %w", cfg.Mixer, MixerNames(), ErrConfig)
	}
	return cfg, nil
}

// block is one sub-layer: a mixer's Layer around the pre-norm MLP branch.
type block struct {
	layer    *hc.Layer
	norm     *RMSNorm
	up, down *Linear
}

// Model is the deep residual classifier of the package documentation:
//
//	x (Inputs) → embed (Linear to C) → Expand to n streams
//	  → L blocks X ← H_res·X + h_postᵀ·MLP(RMSNorm(h_pre·X))
//	  → Reduce (sum of streams) → RMSNorm → head (Linear to Classes)
//
// (with Config.Reduce = ReduceMerge the reduce is DeepSeek-V4's merging head
// instead: Σ_i w_i·X_i with w = σ(α·x̂φ + b) + ε from the RMS-normalised
// streams, parameters merge.phi, merge.alpha and merge.b after the blocks)
// with MLP = Linear C→hC, GELU, Linear hC→C. Block l's mixer is built with
// layer index l (0-based). A Model keeps the activations of the last batch
// given to Forward (or Logits) for Backward; its buffers grow to the
// largest batch seen and are reused, so steady-state calls allocate nothing.
// A Model is not safe for concurrent use; its Layers split each call across
// goroutines themselves.
type Model struct {
	cfg    Config
	n, c   int
	hid    int
	embed  *Linear
	blocks []block
	merge  *merge // Config.Reduce = ReduceMerge; nil: the sum of the streams
	final  *RMSNorm
	head   *Linear
	params []*Param
	names  []string // checkpoint names of params, "block3.phi" style

	rows     int  // rows of the batch in the buffers
	ready    bool // Forward succeeded: Backward may follow
	ws       workspace
	gradNorm []float64 // ‖∂L/∂X_l‖_F of each block output, from the last Backward

	f32 *model32 // the float32 layers (Config.Float32); nil on the float64 path
}

// workspace holds the activations and gradients of one batch.
type workspace struct {
	x, emb, streams      []float64
	in, u, h, a          [][]float64 // per block: branch input, normed, pre-GELU, post-GELU
	f                    []float64
	red, fin, logits     []float64
	dlogits              []float64
	dfin, dred, dX, dX2  []float64
	df, da, du, din, dem []float64
}

// NewModel validates cfg and returns a Model with freshly initialised
// weights: Glorot-uniform Linears drawn in a fixed order from PCG(Seed, 0),
// unit norm gains, and each mixer's reference initialisation. A bad field
// gives an error wrapping ErrConfig that names it; a model above
// MaxParams values is refused, before anything is allocated, with an error
// that also wraps hc.ErrTooLarge and names the memory it would need.
func NewModel(cfg Config) (*Model, error) {
	if _, err := NumParams(cfg); err != nil {
		return nil, err
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	rnd := rand.New(rand.NewPCG(cfg.Seed, 0))
	c, hid := cfg.Width, cfg.Hidden*cfg.Width
	m := &Model{cfg: cfg, n: cfg.N, c: c, hid: hid, gradNorm: make([]float64, cfg.Depth)}
	var isMixer []bool
	add := func(prefix string, ps []*Param) {
		for _, p := range ps {
			m.params = append(m.params, p)
			m.names = append(m.names, prefix+p.Name)
			isMixer = append(isMixer, strings.HasSuffix(prefix, "mixer.") || prefix == "merge.")
		}
	}
	m.embed = NewLinear("embed", cfg.Inputs, c, rnd)
	add("", m.embed.Params())
	m.blocks = make([]block, cfg.Depth)
	for l := range m.blocks {
		mx, err := NewMixer(cfg.Mixer, cfg.N, c, l)
		if err != nil {
			return nil, err
		}
		if fp, ok := mx.(hc.Float32Products); ok && cfg.Float32 { // before newModel32
			fp.SetFloat32Products(true)
		}
		b := &m.blocks[l]
		b.layer = hc.NewLayer(mx)
		b.norm = NewRMSNorm("norm", c)
		b.up = NewLinear("up", c, hid, rnd)
		b.down = NewLinear("down", hid, c, rnd)
		prefix := fmt.Sprintf("block%d.", l)
		add(prefix+"mixer.", mx.Params())
		add(prefix, b.norm.Params())
		add(prefix, b.up.Params())
		add(prefix, b.down.Params())
	}
	if cfg.Reduce == ReduceMerge {
		m.merge = newMerge(cfg.N, c)
		add("merge.", m.merge.params())
	}
	m.final = NewRMSNorm("final", c)
	m.head = NewLinear("head", c, cfg.Classes, rnd)
	add("", m.final.Params())
	add("", m.head.Params())
	m.ws.in = make([][]float64, cfg.Depth)
	m.ws.u = make([][]float64, cfg.Depth)
	m.ws.h = make([][]float64, cfg.Depth)
	m.ws.a = make([][]float64, cfg.Depth)
	if cfg.Float32 {
		if m.f32, err = newModel32(m, isMixer); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Config returns the model's configuration with defaults filled in.
func (m *Model) Config() Config { return m.cfg }

// Params returns every trainable tensor: the embedding, then block by block
// the mixer's parameters, the norm gain and the two MLP Linears, then the
// final norm and the head. The order is fixed; it is the layout of the
// optimiser state and of checkpoints. On a Config.Float32 model it holds
// the float64 parameters only — the mixers' (but the Φ of their
// coefficient heads, see Config.Float32), in the same order — and Params32
// holds the rest.
func (m *Model) Params() []*Param { return m.params }

// ParamNames returns the unique checkpoint name of each entry of Params,
// e.g. "block3.mixer.phi" or "head.w". The slice is the model's own.
func (m *Model) ParamNames() []string { return m.names }

// NumParams returns the number of scalar parameters, those of Params32
// included.
func (m *Model) NumParams() int {
	k := 0
	if m.f32 != nil {
		k = len(m.f32.arena.value)
	}
	for _, p := range m.params {
		k += len(p.Value)
	}
	return k
}

// Mixer returns the mixer of block l. In a Config.Float32 model, the
// parameters it keeps in float32 storage (hc.Float32Storage: the heads'
// Φ) live in Params32; their float64 Param's Value and Grad are then
// stale and not used.
func (m *Model) Mixer(l int) hc.Mixer { return m.blocks[l].layer.Mixer() }

// grow sizes the workspace for rows examples.
func (m *Model) grow(rows int) {
	m.rows = rows
	n, c, hid, k := m.n, m.c, m.hid, m.cfg.Classes
	w := &m.ws
	w.x = grow(w.x, rows*m.cfg.Inputs)
	w.emb = grow(w.emb, rows*c)
	w.streams = grow(w.streams, rows*n*c)
	for l := range m.blocks {
		if m.f32 != nil { // the float32 workspace holds the block activations
			break
		}
		w.in[l] = grow(w.in[l], rows*c)
		w.u[l] = grow(w.u[l], rows*c)
		w.h[l] = grow(w.h[l], rows*hid)
		w.a[l] = grow(w.a[l], rows*hid)
	}
	w.f = grow(w.f, rows*c)
	w.red = grow(w.red, rows*c)
	w.fin = grow(w.fin, rows*c)
	w.logits = grow(w.logits, rows*k)
	w.dlogits = grow(w.dlogits, rows*k)
	w.dfin = grow(w.dfin, rows*c)
	w.dred = grow(w.dred, rows*c)
	w.dX = grow(w.dX, rows*n*c)
	w.dX2 = grow(w.dX2, rows*n*c)
	w.df = grow(w.df, rows*c)
	w.da = grow(w.da, rows*hid)
	w.du = grow(w.du, rows*c)
	w.din = grow(w.din, rows*c)
	w.dem = grow(w.dem, rows*c)
	if m.f32 != nil {
		m.f32.grow(m, rows)
	}
}

// grow returns s resized to length k, reusing its storage when it can.
func grow(s []float64, k int) []float64 {
	if cap(s) >= k {
		return s[:k]
	}
	return make([]float64, k)
}

// Logits runs the network on a batch x of rows×Inputs values (row-major)
// and returns the rows×Classes logits. The slice is the model's own, valid
// until the next call. Logits keeps what BackwardLogits needs. A NaN or an
// infinity that appears in the activations or mixer coefficients is
// returned as an error wrapping ErrNonFinite (the network has diverged or
// x is bad). Logits panics with ErrShape if len(x) ≠ rows·Inputs or rows < 0.
func (m *Model) Logits(x []float64, rows int) ([]float64, error) {
	if rows < 0 || len(x) != rows*m.cfg.Inputs {
		panic(ErrShape)
	}
	m.ready = false
	m.grow(rows)
	w := &m.ws
	if m.f32 != nil {
		if err := m.f32.logits(m, x, rows); err != nil {
			return nil, err
		}
		m.ready = true
		return w.logits, nil
	}
	copy(w.x, x)
	n, c := m.n, m.c
	m.embed.Forward(w.emb, w.x, rows)
	hc.Expand(w.streams, w.emb, rows, n, c)
	for l := range m.blocks {
		b := &m.blocks[l]
		if err := b.layer.Pre(w.in[l], w.streams, rows); err != nil {
			return nil, fmt.Errorf("net: block %d: %w: %w", l, ErrNonFinite, err)
		}
		b.norm.Forward(w.u[l], w.in[l], rows)
		b.up.Forward(w.h[l], w.u[l], rows)
		GELU(w.a[l], w.h[l])
		b.down.Forward(w.f, w.a[l], rows)
		if err := b.layer.Post(w.streams, w.f); err != nil {
			return nil, fmt.Errorf("net: block %d: %w: %w", l, ErrNonFinite, err)
		}
	}
	m.reduce(w.red, w.streams, rows)
	m.final.Forward(w.fin, w.red, rows)
	m.head.Forward(w.logits, w.fin, rows)
	m.ready = true
	return w.logits, nil
}

// Forward runs the network on the batch x (len(labels) rows of Inputs
// values) and scores it against labels with SoftmaxCrossEntropy. It returns
// the mean loss and the number of rows classified correctly, and keeps the
// loss gradient for Backward. Errors wrap ErrNonFinite (a NaN or infinity
// appeared: the run has diverged) or ErrLabel; after an error Backward may
// not be called. Forward panics with ErrShape if len(x) ≠ len(labels)·Inputs.
func (m *Model) Forward(x []float64, labels []int) (loss float64, correct int, err error) {
	rows := len(labels)
	logits, err := m.Logits(x, rows)
	if err != nil {
		return 0, 0, err
	}
	m.ready = false
	loss, correct, err = SoftmaxCrossEntropy(m.ws.dlogits, logits, labels, m.cfg.Classes)
	if err != nil {
		return 0, 0, err
	}
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return 0, 0, fmt.Errorf("net: loss %v: %w", loss, ErrNonFinite)
	}
	m.ready = true
	return loss, correct, nil
}

// Backward back-propagates the loss of the last Forward and adds the
// gradient of every parameter into its Grad (zero them first with
// AdamW.ZeroGrad). It panics with ErrSequence unless a Forward succeeded
// since the last Logits, Evaluate or Backward.
func (m *Model) Backward() {
	m.BackwardLogits(m.ws.dlogits)
}

// BackwardLogits back-propagates an arbitrary gradient dlogits of some loss
// with respect to the logits of the last Logits or Forward call (rows×Classes)
// and adds every parameter's gradient into its Grad. It also records the
// Frobenius norm of the gradient reaching each block's output (see
// Diagnose). It panics with ErrSequence unless Logits or Forward succeeded
// since the last Evaluate or Backward, and with ErrShape if dlogits has the
// wrong length. dlogits may be the slice Logits returned.
func (m *Model) BackwardLogits(dlogits []float64) {
	if !m.ready {
		panic(fmt.Errorf("%w: Backward without a successful Forward", ErrSequence))
	}
	rows := m.rows
	if len(dlogits) != rows*m.cfg.Classes {
		panic(ErrShape)
	}
	m.ready = false
	if m.f32 != nil {
		m.f32.backward(m, dlogits)
		return
	}
	w := &m.ws
	n, c := m.n, m.c
	m.head.Backward(w.dfin, dlogits, w.fin, rows)
	m.final.Backward(w.dred, w.dfin, w.red, rows)
	m.reduceBackward(w.dX, w.dred, w.streams, rows)
	dX, dX2 := w.dX, w.dX2
	for l := len(m.blocks) - 1; l >= 0; l-- {
		b := &m.blocks[l]
		b.layer.PostBackward(dX2, w.df, dX)
		m.gradNorm[l] = b.layer.GradNorm()
		b.down.Backward(w.da, w.df, w.a[l], rows)
		GELUBackward(w.da, w.da, w.h[l])
		b.up.Backward(w.du, w.da, w.u[l], rows)
		b.norm.Backward(w.din, w.du, w.in[l], rows)
		b.layer.PreBackward(dX2, w.din)
		dX, dX2 = dX2, dX
	}
	hc.ExpandBackward(w.dem, dX, rows, n, c)
	m.embed.Backward(nil, w.dem, w.x, rows)
}

// Evaluate runs the model over the whole of d in batches of at most batch
// examples and returns the mean cross-entropy and the accuracy. It leaves
// no batch for Backward. Errors wrap ErrNonFinite or ErrLabel; an empty d
// gives zeros. Evaluate panics with ErrShape if batch < 1, d.Dim is not
// the model's Inputs, or d's slices do not hold its N examples.
func (m *Model) Evaluate(d *Dataset, batch int) (loss, accuracy float64, err error) {
	if batch < 1 || d.Dim != m.cfg.Inputs || d.check() != nil {
		panic(ErrShape)
	}
	defer func() { m.ready = false }()
	total := 0
	var rows []float64 // d's features, batch by batch, when d keeps bytes
	if d.X == nil {
		rows = make([]float64, min(batch, d.N)*d.Dim)
	}
	for lo := 0; lo < d.N; lo += batch {
		hi := min(lo+batch, d.N)
		var x []float64
		if d.X != nil {
			x = d.X[lo*d.Dim : hi*d.Dim]
		} else {
			x = rows[:(hi-lo)*d.Dim]
			d.Rows(x, lo, hi)
		}
		logits, err := m.Logits(x, hi-lo)
		if err != nil {
			return 0, 0, err
		}
		l, k, err := SoftmaxCrossEntropy(nil, logits, d.Y[lo:hi], m.cfg.Classes)
		if err != nil {
			return 0, 0, err
		}
		loss += l * float64(hi-lo)
		total += k
	}
	if d.N == 0 {
		return 0, 0, nil
	}
	return loss / float64(d.N), float64(total) / float64(d.N), nil
}

// reduce writes the network's reduce of the streams x into dst: the merging
// head of MixerMHCV4, or the sum of the streams.
func (m *Model) reduce(dst, x []float64, rows int) {
	if m.merge != nil {
		m.merge.forward(dst, x, rows)
		return
	}
	hc.Reduce(dst, x, rows, m.n, m.c)
}

// reduceBackward writes into dx the gradient of reduce given dred, with x
// the streams of the last forward pass, and adds the merging head's
// parameter gradients.
func (m *Model) reduceBackward(dx, dred, x []float64, rows int) {
	if m.merge != nil {
		m.merge.backward(dx, dred, x, rows)
		return
	}
	hc.ReduceBackward(dx, dred, rows, m.n, m.c)
}
