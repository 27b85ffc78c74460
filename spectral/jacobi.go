package spectral

import "math"

// jacobiTol is the orthogonality threshold of one-sided Jacobi: columns j and
// k are rotated while |a_j·a_k| > jacobiTol·‖a_j‖‖a_k‖. Four units of
// roundoff is the level below which a rotation no longer changes the computed
// column norms.
const jacobiTol = 4 * 0x1p-53

// maxSweeps bounds the number of Jacobi sweeps. Quadratic convergence needs
// fewer than 12 for every matrix up to 64×64 in the tests; the bound only
// guards against a cycle on pathological rounding.
const maxSweeps = 64

// stackLen is the largest rows·cols for which Norm, Values, MinValue,
// EffectiveRank and DistJ work in a stack buffer and do not allocate.
const stackLen = 256

// scan returns the largest absolute value in m and whether m holds a NaN or
// an infinity.
func scan[F Float](m []F) (maxAbs float64, nan, inf bool) {
	for _, v := range m {
		f := math.Abs(float64(v))
		switch {
		case f != f:
			nan = true
		case math.IsInf(f, 1):
			inf = true
		case f > maxAbs:
			maxAbs = f
		}
	}
	return maxAbs, nan, inf
}

// exponent returns e such that maxAbs·2⁻ᵉ lies in [0.5, 1). Scaling by a power
// of two is exact, so the scaled problem has the same singular vectors and
// singular values exactly 2⁻ᵉ times the original, and no intermediate
// overflows or needlessly underflows.
func exponent(maxAbs float64) int {
	_, e := math.Frexp(maxAbs)
	return e
}

// load writes the rows×cols row-major m, scaled by 2⁻ᵉ, into a as a p×q
// column-major matrix with p ≥ q: a itself if rows ≥ cols, its transpose
// otherwise. Storing columns contiguously makes every Jacobi rotation a pair
// of unit-stride loops.
func load[F Float](a []float64, m []F, rows, cols, e int) (p, q int, trans bool) {
	if rows >= cols {
		for i := 0; i < rows; i++ {
			for j := 0; j < cols; j++ {
				a[j*rows+i] = math.Ldexp(float64(m[i*cols+j]), -e)
			}
		}
		return rows, cols, false
	}
	// The row-major A is the column-major Aᵀ, which is cols×rows.
	for k, v := range m {
		a[k] = math.Ldexp(float64(v), -e)
	}
	return cols, rows, true
}

// jacobi orthogonalises the q columns of the p×q column-major a in place by
// one-sided (Hestenes) Jacobi rotations: on return a = W·V where W is the
// input and V is orthogonal, and the columns of a are mutually orthogonal to
// working precision, so their norms are the singular values of W. If v is not
// nil it must hold a q×q column-major matrix (the identity, usually) that is
// multiplied by the same rotations. d is scratch of length q (it is
// allocated if nil). It returns the number of sweeps, the last of which
// makes no rotation.
//
// Each pair costs one dot product: the squared column norms are computed at
// the start of a sweep and updated through its rotations by the exact
// identities ‖a_j‖² ← ‖a_j‖² − tγ, ‖a_k‖² ← ‖a_k‖² + tγ.
func jacobi(a []float64, p, q int, v, d []float64) int {
	if d == nil {
		d = make([]float64, q)
	}
	for sweep := 1; sweep <= maxSweeps; sweep++ {
		for j := 0; j < q; j++ {
			aj := a[j*p : j*p+p]
			d[j] = dot4(aj, aj)
		}
		rotated := false
		for j := 0; j < q-1; j++ {
			aj := a[j*p : j*p+p]
			for k := j + 1; k < q; k++ {
				ak := a[k*p : k*p+p]
				gamma := dot4(aj, ak)
				alpha, beta := d[j], d[k]
				// Skip converged pairs; the negated form also skips a pair
				// whose test is NaN, so ζ below is never 0/0.
				if !(math.Abs(gamma) > jacobiTol*math.Sqrt(alpha)*math.Sqrt(beta)) {
					continue
				}
				rotated = true
				// The rotation that zeroes the (j,k) entry of the Gram
				// matrix: t = tan θ is the smaller root of
				// t² + 2ζt − 1 = 0 with ζ = (β − α)/(2γ).
				zeta := (beta - alpha) / (2 * gamma)
				var t float64
				if az := math.Abs(zeta); az < 1e150 {
					t = 1 / (az + math.Sqrt(1+az*az))
				} else {
					t = 0.5 / az // 1 + ζ² would overflow
				}
				if zeta < 0 {
					t = -t
				}
				c := 1 / math.Sqrt(1+t*t)
				s := c * t
				rotate(aj, ak, c, s)
				if d[j] = alpha - t*gamma; d[j] < 0 {
					d[j] = 0
				}
				// Either update can round below zero when the pair is nearly
				// dependent: a negative squared norm would poison the test
				// above with a NaN square root.
				if d[k] = beta + t*gamma; d[k] < 0 {
					d[k] = 0
				}
				if v != nil {
					rotate(v[j*q:j*q+q], v[k*q:k*q+q], c, s)
				}
			}
		}
		if !rotated {
			return sweep
		}
	}
	return maxSweeps
}

