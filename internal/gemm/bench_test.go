package gemm

import (
	"fmt"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// BenchmarkMul times the products of net's Linear layers at batch 64 and
// C = 128, h = 4 (up: 64×128 by 128×512; its weight gradient 128×64 by
// 64×512) and a 512³ product, on every compiled-in backend, with 1 and 2
// threads, in float64 and float32. It reports GFLOP/s.
func BenchmarkMul(b *testing.B) {
	start, threads := Current(), Threads()
	defer func() { Use(start); SetThreads(threads) }()
	for _, be := range Available() {
		for _, th := range []int{1, 2} {
			for _, d := range []struct {
				name    string
				tA      blas.Transpose
				m, n, k int
			}{{"up", blas.NoTrans, 64, 512, 128}, {"dW", blas.Trans, 128, 512, 64}, {"cube", blas.NoTrans, 512, 512, 512}} {
				lda := d.k
				if d.tA == blas.Trans {
					lda = d.m
				}
				a, bb, c := make([]float64, d.m*d.k), make([]float64, d.k*d.n), make([]float64, d.m*d.n)
				a32, b32, c32 := make([]float32, d.m*d.k), make([]float32, d.k*d.n), make([]float32, d.m*d.n)
				for i := range a {
					a[i] = float64(i%7) - 3 // non-zero: gonum skips zero entries of A
					a32[i] = float32(a[i])
				}
				for i := range bb {
					bb[i] = float64(i%5) - 2
					b32[i] = float32(bb[i])
				}
				flops := 2 * float64(d.m*d.n*d.k)
				name := fmt.Sprintf("backend=%v/threads=%d/shape=%s", be, th, d.name)
				b.Run(name+"/f64", func(b *testing.B) {
					Use(be)
					SetThreads(th)
					for b.Loop() {
						Mul(d.tA, blas.NoTrans, d.m, d.n, d.k, 1, a, lda, bb, d.n, 0, c, d.n)
					}
					b.ReportMetric(flops/float64(b.Elapsed().Nanoseconds())*float64(b.N), "GFLOP/s")
				})
				b.Run(name+"/f32", func(b *testing.B) {
					Use(be)
					SetThreads(th)
					for b.Loop() {
						Mul32(d.tA, blas.NoTrans, d.m, d.n, d.k, 1, a32, lda, b32, d.n, 0, c32, d.n)
					}
					b.ReportMetric(flops/float64(b.Elapsed().Nanoseconds())*float64(b.N), "GFLOP/s")
				})
			}
		}
	}
}
