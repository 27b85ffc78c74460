package birkhoff

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// ErrNotDoublyStochastic is wrapped by the error Decompose returns when its
// input's max marginal deviation exceeds the accepted bound.
var ErrNotDoublyStochastic = errors.New("birkhoff: not doubly stochastic")

const (
	// DecomposeMaxDeviation is the largest Deviation Decompose accepts for a
	// float64 matrix. Round makes any nonnegative matrix pass.
	DecomposeMaxDeviation = 1e-9
	// DecomposeMaxDeviation32 is the same bound for a float32 matrix, whose
	// entries alone carry a relative rounding of 6e-8 and whose projections
	// reach Float32Floor.
	DecomposeMaxDeviation32 = 1e-5

	// decomposeTol64 and decomposeTol32 are the default zero thresholds of
	// Decompose: well above the rounding left by subtracting up to (n−1)²+1
	// terms from entries at most 1 in float64, or by storing them in float32.
	decomposeTol64 = 1e-13
	decomposeTol32 = 1e-6
)

// Decomposition is a Birkhoff–von Neumann decomposition of a doubly
// stochastic n×n matrix M ≈ Σ_k Weights[k]·P_k, where permutation
// Perms[k] is the matrix P_k with P_k[i, Perms[k][i]] = 1 (row i holds its
// 1 in column Perms[k][i], as in Perms.At).
type Decomposition struct {
	// Weights are positive and non-increasing, and sum to 1 up to the input's
	// deviation and Residual.
	Weights []float64
	// Perms[k] is the permutation of weight Weights[k].
	Perms [][]int
	// Residual is the max-abs reconstruction error max_ij |M − Σ_k w_k P_k|_ij.
	Residual float64
}

// Decompose writes the doubly stochastic n×n row-major m as a convex
// combination of at most (n−1)²+1 permutation matrices, by the greedy
// bottleneck rule: each step takes the perfect matching on the support of
// the remainder that maximises its smallest entry w, records w and the
// matching, and subtracts w·P. That entry becomes zero, so the remainder
// moves to a lower-dimensional face of the Birkhoff polytope, which bounds
// the number of terms by the polytope's dimension (n−1)² plus one; and no
// later matching can beat w, so the weights come out non-increasing.
//
// Entries at or below tol count as zero, in the input and in every
// remainder; the steps stop when the remaining mass is at most tol or the
// support holds no perfect matching. tol = 0 means max(1e-13, 4·Deviation(m))
// for float64 (1e-6 in place of 1e-13 for float32): above the rounding of
// the subtractions, and above the entries that a deviation from exact
// marginals leaves over. The Residual field reports how well the terms
// rebuild m. The decomposition of a matrix inside the polytope is not
// unique; the greedy one is deterministic.
//
// A matching is found by binary search over the sorted distinct support
// values with an augmenting-path check, O(n³ log n) per term and O(n⁵ log n)
// in all: fine for the n ≤ 16 of a mixer. Decompose allocates its result and
// O(n²) scratch.
//
// Decompose returns an error wrapping ErrNonFinite or ErrNegative for a
// NaN, infinite or negative entry, ErrNotDoublyStochastic (reporting the
// deviation) if Deviation(m) exceeds DecomposeMaxDeviation (float64) or
// DecomposeMaxDeviation32 (float32), and ErrMethod if tol is negative or not
// finite. It panics with ErrShape if len(m) != n*n or n < 1.
func Decompose[F Float](m []F, n int, tol float64) (Decomposition, error) {
	checkSquare(len(m), n)
	if math.IsNaN(tol) || math.IsInf(tol, 0) || tol < 0 {
		return Decomposition{}, fmt.Errorf("%w: decompose tolerance %v is not a finite nonnegative number", ErrMethod, tol)
	}
	if err := scanNonneg(m, n); err != nil {
		return Decomposition{}, err
	}
	dev := Deviation(m, n)
	limit, floorTol := DecomposeMaxDeviation, decomposeTol64
	if is32[F]() {
		limit, floorTol = DecomposeMaxDeviation32, decomposeTol32
	}
	if dev > limit {
		return Decomposition{}, fmt.Errorf("%w: max marginal deviation %.3g exceeds %g (Round makes a nonnegative matrix doubly stochastic)",
			ErrNotDoublyStochastic, dev, limit)
	}
	if tol == 0 {
		tol = max(floorTol, 4*dev)
	}

	nn := n * n
	r := make([]float64, nn)
	var mass float64
	for k, v := range m {
		if f := float64(v); f > tol {
			r[k] = f
			mass += f
		}
	}
	mass /= float64(n)

	b := newBottleneck(n)
	maxTerms := (n-1)*(n-1) + 1
	var d Decomposition
	for len(d.Weights) < maxTerms && mass > tol {
		w, ok := b.match(r, tol)
		if !ok {
			break
		}
		p := slices.Clone(b.rowMate)
		d.Weights = append(d.Weights, w)
		d.Perms = append(d.Perms, p)
		for i, j := range p {
			k := i*n + j
			r[k] -= w
			if r[k] <= tol {
				r[k] = 0
			}
		}
		mass -= w
	}

	// Residual against the input, from the recorded terms.
	for k, v := range m {
		r[k] = float64(v)
	}
	for t, p := range d.Perms {
		for i, j := range p {
			r[i*n+j] -= d.Weights[t]
		}
	}
	for _, v := range r {
		d.Residual = max(d.Residual, math.Abs(v))
	}
	return d, nil
}

