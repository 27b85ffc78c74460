package shc

import (
	"math"

	"github.com/hyperconn/hyperconn/internal/f64"
	"github.com/hyperconn/hyperconn/spectral"
)

// sphere4 is spectral.Sphere specialised to n = 4 streams (m = 3) in the
// common case where every |z_U,k|, |z_V,k| < 1 and every |σᵢ| ≤ 1. There the
// Cayley transforms need no scaling and no Newton–Schulz refinement, and
// partial pivoting never swaps the first row, so the whole map is straight
// line code on fixed-size arrays. It performs the floating-point operations
// of spectral.Sphere in the same order; the only terms it leaves out are
// products with an exact zero (the zeros of the Helmert basis, the
// multiplier of an exact zero), which can change the sign of a zero result
// but no other bit. Its results therefore compare equal (==) to Sphere's,
// which the tests assert. Outside that case the worker uses spectral.Sphere.
//
// Unlike Sphere, the backward pass does not need the matrix H: it recomputes
// only the two Cayley transforms of the token.
type sphere4 struct {
	uz     [12]float64 // 4×3 Helmert basis, row-major
	cu, cv cayley3
}

// cayley3 is the 3×3 Cayley transform U = (I + A)⁻¹(I − A) of spectral's
// cayley engine for max|z| < 1 (scale s = 1).
type cayley3 struct {
	lu  [9]float64 // LU factors of I + A with partial pivoting, row-major
	inv [3]float64 // 1/diag of the R factor
	swp bool       // rows 1 and 2 were swapped (the only possible pivoting)
	u   [9]float64 // U, row-major
}

func newSphere4() *sphere4 {
	s := &sphere4{}
	spectral.Helmert(s.uz[:], 4)
	return s
}

// fits4 reports whether the token is in sphere4's domain: every |z| < 1 and
// every |σ| ≤ 1 (false for NaN).
func fits4(zu, zv, sig *[3]float64) bool {
	for i := range 3 {
		if !(math.Abs(zu[i]) < 1 && math.Abs(zv[i]) < 1 && math.Abs(sig[i]) <= 1) {
			return false
		}
	}
	return true
}

// forward computes U = Cayley(skew(z)) and reports whether it is finite
// (always, in exact terms, for max|z| < 1). The operations are those of
// spectral's cayley.forward, factor and solve for m = 3, s = 1.
func (c *cayley3) forward(z *[3]float64) bool {
	z0, z1, z2 := z[0], z[1], z[2]
	// lu ← I + A. Column 0 is (1, −z0, −z1) with |z| < 1: no pivoting at
	// step 0 and its pivot is 1, so the multipliers are −z0 and −z1.
	l10, l20 := -z0*1, -z1*1
	a11, a12 := 1-l10*z0, z2-l10*z1
	a21, a22 := -z2-l20*z0, 1-l20*z1
	c.swp = math.Abs(a21) > math.Abs(a11)
	if c.swp {
		a11, a21 = a21, a11
		a12, a22 = a22, a12
		l10, l20 = l20, l10
	}
	i1 := 1 / a11
	l21 := a21 * i1
	a22 -= l21 * a12
	i2 := 1 / a22
	c.lu = [9]float64{1, z0, z1, l10, a11, a12, l20, l21, a22}
	c.inv = [3]float64{1, i1, i2}

	// Solve (I + A)·U = I − A: rows of the right-hand side in pivot order.
	w0 := [3]float64{1, -z0, -z1}
	w1 := [3]float64{z0, 1, -z2}
	w2 := [3]float64{z1, z2, 1}
	if c.swp {
		w1, w2 = w2, w1
	}
	for j := range 3 {
		w1[j] -= l10 * w0[j]
	}
	for j := range 3 {
		w2[j] -= l20 * w0[j]
	}
	for j := range 3 {
		w2[j] -= l21 * w1[j]
	}
	for j := range 3 {
		w2[j] *= i2
	}
	for j := range 3 {
		w1[j] -= a12 * w2[j]
	}
	for j := range 3 {
		w1[j] *= i1
	}
	for j := range 3 {
		w0[j] -= z0 * w1[j]
	}
	for j := range 3 {
		w0[j] -= z1 * w2[j]
	}
	// w0 *= 1/1 is exact and left out.
	c.u = [9]float64{w0[0], w0[1], w0[2], w1[0], w1[1], w1[2], w2[0], w2[1], w2[2]}
	return f64.AllFinite(c.u[:])
}

