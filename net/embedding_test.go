package net

import (
	"math/rand/v2"
	"testing"
)

// TestEmbeddingGradients checks the generic embedding at float64 — the
// token table and the position table — against central differences of
// ⟨R, forward(x)⟩ with a random upstream gradient R, on batches of two
// sequences with repeated tokens (so rows of E collect several rows of R).
func TestEmbeddingGradients(t *testing.T) {
	rnd := rand.New(rand.NewPCG(31, 32))
	const vocab, seq, c, batch = 5, 4, 3, 2
	tok, pos := newParam("tok", vocab*c, false), newParam("pos", seq*c, true)
	copy(tok.Value, randNormal(rnd, vocab*c))
	copy(pos.Value, randNormal(rnd, seq*c))
	e := embedding[float64]{c: c, seq: seq, tok: view(&tok), pos: view(&pos)}
	x := []byte{0, 3, 3, 1, 4, 0, 3, 2}
	r := randNormal(rnd, batch*seq*c)
	y := make([]float64, len(r))
	loss := func() float64 {
		e.forward(y, x)
		return dot(r, y)
	}
	e.backward(r, x)
	checkGrad(t, "embedding tok", tok.Grad, tok.Value, loss)
	checkGrad(t, "embedding pos", pos.Grad, pos.Value, loss)

	// The float32 instantiation is the same map on the rounded tables.
	var a arena32
	a.value, a.grad = make([]float32, 0, 64), make([]float32, 0, 64)
	e32 := embedding[float32]{c: c, seq: seq, tok: tensorOf[float32](&a, "tok", &tok), pos: tensorOf[float32](&a, "pos", &pos)}
	y32 := make([]float32, len(r))
	e32.forward(y32, x)
	e.forward(y, x)
	if d := maxRelDiff(y32, y); d > layer32Tol {
		t.Errorf("float32 embedding: relative difference %.3g, want ≤ %g", d, layer32Tol)
	}
	mustPanicWith(t, ErrShape, "short dst", func() { e.forward(y[1:], x) })
	mustPanicWith(t, ErrShape, "short dy", func() { e.backward(r[1:], x) })
}
