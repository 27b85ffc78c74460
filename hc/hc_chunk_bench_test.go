package hc

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkChunk times one chunk of dynamic HC, ForwardChunk then
// BackwardChunk, at the depth-32 network's shape (n = 4, C = 128, 32
// tokens: a batch of 64 in two chunks), with the current code (impl=new)
// and the code it replaced (impl=old, see refChunk), in the same run:
//
//	go test -run '^$' -bench Chunk -count 6 ./hc | benchstat -col /impl -
func BenchmarkChunk(b *testing.B) {
	const tokens = 32
	for _, n := range []int{4} {
		for _, c := range []int{128} {
			h, err := New(PaperConfig(n, c, 0))
			if err != nil {
				b.Fatal(err)
			}
			rnd := rand.New(rand.NewPCG(7, 8))
			for _, p := range h.params {
				for i := range p.Value {
					p.Value[i] += 0.1 * rnd.NormFloat64()
				}
			}
			nn, tl := n*n, h.TapeLen()
			norm := func(k int) []float64 {
				s := make([]float64, k)
				for i := range s {
					s[i] = rnd.NormFloat64()
				}
				return s
			}
			x, dx := norm(tokens*n*c), norm(tokens*n*c)
			pre, post, res := make([]float64, tokens*n), make([]float64, tokens*n), make([]float64, tokens*nn)
			dpre, dpost, dres := norm(tokens*n), norm(tokens*n), norm(tokens*nn)
			tape := make([]float64, tokens*tl)
			b.Run(fmt.Sprintf("n=%d/C=%d/impl=old", n, c), func(b *testing.B) {
				r := newRefChunk(h, tokens*n)
				for b.Loop() {
					r.forward(pre, post, res, tape, x, tokens, tl)
					r.backward(dx, x, tape, dpre, dpost, dres, tokens, tl)
				}
			})
			b.Run(fmt.Sprintf("n=%d/C=%d/impl=new", n, c), func(b *testing.B) {
				w := h.NewWorker().(*hcWorker)
				for b.Loop() {
					if err := w.ForwardChunk(pre, post, res, tape, x, tokens); err != nil {
						b.Fatal(err)
					}
					w.BackwardChunk(dx, x, tape, dpre, dpost, dres, tokens)
					w.gradsSet = false
				}
			})
		}
	}
}
