package shc_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/shc"
)

// benchLayer times one training step of a Layer (Pre, Post, PostBackward,
// PreBackward) over 256 tokens at n = 4, the branch output and the
// gradients being random data: the cost of the mixer and the mixing alone.
func benchLayer(b *testing.B, cfg func(n, c, layer int) shc.Config) {
	const n, tokens = 4, 256
	for _, c := range []int{64, 256} {
		b.Run(fmt.Sprintf("C=%d", c), func(b *testing.B) {
			m, err := shc.New(cfg(n, c, 0))
			if err != nil {
				b.Fatal(err)
			}
			rnd := rand.New(rand.NewPCG(1, uint64(c)))
			perturb(m, rnd) // every token its own H_res, as in training
			random := func(size int) []float64 {
				s := make([]float64, size)
				for i := range s {
					s[i] = rnd.NormFloat64()
				}
				return s
			}
			l := hc.NewLayer(m)
			x, f, dout, din := random(tokens*n*c), random(tokens*c), random(tokens*n*c), random(tokens*c)
			in, out := make([]float64, tokens*c), make([]float64, tokens*n*c)
			dx, df := make([]float64, tokens*n*c), make([]float64, tokens*c)
			step := func() {
				if err := l.Pre(in, x, tokens); err != nil {
					b.Fatal(err)
				}
				if err := l.Post(out, f); err != nil {
					b.Fatal(err)
				}
				l.PostBackward(dx, df, dout)
				l.PreBackward(dx, din)
			}
			step() // warm-up: the Layer sizes its buffers
			b.ReportAllocs()
			for b.Loop() {
				step()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*tokens), "ns/token")
		})
	}
}

// BenchmarkLayer is the structural form (PaperConfig).
func BenchmarkLayer(b *testing.B) { benchLayer(b, shc.PaperConfig) }

// BenchmarkLayerNormalized is the normalisation form (an n×n Jacobi SVD per
// token, twice: forward and recomputed in backward).
func BenchmarkLayerNormalized(b *testing.B) { benchLayer(b, shc.NormalizedConfig) }
