package net

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/hyperconn/hyperconn/internal/gemm"
)

// attentionTol32 bounds the relative difference between float32 and
// float64 attention outputs and gradients: inputs of O(1), sums of ≤ 64
// products, each rounding by 2⁻²⁴ ≈ 6e-8, stay near 1e-6.
const attentionTol32 = 1e-5

// naiveAttention is an independent transcription of causal multi-head
// attention, token by token in float64, for the tests.
func naiveAttention(qkv []float64, batch, seq, heads, dim int) []float64 {
	c := heads * dim
	out := make([]float64, batch*seq*c)
	for b := range batch {
		for h := range heads {
			for i := range seq {
				qi := qkv[(b*seq+i)*3*c+h*dim:]
				s := make([]float64, i+1)
				mx := math.Inf(-1)
				for j := 0; j <= i; j++ {
					kj := qkv[(b*seq+j)*3*c+c+h*dim:]
					for e := range dim {
						s[j] += qi[e] * kj[e]
					}
					s[j] /= math.Sqrt(float64(dim))
					mx = max(mx, s[j])
				}
				var z float64
				for j := range s {
					s[j] = math.Exp(s[j] - mx)
					z += s[j]
				}
				o := out[(b*seq+i)*c+h*dim:]
				for j := range s {
					vj := qkv[(b*seq+j)*3*c+2*c+h*dim:]
					for e := range dim {
						o[e] += s[j] / z * vj[e]
					}
				}
			}
		}
	}
	return out
}

func TestAttentionForward(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	const batch, seq, heads, dim = 3, 7, 2, 5
	qkv := randSlice(rnd, batch*seq*3*heads*dim, 2)
	a := NewAttention[float64](heads, dim, seq)
	out := make([]float64, batch*seq*heads*dim)
	a.Forward(out, qkv, batch)
	want := naiveAttention(qkv, batch, seq, heads, dim)
	if e := relErr(out, want); !(e <= gemmTol) {
		t.Errorf("attention differs from the token-by-token transcription by %.3g", e)
	}
	// Causality: changing the last token of a sequence changes none of the
	// outputs before it.
	c := heads * dim
	last := (batch*seq - 1) * 3 * c
	for i := range 3 * c {
		qkv[last+i] += 1
	}
	out2 := make([]float64, len(out))
	a.Forward(out2, qkv, batch)
	for i := range (batch*seq - 1) * c {
		if out2[i] != out[i] {
			t.Fatalf("output %d changed when only the last token did", i)
		}
	}
}

func TestAttentionGradients(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct{ batch, seq, heads, dim int }{
		{1, 1, 1, 1}, {2, 4, 1, 3}, {2, 5, 3, 2}, {1, 9, 2, 4},
	} {
		c := tc.heads * tc.dim
		qkv := randSlice(rnd, tc.batch*tc.seq*3*c, 1.5)
		g := randSlice(rnd, tc.batch*tc.seq*c, 1) // random upstream gradient
		a := NewAttention[float64](tc.heads, tc.dim, tc.seq)
		out := make([]float64, len(g))
		loss := func() float64 {
			a.Forward(out, qkv, tc.batch)
			return dot(out, g)
		}
		loss()
		dqkv := make([]float64, len(qkv))
		a.Backward(dqkv, g, qkv, tc.batch)
		if tc.seq == 1 {
			// One token attends only to itself: the output is v, so the
			// query and key get no gradient and v gets g.
			for i := range c {
				if dqkv[i] != 0 || dqkv[c+i] != 0 || dqkv[2*c+i] != g[i] {
					t.Fatalf("T = 1: dqkv %v, want zeros then g = %v", dqkv, g)
				}
			}
			continue
		}
		checkGrad(t, "attention", dqkv, qkv, loss)
	}
}

