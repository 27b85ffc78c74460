package mhc

import (
	"errors"
	"fmt"
	"math"
	"sync/atomic"

	"github.com/hyperconn/hyperconn/birkhoff"
	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/head"
)

// ErrConfig is wrapped by every error New returns for an invalid Config.
var ErrConfig = errors.New("mhc: invalid config")

// Config describes one mHC mixer. The zero value of every field but N and C
// means the reference default noted on it.
type Config struct {
	// N is the number of streams and C the width of each (both ≥ 1).
	N, C int
	// Layer is the sub-layer's index; stream Layer mod N is its home stream,
	// the one h_pre reads and h_post writes most at init.
	Layer int
	// Projection is how H̃_res is made doubly stochastic. The zero value is
	// the paper's: Fixed, 20 Sinkhorn-Knopp sweeps, unrolled backward.
	// birkhoff.Exact gives the exact projection with the implicit backward.
	// Iterations ≤ MaxIterations and MaxIter ≤ MaxMaxIter.
	Projection birkhoff.Options
	// OffDiagonal is the init of b_res off its diagonal (the diagonal is 0);
	// 0 means −8, the reference code's choice. |OffDiagonal| ≤
	// MaxOffDiagonal.
	OffDiagonal float64
}

// PaperConfig is the configuration of the mHC paper with the reference
// code's init: Fixed-20 Sinkhorn, b_res = 0 on the diagonal and −8 off it.
func PaperConfig(n, c, layer int) Config { return Config{N: n, C: c, Layer: layer} }

// ExactConfig is PaperConfig with the exact projection and its implicit
// backward.
func ExactConfig(n, c, layer int) Config {
	cfg := PaperConfig(n, c, layer)
	cfg.Projection = birkhoff.Options{Method: birkhoff.Exact}
	return cfg
}

// DefaultOffDiagonal is the reference init of b_res off the diagonal.
const DefaultOffDiagonal = -8

// Mixer is an mHC parameterisation. It implements hc.Mixer.
type Mixer struct {
	cfg  Config
	head *head.Head
	// ARes is the gate α_res (init 0.01, no weight decay).
	ARes *hc.Param
	// BRes is the bias b_res (n×n, no weight decay).
	BRes   *hc.Param
	params []*hc.Param
	maxDev atomic.Uint64 // math.Float64bits of the largest deviation seen
	// fixedRec is the length of a token's birkhoff.ProjectFixed record in
	// the tape: 0 unless the projection is Fixed and n > 1.
	fixedRec int
}

var _ hc.Mixer = (*Mixer)(nil)

