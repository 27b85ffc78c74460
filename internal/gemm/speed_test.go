package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"

	"github.com/hyperconn/hyperconn/internal/gemm/micro"
)

// netProduct is one product of a training step of net's MNIST networks.
type netProduct struct {
	tA, tB  blas.Transpose
	m, n, k int
}

// blockProducts are the products one residual block of width c makes on
// rows tokens per training step (net's Linear up, C → 4C, and down, 4C →
// C): forward, weight gradient and input gradient of each.
func blockProducts(c, rows int) []netProduct {
	var ps []netProduct
	for _, l := range [][2]int{{c, 4 * c}, {4 * c, c}} {
		in, out := l[0], l[1]
		ps = append(ps,
			netProduct{blas.NoTrans, blas.NoTrans, rows, out, in}, // y = x·W
			netProduct{blas.Trans, blas.NoTrans, in, out, rows},   // dW = xᵀ·dy
			netProduct{blas.NoTrans, blas.Trans, rows, in, out},   // dx = dy·Wᵀ
		)
	}
	return ps
}

// BenchmarkNetShapes times, on one thread, the six products of a residual
// block (see blockProducts) at the networks' widths C = 32, 128, 512 and
// 64, 256, 1024 tokens, in float32 and float64, with each implementation
// of the binary, one after the other for each shape so that they see the
// same machine: impl=packed (the default backend's micro-kernels),
// impl=gonum (the default backend on gonum's kernels, as before them) and,
// built with -tags openblas, impl=openblas. It reports GFLOP/s of wall
// time and, on a machine shared with other work, GFLOP/cpu-s: flops per
// second of the processor time the process used (the calling goroutine
// multiplies alone, so this is the product's own speed). The
// acceptance figures of issue 16 come from
//
//	OPENBLAS_CORETYPE=SkylakeX go test -tags openblas -run - -bench NetShapes -count 5 ./internal/gemm
func BenchmarkNetShapes(b *testing.B) {
	start, threads, installed := Current(), Threads(), pure
	defer func() { Use(start); SetThreads(threads); pure = installed }()
	SetThreads(1)
	type impl struct {
		name    string
		backend Backend
		pure    micro.Pair
	}
	impls := []impl{{"gonum", Gonum, micro.Pair{}}}
	if installed.F32 != nil {
		impls = append([]impl{{"packed", Gonum, installed}}, impls...)
	}
	if haveOpenBLAS {
		impls = append(impls, impl{"openblas", OpenBLAS, installed})
	}
	rnd := rand.New(rand.NewPCG(1, 1))
	for _, c := range []int{32, 128, 512} {
		for _, rows := range []int{64, 256, 1024} {
			ps := blockProducts(c, rows)
			var flops float64
			size := 0
			for _, p := range ps {
				flops += 2 * float64(p.m*p.n*p.k)
				size = max(size, p.m*p.k, p.k*p.n, p.m*p.n)
			}
			a, bb, cc := make([]float64, size), make([]float64, size), make([]float64, size)
			for i := range a {
				a[i], bb[i] = rnd.NormFloat64(), rnd.NormFloat64()
			}
			a32, b32, c32 := to32(a), to32(bb), to32(cc)
			for _, dtype := range []string{"f32", "f64"} {
				for _, im := range impls {
					b.Run(fmt.Sprintf("C=%d/tokens=%d/dtype=%s/impl=%s", c, rows, dtype, im.name), func(b *testing.B) {
						if err := Use(im.backend); err != nil {
							b.Fatal(err)
						}
						pure = im.pure
						cpu0 := cpuTime()
						for b.Loop() {
							for _, p := range ps {
								lda, ldb := p.k, p.n
								if p.tA == blas.Trans {
									lda = p.m
								}
								if p.tB == blas.Trans {
									ldb = p.k
								}
								if dtype == "f32" {
									Mul32(p.tA, p.tB, p.m, p.n, p.k, 1, a32, lda, b32, ldb, 0, c32, p.n)
								} else {
									Mul(p.tA, p.tB, p.m, p.n, p.k, 1, a, lda, bb, ldb, 0, cc, p.n)
								}
							}
						}
						b.ReportMetric(flops*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "GFLOP/s")
						if cpu := cpuTime() - cpu0; cpu > 0 {
							b.ReportMetric(flops*float64(b.N)/float64(cpu.Nanoseconds()), "GFLOP/cpu-s")
						}
					})
				}
			}
		}
	}
}
