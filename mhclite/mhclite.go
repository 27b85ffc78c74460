package mhclite

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/hyperconn/hyperconn/birkhoff"
	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/head"
)

// ErrConfig is wrapped by every error New returns for an invalid Config.
var ErrConfig = errors.New("mhclite: invalid config")

// MaxN is the largest number of streams New accepts: birkhoff.MaxPermN.
// The mixture runs over all N! permutation matrices, so a token needs N!
// softmax weights and φ_res holds N·C×N! parameters; at N = 9 that would be
// 362880 weights per token.
const MaxN = birkhoff.MaxPermN

// DefaultOffIdentity is the reference init of b_res for every permutation
// but the identity (whose logit is 0).
const DefaultOffIdentity = -8

// Config describes one mHC-lite mixer. The zero value of every field but N
// and C means the reference default noted on it.
type Config struct {
	// N is the number of streams (1 ≤ N ≤ MaxN) and C the width of each
	// (C ≥ 1).
	N, C int
	// Layer is the sub-layer's index; stream Layer mod N is its home stream,
	// the one h_pre reads and h_post writes most at init.
	Layer int
	// OffIdentity is the init of b_res for every permutation except the
	// identity (whose entry is 0); 0 means −8, the reference code's choice.
	OffIdentity float64
}

// PaperConfig is the configuration of the mHC-lite paper with the
// reference code's init: b_res = 0 for the identity and −8 for every other
// permutation, φ = 0, gates 0.01.
func PaperConfig(n, c, layer int) Config { return Config{N: n, C: c, Layer: layer} }

// Mixer is an mHC-lite parameterisation. It implements hc.Mixer.
type Mixer struct {
	cfg   Config
	head  *head.Head
	perms *birkhoff.Perms
	// ARes is the gate α_res (init 0.01, no weight decay).
	ARes *hc.Param
	// BRes is the bias b_res, one logit per permutation in the order of
	// Perms (n!, no weight decay).
	BRes   *hc.Param
	params []*hc.Param

	probeMu sync.Mutex
	probe   *probe // scratch of WeightsTo, created on first use
}

var _ hc.Mixer = (*Mixer)(nil)

// New validates cfg and returns a mixer with the reference init. Errors
// wrap ErrConfig; sizes above the bounds of NumParams wrap hc.ErrTooLarge
// too and are refused before anything is allocated.
func New(cfg Config) (*Mixer, error) {
	if _, err := NumParams(cfg); err != nil {
		return nil, err
	}
	if cfg.OffIdentity == 0 {
		cfg.OffIdentity = DefaultOffIdentity
	}
	n := cfg.N
	ps, err := permsOf(n)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	k := ps.Len()
	if n == 1 {
		k = 0 // H_res = [1] whatever the logit: no residual parameters
	}
	h, err := head.New(n, cfg.C, k, cfg.Layer)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	m := &Mixer{cfg: cfg, head: h, perms: ps}
	m.ARes, m.BRes = head.ResidualGate(ps.Len())
	for i := 1; i < len(m.BRes.Value); i++ { // index 0 is the identity
		m.BRes.Value[i] = cfg.OffIdentity
	}
	m.params = h.Params()
	if n > 1 {
		m.params = append(m.params, m.ARes, m.BRes)
	}
	return m, nil
}

// Config returns the mixer's configuration, defaults filled in.
func (m *Mixer) Config() Config { return m.cfg }

// Shape returns n and C.
func (m *Mixer) Shape() (n, c int) { return m.cfg.N, m.cfg.C }

// Perms returns the table of the n! permutations the mixture runs over, in
// lexicographic order (index 0 is the identity): weight k and b_res[k]
// belong to the permutation matrix P_k with P_k[i, Perms().At(k)[i]] = 1.
// The table is shared and must not be modified.
func (m *Mixer) Perms() *birkhoff.Perms { return m.perms }

// Params returns phi, alpha, b_pre, b_post (the shared head), alpha_res and
// b_res. At n = 1, H_res = [1] and the last two are absent.
func (m *Mixer) Params() []*hc.Param { return m.params }

// TapeLen is the head's tape plus the n! mixture weights.
func (m *Mixer) TapeLen() int {
	if m.cfg.N == 1 {
		return m.head.TapeLen()
	}
	return m.head.TapeLen() + m.perms.Len()
}

// NewWorker returns a worker for one goroutine.
func (m *Mixer) NewWorker() hc.Worker {
	k := m.perms.Len()
	return &worker{m: m, head: m.head.NewWorker(),
		z: make([]float64, k), dw: make([]float64, k), draw: make([]float64, k), bRes: make([]float64, k)}
}

type worker struct {
	m    *Mixer
	head *head.Worker
	z    []float64 // logits α_res·raw + b_res
	dw   []float64 // ∂L/∂w
	draw []float64 // tokens×n!: ∂L/∂raw, grown to the largest chunk
	aRes float64   // private ∂L/∂α_res
	bRes []float64 // private ∂L/∂b_res
}

