package gemm

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// naive is the textbook triple loop, the oracle.
func naive(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	at := func(i, p int) float64 {
		if tA == blas.Trans {
			return a[p*lda+i]
		}
		return a[i*lda+p]
	}
	bt := func(p, j int) float64 {
		if tB == blas.Trans {
			return b[j*ldb+p]
		}
		return b[p*ldb+j]
	}
	for i := range m {
		for j := range n {
			var s float64
			for p := range k {
				s += at(i, p) * bt(p, j)
			}
			c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
		}
	}
}

func TestMul(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	randv := func(l int) []float64 {
		v := make([]float64, l)
		for i := range v {
			v[i] = rnd.NormFloat64()
		}
		return v
	}
	for _, d := range [][3]int{{1, 1, 1}, {3, 5, 7}, {70, 200, 9}, {130, 400, 33}, {5, 3, 0}} {
		m, n, k := d[0], d[1], d[2]
		for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				lda, ldb := k+2, n+1
				ra, rb := m, k
				if tA == blas.Trans {
					lda, ra = m+2, k
				}
				if tB == blas.Trans {
					ldb, rb = k+1, n
				}
				a, b := randv(max(ra*lda, 1)), randv(max(rb*ldb, 1))
				ldc := n + 3
				c := randv(m * ldc)
				want := append([]float64(nil), c...)
				Mul(tA, tB, m, n, k, 0.7, a, lda, b, ldb, 0.3, c, ldc)
				naive(tA, tB, m, n, k, 0.7, a, lda, b, ldb, 0.3, want, ldc)
				for i := range c {
					// Sums of k products: a few ulps per term.
					if math.Abs(c[i]-want[i]) > 1e-12*float64(k+1) {
						t.Fatalf("%v %v m=%d n=%d k=%d: entry %d = %v, want %v", tA, tB, m, n, k, i, c[i], want[i])
					}
				}
			}
		}
	}
}

func TestMulAllocs(t *testing.T) {
	const m, n, k = 256, 1024, 64 // 4×16 gonum blocks: parallel if not tiled
	a, b, c := make([]float64, m*k), make([]float64, k*n), make([]float64, m*n)
	if allocs := testing.AllocsPerRun(3, func() {
		Mul(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, b, n, 0, c, n)
	}); allocs != 0 {
		t.Errorf("%v allocs, want 0", allocs)
	}
}
