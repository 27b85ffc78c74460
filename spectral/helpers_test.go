package spectral

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/mat"
)

// newRand returns the fixed-seed generator of a test.
func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// randn returns k standard normal values scaled by s.
func randn(rng *rand.Rand, k int, s float64) []float64 {
	x := make([]float64, k)
	for i := range x {
		x[i] = s * rng.NormFloat64()
	}
	return x
}

// gonumValues is the test oracle: gonum's LAPACK-derived SVD.
func gonumValues(t *testing.T, m []float64, rows, cols int) []float64 {
	t.Helper()
	var svd mat.SVD
	if !svd.Factorize(mat.NewDense(rows, cols, append([]float64(nil), m...)), mat.SVDNone) {
		t.Fatalf("gonum SVD failed on %d×%d", rows, cols)
	}
	return svd.Values(nil)
}

// maxAbs returns max|x|.
func maxAbs(x []float64) float64 {
	var m float64
	for _, v := range x {
		m = math.Max(m, math.Abs(v))
	}
	return m
}

// relErr returns ‖got − want‖∞ / max(‖want‖∞, tiny).
func relErr(got, want []float64) float64 {
	var d float64
	for i := range got {
		d = math.Max(d, math.Abs(got[i]-want[i]))
	}
	return d / math.Max(maxAbs(want), 1e-300)
}

// fdGradient returns the central finite-difference gradient of f at x.
func fdGradient(f func([]float64) float64, x []float64) []float64 {
	return fd.Gradient(nil, f, x, &fd.Settings{Formula: fd.Central})
}

// dot returns Σ aᵢbᵢ.
func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// sumsDev returns max over rows and columns of |sum − 1| of the n×n m.
func sumsDev[F Float](m []F, n int) float64 {
	var d float64
	for i := 0; i < n; i++ {
		var r, c float64
		for j := 0; j < n; j++ {
			r += float64(m[i*n+j])
			c += float64(m[j*n+i])
		}
		d = math.Max(d, math.Max(math.Abs(r-1), math.Abs(c-1)))
	}
	return d
}

// orthDev returns max|UᵀU − I| of the m×m U.
func orthDev[F Float](u []F, m int) float64 {
	var d float64
	for i := 0; i < m; i++ {
		for j := 0; j < m; j++ {
			var s float64
			for k := 0; k < m; k++ {
				s += float64(u[k*m+i]) * float64(u[k*m+j])
			}
			if i == j {
				s--
			}
			d = math.Max(d, math.Abs(s))
		}
	}
	return d
}

// to32 converts x to float32.
func to32(x []float64) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}

// to64 converts x to float64.
func to64[F Float](x []F) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

// mustPanic fails t unless f panics with want.
func mustPanic(t *testing.T, want error, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		if r := recover(); r != want {
			t.Errorf("panic = %v, want %v", r, want)
		}
	}()
	f()
}