var _ hc.ChunkWorker = (*worker)(nil)

// Forward computes h_pre, h_post and H_res = Σ_k w_k·P_k with
// w = softmax(α_res·raw + b_res), and records w after the head's tape.
// The mixture is birkhoff.Mix, compensated so that equal weights at the
// init do not bias it.
func (w *worker) Forward(pre, post, res, tape, x []float64) error {
	return w.ForwardChunk(pre, post, res, tape, x, 1)
}

// ForwardChunk is Forward for consecutive tokens (see hc.ChunkWorker): the
// head's projections of the whole chunk are one matrix product, the softmax
// and the mixture run token by token. A token's tape is the head's record,
// then w.
func (w *worker) ForwardChunk(pre, post, res, tape, x []float64, tokens int) error {
	m := w.m
	n, nn := m.cfg.N, m.cfg.N*m.cfg.N
	tl, ht := m.TapeLen(), m.head.TapeLen()
	w.head.ForwardChunk(pre, post, tape, tl, x, tokens)
	if n == 1 {
		for t := range tokens {
			res[t] = 1
		}
		return nil
	}
	a, b := m.ARes.Value[0], m.BRes.Value
	z := w.z
	for t := range tokens {
		rec := tape[t*tl : (t+1)*tl]
		for k, r := range m.head.Raw(rec) {
			z[k] = a*r + b[k]
		}
		wt := rec[ht : ht+len(z)]
		softmax(wt, z)
		birkhoff.Mix(res[t*nn:(t+1)*nn], m.perms, wt)
	}
	return nil
}

// Backward differentiates Forward: ∂w = MixBackward(∂H_res), then the
// softmax, the affine map and the head.
func (w *worker) Backward(dx, x, tape, dpre, dpost, dres []float64) {
	w.BackwardChunk(dx, x, tape, dpre, dpost, dres, 1)
}

// BackwardChunk is Backward for consecutive tokens (see hc.ChunkWorker):
// the mixture and the softmax token by token, then the head's backward for
// the whole chunk as matrix products.
func (w *worker) BackwardChunk(dx, x, tape, dpre, dpost, dres []float64, tokens int) {
	m := w.m
	n, nn := m.cfg.N, m.cfg.N*m.cfg.N
	tl, ht := m.TapeLen(), m.head.TapeLen()
	if n == 1 {
		w.head.BackwardChunk(dx, x, tape, tl, dpre, dpost, nil, tokens)
		return
	}
	k := len(w.dw)
	if len(w.draw) < tokens*k {
		w.draw = make([]float64, tokens*k)
	}
	a := m.ARes.Value[0]
	for t := range tokens {
		rec := tape[t*tl : (t+1)*tl]
		wt := rec[ht : ht+k]
		birkhoff.MixBackward(w.dw, m.perms, dres[t*nn:(t+1)*nn])
		// Softmax: ∂z_k = w_k·(∂w_k − Σ_j w_j ∂w_j).
		var s float64
		for i, v := range wt {
			s += v * w.dw[i]
		}
		// z = α·raw + b: ∂α = Σ ∂z·raw, ∂b = ∂z, ∂raw = α·∂z.
		raw := m.head.Raw(rec)
		draw := w.draw[t*k : (t+1)*k]
		for i, v := range wt {
			d := v * (w.dw[i] - s)
			w.aRes += d * raw[i]
			w.bRes[i] += d
			draw[i] = a * d
		}
	}
	w.head.BackwardChunk(dx, x, tape, tl, dpre, dpost, w.draw, tokens)
}

// Flush adds the private gradients into the Params.
func (w *worker) Flush() {
	w.head.Flush()
	if w.m.cfg.N == 1 {
		return
	}
	w.m.ARes.Grad[0] += w.aRes
	w.aRes = 0
	for k, v := range w.bRes {
		w.m.BRes.Grad[k] += v
		w.bRes[k] = 0
	}
}

// softmax writes w = softmax(z), shifted by max z so that no exponential
// overflows and the largest is exactly 1 (the sum is then in [1, len(z)]),
// the sum compensated so that Σ w = 1 to a few ulps.
// A NaN or +Inf logit makes every weight NaN, which hc.Layer reports.
func softmax(w, z []float64) {
	hi := z[0]
	for _, v := range z[1:] {
		if v > hi {
			hi = v
		}
	}
	// Neumaier's compensated sum: up to 8! terms of a similar size would
	// otherwise round the same way at every step, a bias of ~1e-12 relative.
	var s, comp float64
	for k, v := range z {
		e := math.Exp(v - hi)
		w[k] = e
		t := s + e
		if s >= e {
			comp += (s - t) + e
		} else {
			comp += (e - t) + s
		}
		s = t
	}
	s += comp
	for k := range w {
		w[k] /= s
	}
}
