package hc

import (
	"errors"
	"fmt"
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
// returns an error wrapping ErrConfig if N < 0, C < 1 or Layer < 0.
func New(cfg Config) (*HC, error) {
	if cfg.N == 0 {
		cfg.N = DefaultN
	}
	switch {
	case cfg.N < 1:
		return nil, fmt.Errorf("hc: n = %d, want n ≥ 1: %w", cfg.N, ErrConfig)
	case cfg.C < 1:
		return nil, fmt.Errorf("hc: C = %d, want C ≥ 1: %w", cfg.C, ErrConfig)
	case cfg.Layer < 0:
		return nil, fmt.Errorf("hc: layer = %d, want layer ≥ 0: %w", cfg.Layer, ErrConfig)
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
		h.tapeLen = 3*n + n*n
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

// TapeLen implements Mixer: 0 for static HC; 3n + n² for dynamic HC (the
// inverse RMS of each stream and the n + n + n² activations).
func (h *HC) TapeLen() int { return h.tapeLen }

// NewWorker implements Mixer.
func (h *HC) NewWorker() Worker {
	w := &hcWorker{h: h, grads: make([][]float64, len(h.params))}
	for i, p := range h.params {
		w.grads[i] = make([]float64, len(p.Value))
	}
	if h.dynamic {
		w.xbar = make([]float64, h.c)
		w.dxbar = make([]float64, h.c)
		w.z = make([]float64, h.n)
	}
	return w
}

// hcWorker computes HC coefficients for one goroutine.
type hcWorker struct {
	h        *HC
	grads    [][]float64 // private gradients, in Params order
	xbar     []float64   // normalised stream
	dxbar    []float64   // its gradient
	z        []float64   // one stream's n logits of W_r
	gradsSet bool
}

var _ Worker = (*hcWorker)(nil)

// Forward implements Worker.
func (w *hcWorker) Forward(pre, post, res, tape, x []float64) error {
	h := w.h
	n, c := h.n, h.c
	b, am, ar := h.b.Value, h.am.Value, h.ar.Value
	for i := range n {
		post[i] = b[i]
		pre[i] = am[i]
		for j := range n {
			res[j*n+i] = ar[i*n+j]
		}
	}
	if !h.dynamic {
		return nil
	}
	inv, tb, tm, tr := tape[:n], tape[n:2*n], tape[2*n:3*n], tape[3*n:3*n+n*n]
	wb, wm, wr := h.wb.Value, h.wm.Value, h.wr.Value
	sa, sb := h.sAlpha.Value[0], h.sBeta.Value[0]
	xbar, z := w.xbar, w.z
	for i := range n {
		xi := x[i*c : (i+1)*c]
		inv[i] = 1 / math.Sqrt(dot(xi, xi)/float64(c)+normEps)
		scaleTo(xbar, inv[i], xi)
		tb[i] = w.act(dot(xbar, wb))
		tm[i] = w.act(dot(xbar, wm))
		clear(z)
		for k, v := range xbar {
			axpy(z, v, wr[k*n:(k+1)*n])
		}
		for j := range n {
			tr[i*n+j] = w.act(z[j])
			res[j*n+i] += sa * tr[i*n+j]
		}
		post[i] += sb * tb[i]
		pre[i] += sa * tm[i]
	}
	return nil
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

// Backward implements Worker.
func (w *hcWorker) Backward(dx, x, tape, dpre, dpost, dres []float64) {
	h := w.h
	n, c := h.n, h.c
	w.gradsSet = true
	gb, gam, gar := w.grads[0], w.grads[1], w.grads[2]
	for i := range n {
		gb[i] += dpost[i]
		gam[i] += dpre[i]
		for j := range n {
			gar[i*n+j] += dres[j*n+i]
		}
	}
	if !h.dynamic {
		return
	}
	gwb, gwm, gwr, gsa, gsb := w.grads[3], w.grads[4], w.grads[5], w.grads[6], w.grads[7]
	inv, tb, tm, tr := tape[:n], tape[n:2*n], tape[2*n:3*n], tape[3*n:3*n+n*n]
	wb, wm, wr := h.wb.Value, h.wm.Value, h.wr.Value
	sa, sb := h.sAlpha.Value[0], h.sBeta.Value[0]
	xbar, dxbar, dz := w.xbar, w.dxbar, w.z
	for i := range n {
		xi := x[i*c : (i+1)*c]
		scaleTo(xbar, inv[i], xi)
		gsb[0] += dpost[i] * tb[i]
		gsa[0] += dpre[i] * tm[i]
		dzb := dpost[i] * sb * w.dact(tb[i])
		dzm := dpre[i] * sa * w.dact(tm[i])
		for j := range n {
			t := tr[i*n+j]
			gsa[0] += dres[j*n+i] * t
			dz[j] = dres[j*n+i] * sa * w.dact(t)
		}
		axpy(gwb, dzb, xbar)
		axpy(gwm, dzm, xbar)
		for k, v := range xbar {
			axpy(gwr[k*n:(k+1)*n], v, dz)
			dxbar[k] = dzb*wb[k] + dzm*wm[k] + dot(dz, wr[k*n:(k+1)*n])
		}
		proj := dot(xbar, dxbar) / float64(c)
		dxi := dx[i*c : (i+1)*c]
		for k, v := range dxbar {
			dxi[k] += (v - xbar[k]*proj) * inv[i]
		}
	}
}

// Flush implements Worker.
func (w *hcWorker) Flush() {
	if !w.gradsSet {
		return
	}
	for i, p := range w.h.params {
		g := w.grads[i]
		for k, v := range g {
			p.Grad[k] += v
		}
		clear(g)
	}
	w.gradsSet = false
}