// TestAttentionFloat32 compares the float32 instantiation with float64.
func TestAttentionFloat32(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	const batch, seq, heads, dim = 2, 16, 4, 8
	c := heads * dim
	qkv := randSlice(rnd, batch*seq*3*c, 1)
	g := randSlice(rnd, batch*seq*c, 1)
	a64 := NewAttention[float64](heads, dim, seq)
	a32 := NewAttention[float32](heads, dim, seq)
	out, dqkv := make([]float64, len(g)), make([]float64, len(qkv))
	a64.Forward(out, qkv, batch)
	a64.Backward(dqkv, g, qkv, batch)
	qkv32, g32 := make([]float32, len(qkv)), make([]float32, len(g))
	to32(qkv32, qkv)
	to32(g32, g)
	out32, dqkv32 := make([]float32, len(g)), make([]float32, len(qkv))
	a32.Forward(out32, qkv32, batch)
	a32.Backward(dqkv32, g32, qkv32, batch)
	wide := make([]float64, len(qkv))
	to64(wide[:len(out)], out32)
	if e := relErr(wide[:len(out)], out); !(e <= attentionTol32) {
		t.Errorf("float32 output differs from float64 by %.3g", e)
	}
	to64(wide, dqkv32)
	if e := relErr(wide, dqkv); !(e <= attentionTol32) {
		t.Errorf("float32 gradient differs from float64 by %.3g", e)
	}
}

// TestAttentionThreads checks that the result does not depend on the
// number of gemm threads (each (sequence, head) pair runs serially).
func TestAttentionThreads(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 8))
	const batch, seq, heads, dim = 4, 12, 3, 4
	c := heads * dim
	qkv := randSlice(rnd, batch*seq*3*c, 1)
	g := randSlice(rnd, batch*seq*c, 1)
	run := func(threads int) ([]float64, []float64) {
		defer gemm.SetThreads(gemm.SetThreads(threads))
		a := NewAttention[float64](heads, dim, seq)
		out, dqkv := make([]float64, len(g)), make([]float64, len(qkv))
		a.Forward(out, qkv, batch)
		a.Backward(dqkv, g, qkv, batch)
		return out, dqkv
	}
	o1, d1 := run(1)
	o2, d2 := run(2)
	for i := range o1 {
		if o1[i] != o2[i] {
			t.Fatalf("output %d: %v with one thread, %v with two", i, o1[i], o2[i])
		}
	}
	for i := range d1 {
		if d1[i] != d2[i] {
			t.Fatalf("gradient %d: %v with one thread, %v with two", i, d1[i], d2[i])
		}
	}
}

func TestAttentionAllocsAndShapes(t *testing.T) {
	const batch, seq, heads, dim = 2, 8, 2, 4
	c := heads * dim
	rnd := rand.New(rand.NewPCG(9, 10))
	qkv := randSlice(rnd, batch*seq*3*c, 1)
	g := randSlice(rnd, batch*seq*c, 1)
	out, dqkv := make([]float64, len(g)), make([]float64, len(qkv))
	a := NewAttention[float64](heads, dim, seq)
	a.Forward(out, qkv, batch)
	if n := testing.AllocsPerRun(20, func() {
		a.Forward(out, qkv, batch)
		a.Backward(dqkv, g, qkv, batch)
	}); n != 0 {
		t.Errorf("Forward+Backward allocate %v times per call", n)
	}
	qkv32, g32 := make([]float32, len(qkv)), make([]float32, len(g))
	to32(qkv32, qkv)
	to32(g32, g)
	out32, dqkv32 := make([]float32, len(g)), make([]float32, len(qkv))
	a32 := NewAttention[float32](heads, dim, seq)
	a32.Forward(out32, qkv32, batch)
	if n := testing.AllocsPerRun(20, func() {
		a32.Forward(out32, qkv32, batch)
		a32.Backward(dqkv32, g32, qkv32, batch)
	}); n != 0 {
		t.Errorf("float32 Forward+Backward allocate %v times per call", n)
	}
	mustPanicWith(t, ErrShape, "short qkv", func() { a.Forward(out, qkv[1:], batch) })
	mustPanicWith(t, ErrShape, "short dst", func() { a.Forward(out[1:], qkv, batch) })
	mustPanicWith(t, ErrShape, "zero heads", func() { NewAttention[float64](0, 1, 1) })
	b := NewAttention[float64](heads, dim, seq)
	mustPanicWith(t, ErrSequence, "backward before forward", func() { b.Backward(dqkv, g, qkv, batch) })
}