// New validates cfg and returns a mixer with the reference init. Errors
// wrap ErrConfig; sizes above the bounds of NumParams wrap hc.ErrTooLarge
// too and are refused before anything is allocated.
func New(cfg Config) (*Mixer, error) {
	if _, err := NumParams(cfg); err != nil {
		return nil, err
	}
	if cfg.OffDiagonal == 0 {
		cfg.OffDiagonal = DefaultOffDiagonal
	}
	n := cfg.N
	k := n * n
	if n == 1 {
		k = 0 // H_res = [1] whatever the logit: no residual parameters
	}
	h, err := head.New(n, cfg.C, k, cfg.Layer)
	if err != nil {
		return nil, err
	}
	m := &Mixer{cfg: cfg, head: h}
	if n > 1 && cfg.Projection.Method == birkhoff.Fixed {
		m.fixedRec = birkhoff.FixedRecordLen(n, cfg.Projection.Iterations)
	}
	m.ARes, m.BRes = head.ResidualGate(n * n)
	for i := range m.BRes.Value {
		if i%(n+1) != 0 {
			m.BRes.Value[i] = cfg.OffDiagonal
		}
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

// Params returns phi, alpha, b_pre, b_post (the shared head), alpha_res and
// b_res. At n = 1, H_res = [1] and the last two are absent.
func (m *Mixer) Params() []*hc.Param { return m.params }

// TapeLen is the head's tape plus the logits H̃_res and the result H_res,
// and for Fixed (n > 1) the record of the sweeps that the unrolled backward
// reads (birkhoff.FixedRecordLen: 1 + n² + 2·Iterations·n values).
func (m *Mixer) TapeLen() int { return m.head.TapeLen() + 2*m.cfg.N*m.cfg.N + m.fixedRec }

// MaxDeviation returns the largest max |row or column sum − 1| of any H_res
// computed since the last ResetDeviation: 0 up to rounding for Exact, the
// real gap of Fixed-20.
func (m *Mixer) MaxDeviation() float64 { return math.Float64frombits(m.maxDev.Load()) }

// ResetDeviation sets MaxDeviation to 0.
func (m *Mixer) ResetDeviation() { m.maxDev.Store(0) }

func (m *Mixer) noteDeviation(d float64) {
	for {
		old := m.maxDev.Load()
		if !(d > math.Float64frombits(old)) {
			return
		}
		if m.maxDev.CompareAndSwap(old, math.Float64bits(d)) {
			return
		}
	}
}

// NewWorker returns a worker for one goroutine.
func (m *Mixer) NewWorker() hc.Worker {
	n := m.cfg.N
	return &worker{m: m, head: m.head.NewWorker(), ws: birkhoff.NewWorkspace[float64](n),
		dz: make([]float64, n*n), dz4: make([]float64, 4*n*n), draw: make([]float64, n*n), bRes: make([]float64, n*n)}
}

type worker struct {
	m    *Mixer
	head *head.Worker
	ws   *birkhoff.Workspace[float64]
	dz   []float64
	dz4  []float64 // four tokens' dz for BackwardFixed4
	draw []float64 // tokens×n², grown to the largest chunk
	aRes float64   // private ∂L/∂α_res
	bRes []float64
}

var _ hc.ChunkWorker = (*worker)(nil)

// Forward computes h_pre, h_post and H_res = Sinkhorn(α_res·mat(x̂φ_res) + b_res).
func (w *worker) Forward(pre, post, res, tape, x []float64) error {
	return w.ForwardChunk(pre, post, res, tape, x, 1)
}

// ForwardChunk is Forward for consecutive tokens (see hc.ChunkWorker). A
// token's tape is the head's record, then H̃_res, then H_res, then for Fixed
// the record of its sweeps.
func (w *worker) ForwardChunk(pre, post, res, tape, x []float64, tokens int) error {
	m := w.m
	n, nn := m.cfg.N, m.cfg.N*m.cfg.N
	tl, ht := m.TapeLen(), m.head.TapeLen()
	w.head.ForwardChunk(pre, post, tape, tl, x, tokens)
	var worst float64
	defer func() { m.noteDeviation(worst) }()
	t := 0
	if n == 4 && m.fixedRec > 0 {
		// Four tokens at once (birkhoff.Workspace.ProjectFixed4).
		for ; t+4 <= tokens; t += 4 {
			var h, z, rec [4][]float64
			for l := range 4 {
				h[l], z[l], rec[l] = w.logits(res, tape, t+l)
			}
			st, k, err := w.ws.ProjectFixed4(h, rec, z, m.cfg.Projection.Iterations)
			for l := range k {
				r := tape[(t+l)*tl : (t+l+1)*tl]
				copy(r[ht+nn:ht+2*nn], h[l])
				if st[l].Deviation > worst {
					worst = st[l].Deviation
				}
			}
			if err != nil {
				return wrap(t+k, err)
			}
		}
	}
	for ; t < tokens; t++ {
		if n == 1 {
			res[t] = 1
			continue
		}
		h, z, fixed := w.logits(res, tape, t)
		var st birkhoff.Stats
		var err error
		if m.fixedRec > 0 {
			st, err = w.ws.ProjectFixed(h, fixed, z, m.cfg.Projection.Iterations)
		} else {
			st, err = w.ws.Project(h, z, m.cfg.Projection)
		}
		if err != nil {
			return wrap(t, err)
		}
		copy(tape[t*tl+ht+nn:t*tl+ht+2*nn], h)
		if st.Deviation > worst { // as noteDeviation: a NaN is never noted
			worst = st.Deviation
		}
	}
	return nil
}

// wrap turns a projection error for the chunk's token t into this
// package's, wrapping hc.ErrNotFinite as well when H̃_res held a NaN or an
// infinity (as shc does).
func wrap(t int, err error) error {
	if errors.Is(err, birkhoff.ErrNonFinite) {
		return fmt.Errorf("mhc: token %d: H̃_res: %w: %w", t, hc.ErrNotFinite, err)
	}
	return fmt.Errorf("mhc: token %d: H̃_res: %w", t, err)
}

// Backward differentiates Forward: the implicit gradient for Exact and
// Tolerance (from the stored H_res), the unrolled one for Fixed (from the
// recorded sweeps, birkhoff.Workspace.BackwardFixed).
func (w *worker) Backward(dx, x, tape, dpre, dpost, dres []float64) {
	w.BackwardChunk(dx, x, tape, dpre, dpost, dres, 1)
}

// BackwardChunk is Backward for consecutive tokens (see hc.ChunkWorker).
func (w *worker) BackwardChunk(dx, x, tape, dpre, dpost, dres []float64, tokens int) {
	m := w.m
	n, nn := m.cfg.N, m.cfg.N*m.cfg.N
	tl, ht := m.TapeLen(), m.head.TapeLen()
	k := m.head.K()
	if len(w.draw) < tokens*k {
		w.draw = make([]float64, tokens*k)
	}
	a := m.ARes.Value[0]
	t := 0
	if n == 4 && m.fixedRec > 0 {
		// Four tokens at once (birkhoff.Workspace.BackwardFixed4).
		for ; t+4 <= tokens; t += 4 {
			var dz, g, rec [4][]float64
			for l := range 4 {
				r := tape[(t+l)*tl : (t+l+1)*tl]
				dz[l] = w.dz4[l*nn : (l+1)*nn]
				g[l] = dres[(t+l)*nn : (t+l+1)*nn]
				rec[l] = r[ht+2*nn:]
			}
			w.ws.BackwardFixed4(dz, g, rec)
			for l := range 4 {
				w.chain(t+l, tape[(t+l)*tl:(t+l+1)*tl], dz[l], a)
			}
		}
	}
	for ; t < tokens; t++ {
		if n == 1 {
			break
		}
		rec := tape[t*tl : (t+1)*tl]
		p := rec[ht+nn : ht+2*nn]
		g := dres[t*nn : (t+1)*nn]
		if m.fixedRec > 0 {
			w.ws.BackwardFixed(w.dz, g, rec[ht+2*nn:])
		} else {
			w.ws.BackwardAt(w.dz, p, g)
		}
		w.chain(t, rec, w.dz, a)
	}
	w.head.BackwardChunk(dx, x, tape, tl, dpre, dpost, w.draw, tokens)
}

// logits computes token t's H̃_res = α·raw + b_res into its tape and returns
// the slices of H_res (in res), H̃_res and the Fixed record.
func (w *worker) logits(res, tape []float64, t int) (h, z, rec []float64) {
	m := w.m
	nn, tl, ht := m.cfg.N*m.cfg.N, m.TapeLen(), m.head.TapeLen()
	r := tape[t*tl : (t+1)*tl]
	z = r[ht : ht+nn]
	a := m.ARes.Value[0]
	for i, v := range m.head.Raw(r) {
		z[i] = a*v + m.BRes.Value[i]
	}
	return res[t*nn : (t+1)*nn], z, r[ht+2*nn:]
}

// chain takes token t's ∂L/∂H̃_res = dz (rec its tape) through
// z = α·raw + b: ∂α = Σ dz·raw, ∂b = dz, ∂raw = α·dz.
func (w *worker) chain(t int, rec, dz []float64, a float64) {
	k := w.m.head.K()
	draw := w.draw[t*k : (t+1)*k]
	for i, r := range w.m.head.Raw(rec) {
		d := dz[i]
		w.aRes += d * r
		w.bRes[i] += d
		draw[i] = a * d
	}
}

// Flush adds the private gradients into the Params.
func (w *worker) Flush() {
	w.head.Flush()
	w.m.ARes.Grad[0] += w.aRes
	w.aRes = 0
	for i, v := range w.bRes {
		w.m.BRes.Grad[i] += v
		w.bRes[i] = 0
	}
}
