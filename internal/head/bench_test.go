package head

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/hyperconn/hyperconn/internal/gemm"
)

// BenchmarkChunk times one chunk's ForwardChunk, BackwardChunk and Flush at
// the depth-32 training benchmark's shape (n = 4, C = 128, a chunk of 32
// tokens), for mhc's head (k = 16) and mhclite's (k = 24), with float64
// and float32 products, on every compiled-in backend, one thread.
func BenchmarkChunk(b *testing.B) {
	start, threads := gemm.Current(), gemm.Threads()
	defer func() { gemm.Use(start); gemm.SetThreads(threads) }()
	const n, c, tokens = 4, 128, 32
	for _, be := range gemm.Available() {
		for _, k := range []int{16, 24} {
			for _, single := range []bool{false, true} {
				prec := "f64"
				if single {
					prec = "f32"
				}
				b.Run(fmt.Sprintf("backend=%v/k=%d/%s", be, k, prec), func(b *testing.B) {
					gemm.Use(be)
					gemm.SetThreads(1)
					h, err := New(n, c, k, 1)
					if err != nil {
						b.Fatal(err)
					}
					rnd := rand.New(rand.NewPCG(1, 1))
					for _, p := range h.Params() {
						for i := range p.Value {
							p.Value[i] += 0.1 * rnd.NormFloat64()
						}
					}
					h.SetFloat32Products(single)
					w := h.NewWorker()
					randv := func(m int) []float64 {
						v := make([]float64, m)
						for i := range v {
							v[i] = rnd.NormFloat64()
						}
						return v
					}
					x, dpre, dpost, draw := randv(tokens*n*c), randv(tokens*n), randv(tokens*n), randv(tokens*k)
					pre, post, dx := make([]float64, tokens*n), make([]float64, tokens*n), make([]float64, tokens*n*c)
					tl := h.TapeLen()
					tape := make([]float64, tokens*tl)
					for b.Loop() {
						w.ForwardChunk(pre, post, tape, tl, x, tokens)
						w.BackwardChunk(dx, x, tape, tl, dpre, dpost, draw, tokens)
						w.Flush()
					}
				})
			}
		}
	}
}
