package mhclite

import (
	"fmt"
	"math"

	"github.com/hyperconn/hyperconn/hc"
)

// probe is the scratch of one WeightsTo call: a worker and one token's
// coefficients and tape.
type probe struct {
	w              *worker
	pre, post, res []float64
	tape           []float64
}

// WeightsTo writes into dst the n! mixture weights w of the token x (n×C,
// row i = stream i), the softmax that the mixer's forward pass computes for
// it, so that H_res = Σ_k w[k]·P_k with P_k the permutation Perms().At(k).
// It returns dst; a nil dst is allocated. At n = 1 the only weight is 1.
//
// The weights show which permutations a token routes its streams through;
// Perms().At(k) names them. For a sparse summary of an H_res instead (at
// most (n−1)²+1 terms, not the same weights), see birkhoff.Decompose.
//
// WeightsTo runs the forward pass of one token: (2n + n!)·nC multiply-adds.
// It is safe for concurrent use (calls are serialised) and allocates only
// its scratch on first use and a nil dst.
//
// A NaN or an infinity in x, or non-finite weights (from a non-finite
// parameter), is an error wrapping hc.ErrNotFinite, with dst untouched.
// WeightsTo panics with hc.ErrShape if len(x) != n·C or dst is not nil and
// len(dst) != n!.
func (m *Mixer) WeightsTo(dst, x []float64) ([]float64, error) {
	n, c := m.cfg.N, m.cfg.C
	count := m.perms.Len()
	if len(x) != n*c || (dst != nil && len(dst) != count) {
		panic(fmt.Errorf("%w: mhclite: WeightsTo: n = %d, C = %d: len(x) = %d, len(dst) = %d, want %d and %d",
			hc.ErrShape, n, c, len(x), len(dst), n*c, count))
	}
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("mhclite: x[%d] = %v: %w", i, v, hc.ErrNotFinite)
		}
	}
	if n == 1 {
		if dst == nil {
			dst = make([]float64, 1)
		}
		dst[0] = 1
		return dst, nil
	}

	m.probeMu.Lock()
	defer m.probeMu.Unlock()
	if m.probe == nil {
		m.probe = &probe{w: m.NewWorker().(*worker),
			pre: make([]float64, n), post: make([]float64, n), res: make([]float64, n*n),
			tape: make([]float64, m.TapeLen())}
	}
	p := m.probe
	if err := p.w.Forward(p.pre, p.post, p.res, p.tape, x); err != nil {
		return nil, err
	}
	wt := p.tape[m.Head().TapeLen():]
	for k, v := range wt {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("mhclite: mixture weight %d = %v (a parameter is not finite, "+
				"or the logits overflow): %w", k, v, hc.ErrNotFinite)
		}
	}
	if dst == nil {
		dst = make([]float64, count)
	}
	copy(dst, wt)
	return dst, nil
}
