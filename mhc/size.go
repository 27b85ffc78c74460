package mhc

import (
	"fmt"
	"math"

	"github.com/hyperconn/hyperconn/birkhoff"
	"github.com/hyperconn/hyperconn/internal/shell"
)

// Bounds of Config beyond which New refuses it.
const (
	// MaxIterations is the most Sinkhorn sweeps Projection.Iterations may ask
	// for with Fixed: the unrolled backward records 2n values per sweep and
	// token, and the default of 20 already meets the paper's accuracy.
	MaxIterations = 1000
	// MaxMaxIter is the largest Projection.MaxIter of Tolerance and Exact
	// (100× birkhoff.DefaultMaxIter): it bounds each token's time.
	MaxMaxIter = 100 * birkhoff.DefaultMaxIter
	// MaxOffDiagonal bounds |OffDiagonal|: exp(−700) ≈ 1e−304 is still a
	// normal float64, while a logit gap beyond ≈ 745 underflows to an exact
	// zero and leaves the Sinkhorn iteration nothing to scale.
	MaxOffDiagonal = 700
)

// NumParams returns the number of parameter values of the mixer that
// New(cfg) builds: the coefficient head's (2n + n²)·nC + 2 + 2n and, for
// n > 1, α_res and the n² entries of b_res (the same for both Forms). It
// returns the error New would return for cfg: one wrapping ErrConfig for an
// invalid field, and also hc.ErrTooLarge for n above hc.MaxN or a count
// above hc.MaxParams. New calls it before it allocates.
func NumParams(cfg Config) (int, error) {
	cfg, err := checked(cfg)
	if err != nil {
		return 0, err
	}
	p := cfg.Projection
	if p.Iterations > MaxIterations || p.MaxIter > MaxMaxIter || math.IsInf(p.Tol, 0) {
		return 0, fmt.Errorf("%w: Projection %+v: Iterations must be ≤ %d, MaxIter ≤ %d and Tol finite", ErrConfig, p, MaxIterations, MaxMaxIter)
	}
	if !(math.Abs(cfg.OffDiagonal) <= MaxOffDiagonal) {
		return 0, fmt.Errorf("%w: OffDiagonal = %v: must be finite with |OffDiagonal| ≤ %d", ErrConfig, cfg.OffDiagonal, MaxOffDiagonal)
	}
	n := float64(cfg.N)
	k, res := n*n, 1+n*n
	if cfg.N == 1 {
		k, res = 0, 0 // H_res = [1]: no residual parameters
	}
	return shell.NumParams("mhc", ErrConfig, cfg.N, cfg.C, k, res)
}
