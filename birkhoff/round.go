package birkhoff

import (
	"errors"
	"fmt"
	"math"
)

// ErrNegative is wrapped by the error returned when a matrix that must be
// nonnegative holds a negative entry.
var ErrNegative = errors.New("birkhoff: negative entry")

// roundStack is the largest n for which Round keeps its O(n) scratch on the
// stack, so that it does not allocate.
const roundStack = 32

// Round writes into dst a doubly stochastic matrix close to the nonnegative
// n×n row-major m, and returns the L1 distance moved, Σ_ij |dst_ij − m_ij|.
// It is Algorithm 2 of Altschuler, Weed and Rigollet (arXiv 1705.09634), the
// O(n²) step that makes a truncated Sinkhorn result exactly feasible:
//
//  1. scale down every row whose sum exceeds 1 to sum 1: F′ = diag(x)·m,
//     x_i = min(1, 1/r_i(m));
//  2. scale down every column of F′ whose sum exceeds 1: F″ = F′·diag(y),
//     y_j = min(1, 1/c_j(F′));
//  3. add the rank-one correction dst = F″ + e_r·e_cᵀ/‖e_c‖₁, where
//     e_r = 1 − r(F″) ≥ 0 and e_c = 1 − c(F″) ≥ 0 are the missing masses.
//
// The result is nonnegative with every row and column sum equal to 1 up to
// the rounding of n-term sums (about 1e-15 in float64 for n ≤ 16; in
// float32 the storage of the entries limits it to about n·6e-8). The
// paper's rounding lemma bounds the distance moved by
// 2·(‖r(m) − 1‖₁ + ‖c(m) − 1‖₁), so a near doubly stochastic input moves
// little. An all-zero row or column is
// filled from the correction; an all-zero m becomes 11ᵀ/n. With entries
// near the largest float64 the distance itself may overflow to +Inf, while
// dst is still doubly stochastic.
//
// dst may alias m exactly (Round(m, m, n) rounds in place), since each
// output entry depends only on its own input entry and on O(n) marginals;
// partial overlap is not allowed. The arithmetic is float64 whatever F is.
// Round does not allocate for n ≤ 32.
//
// If m holds a NaN or an infinity, Round returns an error wrapping
// ErrNonFinite; if it holds a negative entry, an error wrapping ErrNegative.
// In both cases dst is left untouched. Round panics with ErrShape if
// len(m) != n*n, len(dst) != n*n or n < 1.
func Round[F Float](dst, m []F, n int) (float64, error) {
	checkSquare(len(m), n)
	checkSquare(len(dst), n)
	if err := scanNonneg(m, n); err != nil {
		return 0, err
	}

	var buf [4 * roundStack]float64
	var ws []float64
	if n <= roundStack {
		ws = buf[:4*n]
	} else {
		ws = make([]float64, 4*n)
	}
	x, y, er, ec := ws[:n], ws[n:2*n], ws[2*n:3*n], ws[3*n:]

	// Step 1: row scales x_i = min(1, 1/r_i(m)).
	for i := range n {
		var s float64
		for _, v := range m[i*n : i*n+n] {
			s += float64(v)
		}
		x[i] = 1
		if s > 1 {
			x[i] = 1 / s
		}
	}
	// Step 2: column scales y_j = min(1, 1/c_j(F′)), F′ = diag(x)·m.
	clear(y)
	for i := range n {
		xi := x[i]
		for j, v := range m[i*n : i*n+n] {
			y[j] += xi * float64(v)
		}
	}
	for j, c := range y {
		y[j] = 1
		if c > 1 {
			y[j] = 1 / c
		}
	}
	// The missing masses e_r = 1 − r(F″), e_c = 1 − c(F″), from the entries
	// of F″ computed exactly as step 3 computes them, so that the
	// correction cancels the rounding of these sums too.
	clear(ec)
	for i := range n {
		xi := x[i]
		var s float64
		for j, v := range m[i*n : i*n+n] {
			f := xi * float64(v) * y[j]
			s += f
			ec[j] += f
		}
		er[i] = max(0, 1-s)
	}
	var norm float64
	for j, c := range ec {
		ec[j] = max(0, 1-c)
		norm += ec[j]
	}
	// Step 3: dst = F″ + e_r·e_cᵀ/‖e_c‖₁. Each m_ij is read before dst_ij is
	// written, which makes dst == m safe.
	inv := 0.0
	if norm > 0 {
		inv = 1 / norm
	}
	var moved float64
	for i := range n {
		xi, ri := x[i], er[i]*inv
		for j := range n {
			v := m[i*n+j]
			out := F(xi*float64(v)*y[j] + ri*ec[j])
			moved += math.Abs(float64(out) - float64(v))
			dst[i*n+j] = out
		}
	}
	return moved, nil
}

// scanNonneg returns an error naming the first entry of the n×n m that is
// NaN, infinite or negative, or nil.
func scanNonneg[F Float](m []F, n int) error {
	for k, v := range m {
		f := float64(v)
		switch {
		case math.IsNaN(f) || math.IsInf(f, 0):
			return fmt.Errorf("%w: entry (%d, %d) is %v", ErrNonFinite, k/n, k%n, f)
		case f < 0:
			return fmt.Errorf("%w: entry (%d, %d) is %v", ErrNegative, k/n, k%n, f)
		}
	}
	return nil
}
