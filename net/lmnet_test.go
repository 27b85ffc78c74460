package net

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/hyperconn/hyperconn/internal/gemm"
)

const (
	// lmGrad32Tol bounds ‖∇32 − ∇64‖ / ‖∇64‖ per tensor between a Float32
	// LM and a float64 LM with the same (float32-representable) weights on
	// the same batch: float32 rounding (6e-8) through a 2-block model of
	// about 30 layers, products of up to 64 terms and the mixers' float32
	// coefficients, with a margin of ~10 over the worst measured (see the
	// test's log). Tensors whose gradient is below lmGradFloor of the whole
	// gradient's norm are judged against that floor instead.
	lmGrad32Tol = 1e-4
	lmGradFloor = 1e-3
)

// lmPairs returns a float64 and a Float32 LM of cfg whose weights are the
// same float32 values: the float64 model's, moved away from the init by
// N(0, 0.05²) and rounded to float32, copied into the Float32 model by name.
func lmPair(t *testing.T, cfg LMConfig, rnd *rand.Rand) (m64, m32 *LM) {
	t.Helper()
	var err error
	cfg.Float32 = false
	if m64, err = NewLM(cfg); err != nil {
		t.Fatal(err)
	}
	cfg.Float32 = true
	if m32, err = NewLM(cfg); err != nil {
		t.Fatal(err)
	}
	byName := map[string]*Param{}
	for i, p := range m64.Params() {
		for j := range p.Value {
			p.Value[j] = float64(float32(p.Value[j] + 0.05*rnd.NormFloat64()))
		}
		byName[m64.ParamNames()[i]] = p
	}
	for i, p := range m32.Params() {
		copy(p.Value, byName[m32.ParamNames()[i]].Value)
	}
	for i, q := range m32.Params32() {
		for j, v := range byName[m32.ParamNames32()[i]].Value {
			q.Value[j] = float32(v)
		}
	}
	if k := len(m32.Params()) + len(m32.Params32()); k != len(m64.Params()) {
		t.Fatalf("float32 LM has %d tensors, float64 LM %d", k, len(m64.Params()))
	}
	return m64, m32
}

// lmGrads returns the gradient of every tensor of m by name, after one
// Forward and Backward on x, y from zeroed gradients, and the loss. The
// float32 gradients start as the trainer leaves them (adamW32.zeroGrad:
// marked stale, memory holding garbage) and are settled after Backward, as
// the clipping does, so a gradient the backward pass neither overwrote
// nor cleared shows; the sums of squares taken in the backward pass are
// checked against the final gradients.
func lmGrads(t *testing.T, m *LM, x, y []byte, batch int) (map[string][]float64, float64) {
	t.Helper()
	for _, p := range m.Params() {
		clear(p.Grad)
	}
	for _, q := range m.Params32() {
		for i := range q.Grad {
			q.Grad[i] = 7
		}
		q.stale, q.ssOK = true, false
	}
	loss, err := m.Forward(x, y, batch)
	if err != nil {
		t.Fatal(err)
	}
	m.Backward()
	for i, q := range m.Params32() {
		q.settle()
		if q.ssOK && q.ss != sumSquares(q.Grad) {
			t.Errorf("%s: sum of squares %v taken in the backward pass, %v after it", m.ParamNames32()[i], q.ss, sumSquares(q.Grad))
		}
	}
	g := map[string][]float64{}
	for i, p := range m.Params() {
		g[m.ParamNames()[i]] = append([]float64(nil), p.Grad...)
	}
	for i, q := range m.Params32() {
		g64 := make([]float64, len(q.Grad))
		to64(g64, q.Grad)
		g[m.ParamNames32()[i]] = g64
	}
	return g, loss
}

// TestLMFloat32Gradients checks a whole Float32 LM's loss and gradients
// against the float64 LM's with the same weights, for every mixer: every
// tensor within lmGrad32Tol relative (the float64 gradients are checked
// against finite differences by TestLMGradients).
func TestLMFloat32Gradients(t *testing.T) {
	for _, name := range MixerNames() {
		rnd := rand.New(rand.NewPCG(21, 22))
		cfg := LMConfig{Mixer: name, N: 4, Vocab: 23, Seq: 12, Width: 16, Heads: 2, Depth: 2, Hidden: 2, Seed: 6}
		m64, m32 := lmPair(t, cfg, rnd)
		const batch = 3
		x, y := lmBatch(rnd, m64.Config(), batch)
		g64, l64 := lmGrads(t, m64, x, y, batch)
		g32, l32 := lmGrads(t, m32, x, y, batch)
		if d := math.Abs(l32-l64) / l64; d > lmGrad32Tol || d == 0 {
			// Equal losses would mean the Float32 LM ran in float64.
			t.Errorf("%s: loss %.9g (float32) vs %.9g: relative %.3g, want in (0, %g]", name, l32, l64, d, lmGrad32Tol)
		}
		var total float64
		for _, g := range g64 {
			for _, v := range g {
				total += v * v
			}
		}
		floor := lmGradFloor * math.Sqrt(total)
		worst, worstName := 0.0, ""
		for k, want := range g64 {
			got, ok := g32[k]
			if !ok || len(got) != len(want) {
				t.Fatalf("%s: tensor %s missing from the float32 LM", name, k)
			}
			var d, s float64
			for i := range want {
				d += (got[i] - want[i]) * (got[i] - want[i])
				s += want[i] * want[i]
			}
			e := math.Sqrt(d) / max(math.Sqrt(s), floor)
			if e > worst {
				worst, worstName = e, k
			}
			if !(e <= lmGrad32Tol) {
				t.Errorf("%s: %s: float32 gradient off by %.3g relative, want ≤ %g", name, k, e, lmGrad32Tol)
			}
		}
		t.Logf("%-14s loss rel %.2e, worst gradient %.2e (%s)", name, math.Abs(l32-l64)/l64, worst, worstName)
	}
}

