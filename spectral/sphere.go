package spectral

import "fmt"

// Sphere is a reusable workspace for the sHC residual matrix of n streams
// (SPEC §3.4, arXiv 2603.20896),
//
//	H = J + U_z·U·diag(σ)·Vᵀ·U_zᵀ,   U = Cayley(skew(z_U)),  V = Cayley(skew(z_V)),
//
// with J = 11ᵀ/n, U_z the n×(n−1) Helmert basis, m = n−1,
// z_U, z_V ∈ R^{m(m−1)/2} (the order of Skew) and σ ∈ R^m. H·1 = 1 and
// 1ᵀH = 1ᵀ for every parameter, and the singular values of H are
// {1} ∪ {|σᵢ|}, so ‖H‖₂ = 1 whenever every |σᵢ| ≤ 1. Products of such
// matrices keep all three properties. Forward stores what Backward needs; one
// Sphere serves one forward/backward pair at a time and neither allocates.
type Sphere[F Float] struct {
	n, m       int
	uz         []float64 // n×m Helmert basis
	cu, cv     cayley
	zu, zv     []float64
	sig        []float64
	k          []float64 // m×m, U·diag(σ)·Vᵀ
	t          []float64 // n×m scratch
	h          []float64 // n×n
	g          []float64 // n×n upstream gradient
	gk, gu, gv []float64 // m×m
	ga         []float64 // m×m
	gzu, gzv   []float64
	gs         []float64
	ok         bool
}

// NewSphere returns a workspace for n×n sHC matrices. It panics with
// ErrShape if n < 1.
func NewSphere[F Float](n int) *Sphere[F] {
	if n < 1 {
		panic(ErrShape)
	}
	m := n - 1
	l := SkewLen(m)
	s := &Sphere[F]{
		n: n, m: m,
		uz:  Helmert[float64](nil, n),
		zu:  make([]float64, l),
		zv:  make([]float64, l),
		sig: make([]float64, m),
		k:   make([]float64, m*m),
		t:   make([]float64, n*m),
		h:   make([]float64, n*n),
		g:   make([]float64, n*n),
		gk:  make([]float64, m*m),
		gu:  make([]float64, m*m),
		gv:  make([]float64, m*m),
		ga:  make([]float64, m*m),
		gzu: make([]float64, l),
		gzv: make([]float64, l),
		gs:  make([]float64, m),
	}
	s.cu.init(m)
	s.cv.init(m)
	return s
}

// N returns the number of streams n.
func (s *Sphere[F]) N() int { return s.n }

// Forward writes H into dst (n×n row-major) and returns it; a nil dst
// allocates. zU and zV must have length SkewLen(n−1) and sigma length n−1;
// for n = 1 all three are empty and H = [1]. If an input holds a NaN or an
// infinity Forward returns an error wrapping ErrNonFinite; if the inputs are
// finite but so large that H would overflow F or a Cayley transform cannot
// be computed orthogonal (max|z| beyond about 1e14, see Cayley.Transform),
// one wrapping ErrRange. In both
// cases dst is untouched. It panics with ErrShape on a length mismatch.
//
// In float64, |Σⱼ H_ij − 1| and |Σᵢ H_ij − 1| are a few units of roundoff
// times max(1, max|σᵢ|), and ‖H‖₂ = 1 to within about 1e-15 when every
// |σᵢ| ≤ 1. Cost: about 6m³ + 2n²m flops.
func (s *Sphere[F]) Forward(dst, zU, zV, sigma []F) ([]F, error) {
	n, m := s.n, s.m
	checkLen(len(zU), len(s.zu))
	checkLen(len(zV), len(s.zv))
	checkLen(len(sigma), m)
	if dst != nil {
		checkLen(len(dst), n*n)
	}
	s.ok = false
	for _, err := range [...]error{checkFinite("z_U", zU), checkFinite("z_V", zV), checkFinite("sigma", sigma)} {
		if err != nil {
			return dst, err
		}
	}
	toFloat64(s.zu, zU)
	toFloat64(s.zv, zV)
	toFloat64(s.sig, sigma)
	if !s.cu.forward(s.zu) {
		return dst, fmt.Errorf("%w: cayley transform of z_U", ErrRange)
	}
	if !s.cv.forward(s.zv) {
		return dst, fmt.Errorf("%w: cayley transform of z_V", ErrRange)
	}
	u, v := s.cu.u, s.cv.u
	// K = U·diag(σ)·Vᵀ.
	for a := 0; a < m; a++ {
		for b := 0; b < m; b++ {
			var sum float64
			for i := 0; i < m; i++ {
				sum += u[a*m+i] * s.sig[i] * v[b*m+i]
			}
			s.k[a*m+b] = sum
		}
	}
	// T = U_z·K, H = J + T·U_zᵀ.
	mul(s.t, s.uz, s.k, n, m, m)
	jn := 1 / float64(n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			sum := jn
			for a := 0; a < m; a++ {
				sum += s.t[i*m+a] * s.uz[j*m+a]
			}
			s.h[i*n+j] = sum
		}
	}
	if !fits[F](s.h) {
		return dst, fmt.Errorf("%w: sHC matrix overflows", ErrRange)
	}
	s.ok = true
	dst = use(dst, n*n)
	store(dst, s.h)
	return dst, nil
}

