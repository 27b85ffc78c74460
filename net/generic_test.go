package net

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestHeadGradients checks the generic Linear at float64 used as the LM's
// head — logits = x·W + b scored by SoftmaxCrossEntropy — against central
// differences, for W, b and the input. The loss adds ⟨R, logits⟩ with a
// random R to the cross-entropy of random labels, so the upstream gradient
// of the logits is random, not a softmax minus one-hot alone.
func TestHeadGradients(t *testing.T) {
	rnd := rand.New(rand.NewPCG(33, 34))
	const rows, c, vocab = 6, 5, 7
	lin := NewLinear("head", c, vocab, rnd)
	copy(lin.B.Value, randNormal(rnd, vocab))
	head := newLinearOf[float64](nil, "", lin)
	x := randNormal(rnd, rows*c)
	r := randNormal(rnd, rows*vocab)
	labels := make([]int, rows)
	for i := range labels {
		labels[i] = rnd.IntN(vocab)
	}
	logits, dlogits, dx := make([]float64, rows*vocab), make([]float64, rows*vocab), make([]float64, rows*c)
	loss := func() float64 {
		head.forward(logits, x, rows)
		l, _, err := SoftmaxCrossEntropy(nil, logits, labels, vocab)
		if err != nil {
			t.Fatal(err)
		}
		return l + dot(r, logits)
	}
	head.forward(logits, x, rows)
	if _, _, err := SoftmaxCrossEntropy(dlogits, logits, labels, vocab); err != nil {
		t.Fatal(err)
	}
	for i := range dlogits {
		dlogits[i] += r[i]
	}
	head.backward(dx, dlogits, x, rows)
	checkGrad(t, "head W", lin.W.Grad, lin.W.Value, loss)
	checkGrad(t, "head b", lin.B.Grad, lin.B.Value, loss)
	checkGrad(t, "head x", dx, x, loss)
}

// TestLinearViews checks that the generic Linear at float64 reads and
// writes the float64 Linear's own parameters (views, not copies), and that
// a stale float32 gradient is overwritten rather than added to.
func TestLinearViews(t *testing.T) {
	rnd := rand.New(rand.NewPCG(35, 36))
	lin := NewLinear("l", 3, 4, rnd)
	g := newLinearOf[float64](nil, "p.", lin)
	g.w.Value[0] = 42
	if lin.W.Value[0] != 42 {
		t.Error("float64 generic Linear copies W instead of viewing it")
	}
	x, dy := randNormal(rnd, 2*3), randNormal(rnd, 2*4)
	g.backward(nil, dy, x, 2)
	want := append([]float64(nil), lin.W.Grad...)
	g.backward(nil, dy, x, 2)
	for i, v := range lin.W.Grad {
		// gemmTol: the second product may be accumulated onto the first
		// term by term (the pure-Go kernels), not added as a whole.
		if d := v - 2*want[i]; d > gemmTol*(1+math.Abs(v)) || d < -gemmTol*(1+math.Abs(v)) {
			t.Fatalf("float64 gradients do not add up: %v vs 2·%v", v, want[i])
		}
	}

	var a arena32
	a.value, a.grad = make([]float32, 0, 16), make([]float32, 0, 16)
	g32 := newLinearOf[float32](&a, "p.", lin)
	if a.names[0] != "p.l.w" || a.names[1] != "p.l.b" {
		t.Errorf("arena names %q", a.names)
	}
	for i := range g32.w.Grad {
		g32.w.Grad[i], g32.b.Grad[i%4] = 7, 7
	}
	g32.w.stale, g32.b.stale = true, true
	g32.backward(nil, f32s(dy), f32s(x), 2)
	once := append([]float32(nil), g32.w.Grad...)
	for i, v := range once {
		if d := float64(v) - want[i]; d > 1e-5 || d < -1e-5 {
			t.Fatalf("stale float32 gradient %v, want %v (overwritten)", v, want[i])
		}
	}
	if !g32.w.ssOK || g32.w.ss != sumSquares(once) {
		t.Errorf("overwritten gradient's sum of squares %v (ok %v), want %v", g32.w.ss, g32.w.ssOK, sumSquares(once))
	}
}

// TestPrecisionBridges checks wide, narrow and as64: no copies at float64,
// exact widening and rounding at float32.
func TestPrecisionBridges(t *testing.T) {
	s64 := []float64{1, 1.0 / 3, -2.5}
	scratch := make([]float64, 8)
	if w := wide(s64, scratch); &w[0] != &s64[0] || len(w) != 3 {
		t.Error("wide copies at float64")
	}
	if w := as64(s64, scratch); &w[0] != &s64[0] {
		t.Error("as64 copies at float64")
	}
	s32 := make([]float32, 3)
	w := wide(s32, scratch)
	copy(w, s64)
	narrow(s32, w)
	for i, v := range s64 {
		if s32[i] != float32(v) {
			t.Errorf("narrow[%d] = %v, want float32(%v)", i, s32[i], v)
		}
	}
	for i, v := range as64(s32, scratch) {
		if v != float64(s32[i]) {
			t.Errorf("as64[%d] = %v, want %v", i, v, float64(s32[i]))
		}
	}
}
