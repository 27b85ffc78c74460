package net

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// Tolerances of the model tests.
const (
	// netGradFloor is the gradient norm below which a tensor's error is
	// measured absolutely instead of relatively. The central-difference
	// error of the whole-net loss is ~3e-10 in absolute terms (measured;
	// see fdStep), while some tensors have legitimately tiny gradients:
	// block 0's b_res sees n identical streams, where a doubly stochastic
	// H_res acts as the identity, so its gradient is ~1e-19. With the
	// floor 1e-2 such tensors are held to an absolute 1e-8, far below any
	// real gradient error, and the others to gradTol relatively.
	netGradFloor = 1e-2

	// eqInitTol bounds the relative difference between static HC at init
	// and the plain residual net. The n streams stay identical, so Reduce
	// returns n times the residual stream and the final RMSNorm removes the
	// factor n, except through its ε = 1e-6 under the root: the difference
	// is ~ε/mean(x²) ≲ 1e-6 for activations of unit scale.
	eqInitTol = 1e-5
)

// gradCheckConfig is the small net of the gradient checks: 3 blocks, n = 4
// streams of width 6, MLP 6 → 12 → 6, 7 inputs, 5 classes.
func gradCheckConfig(mixer string) Config {
	return Config{Mixer: mixer, N: 4, Width: 6, Depth: 3, Hidden: 2, Inputs: 7, Classes: 5, Seed: 3}
}

// perturb adds U(−s, s) to every parameter of m, so that no gradient is
// checked only at the special point of a reference init (φ = 0 makes the
// mixers' coefficient paths vanish).
func perturb(m *Model, rnd *rand.Rand, s float64) {
	for _, p := range m.Params() {
		for i := range p.Value {
			p.Value[i] += s * (2*rnd.Float64() - 1)
		}
	}
}

// randNormal returns k standard normal values.
func randNormal(rnd *rand.Rand, k int) []float64 {
	s := make([]float64, k)
	for i := range s {
		s[i] = rnd.NormFloat64()
	}
	return s
}

// TestModelGradient checks every parameter gradient of a whole 3-block
// net, for each mixer, against central differences. The loss is the
// cross-entropy against random labels plus a random linear functional ⟨R,
// logits⟩, so the upstream gradient is random, not the structured
// softmax-minus-one-hot alone.
func TestModelGradient(t *testing.T) {
	for _, name := range MixerNames() {
		t.Run(name, func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(11, 0))
			cfg := gradCheckConfig(name)
			m, err := NewModel(cfg)
			if err != nil {
				t.Fatal(err)
			}
			perturb(m, rnd, 0.2)
			const rows = 5
			cfg = m.Config()
			x := randNormal(rnd, rows*cfg.Inputs)
			labels := make([]int, rows)
			for i := range labels {
				labels[i] = rnd.IntN(cfg.Classes)
			}
			r := randNormal(rnd, rows*cfg.Classes)
			loss := func() float64 {
				z, err := m.Logits(x, rows)
				if err != nil {
					t.Fatal(err)
				}
				ce, _, err := SoftmaxCrossEntropy(nil, z, labels, cfg.Classes)
				if err != nil {
					t.Fatal(err)
				}
				return ce + dot(r, z)
			}
			for _, p := range m.Params() {
				clear(p.Grad)
			}
			z, err := m.Logits(x, rows)
			if err != nil {
				t.Fatal(err)
			}
			dz := make([]float64, len(z))
			if _, _, err := SoftmaxCrossEntropy(dz, z, labels, cfg.Classes); err != nil {
				t.Fatal(err)
			}
			for i := range dz {
				dz[i] += r[i]
			}
			m.BackwardLogits(dz)

			var worst float64
			var worstName string
			for i, p := range m.Params() {
				name := m.ParamNames()[i]
				idx := make([]int, len(p.Value))
				for j := range idx {
					idx[j] = j
				}
				if len(idx) > 48 { // a random sample keeps the check fast
					rnd.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
					idx = idx[:48]
				}
				var d, na, nn float64
				for _, j := range idx {
					orig := p.Value[j]
					p.Value[j] = orig + fdStep
					fp := loss()
					p.Value[j] = orig - fdStep
					fm := loss()
					p.Value[j] = orig
					num := (fp - fm) / (2 * fdStep)
					a := p.Grad[j]
					d += (a - num) * (a - num)
					na += a * a
					nn += num * num
				}
				if na == 0 {
					t.Errorf("%s: analytic gradient identically zero on the sampled entries", name)
				}
				e := math.Sqrt(d) / math.Max(math.Sqrt(math.Max(na, nn)), netGradFloor)
				if !(e <= gradTol) {
					t.Errorf("%s: gradient error %.3g > %g", name, e, gradTol)
				}
				if e > worst || worstName == "" {
					worst, worstName = e, name
				}
			}
			t.Logf("%d tensors, worst relative error %.3g (%s)", len(m.Params()), worst, worstName)
		})
	}
}

// TestStaticHCEqualsResidualAtInit: static HC at init is exactly pre-norm
// (HC paper, App. H.1), so a whole net of it gives the residual net's
// logits, up to the final RMSNorm's ε (see eqInitTol).
func TestStaticHCEqualsResidualAtInit(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 0))
	base := Config{Width: 8, Depth: 4, Inputs: 9, Classes: 3, Seed: 9}
	x := randNormal(rnd, 6*base.Inputs)
	var logits [2][]float64
	for k, name := range []string{MixerResidual, MixerHCStatic} {
		cfg := base
		cfg.Mixer = name
		m, err := NewModel(cfg)
		if err != nil {
			t.Fatal(err)
		}
		z, err := m.Logits(x, 6)
		if err != nil {
			t.Fatal(err)
		}
		logits[k] = append([]float64(nil), z...)
	}
	if e := relErr(logits[0], logits[1]); !(e <= eqInitTol) {
		t.Errorf("static HC vs residual at init: relative difference %.3g > %g", e, eqInitTol)
	} else {
		t.Logf("static HC vs residual at init: relative difference %.3g", e)
	}
}

