package hc_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/gemm"
)

// BenchmarkLayerStep times one training step of a Layer without a branch
// (f = h_pre·X, din = df) at the depth-32 network's shape: 64 tokens,
// C = 128, one thread; n = 4 except for the plain residual. The frame's
// cost for a mixer is its time here; the step's total over a depth-32
// network is 32 times it.
func BenchmarkLayerStep(b *testing.B) {
	const tokens, c = 64, 128
	defer gemm.SetThreads(gemm.Threads())
	gemm.SetThreads(1)
	for _, mx := range []struct {
		name string
		new  func() (hc.Mixer, error)
	}{
		{"residual", func() (hc.Mixer, error) { return hc.Residual(c), nil }},
		{"hc-static", func() (hc.Mixer, error) { return hc.New(hc.Config{N: 4, C: c}) }},
		{"hc", func() (hc.Mixer, error) { return hc.New(hc.PaperConfig(4, c, 0)) }},
	} {
		b.Run(fmt.Sprintf("mixer=%s", mx.name), func(b *testing.B) {
			m, err := mx.new()
			if err != nil {
				b.Fatal(err)
			}
			n, _ := m.Shape()
			l := hc.NewLayer(m)
			rnd := rand.New(rand.NewPCG(1, 2))
			x, g := make([]float64, tokens*n*c), make([]float64, tokens*n*c)
			for i := range x {
				x[i], g[i] = rnd.NormFloat64(), rnd.NormFloat64()
			}
			in, df := make([]float64, tokens*c), make([]float64, tokens*c)
			out, dx := make([]float64, tokens*n*c), make([]float64, tokens*n*c)
			step := func() {
				if err := l.Pre(in, x, tokens); err != nil {
					b.Fatal(err)
				}
				if err := l.Post(out, in); err != nil {
					b.Fatal(err)
				}
				l.PostBackward(dx, df, g)
				l.PreBackward(dx, df)
			}
			step()
			for b.Loop() {
				step()
			}
		})
	}
}
