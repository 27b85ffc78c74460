package spectral

import (
	"fmt"
	"math"
)

// SkewLen returns m(m−1)/2, the number of free parameters of an m×m
// skew-symmetric matrix, which is the length of z in Skew and Cayley.
func SkewLen(m int) int { return m * (m - 1) / 2 }

// Skew writes into dst the m×m row-major skew-symmetric matrix A = skew(z)
// and returns it. z holds the strict upper triangle in row-major order:
// for i < j, with k counting the pairs (0,1), (0,2), …, (0,m−1), (1,2), …,
//
//	A_ij = z_k,  A_ji = −z_k,  A_ii = 0.
//
// A nil dst allocates. Skew panics with ErrShape if m < 0, len(z) != SkewLen(m)
// or dst is not nil and len(dst) != m².
func Skew[F Float](dst, z []F, m int) []F {
	if m < 0 {
		panic(ErrShape)
	}
	checkLen(len(z), SkewLen(m))
	dst = use(dst, m*m)
	k := 0
	for i := 0; i < m; i++ {
		dst[i*m+i] = 0
		for j := i + 1; j < m; j++ {
			dst[i*m+j] = z[k]
			dst[j*m+i] = -z[k]
			k++
		}
	}
	return dst
}

// cayley is the float64 engine of Cayley, shared with Sphere.
type cayley struct {
	m   int
	s   float64   // the system was divided by s, a power of two ≥ 1
	lu  []float64 // LU factors of (I + A)/s with partial pivoting, row-major
	piv []int     // row i of the factors is row piv[i] of (I + A)/s
	u   []float64 // U, m×m row-major
	w   []float64 // scratch, m×m
	r   []float64 // scratch, m
}

func (c *cayley) init(m int) {
	c.m = m
	c.lu = make([]float64, m*m)
	c.piv = make([]int, m)
	c.u = make([]float64, m*m)
	c.w = make([]float64, m*m)
	c.r = make([]float64, m)
}

