package shc

import (
	"errors"
	"fmt"
	"math"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/shell"
	"github.com/hyperconn/hyperconn/spectral"
)

// ErrConfig is wrapped by every error New returns for an invalid Config.
var ErrConfig = errors.New("shc: invalid config")

// Form selects how H_res is put on the spectral sphere.
type Form int

const (
	// Structural is the s²HC construction H = r·(J + U_z·U·diag(σ)·Vᵀ·U_zᵀ):
	// rows and columns sum to r and ‖H‖₂ = r by construction. The default.
	Structural Form = iota
	// Normalized is H = r·A/σ₁(A) for an unconstrained A = α_res·mat(x̂φ_res)
	// + b_res, with the exact σ₁: ‖H‖₂ = r, sums unconstrained.
	Normalized
)

// String returns "structural" or "normalized".
func (f Form) String() string {
	switch f {
	case Structural:
		return "structural"
	case Normalized:
		return "normalized"
	}
	return fmt.Sprintf("Form(%d)", int(f))
}

// Reference init values of the structural form (s²HC code, SPEC §3.4).
const (
	// DefaultSigmaBias is the init of b_sigma: σ = tanh(4) = 0.999329.
	DefaultSigmaBias = 4
	// DefaultScale is the init of the scales s_U, s_V and s_sigma.
	DefaultScale = 0.01
	// DefaultGamma is the init of γ_U and γ_V.
	DefaultGamma = 1
	// DefaultGate is the init of α_res in the normalized form, the gate of
	// mHC (paper Tab. 5).
	DefaultGate = 0.01
)

// Config describes one sHC mixer. The zero value of every field but N and C
// means the reference default noted on it.
type Config struct {
	// N is the number of streams and C the width of each (both ≥ 1).
	N, C int
	// Layer is the sub-layer's index; stream Layer mod N is its home stream,
	// the one h_pre reads and h_post writes most at init.
	Layer int
	// Form selects the construction of H_res; the zero value is Structural.
	Form Form
	// Radius is r, the spectral norm of H_res (and, in the structural form,
	// its row and column sums); 0 means 1. It must be positive and finite.
	Radius float64
}

// PaperConfig is the s²HC configuration of the paper's official code: the
// structural form, radius 1, its reference init.
func PaperConfig(n, c, layer int) Config { return Config{N: n, C: c, Layer: layer} }

// NormalizedConfig is the normalisation form H = A/σ₁(A), radius 1, with
// b_res = I so that H_res = I at init.
func NormalizedConfig(n, c, layer int) Config {
	return Config{N: n, C: c, Layer: layer, Form: Normalized}
}

// frame is the shared shell of the coefficient-head mixers.
type frame = shell.Shell

// Mixer is an sHC parameterisation. The map onto the spectral sphere is
// this package's; the rest comes from internal/shell, whose methods Mixer
// also has: Shape and TapeLen (hc.Mixer), SetFloat32Products
// (hc.Float32Products), and Float32Params and SetFloat32Storage
// (hc.Float32Storage of the head's Φ).
type Mixer struct {
	*frame
	cfg Config
	m   int // n − 1
	l   int // SkewLen(m), the length of z_U and z_V
	// Structural form: nil where absent (n ≤ 2 has no U, V; n = 1 nothing).
	bU, bV, bS *hc.Param
	sU, sV, sS *hc.Param
	gU, gV     *hc.Param
	aRes, bRes *hc.Param // normalized form
	resLen     int       // residual values per token: raw logits and tape entries
	structural bool      // n ≥ 2 and Form == Structural
}

