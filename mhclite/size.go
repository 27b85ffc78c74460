package mhclite

import (
	"fmt"
	"math"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/head"
)

// NumParams returns the number of parameter values of the mixer that
// New(cfg) builds: the coefficient head's (2n + n!)·nC + 2 + 2n and, for
// n > 1, α_res and the n! entries of b_res. It returns the error New would
// return for cfg: one wrapping ErrConfig for an invalid field or n above
// MaxN, and also hc.ErrTooLarge for a count above hc.MaxParams. New calls
// it before it allocates.
func NumParams(cfg Config) (int, error) {
	if cfg.N < 1 || cfg.C < 1 {
		return 0, fmt.Errorf("%w: N = %d, C = %d: both must be ≥ 1", ErrConfig, cfg.N, cfg.C)
	}
	if cfg.N > MaxN {
		return 0, fmt.Errorf("%w: N = %d > %d: H_res mixes all N! permutation matrices, so every token "+
			"needs N! softmax weights and φ_res holds N·C×N! parameters, which grows factorially "+
			"(9! = 362880 weights per token and a φ_res of 9C×362880 parameters); use mhc or shc for more streams",
			ErrConfig, cfg.N, MaxN)
	}
	if cfg.Layer < 0 {
		return 0, fmt.Errorf("%w: Layer = %d: must be ≥ 0", ErrConfig, cfg.Layer)
	}
	if math.IsNaN(cfg.OffIdentity) || math.IsInf(cfg.OffIdentity, 0) {
		return 0, fmt.Errorf("%w: OffIdentity = %v: must be finite", ErrConfig, cfg.OffIdentity)
	}
	n := float64(cfg.N)
	k, res := 1.0, 0.0
	for i := 2; i <= cfg.N; i++ {
		k *= float64(i)
	}
	if cfg.N == 1 {
		k = 0 // H_res = [1]: no residual parameters
	} else {
		res = 1 + k
	}
	count := head.NumParams(n, float64(cfg.C), k) + res
	if err := hc.CheckParams("mhclite", count); err != nil {
		return 0, fmt.Errorf("%w: %w", err, ErrConfig)
	}
	return int(count), nil
}
