package mhc

import (
	"errors"
	"fmt"
	"math"
	"sync/atomic"

	"github.com/hyperconn/hyperconn/birkhoff"
	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/head"
	"github.com/hyperconn/hyperconn/internal/shell"
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
	// Form is the map from H̃_res to H_res: the paper's Sinkhorn (the zero
	// value) or DeepSeekV4 (see DeepSeekV4Config), which needs a Fixed
	// Projection (its Iterations are the rounds, 0 meaning 20).
	Form Form
	// Eps is DeepSeekV4's ε (0 means DefaultEps, 1e-6); Sinkhorn has none
	// and needs 0.
	Eps float64
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

// frame is the shared shell of the coefficient-head mixers.
type frame = shell.Shell

// Mixer is an mHC parameterisation: the projection of H̃_res onto the doubly
// stochastic matrices on the shell that the coefficient-head mixers share
// (internal/shell), which gives it, beside the methods below,
// Shape() (n, c int) and TapeLen() int (hc.Mixer), SetFloat32Products(on
// bool) (hc.Float32Products), Float32Params() []*hc.Param and
// SetFloat32Storage(p *hc.Param, value, grad []float32) error
// (hc.Float32Storage, for the head's Φ).
type Mixer struct {
	*frame
	cfg  Config
	head *head.Head // the frame's
	// ARes is the gate α_res (init 0.01, no weight decay).
	ARes *hc.Param
	// BRes is the bias b_res (n×n, no weight decay).
	BRes   *hc.Param
	maxDev atomic.Uint64 // math.Float64bits of the largest deviation seen
	// fixedRec is the length of a token's birkhoff.ProjectFixed record in
	// the tape: 0 unless the projection is Fixed and n > 1.
	fixedRec int
}

// New validates cfg and returns an mHC mixer with the reference code's init
// (see Config).
func New(cfg Config) (*Mixer, error) {
	if _, err := NumParams(cfg); err != nil {
		return nil, err
	}
	cfg, err := checked(cfg)
	if err != nil {
		return nil, err
	}
	n := cfg.N
	m := &Mixer{cfg: cfg}
	if n > 1 && cfg.Projection.Method == birkhoff.Fixed && cfg.Form == Sinkhorn {
		m.fixedRec = birkhoff.FixedRecordLen(n, cfg.Projection.Iterations)
	}
	m.ARes, m.BRes = head.ResidualGate(n * n)
	for i := range m.BRes.Value {
		if i%(n+1) != 0 {
			m.BRes.Value[i] = cfg.OffDiagonal
		}
	}
	sc := shell.Config{N: n, C: cfg.C, Layer: cfg.Layer, RecLen: 2*n*n + m.fixedRec, Unit: 1, Err: ErrConfig}
	if cfg.Form == DeepSeekV4 {
		sc.PreEps = cfg.Eps // h_pre = σ(·) + ε
	}
	if n > 1 {
		sc.K = n * n // at n = 1, H_res = [1] whatever the logit: no residual parameters
		sc.Params = []*hc.Param{m.ARes, m.BRes}
	}
	f, err := shell.New(sc)
	if err != nil {
		return nil, err
	}
	m.frame, m.head = f, f.Head()
	return m, nil
}

// Config returns the mixer's configuration, defaults filled in.
func (m *Mixer) Config() Config { return m.cfg }

// Params returns phi, alpha, b_pre, b_post (the shared head), alpha_res and
// b_res. At n = 1, H_res = [1] and the last two are absent.
// The tape of a token is the head's record, then H̃_res, H_res and, for Fixed
// (n > 1), the record of the sweeps that the unrolled backward reads
// (birkhoff.FixedRecordLen: 1 + n² + 2·Iterations·n values).
func (m *Mixer) Params() []*hc.Param { return m.frame.Params() }

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

// checked returns cfg with its defaults filled in, or an error if cfg is
// invalid: the single place New checks it.
func checked(cfg Config) (Config, error) {
	if err := shell.Check(ErrConfig, cfg.N, cfg.C, cfg.Layer); err != nil {
		return cfg, err
	}
	if cfg.Projection.Method < birkhoff.Fixed || cfg.Projection.Method > birkhoff.Exact ||
		cfg.Projection.Iterations < 0 || cfg.Projection.MaxIter < 0 || !(cfg.Projection.Tol >= 0) {
		return cfg, fmt.Errorf("%w: Projection %+v", ErrConfig, cfg.Projection)
	}
	if math.IsNaN(cfg.OffDiagonal) || math.IsInf(cfg.OffDiagonal, 0) {
		return cfg, fmt.Errorf("%w: OffDiagonal = %v", ErrConfig, cfg.OffDiagonal)
	}
	switch {
	case cfg.Form != Sinkhorn && cfg.Form != DeepSeekV4:
		return cfg, fmt.Errorf("%w: unknown %v", ErrConfig, cfg.Form)
	case !(cfg.Eps >= 0) || math.IsInf(cfg.Eps, 0):
		return cfg, fmt.Errorf("%w: Eps = %v: must be finite and ≥ 0", ErrConfig, cfg.Eps)
	case cfg.Form == Sinkhorn && cfg.Eps != 0:
		return cfg, fmt.Errorf("%w: Eps = %v: the Sinkhorn form has no ε (only DeepSeekV4)", ErrConfig, cfg.Eps)
	case cfg.Form == DeepSeekV4 && cfg.Projection.Method != birkhoff.Fixed:
		return cfg, fmt.Errorf("%w: the DeepSeekV4 form runs a fixed number of rounds: Projection %+v", ErrConfig, cfg.Projection)
	}
	if cfg.OffDiagonal == 0 {
		cfg.OffDiagonal = DefaultOffDiagonal
	}
	if cfg.Form == DeepSeekV4 && cfg.Eps == 0 {
		cfg.Eps = DefaultEps
	}
	return cfg, nil
}