// New validates cfg and returns an sHC mixer in cfg.Form with its
// reference init (see Config).
func New(cfg Config) (*Mixer, error) {
	if _, err := NumParams(cfg); err != nil {
		return nil, err
	}
	cfg, err := checked(cfg)
	if err != nil {
		return nil, err
	}
	n := cfg.N
	mix := &Mixer{cfg: cfg, m: n - 1, l: spectral.SkewLen(n - 1)}
	var params []*hc.Param
	vec := func(name string, size int, v float64) *hc.Param {
		p := &hc.Param{Name: name, Value: make([]float64, size), Grad: make([]float64, size), NoDecay: true}
		for i := range p.Value {
			p.Value[i] = v
		}
		params = append(params, p)
		return p
	}
	switch {
	case n == 1:
		// H_res = [r] whatever the data: no residual parameters.
	case cfg.Form == Normalized:
		mix.resLen = n * n
		mix.aRes = vec("alpha_res", 1, DefaultGate)
		mix.bRes = vec("b_res", n*n, 0)
		for i := 0; i < n; i++ {
			mix.bRes.Value[i*n+i] = 1
		}
	default:
		mix.resLen = mix.m * mix.m // ℓ_U, ℓ_V, ℓ_S: 2·m(m−1)/2 + m
		mix.structural = true
		if mix.l > 0 {
			mix.bU = vec("b_U", mix.l, 0)
			mix.bV = vec("b_V", mix.l, 0)
		}
		mix.bS = vec("b_sigma", mix.m, DefaultSigmaBias)
		if mix.l > 0 {
			mix.sU = vec("s_U", 1, DefaultScale)
			mix.sV = vec("s_V", 1, DefaultScale)
		}
		mix.sS = vec("s_sigma", 1, DefaultScale)
		if mix.l > 0 {
			mix.gU = vec("gamma_U", 1, DefaultGamma)
			mix.gV = vec("gamma_V", 1, DefaultGamma)
		}
	}
	mix.frame, err = shell.New(shell.Config{N: n, C: cfg.C, Layer: cfg.Layer, K: mix.resLen, RecLen: mix.resLen,
		Unit: cfg.Radius, Params: params, Err: ErrConfig})
	if err != nil {
		return nil, err
	}
	return mix, nil
}

// Config returns the mixer's configuration, defaults filled in.
func (m *Mixer) Config() Config { return m.cfg }

// Params returns the shared head's phi, alpha, b_pre and b_post, then the
// residual parameters. Structural form: b_U, b_V, b_sigma, s_U, s_V,
// s_sigma, gamma_U, gamma_V, where the U and V ones are absent at n = 2
// (m = 1 has no rotation). Normalized form: alpha_res, b_res. At n = 1,
// H_res = [r] and there are no residual parameters. Every residual
// parameter is marked NoDecay.
//
// A token's tape is the head's record, then tanh(·) of the U and V logits
// and σ (m² values) in the structural form, or A (n² values) in the
// normalized form.
func (m *Mixer) Params() []*hc.Param { return m.frame.Params() }

// Deviation is how far the n×n row-major h is from the structural form's
// promise for radius r: the largest of |row sum − r|, |column sum − r| and
// |‖h‖₂ − r|. It is a few units of roundoff for any H_res of the structural
// form and for any product of them (with r = 1). It panics with hc.ErrShape
// if n < 1 or len(h) != n².
func Deviation(h []float64, n int, r float64) float64 {
	d := NormDeviation(h, n, r)
	for i := 0; i < n; i++ {
		var row, col float64
		for j := 0; j < n; j++ {
			row += h[i*n+j]
			col += h[j*n+i]
		}
		d = math.Max(d, math.Max(math.Abs(row-r), math.Abs(col-r)))
	}
	return d
}

// NormDeviation is |‖h‖₂ − r| for the n×n row-major h, with the exact
// spectral norm of spectral.Norm: the promise of both forms. It panics with
// hc.ErrShape if n < 1 or len(h) != n².
func NormDeviation(h []float64, n int, r float64) float64 {
	if n < 1 || len(h) != n*n {
		panic(fmt.Errorf("%w: shc: len(h) = %d for n = %d", hc.ErrShape, len(h), n))
	}
	return math.Abs(spectral.Norm(h, n, n) - r)
}

// checked returns cfg with its defaults filled in, or an error if cfg is
// invalid: the single place New checks it.
func checked(cfg Config) (Config, error) {
	if err := shell.Check(ErrConfig, cfg.N, cfg.C, cfg.Layer); err != nil {
		return cfg, err
	}
	if cfg.Form != Structural && cfg.Form != Normalized {
		return cfg, fmt.Errorf("%w: unknown %v", ErrConfig, cfg.Form)
	}
	if !(cfg.Radius >= 0) || math.IsInf(cfg.Radius, 0) {
		return cfg, fmt.Errorf("%w: Radius = %v: must be finite and > 0 (0 means 1)", ErrConfig, cfg.Radius)
	}
	if cfg.Radius == 0 {
		cfg.Radius = 1
	}
	return cfg, nil
}
