package birkhoff

import (
	"errors"
	"math"
	"strconv"
)

// Float is the element type of every matrix in this package.
type Float interface{ ~float32 | ~float64 }

// Method selects how Project computes the doubly stochastic scaling.
type Method int

const (
	// Fixed runs exactly Options.Iterations Sinkhorn-Knopp sweeps (default 20),
	// each a column normalisation followed by a row normalisation, with no
	// epsilon. It is the mHC paper's map: rows are exact after the last sweep,
	// columns are not, and Stats reports by how much.
	Fixed Method = iota
	// Tolerance sweeps until the max marginal error is at most Options.Tol,
	// or until Options.MaxIter sweeps.
	Tolerance
	// Exact runs a few sweeps, then Newton's method on the semi-dual with a
	// gauge fix, dense Cholesky and Armijo backtracking, to the precision floor
	// of the element type.
	Exact
)

// String returns the lower-case name of the method.
func (m Method) String() string {
	switch m {
	case Fixed:
		return "fixed"
	case Tolerance:
		return "tolerance"
	case Exact:
		return "exact"
	}
	return "method(" + strconv.Itoa(int(m)) + ")"
}

// Options configures Project. The zero value is the mHC paper's map: Fixed
// with 20 sweeps.
type Options struct {
	// Method is the map: Fixed (the zero value), Tolerance or Exact.
	Method Method
	// Iterations is the number of sweeps of Fixed; 0 means DefaultIterations.
	Iterations int
	// Tol is the target max marginal error for Tolerance and Exact; 0 means
	// the element type's floor (Float64Floor or Float32Floor).
	Tol float64
	// MaxIter caps the number of sweeps plus Newton steps of Tolerance and
	// Exact; 0 means DefaultMaxIter.
	MaxIter int
}

// Stats is the certificate of one projection, in every mode (Fixed included).
type Stats struct {
	// Iterations is the number of Sinkhorn sweeps plus Newton steps taken.
	Iterations int
	// Deviation is the result's max |row or column sum − 1|.
	Deviation float64
	// Converged reports Deviation ≤ Tol, or ≤ the element type's floor when
	// Tol is 0.
	Converged bool
	// Components is the number of connected components of the result's
	// support: the bipartite graph on its n rows and n columns with an edge
	// (i, j) where entry (i, j) exceeds max(Deviation, 1e-12). An entry no
	// larger than the marginal error is not resolved by the result. 1 means
	// the support is connected; above 1 the result is, up to permutations of
	// rows and columns, block diagonal (the entries between the blocks
	// underflowed or are negligible), as when the logits are near a
	// permutation or a block matrix. Exact's implicit backward then
	// differentiates each block on its own, which is the true gradient; see
	// Workspace.Backward.
	Components int
}

// Disconnected reports whether the result's support has more than one
// connected component (see Stats.Components).
func (s Stats) Disconnected() bool { return s.Components > 1 }

const (
	// DefaultIterations is the number of sweeps of Fixed when
	// Options.Iterations is 0 (the mHC paper's t_max).
	DefaultIterations = 20
	// DefaultMaxIter caps sweeps plus Newton steps of Tolerance and Exact
	// when Options.MaxIter is 0.
	DefaultMaxIter = 10000
	// Float64Floor is the default tolerance for float64: the max marginal
	// error Exact attains for n ≤ 16.
	Float64Floor = 1e-13
	// Float32Floor is the default tolerance for float32.
	Float32Floor = 2e-6
)

var (
	// ErrNonFinite is wrapped by the error returned when an input holds a
	// NaN or an infinity.
	ErrNonFinite = errors.New("birkhoff: non-finite input")
	// ErrMethod is wrapped by the error returned for an unknown Method or a
	// negative option.
	ErrMethod = errors.New("birkhoff: invalid options")
	// ErrShape is the panic value for a slice whose length does not match n,
	// or for n < 1. It is a programmer error, as in gonum's mat.ErrShape.
	ErrShape = errors.New("birkhoff: dimension mismatch")
)

// floor returns the precision floor of F.
func floor[F Float]() float64 {
	if is32[F]() {
		return Float32Floor
	}
	return Float64Floor
}

// is32 reports whether F has float32 precision: 1 + 2⁻³⁰ rounds to 1 in
// float32 but not in float64.
func is32[F Float]() bool {
	var one F = 1
	tiny := F(math.Ldexp(1, -30))
	return one+tiny == one
}

// Deviation is max over rows and columns of |sum − 1| of the n×n row-major m.
// It panics with ErrShape if len(m) != n*n or n < 1.
func Deviation[F Float](m []F, n int) float64 {
	checkSquare(len(m), n)
	var dev float64
	for i := 0; i < n; i++ {
		var s float64
		for _, v := range m[i*n : i*n+n] {
			s += float64(v)
		}
		dev = math.Max(dev, math.Abs(s-1))
	}
	for j := 0; j < n; j++ {
		var s float64
		for i := 0; i < n; i++ {
			s += float64(m[i*n+j])
		}
		dev = math.Max(dev, math.Abs(s-1))
	}
	return dev
}

func checkSquare(l, n int) {
	if n < 1 || l != n*n {
		panic(ErrShape)
	}
}
