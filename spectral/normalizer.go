package spectral

import (
	"fmt"
	"math"
)

// Normalizer is a reusable workspace for the normalisation form of a
// spectral-sphere mixer,
//
//	H = r·A/σ₁(A),
//
// for an unconstrained n×n matrix A, so that ‖H‖₂ = |r|. σ₁ is exact (the
// Jacobi SVD of this package), never a power-iteration estimate: a cold
// single power step always underestimates σ₁, and dividing by the
// underestimate overshoots the sphere (by +68% in median at n = 4, SPEC §3.4).
// Unlike Sphere, H has no fixed row or column sums. Forward stores σ₁ and its
// singular vectors u₁, v₁ for Backward; neither allocates.
type Normalizer[F Float] struct {
	n      int
	svd    SVD[float64]
	a      []float64
	h      []float64
	u1, v1 []float64
	sigma  float64 // σ₁(A)·2⁻ᵉ, the σ₁ of the scaled matrix
	e      int     // A was scaled by 2⁻ᵉ before the SVD
	r      float64
	g      []float64
	ok     bool
}

// NewNormalizer returns a workspace for n×n matrices. It panics with
// ErrShape if n < 1.
func NewNormalizer[F Float](n int) *Normalizer[F] {
	if n < 1 {
		panic(ErrShape)
	}
	z := &Normalizer[F]{
		n:  n,
		a:  make([]float64, n*n),
		h:  make([]float64, n*n),
		u1: make([]float64, n),
		v1: make([]float64, n),
		g:  make([]float64, n*n),
	}
	// Size the SVD buffers now so that the first Forward does not allocate.
	_ = z.svd.Factorize(z.a, n, n)
	return z
}

// Sigma returns σ₁(A) of the last Forward (+Inf if it overflows float64), or
// 0 if that Forward failed or there was none.
func (z *Normalizer[F]) Sigma() float64 {
	if !z.ok {
		return 0
	}
	return math.Ldexp(z.sigma, z.e)
}

// Forward writes H = r·A/σ₁(A) into dst (n×n row-major) and returns it; a nil
// dst allocates. σ₁(A) may itself overflow or be subnormal: H is computed
// from A and σ₁ both scaled by the same power of two. It returns an error
// wrapping ErrNonFinite if a or r is not finite, ErrZeroNorm if A = 0, and
// ErrRange if H overflows F; dst is then untouched. It panics with ErrShape on a length mismatch.
func (z *Normalizer[F]) Forward(dst, a []F, r float64) ([]F, error) {
	n := z.n
	checkLen(len(a), n*n)
	if dst != nil {
		checkLen(len(dst), n*n)
	}
	z.ok = false
	if err := checkFinite("a", a); err != nil {
		return dst, err
	}
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return dst, fmt.Errorf("%w: radius r = %v", ErrNonFinite, r)
	}
	toFloat64(z.a, a)
	_ = z.svd.Factorize(z.a, n, n) // a is finite
	// Work with A·2⁻ᵉ and its σ₁, as the SVD does: the ratio A/σ₁ is then
	// exact to roundoff even when σ₁ itself would overflow or be subnormal.
	sigma, e := z.svd.sv[z.svd.order[0]], z.svd.e
	if sigma == 0 {
		return dst, fmt.Errorf("%w: normalising the zero matrix", ErrZeroNorm)
	}
	z.svd.LeftTo(z.u1, 0)
	z.svd.RightTo(z.v1, 0)
	for i, x := range z.a {
		z.a[i] = math.Ldexp(x, -e)
		z.h[i] = r * (z.a[i] / sigma)
	}
	if !fits[F](z.h) {
		return dst, fmt.Errorf("%w: r·A/σ₁ overflows", ErrRange)
	}
	z.sigma, z.e, z.r, z.ok = sigma, e, r, true
	dst = use(dst, n*n)
	store(dst, z.h)
	return dst, nil
}

// Backward writes ∂L/∂A into dst given g = ∂L/∂H at the point of the last
// Forward and returns it; a nil dst allocates. Where σ₁ is a simple singular
// value, ∂σ₁/∂A = u₁v₁ᵀ and
//
//	∂L/∂A = (r/σ₁)·(G − ⟨G, H⟩/r · u₁v₁ᵀ) = (r/σ₁)·G − (r/σ₁²)·⟨G, A⟩·u₁v₁ᵀ;
//
// the second form is the one evaluated, so r = 0 is allowed. At a repeated σ₁
// the result is one element of the subdifferential. If g holds a NaN or an
// infinity Backward returns an error wrapping ErrNonFinite, and if the
// gradient overflows F one wrapping ErrRange; dst is then untouched. It
// panics with ErrNoForward unless the last Forward succeeded and with
// ErrShape on a length mismatch.
func (z *Normalizer[F]) Backward(dst, g []F) ([]F, error) {
	if !z.ok {
		panic(ErrNoForward)
	}
	n := z.n
	checkLen(len(g), n*n)
	if dst != nil {
		checkLen(len(dst), n*n)
	}
	if err := checkFinite("g", g); err != nil {
		return dst, err
	}
	toFloat64(z.g, g)
	var ga float64
	for i, x := range z.g {
		ga += x * (z.a[i] / z.sigma)
	}
	f := math.Ldexp(z.r/z.sigma, -z.e)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			z.h[i*n+j] = f * (z.g[i*n+j] - ga*z.u1[i]*z.v1[j])
		}
	}
	if !fits[F](z.h) {
		return dst, fmt.Errorf("%w: gradient of r·A/σ₁ overflows", ErrRange)
	}
	dst = use(dst, n*n)
	store(dst, z.h)
	return dst, nil
}
