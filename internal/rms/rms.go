// Package rms computes the inverse root mean square 1/√(Σx²/k + ε) that
// every RMS normalisation of hyperconn divides by (the coefficient heads
// of mhc, mhclite and shc, dynamic HC's stream norm, net's RMSNorm),
// without letting the sum of squares overflow.
//
// A caller sums the squares as fast as it can (fused with other work, in
// assembly) and passes the sum to Inv. Once |x| exceeds about 1.34e154 that
// sum overflows to +Inf and the naive factor is 0, which would treat the
// vector as zeros and give a wrong but finite answer. Only then does Inv
// sum again, with every value scaled by the power of two 2^−e nearest
// 1/max|x| (exact, as in math.Hypot), and return the true factor: the hot
// path does not change and costs nothing more. A factor that is not a
// normal float64 (an RMS of 2^1022 ≈ 4.5e307 or more) is returned as NaN,
// which the callers' finiteness checks report as an error.
//
// The factor can still be very small (1e−300 for inputs of 1e300): a
// backward pass that multiplies it by itself (inv²) must not, since that
// underflows. Tiny tells the callers when to use the products
// (c·inv)·(inv·x) instead.
package rms

import (
	"math"

	"gonum.org/v1/gonum/floats"
)

// tinyInv is the smallest factor whose square is safely normal: below it
// (an RMS above 2^500 ≈ 3.3e150) Tiny is true.
var tinyInv = math.Ldexp(1, -500)

// Inv returns 1/√(ss/k + eps), the inverse RMS of the k values x, given
// ss = Σ x_i² as the caller computed it. If ss is +Inf while every x_i is
// finite (the sum overflowed), it sums again with x scaled by a power of
// two and returns the factor of x itself, to a few ulps, or NaN if that
// factor is not a normal float64. For finite ss it is exactly the naive
// factor. A NaN or an infinity in x gives NaN or 0, as the naive factor
// does (callers check x separately).
func Inv(ss float64, x []float64, k int, eps float64) float64 {
	inv := 1 / math.Sqrt(ss/float64(k)+eps)
	if !math.IsInf(ss, 1) {
		return inv
	}
	return scaledInv(x, k, eps)
}

// scaledInv is Inv's slow path: the sum of (x_i·2^−e)² with 2^e ≥ max|x_i|.
func scaledInv(x []float64, k int, eps float64) float64 {
	var m float64
	for _, v := range x {
		m = max(m, math.Abs(v))
	}
	if math.IsInf(m, 0) || math.IsNaN(m) {
		return 0
	}
	_, e := math.Frexp(m) // m < 2^e
	s := math.Ldexp(1, -e)
	var ss float64
	for _, v := range x {
		v *= s
		ss += v * v
	}
	// rms(x) = 2^e·√(ss/k + eps·2^−2e); the eps term underflows to 0 here.
	inv := math.Ldexp(1/math.Sqrt(ss/float64(k)+eps*s*s), -e)
	if inv < 0x1p-1022 {
		return math.NaN() // subnormal: too few bits to be the factor
	}
	return inv
}

// Tiny reports whether inv is so small that inv·inv loses bits or
// underflows: a backward pass must then form inv²·c·x as (inv·c)·(inv·x).
func Tiny(inv float64) bool { return inv < tinyInv }

// AddScaledSquare adds −inv²·s/k·x into dst, elementwise: the RMS term of
// the gradient of y = inv·⟨w, x⟩. With inv not Tiny the factor is formed
// once, as −inv·inv·s/k (the callers' hot path, bit for bit); otherwise
// each term is (−inv·s/k)·(inv·x_i), so that no square underflows.
func AddScaledSquare(dst []float64, inv, s float64, k int, x []float64) {
	if !Tiny(inv) {
		floats.AddScaled(dst, -inv*inv*s/float64(k), x)
		return
	}
	a := -inv * s / float64(k)
	for i, v := range x {
		dst[i] += a * (inv * v)
	}
}
