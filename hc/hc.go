package hc

import (
	"errors"
	"math"
)

// ErrConfig is wrapped by every error New returns for an invalid Config.
var ErrConfig = errors.New("hc: invalid config")

// Defaults of Config.
const (
	// DefaultN is the number of streams when Config.N is 0: the expansion
	// rate the HC paper found best (arXiv 2409.19606, §4).
	DefaultN = 4
	// ScaleInit is the initial value of the dynamic scales s_α and s_β
	// (HC paper, §3).
	ScaleInit = 0.01
	// normEps is added to the mean square under the RMS norm of a stream,
	// so that an all-zero stream normalises to zero instead of NaN.
	normEps = 1e-6
)

// Config describes a hyper-connection of the HC paper. The zero value of
// every field except C means the documented default.
type Config struct {
	// N is the number of streams n (the expansion rate); 0 means DefaultN.
	N int
	// C is the width of each stream; it has no default and must be ≥ 1.
	C int
	// Layer is the 0-based index k of the sub-layer; the branch reads
	// stream k mod n at init (h_pre = e_{k mod n}).
	Layer int
	// Dynamic adds the token-dependent parts (DHC); false is static HC.
	Dynamic bool
	// NoTanh drops the tanh on the dynamic parts (the paper's ablation);
	// it has no effect on static HC.
	NoTanh bool
}

// PaperConfig returns the configuration of the HC paper's main models:
// dynamic, with tanh, n streams of width c, at sub-layer index layer.
func PaperConfig(n, c, layer int) Config {
	return Config{N: n, C: c, Layer: layer, Dynamic: true}
}

// HC is the unconstrained hyper-connection of arXiv 2409.19606 as a Mixer.
// See the package documentation for its parameters and their initial values.
type HC struct {
	cfg           Config
	n, c          int
	b, am, ar     *Param // static parts
	wb, wm, wr    *Param // dynamic weights W_β, W_m, W_r (nil when static)
	sAlpha, sBeta *Param // dynamic scales s_α, s_β (nil when static)
	params        []*Param
	tapeLen       int
	dynamic       bool
	applyTanh     bool
}

var _ Mixer = (*HC)(nil)

// New returns the HC mixer described by cfg, at its initial values. It
// returns an error wrapping ErrConfig if N < 0, C < 1 or Layer < 0, and
// also ErrTooLarge if N > MaxN or the parameters would exceed MaxParams
// (see NumParams), before allocating anything.
func New(cfg Config) (*HC, error) {
	if _, err := NumParams(cfg); err != nil {
		return nil, err
	}
	if cfg.N == 0 {
		cfg.N = DefaultN
	}
	n, c := cfg.N, cfg.C
	h := &HC{cfg: cfg, n: n, c: c, dynamic: cfg.Dynamic, applyTanh: cfg.Dynamic && !cfg.NoTanh}
	newParam := func(name string, size int, noDecay bool) *Param {
		p := &Param{Name: name, Value: make([]float64, size), Grad: make([]float64, size), NoDecay: noDecay}
		h.params = append(h.params, p)
		return p
	}
	h.b = newParam("B", n, true)
	h.am = newParam("A_m", n, true)
	h.ar = newParam("A_r", n*n, true)
	for i := range n {
		h.b.Value[i] = 1
		h.ar.Value[i*n+i] = 1
	}
	h.am.Value[cfg.Layer%n] = 1
	if cfg.Dynamic {
		h.wb = newParam("W_beta", c, false)
		h.wm = newParam("W_m", c, false)
		h.wr = newParam("W_r", c*n, false)
		h.sAlpha = newParam("s_alpha", 1, true)
		h.sBeta = newParam("s_beta", 1, true)
		h.sAlpha.Value[0] = ScaleInit
		h.sBeta.Value[0] = ScaleInit
		h.tapeLen = 3*n + n*n + n*(n+2)
	}
	return h, nil
}

// Config returns the configuration of h, with defaults filled in.
func (h *HC) Config() Config { return h.cfg }

// Shape implements Mixer.
func (h *HC) Shape() (n, c int) { return h.n, h.c }

// Params implements Mixer. The order is B, A_m, A_r and, when dynamic,
// W_beta, W_m, W_r, s_alpha, s_beta.
func (h *HC) Params() []*Param { return h.params }

// TapeLen implements Mixer: 0 for static HC; 3n + n² + n(n+2) for dynamic
// HC (the inverse RMS of each stream, the n + n + n² activations and the
// n(n+2) logits).
func (h *HC) TapeLen() int { return h.tapeLen }

// NewWorker implements Mixer.
func (h *HC) NewWorker() Worker {
	w := &hcWorker{h: h, grads: make([][]float64, len(h.params))}
	for i, p := range h.params {
		if h.dynamic && (p == h.wb || p == h.wm || p == h.wr) {
			continue // accumulated in gwt, (n+2)×C, by BackwardChunk
		}
		w.grads[i] = make([]float64, len(p.Value))
	}
	if h.dynamic {
		m := h.n + 2
		w.wt = make([]float64, m*h.c)
		w.gwt = make([]float64, m*h.c)
		w.g = make([]float64, h.n*m)
	}
	return w
}

// hcWorker computes HC coefficients for one goroutine. For dynamic HC it
// works on chunks of tokens (see hc_chunk.go), one stream at a time.
type hcWorker struct {
	h        *HC
	grads    [][]float64 // private gradients, in Params order (nil for W_beta, W_m, W_r)
	wt       []float64   // Wᵀ = [W_beta W_m W_r]ᵀ, (n+2)×C
	gwt      []float64   // private ∂L/∂Wᵀ, (n+2)×C; holds nothing while !gradsSet
	g        []float64   // ρ·∂L/∂z of the n streams of one token, n×(n+2)
	gradsSet bool
}

var _ ChunkWorker = (*hcWorker)(nil)

// Forward implements Worker: it is ForwardChunk for one token.
func (w *hcWorker) Forward(pre, post, res, tape, x []float64) error {
	return w.ForwardChunk(pre, post, res, tape, x, 1)
}

// act is tanh, or the identity when tanh is off.
func (w *hcWorker) act(z float64) float64 {
	if w.h.applyTanh {
		return math.Tanh(z)
	}
	return z
}

// dact is the derivative of act at the point where act returned t.
func (w *hcWorker) dact(t float64) float64 {
	if w.h.applyTanh {
		return 1 - t*t
	}
	return 1
}

// Backward implements Worker: it is BackwardChunk for one token.
func (w *hcWorker) Backward(dx, x, tape, dpre, dpost, dres []float64) {
	w.BackwardChunk(dx, x, tape, dpre, dpost, dres, 1)
}

// Flush implements Worker.
func (w *hcWorker) Flush() {
	if !w.gradsSet {
		return
	}
	h := w.h
	for i, p := range h.params {
		g := w.grads[i]
		for k, v := range g {
			p.Grad[k] += v
		}
		clear(g)
	}
	if h.dynamic {
		n, c := h.n, h.c
		gb, gm, gr := h.wb.Grad, h.wm.Grad, h.wr.Grad
		for k, v := range w.gwt[:c] {
			gb[k] += v
		}
		for k, v := range w.gwt[c : 2*c] {
			gm[k] += v
		}
		for j := range n {
			for k, v := range w.gwt[(2+j)*c : (3+j)*c] {
				gr[k*n+j] += v
			}
		}
	}
	w.gradsSet = false
}
