package mhclite

import "github.com/hyperconn/hyperconn/internal/shell"

// NumParams returns the number of parameter values of the mixer that
// New(cfg) builds: the coefficient head's (2n + n!)·nC + 2 + 2n and, for
// n > 1, α_res and the n! entries of b_res. It returns the error New would
// return for cfg: one wrapping ErrConfig for an invalid field or n above
// MaxN, and also hc.ErrTooLarge for a count above hc.MaxParams. New calls
// it before it allocates.
func NumParams(cfg Config) (int, error) {
	cfg, err := checked(cfg)
	if err != nil {
		return 0, err
	}
	k, res := 1.0, 0.0
	for i := 2; i <= cfg.N; i++ {
		k *= float64(i)
	}
	if cfg.N == 1 {
		k = 0 // H_res = [1]: no residual parameters
	} else {
		res = 1 + k
	}
	return shell.NumParams("mhclite", ErrConfig, cfg.N, cfg.C, k, res)
}