// TestModelDeterministic builds two models from one Config and checks that
// they agree bit for bit, and that a different seed changes the weights.
func TestModelDeterministic(t *testing.T) {
	rnd := rand.New(rand.NewPCG(2, 0))
	cfg := gradCheckConfig(MixerHC)
	x := randNormal(rnd, 4*cfg.Inputs)
	var out [3][]float64
	for k := range out {
		c := cfg
		c.Seed += uint64(k / 2)
		m, err := NewModel(c)
		if err != nil {
			t.Fatal(err)
		}
		z, err := m.Logits(x, 4)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = append([]float64(nil), z...)
	}
	for i := range out[0] {
		if out[0][i] != out[1][i] {
			t.Fatalf("same seed, logit %d: %v vs %v", i, out[0][i], out[1][i])
		}
	}
	if relErr(out[0], out[2]) == 0 {
		t.Error("different seeds gave identical logits")
	}
}

// TestConfigErrors checks that every bad Config field is named in an error
// wrapping ErrConfig.
func TestConfigErrors(t *testing.T) {
	ok := Config{Width: 4, Depth: 2}
	for _, tc := range []struct {
		field string
		edit  func(*Config)
	}{
		{"Depth", func(c *Config) { c.Depth = 0 }},
		{"Width", func(c *Config) { c.Width = 0 }},
		{"Mixer", func(c *Config) { c.Mixer = "nope" }},
		{"N", func(c *Config) { c.Mixer, c.N = MixerMHCLite, 9 }},
		{"N", func(c *Config) { c.N = -1 }},
		{"Hidden", func(c *Config) { c.Hidden = -2 }},
		{"Inputs", func(c *Config) { c.Inputs = -1 }},
		{"Classes", func(c *Config) { c.Classes = 1 }},
	} {
		cfg := ok
		tc.edit(&cfg)
		m, err := NewModel(cfg)
		if m != nil || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%+v: got %v, want an ErrConfig naming %s", cfg, err, tc.field)
		}
	}
	if _, err := NewModel(ok); err != nil {
		t.Errorf("valid config: %v", err)
	}
	if _, err := NewMixer("bogus", 4, 8, 0); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("NewMixer(bogus): %v", err)
	}
}

// TestModelDefaults checks the documented defaults.
func TestModelDefaults(t *testing.T) {
	m, err := NewModel(Config{Width: 4, Depth: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Mixer: DefaultMixer, N: DefaultN, Width: 4, Depth: 1, Hidden: DefaultHidden, Inputs: ImageSize, Classes: Classes}
	if got := m.Config(); got != want {
		t.Errorf("defaults %+v, want %+v", got, want)
	}
	r, err := NewModel(Config{Mixer: MixerResidual, N: 4, Width: 4, Depth: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r.Config().N != 1 || len(r.Mixer(0).Params()) != 0 {
		t.Errorf("residual baseline: n = %d with %d mixer params, want 1 and 0", r.Config().N, len(r.Mixer(0).Params()))
	}
}

// TestModelNonFinite: a NaN input is reported as ErrNonFinite, and
// Backward then refuses to run.
func TestModelNonFinite(t *testing.T) {
	m, err := NewModel(gradCheckConfig(MixerMHC))
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float64, 2*7)
	x[3] = math.NaN()
	if _, _, err := m.Forward(x, []int{0, 1}); !errors.Is(err, ErrNonFinite) {
		t.Errorf("NaN input: %v, want ErrNonFinite", err)
	}
	mustPanicWith(t, ErrSequence, "Backward after failed Forward", m.Backward)
	mustPanicWith(t, ErrShape, "Logits with short x", func() { m.Logits(x[:5], 2) })
}

// TestModelDoesNotAllocate proves that a steady-state forward and backward
// pass allocates nothing, for every mixer.
func TestModelDoesNotAllocate(t *testing.T) {
	rnd := rand.New(rand.NewPCG(4, 0))
	for _, name := range MixerNames() {
		cfg := gradCheckConfig(name)
		cfg.Depth = 2
		m, err := NewModel(cfg)
		if err != nil {
			t.Fatal(err)
		}
		x := randNormal(rnd, 16*cfg.Inputs)
		labels := make([]int, 16)
		step := func() {
			if _, _, err := m.Forward(x, labels); err != nil {
				t.Fatal(err)
			}
			m.Backward()
		}
		step()
		if a := testing.AllocsPerRun(10, step); a != 0 {
			t.Errorf("%s: %v allocations per forward+backward, want 0", name, a)
		}
	}
}

func ExampleNewModel() {
	m, err := NewModel(Config{Mixer: MixerMHC, N: 4, Width: 32, Depth: 8})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Config().Mixer, m.Config().Hidden, len(m.Params()), m.NumParams())
	fmt.Println(m.ParamNames()[2])

	_, err = NewModel(Config{Mixer: MixerMHCLite, N: 9, Width: 32, Depth: 8})
	fmt.Println(err)
	// Output:
	// mhc 4 93 117346
	// block0.mixer.phi
	// net: config: N = 9 with Mixer "mhclite": mhclite mixes all n! permutations and is refused above n = 8: net: invalid configuration
}