// Backward writes ∂L/∂z_U, ∂L/∂z_V and ∂L/∂σ into dzU, dzV and dsigma given
// g = ∂L/∂H (n×n row-major) at the point of the last Forward. The
// destinations must have the lengths of the corresponding Forward inputs and
// are overwritten, not accumulated. With K = U·diag(σ)·Vᵀ and
// G_K = U_zᵀ·G·U_z,
//
//	∂L/∂U = G_K·V·diag(σ),  ∂L/∂V = G_Kᵀ·U·diag(σ),  ∂L/∂σᵢ = (Uᵀ·G_K·V)_ii,
//
// followed by the Cayley backward of each factor. If g holds a NaN or an
// infinity Backward returns an error wrapping ErrNonFinite, and if a gradient
// overflows F one wrapping ErrRange; the destinations are then untouched.
// It panics with ErrNoForward unless the last Forward succeeded and with
// ErrShape on a length mismatch.
func (s *Sphere[F]) Backward(dzU, dzV, dsigma, g []F) error {
	if !s.ok {
		panic(ErrNoForward)
	}
	n, m := s.n, s.m
	checkLen(len(dzU), len(s.zu))
	checkLen(len(dzV), len(s.zv))
	checkLen(len(dsigma), m)
	checkLen(len(g), n*n)
	if err := checkFinite("g", g); err != nil {
		return err
	}
	toFloat64(s.g, g)
	// G_K = U_zᵀ·(G·U_z).
	mul(s.t, s.g, s.uz, n, n, m)
	mulTA(s.gk, s.uz, s.t, n, m, m)
	u, v := s.cu.u, s.cv.u
	// W = G_K·V: ∂L/∂U = W·diag(σ), ∂L/∂σᵢ = Σ_a U_ai W_ai.
	mul(s.gu, s.gk, v, m, m, m)
	for i := 0; i < m; i++ {
		var sum float64
		for a := 0; a < m; a++ {
			sum += u[a*m+i] * s.gu[a*m+i]
		}
		s.gs[i] = sum
	}
	scaleCols(s.gu, s.sig, m)
	// ∂L/∂V = G_Kᵀ·U·diag(σ).
	mulTA(s.gv, s.gk, u, m, m, m)
	scaleCols(s.gv, s.sig, m)
	s.cu.backwardA(s.ga, s.gu)
	gradZ(s.gzu, s.ga, m)
	s.cv.backwardA(s.ga, s.gv)
	gradZ(s.gzv, s.ga, m)
	if !fits[F](s.gzu) || !fits[F](s.gzv) || !fits[F](s.gs) {
		return fmt.Errorf("%w: sHC gradient overflows", ErrRange)
	}
	store(dzU, s.gzu)
	store(dzV, s.gzv)
	store(dsigma, s.gs)
	return nil
}

// mul sets c = a·b for row-major a (r×k), b (k×q), c (r×q).
func mul(c, a, b []float64, r, k, q int) {
	for i := 0; i < r; i++ {
		ci := c[i*q : i*q+q]
		clear(ci)
		for l := 0; l < k; l++ {
			x := a[i*k+l]
			if x == 0 {
				continue
			}
			bl := b[l*q : l*q+q]
			for j := range ci {
				ci[j] += x * bl[j]
			}
		}
	}
}

// mulTA sets c = aᵀ·b for row-major a (k×r), b (k×q), c (r×q).
func mulTA(c, a, b []float64, k, r, q int) {
	clear(c[:r*q])
	for l := 0; l < k; l++ {
		bl := b[l*q : l*q+q]
		for i := 0; i < r; i++ {
			x := a[l*r+i]
			if x == 0 {
				continue
			}
			ci := c[i*q : i*q+q]
			for j := range ci {
				ci[j] += x * bl[j]
			}
		}
	}
}

// scaleCols multiplies column i of the m×m row-major a by d[i].
func scaleCols(a, d []float64, m int) {
	for r := 0; r < m; r++ {
		for i := 0; i < m; i++ {
			a[r*m+i] *= d[i]
		}
	}
}
