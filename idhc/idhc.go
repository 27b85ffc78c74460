package idhc

import (
	"errors"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/shell"
)

// ErrConfig is wrapped by the errors of New and NumParams.
var ErrConfig = errors.New("idhc: invalid config")

// Config is the shape of an identity-HC mixer: N ≥ 1 streams of width C ≥ 1,
// for the sub-layer of index Layer ≥ 0, whose home stream Layer mod N gets
// the largest h_pre and h_post at init.
type Config struct{ N, C, Layer int }

// PaperConfig returns Config{n, c, layer}: there is nothing else to choose.
func PaperConfig(n, c, layer int) Config { return Config{N: n, C: c, Layer: layer} }

// NumParams returns the number of learnable values of a mixer of cfg
// (the head's Φ, 2n·nC, plus its 2 gates and 2n biases), or the error New
// would return for cfg. New calls it first.
func NumParams(cfg Config) (int, error) {
	if err := shell.Check(ErrConfig, cfg.N, cfg.C, cfg.Layer); err != nil {
		return 0, err
	}
	return shell.NumParams("idhc", ErrConfig, cfg.N, cfg.C, 0, 0)
}

type frame = shell.Shell

// Mixer is an identity-HC parameterisation: H_res = I on the
// coefficient-head shell of internal/shell, from which it has Shape,
// TapeLen (hc.Mixer), SetFloat32Products (hc.Float32Products),
// Float32Params and SetFloat32Storage (hc.Float32Storage, for Φ).
type Mixer struct {
	*frame
	cfg Config
}

var _ hc.Float32Storage = (*Mixer)(nil) // so hc.Mixer and hc.Float32Products too

// New validates cfg and returns a mixer with the reference head init.
func New(cfg Config) (*Mixer, error) {
	if _, err := NumParams(cfg); err != nil {
		return nil, err
	}
	f, err := shell.New(shell.Config{N: cfg.N, C: cfg.C, Layer: cfg.Layer, Unit: 1, Err: ErrConfig})
	if err != nil {
		return nil, err
	}
	return &Mixer{frame: f, cfg: cfg}, nil
}

// Config returns the mixer's configuration.
func (m *Mixer) Config() Config { return m.cfg }

// Params returns the head's phi, alpha, b_pre and b_post: H_res = I has
// no parameters.
func (m *Mixer) Params() []*hc.Param { return m.frame.Params() }

// NewWorker returns a worker for one goroutine: the head, and H_res = I
// written as a constant.
func (m *Mixer) NewWorker() hc.Worker { return m.frame.Worker(nil) }
