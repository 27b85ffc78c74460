package net

import (
	"math/rand/v2"
	"testing"
)

// TestGELUFusedFloat64 checks the fused bias+GELU passes at float64 (the
// float64 LM's MLP) against the public GELU and GELUBackward on x + b,
// bit for bit, and the bias gradient against dx's column sums.
func TestGELUFusedFloat64(t *testing.T) {
	rnd := rand.New(rand.NewPCG(37, 38))
	const rows, c = 9, 13
	h, dy, b := randNormal(rnd, rows*c), randNormal(rnd, rows*c), randNormal(rnd, c)
	z := make([]float64, len(h))
	for i := range z {
		z[i] = h[i] + b[i%c]
	}
	a, dz := make([]float64, len(z)), make([]float64, len(z))
	GELU(a, z)
	GELUBackward(dz, dy, z)
	db := make([]float64, c)
	for i, v := range dz {
		db[i%c] += v
	}
	var g gelu[float64]
	ga, cdf, dx := make([]float64, len(z)), make([]float64, len(z)), make([]float64, len(z))
	g.forwardBias(ga, cdf, h, b)
	dbP := &Tensor[float64]{Grad: make([]float64, c)}
	g.backwardBias(dx, dy, h, cdf, dbP)
	for i := range z {
		if h[i] != z[i] || ga[i] != a[i] || dx[i] != dz[i] {
			t.Fatalf("element %d: z %v/%v, gelu %v/%v, dx %v/%v", i, h[i], z[i], ga[i], a[i], dx[i], dz[i])
		}
	}
	for j := range db {
		if d := dbP.Grad[j] - db[j]; d > 1e-13 || d < -1e-13 {
			t.Errorf("bias gradient %d: %v, want %v", j, dbP.Grad[j], db[j])
		}
	}
}

// TestRMSNormGeneric checks that the generic RMSNorm at float64 is the
// public RMSNorm (it delegates to it) and that its float32 instantiation
// reads the arena's gain: a changed gain changes its output.
func TestRMSNormGeneric(t *testing.T) {
	rnd := rand.New(rand.NewPCG(39, 40))
	const rows, c = 4, 6
	n := NewRMSNorm("n", c)
	x := randNormal(rnd, rows*c)
	var a arena32
	a.value, a.grad = make([]float32, 0, c), make([]float32, 0, c)
	n32 := newRMSNormOf[float32](&a, "", n)
	y32 := make([]float32, rows*c)
	n32.forward(y32, f32s(x), rows)
	n32.gain.Value[0] = 2
	y32b := make([]float32, rows*c)
	n32.forward(y32b, f32s(x), rows)
	if y32b[0] != 2*y32[0] || y32b[1] != y32[1] {
		t.Errorf("float32 RMSNorm does not read its arena gain: %v %v -> %v %v", y32[0], y32[1], y32b[0], y32b[1])
	}
	y := make([]float64, rows*c)
	n.Forward(y, x, rows)
	if d := maxRelDiff(y32, y); d > layer32Tol {
		t.Errorf("float32 RMSNorm: relative difference %.3g, want ≤ %g", d, layer32Tol)
	}
}
