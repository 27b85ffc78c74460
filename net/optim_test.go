package net

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// adamRef is a direct transcription of Algorithm 2 of arXiv 1711.05101
// (AdamW, with the schedule multiplier folded into lr) for one scalar, as
// an independent reference for AdamW.Step.
type adamRef struct{ p, m, v float64 }

func (r *adamRef) step(t int, g, lr, b1, b2, eps, wd float64) {
	r.m = b1*r.m + (1-b1)*g
	r.v = b2*r.v + (1-b2)*g*g
	mhat := r.m / (1 - math.Pow(b1, float64(t)))
	vhat := r.v / (1 - math.Pow(b2, float64(t)))
	r.p -= lr * (mhat/(math.Sqrt(vhat)+eps) + wd*r.p)
}

// twoParams returns a decayed weight of size 5 and a no-decay bias of size
// 3 with random values.
func twoParams(rnd *rand.Rand) []*Param {
	w := newParam("w", 5, false)
	b := newParam("b", 3, true)
	copy(w.Value, randSlice(rnd, 5, 1))
	copy(b.Value, randSlice(rnd, 3, 1))
	return []*Param{&w, &b}
}

func TestAdamWMatchesReference(t *testing.T) {
	rnd := rand.New(rand.NewPCG(20, 21))
	params := twoParams(rnd)
	cfg := AdamWConfig{Beta1: 0.8, Beta2: 0.95, Eps: 1e-6, WeightDecay: 0.1}
	opt, err := NewAdamW(params, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var ref []adamRef
	for _, p := range params {
		for _, v := range p.Value {
			ref = append(ref, adamRef{p: v})
		}
	}
	sched := Schedule{Peak: 0.05, Min: 0.005, Warmup: 3, Total: 10}
	for step := range 12 {
		lr := sched.LR(step)
		k := 0
		for _, p := range params {
			for i := range p.Grad {
				p.Grad[i] = rnd.NormFloat64()
				wd := cfg.WeightDecay
				if p.NoDecay {
					wd = 0
				}
				ref[k].step(step+1, p.Grad[i], lr, cfg.Beta1, cfg.Beta2, cfg.Eps, wd)
				k++
			}
		}
		if err := opt.Step(lr); err != nil {
			t.Fatal(err)
		}
	}
	k := 0
	for _, p := range params {
		for _, v := range p.Value {
			if math.Abs(v-ref[k].p) > valueTol*max(1, math.Abs(v)) {
				t.Errorf("%s: value %v, reference %v", p.Name, v, ref[k].p)
			}
			k++
		}
	}
	if opt.Steps() != 12 || opt.Len() != 8 {
		t.Errorf("Steps() = %d, Len() = %d, want 12 and 8", opt.Steps(), opt.Len())
	}
}

func TestAdamWFirstStep(t *testing.T) {
	// Kingma & Ba (arXiv 1412.6980, §2.1): with bias correction the first
	// step is lr·g/(|g| + ε), i.e. lr in magnitude, whatever the scale of g.
	p := newParam("p", 2, true)
	p.Value[0], p.Value[1] = 1, 1
	p.Grad[0], p.Grad[1] = 1e-3, -250
	opt, err := NewAdamW([]*Param{&p}, AdamWConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := opt.Step(0.01); err != nil {
		t.Fatal(err)
	}
	want := []float64{1 - 0.01*1e-3/(1e-3+DefaultEps), 1 + 0.01*250/(250+DefaultEps)}
	for i := range want {
		if math.Abs(p.Value[i]-want[i]) > valueTol {
			t.Errorf("p[%d] = %v, want %v", i, p.Value[i], want[i])
		}
	}
}

func TestAdamWWeightDecay(t *testing.T) {
	params := twoParams(rand.New(rand.NewPCG(22, 23)))
	w0 := append([]float64(nil), params[0].Value...)
	b0 := append([]float64(nil), params[1].Value...)
	opt, err := NewAdamW(params, AdamWConfig{WeightDecay: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	// With zero gradients the moments stay 0, so the only change is the
	// decoupled decay p ← p·(1 − lr·λ), and none for the NoDecay bias.
	const lr, steps = 0.1, 4
	for range steps {
		if err := opt.Step(lr); err != nil {
			t.Fatal(err)
		}
	}
	f := math.Pow(1-lr*0.5, steps)
	for i, v := range params[0].Value {
		if math.Abs(v-w0[i]*f) > valueTol {
			t.Errorf("w[%d] = %v, want %v", i, v, w0[i]*f)
		}
	}
	for i, v := range params[1].Value {
		if v != b0[i] {
			t.Errorf("no-decay b[%d] changed from %v to %v", i, b0[i], v)
		}
	}
}

func TestAdamWConverges(t *testing.T) {
	// Minimise Σ (p_i − c_i)² from 0: the minimiser c is exact.
	c := []float64{3, -1, 0.25}
	p := newParam("p", 3, true)
	opt, err := NewAdamW([]*Param{&p}, AdamWConfig{})
	if err != nil {
		t.Fatal(err)
	}
	sched := Schedule{Peak: 0.1, Min: 1e-4, Warmup: 10, Total: 1500}
	for step := range 1500 {
		for i := range c {
			p.Grad[i] = 2 * (p.Value[i] - c[i])
		}
		if err := opt.Step(sched.LR(step)); err != nil {
			t.Fatal(err)
		}
	}
	// The decayed learning rate leaves Adam's ~lr-sized oscillation around
	// the minimum; 1e-3 is 10× the final learning rate.
	for i := range c {
		if math.Abs(p.Value[i]-c[i]) > 1e-3 {
			t.Errorf("p = %v, want %v", p.Value, c)
		}
	}
}

func TestAdamWErrors(t *testing.T) {
	params := twoParams(rand.New(rand.NewPCG(24, 25)))
	for _, cfg := range []AdamWConfig{
		{Beta1: 1}, {Beta1: -0.1}, {Beta2: 1.5}, {Beta2: math.NaN()},
		{Eps: -1}, {Eps: math.Inf(1)}, {WeightDecay: -0.1}, {WeightDecay: math.NaN()},
	} {
		if _, err := NewAdamW(params, cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("NewAdamW(%+v): error %v, want ErrConfig", cfg, err)
		}
	}
	bad := newParam("bad", 2, false)
	bad.Grad = bad.Grad[:1]
	for name, ps := range map[string][]*Param{
		"nil":       {params[0], nil},
		"duplicate": {params[0], params[1], params[0]},
		"lengths":   {&bad},
	} {
		if _, err := NewAdamW(ps, AdamWConfig{}); !errors.Is(err, ErrConfig) {
			t.Errorf("NewAdamW with %s parameter: error %v, want ErrConfig", name, err)
		}
	}

	opt, err := NewAdamW(params, AdamWConfig{WeightDecay: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range params[0].Grad {
		params[0].Grad[i] = 0.5
	}
	if err := opt.Step(0.01); err != nil {
		t.Fatal(err)
	}
	values := append(append([]float64(nil), params[0].Value...), params[1].Value...)
	m0, v0, s0 := opt.State()
	for _, c := range []struct {
		lr  float64
		g   float64
		err error
	}{
		{math.NaN(), 0.5, ErrConfig}, {-0.01, 0.5, ErrConfig}, {math.Inf(1), 0.5, ErrConfig},
		{0.01, math.NaN(), ErrNonFinite}, {0.01, math.Inf(-1), ErrNonFinite},
	} {
		params[1].Grad[2] = c.g
		if err := opt.Step(c.lr); !errors.Is(err, c.err) {
			t.Errorf("Step(%v) with gradient %v: error %v, want %v", c.lr, c.g, err, c.err)
		}
	}
	got := append(append([]float64(nil), params[0].Value...), params[1].Value...)
	m1, v1, s1 := opt.State()
	if relErr(got, values) != 0 || relErr(m0, m1) != 0 || relErr(v0, v1) != 0 || s0 != s1 {
		t.Error("a failed Step changed values, moments or the step count")
	}
}

func TestAdamWState(t *testing.T) {
	rnd := rand.New(rand.NewPCG(26, 27))
	pa := twoParams(rnd)
	pb := twoParams(rnd)
	cfg := AdamWConfig{WeightDecay: 0.01}
	a, _ := NewAdamW(pa, cfg)
	b, _ := NewAdamW(pb, cfg)
	grads := func() {
		for i, p := range pa {
			for j := range p.Grad {
				p.Grad[j] = rnd.NormFloat64()
				pb[i].Grad[j] = p.Grad[j]
			}
		}
	}
	for range 3 {
		grads()
		if err := a.Step(0.01); err != nil {
			t.Fatal(err)
		}
	}
	// Resume b from a's checkpoint: same values, same state.
	for i := range pa {
		copy(pb[i].Value, pa[i].Value)
	}
	m, v, step := a.State()
	if err := b.SetState(m, v, step); err != nil {
		t.Fatal(err)
	}
	m[0] = 1e9 // State returns copies
	grads()
	if err := a.Step(0.02); err != nil {
		t.Fatal(err)
	}
	if err := b.Step(0.02); err != nil {
		t.Fatal(err)
	}
	for i := range pa {
		for j, v := range pa[i].Value {
			if v != pb[i].Value[j] {
				t.Fatalf("resumed optimiser diverged: %v vs %v", pa[i].Value, pb[i].Value)
			}
		}
	}
	mb, vb, sb := b.State()
	for _, c := range []struct {
		name string
		m, v []float64
		step int
	}{
		{"short m", mb[1:], vb, sb},
		{"long v", mb, append(vb, 0), sb},
		{"negative step", mb, vb, -1},
		{"NaN moment", append([]float64{math.NaN()}, mb[1:]...), vb, sb},
		{"negative v", mb, append([]float64{-1}, vb[1:]...), sb},
	} {
		if err := b.SetState(c.m, c.v, c.step); !errors.Is(err, ErrState) {
			t.Errorf("SetState(%s): error %v, want ErrState", c.name, err)
		}
	}
	if m2, v2, s2 := b.State(); relErr(m2, mb) != 0 || relErr(v2, vb) != 0 || s2 != sb {
		t.Error("a failed SetState changed the state")
	}
}

func TestClipGradNorm(t *testing.T) {
	a := newParam("a", 2, false)
	b := newParam("b", 1, true)
	params := []*Param{&a, &b}
	set := func() { a.Grad[0], a.Grad[1], b.Grad[0] = 3, 0, -4 } // norm 5 (3-4-5)
	set()
	if n := ClipGradNorm(params, 0); n != 5 || a.Grad[0] != 3 || b.Grad[0] != -4 {
		t.Errorf("maxNorm 0: norm %v, grads %v %v; want 5 and unchanged", n, a.Grad, b.Grad)
	}
	if n := ClipGradNorm(params, 10); n != 5 || a.Grad[0] != 3 {
		t.Errorf("maxNorm 10: norm %v, grads %v; want 5 and unchanged", n, a.Grad)
	}
	if n := ClipGradNorm(params, 1); n != 5 {
		t.Errorf("pre-clip norm %v, want 5", n)
	}
	want := []float64{0.6, 0, -0.8}
	got := []float64{a.Grad[0], a.Grad[1], b.Grad[0]}
	if relErr(got, want) > valueTol {
		t.Errorf("clipped gradients %v, want %v", got, want)
	}
	set()
	b.Grad[0] = math.Inf(1)
	if n := ClipGradNorm(params, 1); !math.IsInf(n, 1) || a.Grad[0] != 3 {
		t.Errorf("infinite gradient: norm %v, grads %v; want +Inf and unchanged", n, a.Grad)
	}
}

func TestSchedule(t *testing.T) {
	s := Schedule{Peak: 1, Min: 0.1, Warmup: 4, Total: 10}
	// By hand from the formula in Schedule.LR's doc.
	want := map[int]float64{0: 0.25, 1: 0.5, 3: 1, 4: 0.85, 6: 0.55, 8: 0.25, 9: 0.1, 10: 0.1, 1000: 0.1}
	for step, w := range want {
		if got := s.LR(step); math.Abs(got-w) > valueTol {
			t.Errorf("LR(%d) = %v, want %v", step, got, w)
		}
	}
	if got := (Schedule{Peak: 2}).LR(50); got != 2 {
		t.Errorf("constant schedule: LR = %v, want 2", got)
	}
	if got := (Schedule{Peak: 2, Warmup: 5, Total: 3}).LR(50); got != 2 {
		t.Errorf("Total ≤ Warmup: LR = %v, want 2", got)
	}
}

func TestOptimiserDoesNotAllocate(t *testing.T) {
	rnd := rand.New(rand.NewPCG(28, 29))
	params := twoParams(rnd)
	opt, _ := NewAdamW(params, AdamWConfig{WeightDecay: 0.1})
	for _, p := range params {
		copy(p.Grad, randSlice(rnd, len(p.Grad), 1))
	}
	if a := testing.AllocsPerRun(10, func() {
		ClipGradNorm(params, 0.5)
		if err := opt.Step(1e-3); err != nil {
			t.Fatal(err)
		}
		opt.ZeroGrad()
	}); a != 0 {
		t.Errorf("clip + step + zero allocates %v times", a)
	}
	for _, p := range params {
		for _, g := range p.Grad {
			if g != 0 {
				t.Fatal("ZeroGrad left a non-zero gradient")
			}
		}
	}
}

// BenchmarkAdamW times one step over a single parameter of k values.
func BenchmarkAdamW(b *testing.B) {
	for _, k := range []int{1 << 10, 1 << 16, 1 << 20} {
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) {
			p := newParam("p", k, false)
			copy(p.Grad, randSlice(rand.New(rand.NewPCG(1, 1)), k, 1))
			opt, _ := NewAdamW([]*Param{&p}, AdamWConfig{WeightDecay: 0.1})
			b.ReportAllocs()
			for b.Loop() {
				if err := opt.Step(1e-3); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func ExampleSchedule_LR() {
	s := Schedule{Peak: 1e-3, Min: 1e-4, Warmup: 2, Total: 5}
	for step := range 7 {
		fmt.Printf("%.2e ", s.LR(step))
	}
	fmt.Println()
	// Output:
	// 5.00e-04 1.00e-03 7.00e-04 4.00e-04 1.00e-04 1.00e-04 1.00e-04
}

func ExampleAdamW() {
	// Minimise (p − 3)² with a warmed-up, decaying learning rate.
	p := &Param{Name: "p", Value: []float64{0}, Grad: []float64{0}, NoDecay: true}
	opt, err := NewAdamW([]*Param{p}, AdamWConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	sched := Schedule{Peak: 0.1, Min: 1e-4, Warmup: 10, Total: 500}
	for step := range 500 {
		opt.ZeroGrad()
		p.Grad[0] = 2 * (p.Value[0] - 3)
		ClipGradNorm([]*Param{p}, 1)
		if err := opt.Step(sched.LR(step)); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Printf("p = %.3f after %d steps\n", p.Value[0], opt.Steps())
	// Output:
	// p = 3.000 after 500 steps
}
