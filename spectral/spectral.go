package spectral

import (
	"errors"
	"fmt"
	"math"
)

// Float is the element type of every matrix and vector in this package. It is
// the same constraint as birkhoff.Float. Whatever the element type, the
// arithmetic is carried out in float64 and rounded once on output.
type Float interface{ ~float32 | ~float64 }

var (
	// ErrShape is the panic value for a slice whose length does not match the
	// stated dimensions, or for a dimension that is out of range. It is a
	// programmer error, as in gonum's mat.ErrShape.
	ErrShape = errors.New("spectral: dimension mismatch")
	// ErrNoForward is the panic value for a Backward call on a workspace that
	// holds no successful forward computation. It is a programmer error.
	ErrNoForward = errors.New("spectral: backward without a successful forward")

	// ErrNonFinite is wrapped by the error returned when an input holds a NaN
	// or an infinity. The destination is left untouched.
	ErrNonFinite = errors.New("spectral: non-finite input")
	// ErrRange is wrapped by the error returned when every input is finite
	// but so large that the result would overflow the element type or could
	// not be computed to the documented accuracy. The destination is left
	// untouched.
	ErrRange = errors.New("spectral: input out of range")
	// ErrZeroNorm is wrapped by the error returned when a matrix that must be
	// divided by its spectral norm has spectral norm zero.
	ErrZeroNorm = errors.New("spectral: zero spectral norm")
)

// checkFinite returns an error wrapping ErrNonFinite that names the first
// non-finite element of x, or nil.
func checkFinite[F Float](name string, x []F) error {
	for i, v := range x {
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("%w: %s[%d] = %v", ErrNonFinite, name, i, f)
		}
	}
	return nil
}

// toFloat64 converts src into dst, which must have the same length.
func toFloat64[F Float](dst []float64, src []F) {
	for i, v := range src {
		dst[i] = float64(v)
	}
}

// fits reports whether every value of src is finite after rounding to F.
func fits[F Float](src []float64) bool {
	for _, v := range src {
		r := float64(F(v))
		if math.IsInf(r, 0) || math.IsNaN(r) {
			return false
		}
	}
	return true
}

// store rounds src into dst, which must have the same length.
func store[F Float](dst []F, src []float64) {
	for i, v := range src {
		dst[i] = F(v)
	}
}

// grow returns s resliced to length n, reallocating only if its capacity is
// too small.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// use returns dst if it has length n, a new slice if dst is nil, and panics
// with ErrShape otherwise.
func use[T any](dst []T, n int) []T {
	if dst == nil {
		return make([]T, n)
	}
	if len(dst) != n {
		panic(ErrShape)
	}
	return dst
}

// checkLen panics with ErrShape if len(x) != n.
func checkLen(l, n int) {
	if l != n {
		panic(ErrShape)
	}
}