// forward computes U = (I + A)⁻¹(I − A) for A = skew(z), z finite, by LU with
// partial pivoting of (I + A)/s and m solves, where s is the power of two
// that brings max|z| into [0.5, 1) (or 1 if max|z| < 1) so that nothing
// overflows. It reports whether U is finite.
func (c *cayley) forward(z []float64) bool {
	m := c.m
	c.s = 1
	var mx float64
	for _, v := range z {
		mx = math.Max(mx, math.Abs(v))
	}
	if mx >= 1 {
		c.s = math.Ldexp(1, exponent(mx))
	}
	d := 1 / c.s
	// lu ← (I + A)/s, u ← (I − A)/s.
	k := 0
	for i := 0; i < m; i++ {
		c.lu[i*m+i] = d
		c.u[i*m+i] = d
		for j := i + 1; j < m; j++ {
			a := z[k] / c.s
			c.lu[i*m+j], c.lu[j*m+i] = a, -a
			c.u[i*m+j], c.u[j*m+i] = -a, a
			k++
		}
	}
	c.factor()
	c.solve(c.u)
	for _, v := range c.u {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	if c.s == 1 {
		// max|z| < 1: I + A is well conditioned and U is orthogonal to a few
		// units of roundoff.
		return true
	}
	// The LU solve loses orthogonality in proportion to the condition number
	// of I + A, about 1 + max|z|. Newton–Schulz steps U ← U(3I − UᵀU)/2 move
	// U to the nearest orthogonal matrix, which is within the same distance
	// of the exact transform, and square the orthogonality error each time.
	for it := 0; ; it++ {
		e := c.orthogonality()
		if e <= orthTarget {
			return true
		}
		if it == maxRefine || e > 0.25 {
			return e <= orthAccept
		}
		c.refine()
	}
}

// orthTarget is the orthogonality error max|UᵀU − I| at which refinement
// stops: the rounding level of an m×m product for m ≤ 16.
const orthTarget = 16 * 0x1p-53

// orthAccept is the orthogonality error above which Transform reports
// ErrRange after maxRefine refinement steps.
const orthAccept = 1e-13

// maxRefine bounds the Newton–Schulz steps; from an error of 0.25 three steps
// reach roundoff.
const maxRefine = 4

// orthogonality writes E = UᵀU − I into w and returns max|E|.
func (c *cayley) orthogonality() float64 {
	m, u, w := c.m, c.u, c.w
	var mx float64
	for i := 0; i < m; i++ {
		for j := i; j < m; j++ {
			var s float64
			for k := 0; k < m; k++ {
				s += u[k*m+i] * u[k*m+j]
			}
			if i == j {
				s--
			}
			w[i*m+j], w[j*m+i] = s, s
			mx = math.Max(mx, math.Abs(s))
		}
	}
	return mx
}

// refine applies U ← U − U·E/2 with E = UᵀU − I held in w, row by row.
func (c *cayley) refine() {
	m, u, w := c.m, c.u, c.w
	r := c.r
	for i := 0; i < m; i++ {
		ui := u[i*m : i*m+m]
		for j := 0; j < m; j++ {
			var s float64
			for k := 0; k < m; k++ {
				s += ui[k] * w[k*m+j]
			}
			r[j] = s
		}
		for j := range ui {
			ui[j] -= r[j] / 2
		}
	}
}

// factor overwrites lu with its LU factorisation with partial pivoting.
func (c *cayley) factor() {
	m, lu := c.m, c.lu
	for i := range c.piv {
		c.piv[i] = i
	}
	for k := 0; k < m; k++ {
		p := k
		for i := k + 1; i < m; i++ {
			if math.Abs(lu[i*m+k]) > math.Abs(lu[p*m+k]) {
				p = i
			}
		}
		if p != k {
			for j := 0; j < m; j++ {
				lu[k*m+j], lu[p*m+j] = lu[p*m+j], lu[k*m+j]
			}
			c.piv[k], c.piv[p] = c.piv[p], c.piv[k]
		}
		inv := 1 / lu[k*m+k]
		for i := k + 1; i < m; i++ {
			l := lu[i*m+k] * inv
			lu[i*m+k] = l
			if l == 0 {
				continue
			}
			for j := k + 1; j < m; j++ {
				lu[i*m+j] -= l * lu[k*m+j]
			}
		}
	}
}

// solve overwrites the m×m row-major b with ((I + A)/s)⁻¹·b, using w.
func (c *cayley) solve(b []float64) {
	m, lu, w := c.m, c.lu, c.w
	for i, p := range c.piv {
		copy(w[i*m:i*m+m], b[p*m:p*m+m])
	}
	// L has a unit diagonal; process whole rows of the right-hand side.
	for i := 0; i < m; i++ {
		wi := w[i*m : i*m+m]
		for k := 0; k < i; k++ {
			l := lu[i*m+k]
			wk := w[k*m : k*m+m]
			for j := range wi {
				wi[j] -= l * wk[j]
			}
		}
	}
	for i := m - 1; i >= 0; i-- {
		wi := w[i*m : i*m+m]
		for k := i + 1; k < m; k++ {
			r := lu[i*m+k]
			wk := w[k*m : k*m+m]
			for j := range wi {
				wi[j] -= r * wk[j]
			}
		}
		inv := 1 / lu[i*m+i]
		for j := range wi {
			wi[j] *= inv
		}
	}
	copy(b, w)
}

// solveT overwrites the m×m row-major b with ((I + A)/s)⁻ᵀ·b, using w. With
// Π·P = L·R the system Pᵀx = b is Rᵀy = b, Lᵀv = y, x = Πᵀv.
func (c *cayley) solveT(b []float64) {
	m, lu, w := c.m, c.lu, c.w
	copy(w, b)
	for i := 0; i < m; i++ {
		wi := w[i*m : i*m+m]
		for k := 0; k < i; k++ {
			r := lu[k*m+i]
			wk := w[k*m : k*m+m]
			for j := range wi {
				wi[j] -= r * wk[j]
			}
		}
		inv := 1 / lu[i*m+i]
		for j := range wi {
			wi[j] *= inv
		}
	}
	for i := m - 1; i >= 0; i-- {
		wi := w[i*m : i*m+m]
		for k := i + 1; k < m; k++ {
			l := lu[k*m+i]
			wk := w[k*m : k*m+m]
			for j := range wi {
				wi[j] -= l * wk[j]
			}
		}
	}
	for i, p := range c.piv {
		copy(b[p*m:p*m+m], w[i*m:i*m+m])
	}
}

// backwardA overwrites g (∂L/∂U on entry) with ∂L/∂A = −(I + A)⁻ᵀ·G·(I + U)ᵀ,
// using gA as scratch of length m². From dU = −(I + A)⁻¹·dA·(I + U).
func (c *cayley) backwardA(gA, g []float64) {
	m := c.m
	c.solveT(g) // g ← ((I + A)/s)⁻ᵀ G
	f := -1 / c.s
	for i := 0; i < m; i++ {
		for j := 0; j < m; j++ {
			// (X (I + U)ᵀ)_ij = X_ij + Σ_k X_ik U_jk
			sum := g[i*m+j]
			for k := 0; k < m; k++ {
				sum += g[i*m+k] * c.u[j*m+k]
			}
			gA[i*m+j] = f * sum
		}
	}
}

// gradZ writes ∂L/∂z_k = ∂L/∂A_ij − ∂L/∂A_ji into gz.
func gradZ(gz, gA []float64, m int) {
	k := 0
	for i := 0; i < m; i++ {
		for j := i + 1; j < m; j++ {
			gz[k] = gA[i*m+j] - gA[j*m+i]
			k++
		}
	}
}

// Cayley is a reusable workspace for the Cayley transform of a skew-symmetric
// m×m matrix A = skew(z),
//
//	U = (I + A)⁻¹(I − A),
//
// an orthogonal matrix with det U = 1 (I + A is invertible because the
// eigenvalues of A are imaginary), and for its backward pass. Transform stores
// what Backward needs; one Cayley serves one forward/backward pair at a time.
type Cayley[F Float] struct {
	c  cayley
	z  []float64
	g  []float64
	ga []float64
	ok bool
}

// NewCayley returns a workspace for m×m Cayley transforms, m ≥ 0. It panics
// with ErrShape if m < 0.
func NewCayley[F Float](m int) *Cayley[F] {
	if m < 0 {
		panic(ErrShape)
	}
	c := &Cayley[F]{
		z:  make([]float64, SkewLen(m)),
		g:  make([]float64, m*m),
		ga: make([]float64, m*m),
	}
	c.c.init(m)
	return c
}

// Transform writes U = (I + A)⁻¹(I − A), A = skew(z) (see Skew for the order
// of z), into dst as an m×m row-major matrix and returns it; a nil dst
// allocates. U is orthogonal to a few units of roundoff: for max|z| ≥ 1,
// where the LU solve loses orthogonality in proportion to 1 + max|z|,
// Newton–Schulz steps restore it, and U is then within about
// ε·(1 + max|z|) of the exact transform. If z holds a NaN or an infinity
// Transform returns an error wrapping ErrNonFinite; if z is so large that
// I + A is singular to working precision (max|z| beyond about 1e14 with m
// odd) it returns one wrapping ErrRange. In both cases dst is untouched. It panics
// with ErrShape if len(z) != SkewLen(m) or dst has the wrong length.
// Cost: about (2/3)m³ + 2m³ flops.
func (c *Cayley[F]) Transform(dst, z []F) ([]F, error) {
	m := c.c.m
	checkLen(len(z), SkewLen(m))
	if dst != nil {
		checkLen(len(dst), m*m)
	}
	c.ok = false
	if err := checkFinite("z", z); err != nil {
		return dst, err
	}
	toFloat64(c.z, z)
	if !c.c.forward(c.z) || !fits[F](c.c.u) {
		return dst, fmt.Errorf("%w: cayley transform", ErrRange)
	}
	c.ok = true
	dst = use(dst, m*m)
	store(dst, c.c.u)
	return dst, nil
}

// Backward writes ∂L/∂z (length SkewLen(m), the order of Skew) into dz given
// g = ∂L/∂U (m×m row-major) at the point of the last Transform, and returns
// it; a nil dz allocates. Since A_ij = z_k and A_ji = −z_k,
// ∂L/∂z_k = (∂L/∂A)_ij − (∂L/∂A)_ji. It returns an error wrapping
// ErrNonFinite if g holds a NaN or an infinity and one wrapping ErrRange if
// the gradient overflows F; dz is then untouched. It panics with
// ErrNoForward unless the last Transform succeeded and with ErrShape on a
// length mismatch.
func (c *Cayley[F]) Backward(dz, g []F) ([]F, error) {
	m := c.c.m
	if err := c.grad(g); err != nil {
		return dz, err
	}
	// c.z no longer needs the input; it receives the gradient.
	gradZ(c.z, c.ga, m)
	if !fits[F](c.z) {
		return dz, fmt.Errorf("%w: gradient of the cayley transform overflows", ErrRange)
	}
	dz = use(dz, SkewLen(m))
	store(dz, c.z)
	return dz, nil
}

// BackwardA writes the dense gradient ∂L/∂A = −(I + A)⁻ᵀ·G·(I + U)ᵀ into
// dA (m×m row-major) given g = ∂L/∂U = G, with the conventions of Backward.
// It is the gradient with respect to A as an unconstrained matrix; its
// projection onto skew matrices, (∂L/∂A − ∂L/∂Aᵀ)/2, is the gradient along
// the manifold of skew matrices.
func (c *Cayley[F]) BackwardA(dA, g []F) ([]F, error) {
	m := c.c.m
	if err := c.grad(g); err != nil {
		return dA, err
	}
	if !fits[F](c.ga) {
		return dA, fmt.Errorf("%w: gradient of the cayley transform overflows", ErrRange)
	}
	dA = use(dA, m*m)
	store(dA, c.ga)
	return dA, nil
}

// grad checks g and computes ∂L/∂A into c.ga.
func (c *Cayley[F]) grad(g []F) error {
	if !c.ok {
		panic(ErrNoForward)
	}
	m := c.c.m
	checkLen(len(g), m*m)
	if err := checkFinite("g", g); err != nil {
		return err
	}
	toFloat64(c.g, g)
	c.c.backwardA(c.ga, c.g)
	return nil
}
