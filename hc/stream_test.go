package hc_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/hyperconn/hyperconn/hc"
)

func TestExpandReduce(t *testing.T) {
	// 2 tokens, n = 3, C = 2, worked by hand.
	emb := []float64{1, 2, 3, 4}
	x := make([]float64, 12)
	hc.Expand(x, emb, 2, 3, 2)
	if want := []float64{1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4}; !slices.Equal(x, want) {
		t.Errorf("Expand = %v, want %v", x, want)
	}
	x = []float64{1, 2, 10, 20, 100, 200, 3, 4, 30, 40, 300, 400}
	y := make([]float64, 4)
	hc.Reduce(y, x, 2, 3, 2)
	if want := []float64{111, 222, 333, 444}; !slices.Equal(y, want) {
		t.Errorf("Reduce = %v, want %v", y, want)
	}
}

// TestStreamBackward checks the backward helpers as adjoints:
// ⟨Expand(e), g⟩ = ⟨e, ExpandBackward(g)⟩ and ⟨Reduce(x), g⟩ =
// ⟨x, ReduceBackward(g)⟩. With integer data every sum is exact, so the two
// sides are compared with ==.
func TestStreamBackward(t *testing.T) {
	const tokens, n, c = 3, 4, 5
	rnd := rand.New(rand.NewPCG(1, 1))
	ints := func(size int) []float64 {
		s := make([]float64, size)
		for i := range s {
			s[i] = float64(rnd.IntN(19) - 9)
		}
		return s
	}
	e, g := ints(tokens*c), ints(tokens*n*c)
	x, h := ints(tokens*n*c), ints(tokens*c)
	wide := make([]float64, tokens*n*c)
	narrow := make([]float64, tokens*c)

	hc.Expand(wide, e, tokens, n, c)
	hc.ExpandBackward(narrow, g, tokens, n, c)
	if dot(wide, g) != dot(e, narrow) {
		t.Errorf("ExpandBackward is not the adjoint of Expand")
	}
	hc.Reduce(narrow, x, tokens, n, c)
	hc.ReduceBackward(wide, h, tokens, n, c)
	if dot(narrow, h) != dot(x, wide) {
		t.Errorf("ReduceBackward is not the adjoint of Reduce")
	}
	panics(t, hc.ErrShape, "Expand short", func() { hc.Expand(wide[1:], e, tokens, n, c) })
	panics(t, hc.ErrShape, "Reduce n=0", func() { hc.Reduce(narrow, x, tokens, 0, c) })
}

func dot(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		s += v * b[i]
	}
	return s
}