// bottleneck finds, for an n×n nonnegative matrix, a perfect matching on
// the entries above a threshold that maximises its smallest entry.
type bottleneck struct {
	n       int
	vals    []float64 // sorted distinct support values
	rowMate []int     // rowMate[i] = column matched to row i
	colMate []int     // colMate[j] = row matched to column j, or −1
	seen    []bool    // columns visited by the current augmenting search
}

func newBottleneck(n int) *bottleneck {
	return &bottleneck{
		n:       n,
		vals:    make([]float64, 0, n*n),
		rowMate: make([]int, n),
		colMate: make([]int, n),
		seen:    make([]bool, n),
	}
}

// match returns the largest t such that the entries of r at least t, all
// above tol, hold a perfect matching, and leaves that matching in rowMate.
// It reports false if the support (entries above tol) holds none.
func (b *bottleneck) match(r []float64, tol float64) (float64, bool) {
	b.vals = b.vals[:0]
	for _, v := range r {
		if v > tol {
			b.vals = append(b.vals, v)
		}
	}
	if len(b.vals) < b.n {
		return 0, false
	}
	slices.Sort(b.vals)
	b.vals = slices.Compact(b.vals)
	if !b.perfect(r, b.vals[0]) {
		return 0, false
	}
	// Invariant: vals[lo] is feasible; every index above hi is infeasible.
	lo, hi := 0, len(b.vals)-1
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		if b.perfect(r, b.vals[mid]) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	b.perfect(r, b.vals[lo])
	w := math.Inf(1)
	for i, j := range b.rowMate {
		w = min(w, r[i*b.n+j])
	}
	return w, true
}

// perfect reports whether the bipartite graph of rows and columns with an
// edge where r[i, j] ≥ t has a perfect matching, by Kuhn's augmenting
// paths, O(n³). On success rowMate holds it.
func (b *bottleneck) perfect(r []float64, t float64) bool {
	for j := range b.colMate {
		b.colMate[j] = -1
	}
	for i := 0; i < b.n; i++ {
		clear(b.seen)
		if !b.augment(r, t, i) {
			return false
		}
	}
	for j, i := range b.colMate {
		b.rowMate[i] = j
	}
	return true
}

// augment looks for an augmenting path from row i and applies it.
func (b *bottleneck) augment(r []float64, t float64, i int) bool {
	row := r[i*b.n : i*b.n+b.n]
	for j, v := range row {
		if v < t || b.seen[j] {
			continue
		}
		b.seen[j] = true
		if b.colMate[j] < 0 || b.augment(r, t, b.colMate[j]) {
			b.colMate[j] = i
			return true
		}
	}
	return false
}
