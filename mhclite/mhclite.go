package mhclite

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/hyperconn/hyperconn/birkhoff"
	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/head"
	"github.com/hyperconn/hyperconn/internal/shell"
	sm "github.com/hyperconn/hyperconn/internal/softmax"
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

// frame is the shared shell of the coefficient-head mixers.
type frame = shell.Shell

// Mixer is an mHC-lite parameterisation: this package's mixture of the n!
// permutation matrices on the coefficient-head shell of internal/shell.
// The shell's methods complete it: Shape and TapeLen of hc.Mixer;
// SetFloat32Products(on bool) of hc.Float32Products; Float32Params and
// SetFloat32Storage(p, value, grad) of hc.Float32Storage (Φ only).
type Mixer struct {
	*frame
	// BRes is the bias b_res, one logit per permutation in the order of
	// Perms (n!, no weight decay), and ARes the gate α_res (init 0.01, no
	// weight decay).
	BRes, ARes *hc.Param
	perms      *birkhoff.Perms
	cfg        Config

	probeMu sync.Mutex
	probe   *probe // scratch of WeightsTo, created on first use
}

// New validates cfg and returns an mHC-lite mixer with the reference
// code's init: the mixture starts at the identity permutation.
func New(cfg Config) (*Mixer, error) {
	if _, err := NumParams(cfg); err != nil {
		return nil, err
	}
	cfg, err := checked(cfg)
	if err != nil {
		return nil, err
	}
	n := cfg.N
	ps, err := permsOf(n)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	m := &Mixer{cfg: cfg, perms: ps}
	m.ARes, m.BRes = head.ResidualGate(ps.Len())
	for i := 1; i < len(m.BRes.Value); i++ { // index 0 is the identity
		m.BRes.Value[i] = cfg.OffIdentity
	}
	sc := shell.Config{N: n, C: cfg.C, Layer: cfg.Layer, Unit: 1, Err: ErrConfig}
	if n > 1 { // at n = 1, H_res = [1] whatever the logit: no residual parameters
		sc.K, sc.RecLen = ps.Len(), ps.Len()
		sc.Params = []*hc.Param{m.ARes, m.BRes}
	}
	if m.frame, err = shell.New(sc); err != nil {
		return nil, err
	}
	return m, nil
}

// Config returns the mixer's configuration, defaults filled in.
func (m *Mixer) Config() Config { return m.cfg }

// Perms returns the table of the n! permutations the mixture runs over, in
// lexicographic order (index 0 is the identity): weight k and b_res[k]
// belong to the permutation matrix P_k with P_k[i, Perms().At(k)[i]] = 1.
// The table is shared and must not be modified.
func (m *Mixer) Perms() *birkhoff.Perms { return m.perms }

// Params returns phi, alpha, b_pre, b_post (the shared head), alpha_res and
// b_res. At n = 1, H_res = [1] and the last two are absent.
// A token's tape is the head's record, then (n > 1) the n! mixture weights.
func (m *Mixer) Params() []*hc.Param { return m.frame.Params() }

// softmax writes w = softmax(z) with the compensated sum of
// internal/softmax: Σ w = 1 to a few ulps over up to 8! weights.
// A NaN or +Inf logit makes every weight NaN, which hc.Layer reports.
func softmax(w, z []float64) { sm.To(w, z) }

// checked returns cfg with its defaults filled in, or an error if cfg is
// invalid: the single place New checks it.
func checked(cfg Config) (Config, error) {
	if err := shell.Check(ErrConfig, cfg.N, cfg.C, cfg.Layer); err != nil {
		return cfg, err
	}
	if cfg.N > MaxN {
		return cfg, fmt.Errorf("%w: N = %d > %d: H_res mixes all N! permutation matrices, so every token "+
			"needs N! softmax weights and φ_res holds N·C×N! parameters, which grows factorially "+
			"(9! = 362880 weights per token and a φ_res of 9C×362880 parameters); use mhc or shc for more streams",
			ErrConfig, cfg.N, MaxN)
	}
	if math.IsNaN(cfg.OffIdentity) || math.IsInf(cfg.OffIdentity, 0) {
		return cfg, fmt.Errorf("%w: OffIdentity = %v: must be finite", ErrConfig, cfg.OffIdentity)
	}
	if cfg.OffIdentity == 0 {
		cfg.OffIdentity = DefaultOffIdentity
	}
	return cfg, nil
}