// backwardZ returns ∂L/∂z given g = ∂L/∂U at the last forward: spectral's
// cayley.backwardA (solveT, then −X·(I + U)ᵀ) followed by gradZ.
func (c *cayley3) backwardZ(g *[9]float64) [3]float64 {
	lu, inv := &c.lu, &c.inv
	w0 := [3]float64{g[0], g[1], g[2]}
	w1 := [3]float64{g[3], g[4], g[5]}
	w2 := [3]float64{g[6], g[7], g[8]}
	// Rᵀ·y = b (w0 *= 1/1 is exact and left out).
	for j := range 3 {
		w1[j] -= lu[1] * w0[j]
	}
	for j := range 3 {
		w1[j] *= inv[1]
	}
	for j := range 3 {
		w2[j] -= lu[2] * w0[j]
	}
	for j := range 3 {
		w2[j] -= lu[5] * w1[j]
	}
	for j := range 3 {
		w2[j] *= inv[2]
	}
	// Lᵀ·v = y.
	for j := range 3 {
		w1[j] -= lu[7] * w2[j]
	}
	for j := range 3 {
		w0[j] -= lu[3] * w1[j]
	}
	for j := range 3 {
		w0[j] -= lu[6] * w2[j]
	}
	// x = Πᵀ·v.
	if c.swp {
		w1, w2 = w2, w1
	}
	// ∂L/∂A = −X·(I + U)ᵀ; ∂L/∂z_k = ∂L/∂A_ij − ∂L/∂A_ji = S_ji − S_ij with
	// S = X·(I + U)ᵀ.
	u := &c.u
	s01 := w0[1] + w0[0]*u[3] + w0[1]*u[4] + w0[2]*u[5]
	s02 := w0[2] + w0[0]*u[6] + w0[1]*u[7] + w0[2]*u[8]
	s10 := w1[0] + w1[0]*u[0] + w1[1]*u[1] + w1[2]*u[2]
	s12 := w1[2] + w1[0]*u[6] + w1[1]*u[7] + w1[2]*u[8]
	s20 := w2[0] + w2[0]*u[0] + w2[1]*u[1] + w2[2]*u[2]
	s21 := w2[1] + w2[0]*u[3] + w2[1]*u[4] + w2[2]*u[5]
	return [3]float64{(-s01) - (-s10), (-s02) - (-s20), (-s12) - (-s21)}
}

// forward writes H = J + U_z·U·diag(σ)·Vᵀ·U_zᵀ into h and reports whether
// the Cayley transforms were finite; h is untouched if not.
func (s *sphere4) forward(h *[16]float64, zu, zv, sig *[3]float64) bool {
	if !s.cu.forward(zu) || !s.cv.forward(zv) {
		return false
	}
	u, v := &s.cu.u, &s.cv.u
	// K = U·diag(σ)·Vᵀ.
	var k [9]float64
	for a := range 3 {
		for b := range 3 {
			k[a*3+b] = u[a*3]*sig[0]*v[b*3] + u[a*3+1]*sig[1]*v[b*3+1] + u[a*3+2]*sig[2]*v[b*3+2]
		}
	}
	// T = U_z·K; the Helmert basis has zeros at (2,0), (3,0) and (3,1).
	z := &s.uz
	var t [12]float64
	for j := range 3 {
		t[j] = z[0]*k[j] + z[1]*k[3+j] + z[2]*k[6+j]
		t[3+j] = z[3]*k[j] + z[4]*k[3+j] + z[5]*k[6+j]
		t[6+j] = z[7]*k[3+j] + z[8]*k[6+j]
		t[9+j] = z[11] * k[6+j]
	}
	// H = J + T·U_zᵀ.
	const jn = 1.0 / 4
	for i := range 4 {
		t0, t1, t2 := t[i*3], t[i*3+1], t[i*3+2]
		h[i*4] = jn + t0*z[0] + t1*z[1] + t2*z[2]
		h[i*4+1] = jn + t0*z[3] + t1*z[4] + t2*z[5]
		h[i*4+2] = jn + t1*z[7] + t2*z[8]
		h[i*4+3] = jn + t2*z[11]
	}
	return true
}

// backward writes ∂L/∂z_U, ∂L/∂z_V and ∂L/∂σ given the finite g = ∂L/∂H,
// recomputing the token's Cayley transforms from zu and zv (which forward
// accepted). It reports whether the gradients are finite.
func (s *sphere4) backward(dzu, dzv, dsig *[3]float64, zu, zv, sig *[3]float64, g *[16]float64) bool {
	s.cu.forward(zu)
	s.cv.forward(zv)
	z := &s.uz
	// T = G·U_z (4×3).
	var t [12]float64
	for i := range 4 {
		g0, g1, g2, g3 := g[i*4], g[i*4+1], g[i*4+2], g[i*4+3]
		t[i*3] = g0*z[0] + g1*z[3]
		t[i*3+1] = g0*z[1] + g1*z[4] + g2*z[7]
		t[i*3+2] = g0*z[2] + g1*z[5] + g2*z[8] + g3*z[11]
	}
	// G_K = U_zᵀ·T (3×3).
	var gk [9]float64
	for j := range 3 {
		gk[j] = z[0]*t[j] + z[3]*t[3+j]
		gk[3+j] = z[1]*t[j] + z[4]*t[3+j] + z[7]*t[6+j]
		gk[6+j] = z[2]*t[j] + z[5]*t[3+j] + z[8]*t[6+j] + z[11]*t[9+j]
	}
	u, v := &s.cu.u, &s.cv.u
	// W = G_K·V, ∂L/∂σᵢ = Σ_a U_ai W_ai, ∂L/∂U = W·diag(σ).
	var gu, gv [9]float64
	for i := range 3 {
		for j := range 3 {
			gu[i*3+j] = gk[i*3]*v[j] + gk[i*3+1]*v[3+j] + gk[i*3+2]*v[6+j]
		}
	}
	for i := range 3 {
		dsig[i] = u[i]*gu[i] + u[3+i]*gu[3+i] + u[6+i]*gu[6+i]
	}
	// ∂L/∂V = G_Kᵀ·U·diag(σ).
	for i := range 3 {
		for j := range 3 {
			gv[i*3+j] = gk[i]*u[j] + gk[3+i]*u[3+j] + gk[6+i]*u[6+j]
		}
	}
	for r := range 3 {
		for i := range 3 {
			gu[r*3+i] *= sig[i]
			gv[r*3+i] *= sig[i]
		}
	}
	*dzu = s.cu.backwardZ(&gu)
	*dzv = s.cv.backwardZ(&gv)
	return f64.AllFinite(dzu[:]) && f64.AllFinite(dzv[:]) && f64.AllFinite(dsig[:])
}