// TestLMFloat32Training is issue 18's acceptance line 1 (second half): the
// same small LM trained 200 steps from the same seed on the same batches
// in float32 and in float64 ends within 1% relative loss — the mean batch
// loss of the last 10 steps and the validation loss — for every mixer
// (-short: three).
func TestLMFloat32Training(t *testing.T) {
	text := Opticks()[:60000]
	c, err := NewCorpus("opticks", text, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	names := MixerNames()
	if testing.Short() {
		names = []string{MixerResidual, MixerMHC, MixerHC}
	}
	const steps, last = 200, 10
	for _, name := range names {
		var smooth, valid [2]float64
		for k, f32 := range []bool{false, true} {
			m, err := NewLM(LMConfig{Mixer: name, N: 4, Vocab: len(c.Vocab), Seq: 24, Width: 16, Heads: 2, Depth: 2, Hidden: 2, Seed: 1, Float32: f32})
			if err != nil {
				t.Fatal(err)
			}
			tr, err := NewLMTrainer(m, c, LMTrainConfig{Steps: steps, Batch: 8, LR: 1e-2, Warmup: 20, WeightDecay: 0.01, Seed: 3, EvalTokens: 4096})
			if err != nil {
				t.Fatal(err)
			}
			res, err := tr.Run(t.Context(), nil)
			if err != nil || res.Outcome != Completed {
				t.Fatalf("%s float32=%v: %+v %v", name, f32, res, err)
			}
			for _, s := range tr.Log()[steps-last:] {
				smooth[k] += s.Loss / last
			}
			valid[k] = tr.Evals()[len(tr.Evals())-1].Loss
		}
		rs := math.Abs(smooth[1]-smooth[0]) / smooth[0]
		rv := math.Abs(valid[1]-valid[0]) / valid[0]
		t.Logf("%-14s after %d steps: float64 %.5f / %.5f, float32 %.5f / %.5f (last %d batches / validation): relative %.2e / %.2e",
			name, steps, smooth[0], valid[0], smooth[1], valid[1], last, rs, rv)
		if !(rs <= loss32Tol && rv <= loss32Tol) {
			t.Errorf("%s: float32 and float64 losses differ by %.3g (last %d batches) and %.3g (validation), want ≤ %g", name, rs, last, rv, loss32Tol)
		}
		if h1, _ := c.Entropy(); !(valid[0] < h1) {
			t.Errorf("%s: validation loss %.4f not below the unigram entropy %.4f: the run did not learn", name, valid[0], h1)
		}
	}
}

// TestLMStepAllocs checks that an LM training step allocates nothing in
// steady state, in float64 and float32, with one and two threads, for the
// plain residual and mhc (whose Φ the Float32 LM keeps in its arena).
func TestLMStepAllocs(t *testing.T) {
	defer gemm.SetThreads(gemm.SetThreads(1))
	c := lmTestCorpus(t)
	for _, th := range []int{1, 2} {
		gemm.SetThreads(th)
		for _, name := range []string{MixerResidual, MixerMHC} {
			for _, f32 := range []bool{false, true} {
				// Width 64, 16×32 tokens: products above gemm's parallel
				// threshold and element-wise work above gemm.MinFor, so
				// the helpers run.
				m, err := NewLM(LMConfig{Mixer: name, Vocab: len(c.Vocab), Seq: 32, Width: 64, Depth: 2, Seed: 1, Float32: f32})
				if err != nil {
					t.Fatal(err)
				}
				tr, err := NewLMTrainer(m, c, LMTrainConfig{Steps: 1 << 20, Batch: 16, LR: 1e-4, Seed: 1})
				if err != nil {
					t.Fatal(err)
				}
				step := func() {
					if _, err := tr.Step(); err != nil {
						t.Fatal(err)
					}
				}
				step()
				if a := testing.AllocsPerRun(5, step); a != 0 {
					t.Errorf("%v threads=%d %s float32=%v: %v allocations per step, want 0", gemm.Current(), th, name, f32, a)
				}
			}
		}
	}
}

// TestLMFloat32Params checks the float32 LM's parameter lists: Params32
// holds every non-mixer tensor (and the Φ of mixers with float32 storage)
// as the float32 rounding of the float64 LM's initial values, in the
// float64 LM's order, Params the mixers' other tensors, and NumParams
// counts both.
func TestLMFloat32Params(t *testing.T) {
	for _, name := range []string{MixerResidual, MixerMHC, MixerHC} {
		cfg := LMConfig{Mixer: name, Vocab: 11, Seq: 4, Width: 8, Depth: 2, Seed: 9}
		m64, err := NewLM(cfg)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Float32 = true
		m32, err := NewLM(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if !m32.Float32() || m64.Float32() || m64.Params32() != nil {
			t.Fatalf("%s: Float32() %v/%v", name, m64.Float32(), m32.Float32())
		}
		if m32.NumParams() != m64.NumParams() {
			t.Errorf("%s: NumParams %d (float32) vs %d", name, m32.NumParams(), m64.NumParams())
		}
		val := map[string][]float64{}
		for i, p := range m64.Params() {
			val[m64.ParamNames()[i]] = p.Value
		}
		// The float32 and float64 tensors, in the float64 LM's order.
		var order []string
		for i, q := range m32.Params32() {
			n := m32.ParamNames32()[i]
			order = append(order, n)
			for j, v := range val[n] {
				if q.Value[j] != float32(v) {
					t.Fatalf("%s: %s[%d] = %v, want float32(%v)", name, n, j, q.Value[j], v)
				}
			}
		}
		if name == MixerResidual && len(m32.Params()) != 0 {
			t.Errorf("residual: %d float64 tensors, want none", len(m32.Params()))
		}
		j := 0
		for _, n := range m64.ParamNames() {
			if j < len(order) && order[j] == n {
				j++
			}
		}
		if j != len(order) {
			t.Errorf("%s: Params32 not in the float64 LM's order: %q", name, order)
		}
	}
}

// TestCrossEntropy32 checks the Float32 LM's loss against
// SoftmaxCrossEntropy on the same (float32) logits: loss and gradient
// within layer32Tol, and the same errors for a bad label or logit.
func TestCrossEntropy32(t *testing.T) {
	rnd := rand.New(rand.NewPCG(45, 46))
	const rows, classes = 37, 29
	logits := f32s(randNormal(rnd, rows*classes))
	for i := range logits {
		logits[i] *= 4
	}
	labels := make([]int, rows)
	for i := range labels {
		labels[i] = rnd.IntN(classes)
	}
	l64 := make([]float64, len(logits))
	to64(l64, logits)
	d64 := make([]float64, len(logits))
	want, _, err := SoftmaxCrossEntropy(d64, l64, labels, classes)
	if err != nil {
		t.Fatal(err)
	}
	d32 := make([]float32, len(logits))
	got, err := crossEntropy32(d32, logits, labels, classes)
	if err != nil {
		t.Fatal(err)
	}
	if d := math.Abs(got-want) / want; d > layer32Tol {
		t.Errorf("loss %v, float64 %v: relative %.3g, want ≤ %g", got, want, d, layer32Tol)
	}
	if d := maxRelDiff(d32, d64); d > layer32Tol {
		t.Errorf("gradient: relative difference %.3g, want ≤ %g", d, layer32Tol)
	}
	labels[3] = classes
	if _, err := crossEntropy32(d32, logits, labels, classes); !errors.Is(err, ErrLabel) {
		t.Errorf("label %d: %v, want ErrLabel", classes, err)
	}
	labels[3] = 0
	logits[5*classes+2] = float32(math.Inf(1))
	if _, err := crossEntropy32(d32, logits, labels, classes); !errors.Is(err, ErrNonFinite) {
		t.Errorf("+Inf logit: %v, want ErrNonFinite", err)
	}
	if l, err := crossEntropy32(nil, nil, nil, classes); l != 0 || err != nil {
		t.Errorf("empty batch: %v, %v", l, err)
	}
}

// TestLMFloat32GradNorm checks the gradient norm a Float32 LMTrainer
// reports and clips with — the float32 arena's and the float64 mixers'
// gradients together — against the float64 trainer's on the first step
// (the same batch, weights differing by float32 rounding), for the plain
// residual (no float64 tensors at all) and mhc.
func TestLMFloat32GradNorm(t *testing.T) {
	c := lmTestCorpus(t)
	for _, name := range []string{MixerResidual, MixerMHC} {
		var norm [2]float64
		for k, f32 := range []bool{false, true} {
			m, err := NewLM(LMConfig{Mixer: name, Vocab: len(c.Vocab), Seq: 16, Width: 16, Depth: 2, Seed: 7, Float32: f32})
			if err != nil {
				t.Fatal(err)
			}
			tr, err := NewLMTrainer(m, c, LMTrainConfig{Steps: 2, Batch: 4, Seed: 7})
			if err != nil {
				t.Fatal(err)
			}
			s, err := tr.Step()
			if err != nil {
				t.Fatal(err)
			}
			norm[k] = s.GradNorm
		}
		if d := math.Abs(norm[1]-norm[0]) / norm[0]; !(d <= lmGrad32Tol) {
			t.Errorf("%s: gradient norm %v (float32) vs %v: relative %.3g, want ≤ %g", name, norm[1], norm[0], d, lmGrad32Tol)
		}
	}
}
