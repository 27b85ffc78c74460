package birkhoff

import "math"

// cholesky factorises the symmetric positive definite m×m matrix stored
// row-major with leading dimension ld in a, in place, into its lower factor
// L (a = L·Lᵀ), reading only the lower triangle. It reports false if a pivot
// is not positive.
func cholesky(a []float64, m, ld int) bool {
	for j := 0; j < m; j++ {
		rj := a[j*ld : j*ld+j]
		d := a[j*ld+j]
		for _, v := range rj {
			d -= v * v
		}
		if !(d > 0) {
			return false
		}
		d = math.Sqrt(d)
		a[j*ld+j] = d
		inv := 1 / d
		for i := j + 1; i < m; i++ {
			ri := a[i*ld : i*ld+j]
			s := a[i*ld+j]
			for k, v := range rj {
				s -= ri[k] * v
			}
			a[i*ld+j] = s * inv
		}
	}
	return true
}

// cholSolve solves L·Lᵀ·x = b in place of b, with L from cholesky.
func cholSolve(l, b []float64, m, ld int) {
	for i := 0; i < m; i++ {
		s := b[i]
		for k, v := range l[i*ld : i*ld+i] {
			s -= v * b[k]
		}
		b[i] = s / l[i*ld+i]
	}
	for i := m - 1; i >= 0; i-- {
		s := b[i]
		for k := i + 1; k < m; k++ {
			s -= l[k*ld+i] * b[k]
		}
		b[i] = s / l[i*ld+i]
	}
}
