package shc

import (
	"fmt"
	"math"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/head"
)

// NumParams returns the number of parameter values of the mixer that
// New(cfg) builds: the coefficient head's (2n + k)·nC + 2 + 2n, with
// k = (n−1)² residual logits in the Structural form and n² in the
// Normalized one, and the residual map's own parameters (for m = n − 1 and
// ℓ = m(m−1)/2: b_U, b_V, b_σ, the scales and gates, 2ℓ + m + 1 + 4·[ℓ>0];
// or α_res and b_res, 1 + n²; none at n = 1). It returns the error New
// would return for cfg: one wrapping ErrConfig for an invalid field, and
// also hc.ErrTooLarge for n above hc.MaxN or a count above hc.MaxParams.
// New calls it before it allocates.
func NumParams(cfg Config) (int, error) {
	if cfg.N < 1 || cfg.C < 1 {
		return 0, fmt.Errorf("%w: N = %d, C = %d: both must be ≥ 1", ErrConfig, cfg.N, cfg.C)
	}
	if cfg.Layer < 0 {
		return 0, fmt.Errorf("%w: Layer = %d: must be ≥ 0", ErrConfig, cfg.Layer)
	}
	if cfg.Form != Structural && cfg.Form != Normalized {
		return 0, fmt.Errorf("%w: unknown %v", ErrConfig, cfg.Form)
	}
	if !(cfg.Radius >= 0) || math.IsInf(cfg.Radius, 0) {
		return 0, fmt.Errorf("%w: Radius = %v: must be finite and > 0 (0 means 1)", ErrConfig, cfg.Radius)
	}
	if err := hc.CheckN("shc", cfg.N); err != nil {
		return 0, fmt.Errorf("%w: %w", err, ErrConfig)
	}
	n := float64(cfg.N)
	m := n - 1
	l := m * (m - 1) / 2
	var k, res float64
	switch {
	case cfg.N == 1:
	case cfg.Form == Structural:
		k, res = m*m, 2*l+m+1
		if l > 0 {
			res += 4
		}
	default:
		k, res = n*n, 1+n*n
	}
	count := head.NumParams(n, float64(cfg.C), k) + res
	if err := hc.CheckParams("shc", count); err != nil {
		return 0, fmt.Errorf("%w: %w", err, ErrConfig)
	}
	return int(count), nil
}
