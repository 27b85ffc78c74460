package net

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// fdNoise is the rounding noise of one central difference of the test
// losses (≈ 2): ε·|f|/h ≈ 2.2e-16·2/1e-5 ≈ 4e-11, with a margin of 25. A
// parameter whose true gradient is zero or of that order (the first and
// last sub-layers' H_res under a doubly stochastic or sphere mixer: the
// stream sum does not depend on them) is judged against it instead of
// against its own tiny norm.
const fdNoise = 1e-9

// lmBatch returns batch random sequences of the model's length and their
// next tokens.
func lmBatch(rnd *rand.Rand, cfg LMConfig, batch int) (x, y []byte) {
	x, y = make([]byte, batch*cfg.Seq), make([]byte, batch*cfg.Seq)
	for i := range x {
		x[i] = byte(rnd.IntN(cfg.Vocab))
		y[i] = byte(rnd.IntN(cfg.Vocab))
	}
	return x, y
}

// TestLMGradients checks the whole LM's backward (every parameter, through
// embeddings, attention, MLPs, each mixer, the final norm and the head)
// against central differences, for a 2-block model with each mixer. The
// parameters are perturbed away from the init first, so the mixers'
// gradients are generic (several are exactly zero at init), and the
// targets are random tokens, so the upstream gradient of the logits is a
// random one (softmax minus a random one-hot per position).
func TestLMGradients(t *testing.T) {
	for _, name := range MixerNames() {
		t.Run(name, func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(11, 12))
			cfg := LMConfig{Mixer: name, N: 3, Vocab: 7, Seq: 5, Width: 4, Heads: 2, Depth: 2, Hidden: 2, Seed: 3}
			m, err := NewLM(cfg)
			if err != nil {
				t.Fatal(err)
			}
			cfg = m.Config()
			for _, p := range m.Params() {
				for i := range p.Value {
					p.Value[i] += 0.05 * rnd.NormFloat64()
				}
			}
			const batch = 2
			x, y := lmBatch(rnd, cfg, batch)
			loss := func() float64 {
				l, err := m.Forward(x, y, batch)
				if err != nil {
					t.Fatal(err)
				}
				return l
			}
			loss()
			m.Backward()
			var analytic, numeric []float64
			for k, p := range m.Params() {
				a := append([]float64(nil), p.Grad...)
				num := numGrad(p.Value, loss)
				diff := make([]float64, len(a))
				for i := range a {
					diff[i] = a[i] - num[i]
				}
				na, nn, nd := math.Sqrt(dot(a, a)), math.Sqrt(dot(num, num)), math.Sqrt(dot(diff, diff))
				if !(nd <= gradTol*max(na, nn)+fdNoise*math.Sqrt(float64(len(a)))) {
					t.Errorf("%s: ‖analytic − numeric‖ %.3g (‖analytic‖ %.3g, ‖numeric‖ %.3g)", m.ParamNames()[k], nd, na, nn)
				}
				analytic, numeric = append(analytic, a...), append(numeric, num...)
			}
			e := relErr(analytic, numeric)
			t.Logf("%s: %d parameters, relative gradient error %.3g", name, len(analytic), e)
			if !(e <= gradTol) {
				t.Errorf("whole model: relative gradient error %.3g > %g", e, gradTol)
			}
		})
	}
}

// TestLMCausal checks that the loss at a position does not depend on
// later tokens: changing the last input token of a sequence changes only
// the last position's logits.
func TestLMCausal(t *testing.T) {
	rnd := rand.New(rand.NewPCG(13, 14))
	m, err := NewLM(LMConfig{Mixer: MixerMHC, Vocab: 9, Seq: 6, Width: 8, Depth: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	cfg := m.Config()
	x, y := lmBatch(rnd, cfg, 2)
	if _, err := m.Forward(x, y, 2); err != nil {
		t.Fatal(err)
	}
	before := append([]float64(nil), m.w.logits...)
	x[cfg.Seq-1] = (x[cfg.Seq-1] + 1) % byte(cfg.Vocab)
	if _, err := m.Forward(x, y, 2); err != nil {
		t.Fatal(err)
	}
	v := cfg.Vocab
	for r := range 2 * cfg.Seq {
		changed := false
		for j := range v {
			changed = changed || m.w.logits[r*v+j] != before[r*v+j]
		}
		if changed != (r == cfg.Seq-1) {
			t.Errorf("position %d: logits changed = %v", r, changed)
		}
	}
}

// TestLMInitLoss checks that a fresh model predicts near-uniformly: the
// loss starts near ln(Vocab).
func TestLMInitLoss(t *testing.T) {
	rnd := rand.New(rand.NewPCG(15, 16))
	for _, name := range MixerNames() {
		m, err := NewLM(LMConfig{Mixer: name, Vocab: 50, Seq: 16, Width: 16, Depth: 2, Seed: 2})
		if err != nil {
			t.Fatal(err)
		}
		x, y := lmBatch(rnd, m.Config(), 4)
		l, err := m.Forward(x, y, 4)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(l-math.Log(50)) > 0.5 {
			t.Errorf("%s: initial loss %.3f, want near ln 50 = %.3f", name, l, math.Log(50))
		}
	}
}

func TestLMErrors(t *testing.T) {
	for _, cfg := range []LMConfig{
		{Vocab: 1, Width: 8, Depth: 1},
		{Vocab: 300, Width: 8, Depth: 1},
		{Vocab: 10, Width: 0, Depth: 1},
		{Vocab: 10, Width: 8, Depth: 0},
		{Vocab: 10, Width: 6, Heads: 4, Depth: 1},
		{Vocab: 10, Width: 8, Depth: 1, Mixer: "nope"},
	} {
		if _, err := NewLM(cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v, want ErrConfig", cfg, err)
		}
	}
	m, err := NewLM(LMConfig{Vocab: 5, Seq: 4, Width: 4, Depth: 1})
	if err != nil {
		t.Fatal(err)
	}
	x, y := []byte{0, 1, 2, 5}, []byte{1, 2, 3, 4}
	if _, err := m.Forward(x, y, 1); !errors.Is(err, ErrLabel) {
		t.Errorf("token 5 of 5: %v, want ErrLabel", err)
	}
	mustPanicWith(t, ErrSequence, "Backward after a failed Forward", m.Backward)
	mustPanicWith(t, ErrShape, "short batch", func() { m.Forward(x[:3], y[:3], 1) })
}

func TestLMAllocs(t *testing.T) {
	rnd := rand.New(rand.NewPCG(17, 18))
	m, err := NewLM(LMConfig{Mixer: MixerMHC, Vocab: 20, Seq: 8, Width: 8, Depth: 2, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	x, y := lmBatch(rnd, m.Config(), 3)
	if n := testing.AllocsPerRun(10, func() {
		if _, err := m.Forward(x, y, 3); err != nil {
			t.Fatal(err)
		}
		m.Backward()
	}); n != 0 {
		t.Errorf("Forward+Backward allocate %v times per step", n)
	}
}
