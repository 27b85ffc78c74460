package shc

import "github.com/hyperconn/hyperconn/internal/shell"

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
	cfg, err := checked(cfg)
	if err != nil {
		return 0, err
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
	return shell.NumParams("shc", ErrConfig, cfg.N, cfg.C, k, res)
}
