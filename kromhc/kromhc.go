package kromhc

import (
	"errors"
	"fmt"
	"math"

	"github.com/hyperconn/hyperconn/birkhoff"
	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/shell"
)

// ErrConfig is wrapped by every error New and NumParams return for an
// invalid Config.
var ErrConfig = errors.New("kromhc: invalid config")

// Config describes one KromHC mixer. The zero value of every field but N
// and C means the default noted on it.
type Config struct {
	// N is the number of streams, a product of Factors, and C the width of
	// each stream (both ≥ 1).
	N, C int
	// Factors are the sizes i_1, i_2, … of the Kronecker factors of H_res,
	// each in [2, MaxFactor], with product N. Nil means N's prime factors in
	// ascending order (2·2 at N = 4, 2·2·2·2 at N = 16, 2·3 at N = 6); an N
	// with a prime factor above MaxFactor is refused. At N = 1 there are no
	// factors.
	Factors []int
	// OffIdentity is the init of b_res for every permutation of a factor
	// except its identity (whose entry is 0); 0 means −8.
	OffIdentity float64
	// Layer is the sub-layer's index (≥ 0): h_pre reads and h_post writes
	// stream Layer mod N most at init.
	Layer int
}

// PaperConfig is KromHC with N's prime factors and the mHC-lite reference
// init per factor: H_res starts near the identity.
func PaperConfig(n, c, layer int) Config { return Config{N: n, C: c, Layer: layer} }

// MaxFactor is the largest factor size: a factor of size i mixes all i!
// permutations of its own (birkhoff.MaxPermN = 8: 40320 logits).
const MaxFactor = birkhoff.MaxPermN

// DefaultOffIdentity is the init of b_res for every permutation of a factor
// but the identity (whose logit is 0): mHC-lite's reference init, factor by
// factor.
const DefaultOffIdentity = -8

// checked returns cfg with its defaults filled in (Factors copied), or an
// error if cfg is invalid: the single place New checks it.
func checked(cfg Config) (Config, error) {
	if err := shell.Check(ErrConfig, cfg.N, cfg.C, cfg.Layer); err != nil {
		return cfg, err
	}
	if math.IsNaN(cfg.OffIdentity) || math.IsInf(cfg.OffIdentity, 0) {
		return cfg, fmt.Errorf("%w: OffIdentity = %v: must be finite", ErrConfig, cfg.OffIdentity)
	}
	if cfg.OffIdentity == 0 {
		cfg.OffIdentity = DefaultOffIdentity
	}
	if cfg.Factors == nil {
		f, err := DefaultFactors(cfg.N)
		if err != nil {
			return cfg, err
		}
		cfg.Factors = f
	} else {
		cfg.Factors = append([]int(nil), cfg.Factors...)
	}
	prod := 1
	for _, f := range cfg.Factors {
		if f < 2 || f > MaxFactor {
			return cfg, fmt.Errorf("%w: Factors %v: each must be in [2, %d]", ErrConfig, cfg.Factors, MaxFactor)
		}
		prod *= f
		if prod > cfg.N {
			break
		}
	}
	if prod != cfg.N {
		return cfg, fmt.Errorf("%w: Factors %v: product must be N = %d", ErrConfig, cfg.Factors, cfg.N)
	}
	return cfg, nil
}

// DefaultFactors returns n's prime factors in ascending order, the factors
// of a Config with nil Factors (none for n = 1), or an error wrapping
// ErrConfig if one exceeds MaxFactor or n < 1.
func DefaultFactors(n int) ([]int, error) {
	if n < 1 {
		return nil, fmt.Errorf("%w: N = %d: must be ≥ 1", ErrConfig, n)
	}
	var f []int
	for p, r := 2, n; r > 1; {
		if p > MaxFactor {
			return nil, fmt.Errorf("%w: N = %d has a prime factor %d > %d: H_res = U_1 ⊗ U_2 ⊗ … needs N "+
				"to be a product of factor sizes ≤ %d (each factor mixes all i! of its permutations)",
				ErrConfig, n, r, MaxFactor, MaxFactor)
		}
		if r%p == 0 {
			f = append(f, p)
			r /= p
		} else {
			p++
		}
	}
	return f, nil
}

// logits returns K = Σ_k i_k!, the number of residual logits per token.
func logits(factors []int) int {
	k := 0
	for _, f := range factors {
		k += birkhoff.Factorial(f)
	}
	return k
}

