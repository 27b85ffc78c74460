package head

import (
	"math"
	"math/rand/v2"
	"testing"
)

// fdTol bounds the relative error of the backward pass against a
// fourth-order central difference with step fdStep (truncation ~h⁴ ≈ 1e-16,
// rounding ~ε/h ≈ 1e-12 on these O(1) maps).
const (
	fdTol  = 1e-7
	fdStep = 1e-4
)

// TestInit reproduces the reference init's gates (SPEC §3.2): h_pre =
// sigmoid(±1) = 0.73106/0.26894, h_post = 2·sigmoid(±1) = 1.46212/0.53788.
func TestInit(t *testing.T) {
	h, err := New(4, 3, 16, 6) // home stream 6 mod 4 = 2
	if err != nil {
		t.Fatal(err)
	}
	w := h.NewWorker()
	pre, post, raw := make([]float64, 4), make([]float64, 4), make([]float64, 16)
	x := make([]float64, 12)
	for i := range x {
		x[i] = float64(i) - 5
	}
	w.Forward(pre, post, raw, make([]float64, h.TapeLen()), x)
	for i := 0; i < 4; i++ {
		wp, wq := 0.26894, 0.53788
		if i == 2 {
			wp, wq = 0.73106, 1.46212
		}
		if math.Abs(pre[i]-wp) > 5e-6 || math.Abs(post[i]-wq) > 5e-6 {
			t.Errorf("stream %d: h_pre %.6f h_post %.6f, want %g %g", i, pre[i], post[i], wp, wq)
		}
	}
	for _, v := range raw {
		if v != 0 {
			t.Fatalf("raw logits %v, want 0 (φ = 0 at init)", raw)
		}
	}
}

// TestBackward checks ∂L/∂x and every parameter's gradient of
// L = ⟨G_pre, h_pre⟩ + ⟨G_post, h_post⟩ + ⟨G_raw, raw⟩ against central
// differences, with random G and parameters off the init.
func TestBackward(t *testing.T) {
	const n, c, k = 3, 4, 5
	rnd := rand.New(rand.NewPCG(1, 2))
	h, err := New(n, c, k, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range h.Params() {
		for i := range p.Value {
			p.Value[i] += 0.5 * rnd.NormFloat64()
		}
	}
	randv := func(m int) []float64 {
		v := make([]float64, m)
		for i := range v {
			v[i] = rnd.NormFloat64()
		}
		return v
	}
	x, gp, gq, gr := randv(n*c), randv(n), randv(n), randv(k)
	loss := func() float64 {
		w := h.NewWorker()
		pre, post, raw := make([]float64, n), make([]float64, n), make([]float64, k)
		w.Forward(pre, post, raw, make([]float64, h.TapeLen()), x)
		var s float64
		for i := range pre {
			s += gp[i]*pre[i] + gq[i]*post[i]
		}
		for i := range raw {
			s += gr[i] * raw[i]
		}
		return s
	}
	w := h.NewWorker()
	tape := make([]float64, h.TapeLen())
	w.Forward(make([]float64, n), make([]float64, n), make([]float64, k), tape, x)
	dx := make([]float64, n*c)
	w.Backward(dx, x, tape, gp, gq, gr)
	w.Flush()

	check := func(name string, v, grad []float64) {
		for i := range v {
			at := func(d float64) float64 {
				old := v[i]
				v[i] = old + d
				defer func() { v[i] = old }()
				return loss()
			}
			fd := (8*(at(fdStep)-at(-fdStep)) - (at(2*fdStep) - at(-2*fdStep))) / (12 * fdStep)
			if math.Abs(fd-grad[i]) > fdTol*math.Max(1, math.Abs(fd)) {
				t.Errorf("%s[%d]: backward %.12g, finite difference %.12g", name, i, grad[i], fd)
			}
		}
	}
	check("x", x, dx)
	for _, p := range h.Params() {
		check(p.Name, p.Value, p.Grad)
	}
}

func TestNewErrors(t *testing.T) {
	for _, a := range [][4]int{{0, 1, 1, 0}, {1, 0, 1, 0}, {1, 1, -1, 0}, {1, 1, 1, -1}} {
		if _, err := New(a[0], a[1], a[2], a[3]); err == nil {
			t.Errorf("New%v: no error", a)
		}
	}
}

func TestAllocs(t *testing.T) {
	h, _ := New(4, 8, 16, 0)
	w := h.NewWorker()
	x := make([]float64, 32)
	pre, post, raw, tape, dx := make([]float64, 4), make([]float64, 4), make([]float64, 16), make([]float64, h.TapeLen()), make([]float64, 32)
	if a := testing.AllocsPerRun(10, func() {
		w.Forward(pre, post, raw, tape, x)
		w.Backward(dx, x, tape, pre, post, raw)
		w.Flush()
	}); a != 0 {
		t.Errorf("%v allocs per token, want 0", a)
	}
}