// rotate applies (x, y) ← (c·x − s·y, s·x + c·y) elementwise.
func rotate(x, y []float64, c, s float64) {
	y = y[:len(x)]
	for i, xi := range x {
		yi := y[i]
		x[i] = c*xi - s*yi
		y[i] = s*xi + c*yi
	}
}

// dot4 returns x·y with four independent accumulators, which hides the
// latency of the floating-point adds; len(y) must be at least len(x).
func dot4(x, y []float64) float64 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// nrm2 returns the Euclidean norm of x without destructive underflow of
// small entries, by scaling with the largest magnitude.
func nrm2(x []float64) float64 {
	var mx float64
	for _, v := range x {
		mx = math.Max(mx, math.Abs(v))
	}
	if mx == 0 {
		return 0
	}
	var s float64
	for _, v := range x {
		r := v / mx
		s += r * r
	}
	return mx * math.Sqrt(s)
}

// colNorms writes the norms of the q columns of the p×q column-major a into
// sv.
func colNorms(sv, a []float64, p, q int) {
	for j := 0; j < q; j++ {
		sv[j] = nrm2(a[j*p : j*p+p])
	}
}

// closed2 returns the singular values σ₁ ≥ σ₂ of [[a, b], [c, d]]. The larger
// is half the sum of two hypotenuses (Kahan's form); the smaller is |det|/σ₁
// with the determinant evaluated by fused multiply-adds, which avoids the
// cancellation of half their difference.
func closed2(a, b, c, d float64) (s1, s2 float64) {
	s1 = (math.Hypot(a+d, c-b) + math.Hypot(a-d, b+c)) / 2
	if s1 == 0 {
		return 0, 0
	}
	w := b * c
	det := math.FMA(a, d, -w) + math.FMA(-b, c, w)
	return s1, math.Abs(det) / s1
}

// singular writes the singular values of the rows×cols row-major m, which
// must be finite, into sv (length min(rows, cols)) in descending order. It
// works in a stack buffer when rows·cols ≤ stackLen.
func singular[F Float](sv []float64, m []F, rows, cols int) {
	maxAbs, _, _ := scan(m)
	if maxAbs == 0 {
		clear(sv)
		return
	}
	e := exponent(maxAbs)
	switch {
	case rows == 1 || cols == 1:
		var s float64
		for _, v := range m {
			r := math.Ldexp(float64(v), -e)
			s += r * r
		}
		sv[0] = math.Ldexp(math.Sqrt(s), e)
		return
	case rows == 2 && cols == 2:
		s1, s2 := closed2(math.Ldexp(float64(m[0]), -e), math.Ldexp(float64(m[1]), -e),
			math.Ldexp(float64(m[2]), -e), math.Ldexp(float64(m[3]), -e))
		sv[0], sv[1] = math.Ldexp(s1, e), math.Ldexp(s2, e)
		return
	}
	var buf [stackLen]float64
	var a []float64
	if rows*cols <= stackLen {
		a = buf[:rows*cols]
	} else {
		a = make([]float64, rows*cols)
	}
	p, q, _ := load(a, m, rows, cols, e)
	jacobi(a, p, q, nil, sv)
	colNorms(sv, a, p, q)
	sortDesc(sv)
	for i := range sv {
		sv[i] = math.Ldexp(sv[i], e)
	}
}

// sortDesc sorts x in descending order by insertion, which is cheaper than
// sort.Float64s for the short vectors here and does not allocate.
func sortDesc(x []float64) {
	for i := 1; i < len(x); i++ {
		v := x[i]
		j := i
		for j > 0 && x[j-1] < v {
			x[j] = x[j-1]
			j--
		}
		x[j] = v
	}
}

// orderDesc fills order with the permutation that sorts sv in descending
// order, stably, by insertion; it does not allocate.
func orderDesc(order []int, sv []float64) {
	for i := range order {
		o := i
		j := i
		for j > 0 && sv[order[j-1]] < sv[o] {
			order[j] = order[j-1]
			j--
		}
		order[j] = o
	}
}
