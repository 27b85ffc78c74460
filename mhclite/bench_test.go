package mhclite_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/mhc"
	"github.com/hyperconn/hyperconn/mhclite"
)

// benchStep times one training step of a Layer over m on a batch of tokens:
// Pre, Post, PostBackward, PreBackward, with the branch output f and the
// branch's input gradient given as random data (no branch is run).
func benchStep(b *testing.B, m hc.Mixer, tokens int) {
	n, c := m.Shape()
	rnd := rand.New(rand.NewPCG(21, 22))
	normal := func(size int) []float64 {
		s := make([]float64, size)
		for i := range s {
			s[i] = rnd.NormFloat64()
		}
		return s
	}
	x, g := normal(tokens*n*c), normal(tokens*n*c)
	f, din := normal(tokens*c), normal(tokens*c)
	in, out := make([]float64, tokens*c), make([]float64, tokens*n*c)
	dx, df := make([]float64, tokens*n*c), make([]float64, tokens*c)
	l := hc.NewLayer(m)
	step := func() {
		if err := l.Pre(in, x, tokens); err != nil {
			b.Fatal(err)
		}
		if err := l.Post(out, f); err != nil {
			b.Fatal(err)
		}
		l.PostBackward(dx, df, g)
		l.PreBackward(dx, din)
	}
	step() // warm up: the Layer's buffers grow here
	for b.Loop() {
		step()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*tokens), "ns/token")
}

// BenchmarkLayer times an mHC-lite training step at n = 4 on 256 tokens.
// Compare with BenchmarkLayerMHC for the cost of mHC-lite against mHC.
func BenchmarkLayer(b *testing.B) {
	const n, tokens = 4, 256
	for _, c := range []int{64, 256} {
		b.Run(fmt.Sprintf("C=%d", c), func(b *testing.B) {
			m, err := mhclite.New(mhclite.PaperConfig(n, c, 0))
			if err != nil {
				b.Fatal(err)
			}
			benchStep(b, m, tokens)
		})
	}
}

// BenchmarkLayerMHC is BenchmarkLayer for mHC as the paper configures it
// (mhc.PaperConfig: Fixed-20 Sinkhorn, unrolled backward), the reference
// for mHC-lite's cost.
func BenchmarkLayerMHC(b *testing.B) {
	const n, tokens = 4, 256
	for _, c := range []int{64, 256} {
		b.Run(fmt.Sprintf("C=%d", c), func(b *testing.B) {
			m, err := mhc.New(mhc.PaperConfig(n, c, 0))
			if err != nil {
				b.Fatal(err)
			}
			benchStep(b, m, tokens)
		})
	}
}

// BenchmarkStreams shows the factorial growth: a training step over 16
// tokens of width C = 16 for n = 2..8 streams (n! = 2 … 40320 weights).
func BenchmarkStreams(b *testing.B) {
	const c, tokens = 16, 16
	for n := 2; n <= mhclite.MaxN; n++ {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			m, err := mhclite.New(mhclite.PaperConfig(n, c, 0))
			if err != nil {
				b.Fatal(err)
			}
			benchStep(b, m, tokens)
		})
	}
}