// NumParams returns the number of learnable values of a mixer of cfg, or
// the error New would return for cfg. New calls it first. With
// K = Σ_k i_k! logits per token it is the head's (2n+K)·nC + 2 + 2n, plus
// α_res and b_res (1 + K) at n ≥ 2: at n = 4 (2·2) K = 4, against n² = 16
// for mHC and n! = 24 for mHC-lite.
func NumParams(cfg Config) (int, error) {
	cfg, err := checked(cfg)
	if err != nil {
		return 0, err
	}
	k := logits(cfg.Factors)
	if cfg.N == 1 {
		return shell.NumParams("kromhc", ErrConfig, 1, cfg.C, 0, 0)
	}
	return shell.NumParams("kromhc", ErrConfig, cfg.N, cfg.C, float64(k), 1+float64(k))
}

type frame = shell.Shell

// Mixer is a KromHC parameterisation: this package's Kronecker product of
// permutation mixtures on internal/shell's coefficient head, which also
// provides its Shape and TapeLen (hc.Mixer) and its float32 methods
// SetFloat32Products, Float32Params and SetFloat32Storage
// (hc.Float32Products, hc.Float32Storage of Φ).
type Mixer struct {
	*frame
	cfg     Config
	factors []factor
	k       int        // Σ i_k!
	digits  []int      // n×len(factors): digit f of stream index a, a = Σ_f digit·stride_f
	gate    shell.Gate // ARes and BRes
	// ARes is the gate α_res (init 0.01, no weight decay), shared by the
	// factors.
	ARes *hc.Param
	// BRes is the bias b_res: each factor's i_k! logits, in factor order,
	// each factor's permutations in the order of its Perms (index 0 the
	// identity). No weight decay.
	BRes *hc.Param
}

// factor is one Kronecker factor's permutation table and the offsets of its
// logits (in raw, b_res and the weights of the record) and of its matrix
// U_k in the record.
type factor struct {
	size  int
	perms *birkhoff.Perms
	off   int // first logit
	uoff  int // first entry of U_k, after the K weights
}

// New validates cfg and returns a KromHC mixer with its reference init:
// every factor near its identity.
func New(cfg Config) (*Mixer, error) {
	if _, err := NumParams(cfg); err != nil {
		return nil, err
	}
	cfg, _ = checked(cfg)
	n := cfg.N
	m := &Mixer{cfg: cfg, k: logits(cfg.Factors)}
	off, uoff := 0, m.k
	for _, f := range cfg.Factors {
		p, err := birkhoff.NewPerms(f)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		m.factors = append(m.factors, factor{size: f, perms: p, off: off, uoff: uoff})
		off += p.Len()
		uoff += f * f
	}
	nf := len(m.factors)
	m.digits = make([]int, n*nf)
	for a := range n {
		r := a
		for f := nf - 1; f >= 0; f-- {
			m.digits[a*nf+f] = r % m.factors[f].size
			r /= m.factors[f].size
		}
	}
	m.gate = shell.NewGate(m.k)
	m.ARes, m.BRes = m.gate.Alpha, m.gate.Bias
	for _, f := range m.factors {
		for j := 1; j < f.perms.Len(); j++ {
			m.BRes.Value[f.off+j] = cfg.OffIdentity
		}
	}
	sc := shell.Config{N: n, C: cfg.C, Layer: cfg.Layer, Unit: 1, Err: ErrConfig}
	if n > 1 {
		sc.K, sc.RecLen = m.k, uoff
		sc.Params = m.gate.Params()
	}
	f, err := shell.New(sc)
	if err != nil {
		return nil, err
	}
	m.frame = f
	return m, nil
}

// Config returns the mixer's configuration, defaults filled in (Factors is
// the mixer's own copy: do not modify it).
func (m *Mixer) Config() Config { return m.cfg }

// Params returns phi, alpha, b_pre, b_post (the shared head), alpha_res and
// b_res. At n = 1, H_res = [1] and the last two are absent.
//
// A token's tape is the head's record, then the K softmax weights (factor
// by factor) and the factors U_k (i_k² each, row-major).
func (m *Mixer) Params() []*hc.Param { return m.frame.Params() }

// Perms returns the permutation table of factor f (0-based, in the order
// of Config.Factors): weight j of that factor and b_res[offset + j] belong
// to the permutation matrix P_j with P_j[i, Perms(f).At(j)[i]] = 1.
func (m *Mixer) Perms(f int) *birkhoff.Perms { return m.factors[f].perms }
