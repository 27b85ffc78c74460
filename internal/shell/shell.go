// Package shell is the frame shared by the coefficient-head mixers (mhc,
// mhclite, shc, idhc, kromhc, orthohc): everything they have in common, so
// that each of them supplies only its map from a token's raw residual logits
// to H_res and that map's backward.
//
// The shell owns
//   - the checks of n, C and the layer index every Config shares (Check);
//   - the coefficient head of internal/head (x̂ = RMSNorm(vec(X)), y = x̂·Φ,
//     h_pre, h_post, the k raw residual logits) and its parameters, which
//     come first in Params, in the order phi, alpha, b_pre, b_post;
//   - the tape: a token's record is the head's (head.TapeLen values), then
//     the map's own (Config.RecLen values);
//   - the chunk loop of hc.ChunkWorker: one matrix product for the head's
//     projections of a whole chunk, then the map token by token (or, if it
//     likes, several tokens at once), then one product back;
//   - float32 products and float32 storage of Φ (hc.Float32Products,
//     hc.Float32Storage), which only the head's products use;
//   - Flush of the head's private gradients, then the map's.
//
// A mixer package embeds *Shell in its Mixer and *Worker in its worker, and
// gives the Worker its Residual: the map H_res = f(raw) over a chunk of
// tokens, its backward, and the flush of its own private gradients. At
// n = 1, or with no Residual (identity HC), H_res is Config.Unit times the
// identity and the head has no residual logits.
package shell

import (
	"errors"
	"fmt"

	"github.com/hyperconn/hyperconn/birkhoff"
	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/head"
	"github.com/hyperconn/hyperconn/spectral"
)

// Check returns an error wrapping errConfig (a package's ErrConfig) if n or
// c is below 1 or layer is negative: the checks every coefficient-head
// mixer's Config shares. A package's New calls it first, then its own
// checks, then New.
func Check(errConfig error, n, c, layer int) error {
	if n < 1 || c < 1 {
		return fmt.Errorf("%w: N = %d, C = %d: both must be ≥ 1", errConfig, n, c)
	}
	if layer < 0 {
		return fmt.Errorf("%w: Layer = %d: must be ≥ 0", errConfig, layer)
	}
	return nil
}

// Config is what New builds a Shell from.
type Config struct {
	// N, C and Layer are the mixer's, already checked (see Check).
	N, C, Layer int
	// K is the number of raw residual logits the head computes per token;
	// it must be 0 at N = 1.
	K int
	// RecLen is the length of the map's own record per token, after the
	// head's.
	RecLen int
	// Unit is H_res at N = 1 (then the 1×1 matrix [Unit]), and the scale of
	// H_res = Unit·I when a Worker has no Residual.
	Unit float64
	// PreEps is added to every h_pre after the head (DeepSeek-V4's
	// h_pre = σ(·) + ε). A constant shift changes no derivative, so the
	// head's backward is unchanged.
	PreEps float64
	// Params are the map's parameters, after the head's in Params.
	Params []*hc.Param
	// Err is the package's ErrConfig, wrapped by New's errors.
	Err error
}

// Shell is the shared part of one mixer. It provides the methods of
// hc.Mixer but NewWorker, which the mixer writes with Shell.Worker, and
// those of hc.Float32Storage.
type Shell struct {
	n, c   int
	k      int
	recLen int
	unit   float64
	preEps float64
	head   *head.Head
	params []*hc.Param
}

// New returns the Shell of cfg, with the head's reference init for
// cfg.Layer.
func New(cfg Config) (*Shell, error) {
	if cfg.N == 1 && cfg.K != 0 {
		return nil, fmt.Errorf("%w: N = 1 has no residual logits, got K = %d", cfg.Err, cfg.K)
	}
	h, err := head.New(cfg.N, cfg.C, cfg.K, cfg.Layer)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", cfg.Err, err)
	}
	s := &Shell{n: cfg.N, c: cfg.C, k: cfg.K, recLen: cfg.RecLen, unit: cfg.Unit, preEps: cfg.PreEps, head: h}
	s.params = append(h.Params(), cfg.Params...)
	return s, nil
}

// Head returns the coefficient head.
func (s *Shell) Head() *head.Head { return s.head }

// Shape returns n and C.
func (s *Shell) Shape() (n, c int) { return s.n, s.c }

// Params returns the head's phi, alpha, b_pre and b_post, then the map's
// parameters (Config.Params). The slice is the shell's own.
func (s *Shell) Params() []*hc.Param { return s.params }

// TapeLen is the head's record plus the map's (Config.RecLen).
func (s *Shell) TapeLen() int { return s.head.TapeLen() + s.recLen }

// SetFloat32Products runs the coefficient head's three matrix products
// (y = x̂·Φ and its gradients with respect to Φ and x) in float32 when on,
// and in float64 when off, the default; see hc.Float32Products. The
// parameters (Φ too, unless SetFloat32Storage gives it float32 storage),
// their gradients, the RMSNorm, the tapes and the map from the residual
// logits to H_res stay float64, so H_res keeps its guarantee (doubly
// stochastic, on the spectral sphere, orthogonal) to the same precision
// either way. It takes effect from the next forward pass and must not be
// called while a Layer of the mixer is between Pre and PreBackward, nor
// while one of its Workers runs.
func (s *Shell) SetFloat32Products(on bool) { s.head.SetFloat32Products(on) }

// Float32Params returns the coefficient head's Φ ("phi"), the parameter
// that SetFloat32Storage can hold in float32.
func (s *Shell) Float32Params() []*hc.Param { return s.head.Float32Params() }

// SetFloat32Storage keeps Φ's value and gradient in the caller's float32
// slices; see hc.Float32Storage and net.Config.Float32.
func (s *Shell) SetFloat32Storage(p *hc.Param, value, grad []float32) error {
	return s.head.SetFloat32Storage(p, value, grad)
}

// NumParams is the NumParams of every coefficient-head mixer: the head's
// learnable values for n streams of width c with k raw residual logits per
// token — Φ ((2n+k)·nC), the two gates and b_pre, b_post (n each),
// head.NumParams — plus extra, the values of the mixer's own map. Sizes are
// counted in float64, so no product overflows. n above hc.MaxN or a count
// above hc.MaxParams gives an error wrapping hc.ErrTooLarge and errConfig,
// whose message starts with pkg and names the memory it would take. The
// mixers' New call it before they allocate.
func NumParams(pkg string, errConfig error, n, c int, k, extra float64) (int, error) {
	if err := hc.CheckN(pkg, n); err != nil {
		return 0, fmt.Errorf("%w: %w", err, errConfig)
	}
	count := head.NumParams(float64(n), float64(c), k) + extra
	if err := hc.CheckParams(pkg, count); err != nil {
		return 0, fmt.Errorf("%w: %w", err, errConfig)
	}
	return int(count), nil
}

// TokenError is a Residual's error for token t of its chunk,
// "pkg: token t: what: err", wrapping hc.ErrNotFinite as well when err
// reports a NaN or an infinity (spectral.ErrNonFinite or
// birkhoff.ErrNonFinite).
func TokenError(pkg string, t int, what string, err error) error {
	if errors.Is(err, spectral.ErrNonFinite) || errors.Is(err, birkhoff.ErrNonFinite) {
		return fmt.Errorf("%s: token %d: %s: %w: %w", pkg, t, what, hc.ErrNotFinite, err)
	}
	return fmt.Errorf("%s: token %d: %s: %w", pkg, t, what, err)
}
