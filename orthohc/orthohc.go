package orthohc

import (
	"errors"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/shell"
	"github.com/hyperconn/hyperconn/spectral"
)

// ErrConfig is wrapped by every error New and NumParams return for an
// invalid Config.
var ErrConfig = errors.New("orthohc: invalid config")

// Config describes one orthogonal mixer.
type Config struct {
	// N is the number of streams and C the width of each (both ≥ 1).
	N, C int
	// Layer is the sub-layer's index (≥ 0): h_pre reads and h_post writes
	// stream Layer mod N most at init.
	Layer int
}

// PaperConfig is the orthogonal mixer with H_res = I at init (b_res = 0,
// φ = 0) and mHC's reference head init.
func PaperConfig(n, c, layer int) Config { return Config{N: n, C: c, Layer: layer} }

// NumParams returns the number of learnable values of a mixer of cfg, or
// the error New would return for cfg. New calls it first. With
// K = n(n−1)/2 skew logits per token it is the head's (2n+K)·nC + 2 + 2n,
// plus α_res and b_res (1 + K) at n ≥ 2.
func NumParams(cfg Config) (int, error) {
	if err := shell.Check(ErrConfig, cfg.N, cfg.C, cfg.Layer); err != nil {
		return 0, err
	}
	k := spectral.SkewLen(cfg.N)
	if k == 0 {
		return shell.NumParams("orthohc", ErrConfig, cfg.N, cfg.C, 0, 0)
	}
	return shell.NumParams("orthohc", ErrConfig, cfg.N, cfg.C, float64(k), 1+float64(k))
}

type frame = shell.Shell

// Mixer is an orthogonal parameterisation, H_res =
// Cayley(skew(α_res·raw + b_res)) ∈ SO(n), built on internal/shell: Shape,
// TapeLen, SetFloat32Products, Float32Params and SetFloat32Storage are the
// shell's (hc.Mixer, hc.Float32Products, hc.Float32Storage for Φ).
type Mixer struct {
	*frame
	cfg Config
	k   int // n(n−1)/2
	// gate holds ARes and BRes.
	gate shell.Gate
	// ARes is the gate α_res (init 0.01, no weight decay).
	ARes *hc.Param
	// BRes is the bias b_res: the strict upper triangle of the skew matrix,
	// row by row (the order of spectral.Skew), init 0. No weight decay.
	BRes *hc.Param
}

var _ hc.Float32Storage = (*Mixer)(nil) // so hc.Mixer and hc.Float32Products too

// New validates cfg and returns an orthogonal mixer with H_res = I at init.
func New(cfg Config) (*Mixer, error) {
	if _, err := NumParams(cfg); err != nil {
		return nil, err
	}
	k := spectral.SkewLen(cfg.N)
	gate := shell.NewGate(k)
	f, err := shell.New(shell.Config{N: cfg.N, C: cfg.C, Layer: cfg.Layer, K: k, RecLen: k, Unit: 1,
		Params: gate.Params(), Err: ErrConfig})
	if err != nil {
		return nil, err
	}
	return &Mixer{frame: f, cfg: cfg, k: k, gate: gate, ARes: gate.Alpha, BRes: gate.Bias}, nil
}

// Config returns the mixer's configuration.
func (m *Mixer) Config() Config { return m.cfg }

// Params returns the head's phi, alpha, b_pre and b_post, then (n ≥ 2)
// alpha_res and b_res; a token's tape is the head's record and z.
func (m *Mixer) Params() []*hc.Param { return m.frame.Params() }
