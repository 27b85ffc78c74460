package net

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestMerge checks the merging head of MixerMHCV4 against its formula
// written out on one row (n = 3, C = 2) with random φ, α and b: red =
// Σ_i (σ(α·x̂φ_i + b_i) + 1e-6)·X_i, x̂ = vec(X)/√(mean(vec(X)²) + 1e-6). It
// also checks that the model names its parameters merge.phi, merge.alpha
// and merge.b, keeps them float64 in a float32 network, and that the other
// mixers have no merging head.
func TestMerge(t *testing.T) {
	const n, c = 3, 2
	rnd := rand.New(rand.NewPCG(4, 5))
	g := newMerge(n, c)
	for i := range g.phi.Value {
		g.phi.Value[i] = rnd.NormFloat64()
	}
	g.alpha.Value[0] = 0.7
	copy(g.bias.Value, []float64{0.3, -1, 2})
	x := []float64{1, -2, 0.5, 3, -1.5, 0.25}
	red := make([]float64, c)
	g.forward(red, x, 1)
	var ss float64
	for _, v := range x {
		ss += v * v
	}
	rms := math.Sqrt(ss/6 + 1e-6)
	want := make([]float64, c)
	for i := range n {
		var y float64
		for k, v := range x {
			y += v / rms * g.phi.Value[i*6+k]
		}
		w := 1/(1+math.Exp(-(0.7*y+g.bias.Value[i]))) + 1e-6
		for k := range c {
			want[k] += w * x[i*c+k]
		}
	}
	for k := range c {
		if math.Abs(red[k]-want[k]) > valueTol*math.Max(1, math.Abs(want[k])) {
			t.Errorf("red = %v, want %v", red, want)
		}
	}

	for _, f32 := range []bool{false, true} {
		m, err := NewModel(Config{Mixer: MixerMHCV4, N: 4, Width: 8, Depth: 2, Float32: f32, Reduce: ReduceMerge})
		if err != nil {
			t.Fatal(err)
		}
		names := m.ParamNames()
		for _, name := range []string{"merge.phi", "merge.alpha", "merge.b"} {
			if !slices.Contains(names, name) {
				t.Errorf("Float32 %v: no parameter %s in %v", f32, name, names)
			}
		}
	}
	m, err := NewModel(Config{Mixer: MixerMHCV4, N: 4, Width: 8, Depth: 2})
	if err != nil {
		t.Fatal(err)
	}
	if m.merge != nil || slices.Contains(m.ParamNames(), "merge.phi") {
		t.Error("a model with the default Reduce has a merging head")
	}
	if _, err := NewModel(Config{Mixer: MixerMHCV4, N: 4, Width: 8, Depth: 2, Reduce: "mean"}); !errors.Is(err, ErrConfig) {
		t.Errorf("Reduce \"mean\": %v, want an error wrapping ErrConfig", err)
	}
}

// TestMergeGradient checks the gradients of the merging head's parameters
// and of the embedding (which its RMS term reaches) in a 2-block mhc-v4
// network with Reduce = ReduceMerge against central differences, with the
// loss ⟨R, logits⟩ for a random R, parameters moved off the init.
func TestMergeGradient(t *testing.T) {
	rnd := rand.New(rand.NewPCG(12, 0))
	cfg := Config{Mixer: MixerMHCV4, N: 4, Width: 6, Depth: 2, Hidden: 2, Inputs: 5, Classes: 3, Reduce: ReduceMerge}
	m, err := NewModel(cfg)
	if err != nil {
		t.Fatal(err)
	}
	perturb(m, rnd, 0.3)
	const rows = 4
	x, r := randNormal(rnd, rows*cfg.Inputs), randNormal(rnd, rows*cfg.Classes)
	loss := func() float64 {
		z, err := m.Logits(x, rows)
		if err != nil {
			t.Fatal(err)
		}
		return dot(r, z)
	}
	for _, p := range m.Params() {
		clear(p.Grad)
	}
	loss()
	m.BackwardLogits(slices.Clone(r))
	for i, p := range m.Params() {
		name := m.ParamNames()[i]
		if !strings.HasPrefix(name, "merge.") && name != "embed.w" {
			continue
		}
		num := numGrad(p.Value, loss)
		var d, na, nn float64
		for j, a := range p.Grad {
			d += (a - num[j]) * (a - num[j])
			na += a * a
			nn += num[j] * num[j]
		}
		e := math.Sqrt(d) / math.Max(math.Sqrt(math.Max(na, nn)), netGradFloor)
		t.Logf("%s: relative error %.3g", name, e)
		if na == 0 || !(e <= gradTol) {
			t.Errorf("%s: gradient error %.3g (‖analytic‖² = %g)", name, e, na)
		}
	}
	// The steady state allocates nothing (the head's buffers grow once).
	dr := slices.Clone(r)
	if a := testing.AllocsPerRun(5, func() {
		loss()
		copy(dr, r)
		m.BackwardLogits(dr)
	}); a != 0 {
		t.Errorf("a forward and backward pass allocate %v times", a)
	}
}
