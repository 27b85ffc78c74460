package net

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/hyperconn/hyperconn/internal/allocsite"
	"github.com/hyperconn/hyperconn/internal/f32"
	"github.com/hyperconn/hyperconn/internal/gemm"
)

// Tolerances of the float32 path.
const (
	// layer32Tol bounds the error of a float32 layer against its float64
	// twin, relative to the largest output magnitude: float32 rounding
	// (6e-8) of sums of at most 64 terms, with margin.
	layer32Tol = 2e-5
	// loss32Tol is issue 7's acceptance line 3: after 200 steps the float32
	// and float64 runs end within 1% relative loss of each other.
	loss32Tol = 0.01
)

// maxRelDiff returns max |a32 − b| / max |b|.
func maxRelDiff(a32 []float32, b []float64) float64 {
	var d, s float64
	for i, v := range b {
		d = max(d, math.Abs(float64(a32[i])-v))
		s = max(s, math.Abs(v))
	}
	return d / s
}

func f32s(s []float64) []float32 {
	r := make([]float32, len(s))
	to32(r, s)
	return r
}

// TestLayers32 checks each float32 layer, forward and backward, against
// its float64 twin (whose gradients are checked against finite differences
// in layers_test.go) on the same random inputs and a random upstream
// gradient, with a float32 tolerance.
func TestLayers32(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 7))
	const rows, in, out = 37, 24, 40
	x, dy := randNormal(rnd, rows*in), randNormal(rnd, rows*out)
	var a arena32
	a.value, a.grad = make([]float32, 0, 4096), make([]float32, 0, 4096)

	lin := NewLinear("l", in, out, rnd)
	for i := range lin.B.Value {
		lin.B.Value[i] = rnd.NormFloat64()
	}
	l32 := newLinear32(&a, "", lin)
	y, dx := make([]float64, rows*out), make([]float64, rows*in)
	y32, dx32 := make([]float32, rows*out), make([]float32, rows*in)
	lin.Forward(y, x, rows)
	l32.forward(y32, f32s(x), rows)
	lin.Backward(dx, dy, x, rows)
	l32.backward(dx32, f32s(dy), f32s(x), rows)
	for _, c := range []struct {
		name string
		got  []float32
		want []float64
	}{{"linear y", y32, y}, {"linear dx", dx32, dx}, {"linear dW", l32.w.Grad, lin.W.Grad}, {"linear db", l32.b.Grad, lin.B.Grad}} {
		if d := maxRelDiff(c.got, c.want); d > layer32Tol {
			t.Errorf("%s: relative difference %.3g, want ≤ %g", c.name, d, layer32Tol)
		}
	}

	nrm := NewRMSNorm("n", in)
	for i := range nrm.Gain.Value {
		nrm.Gain.Value[i] = 1 + 0.3*rnd.NormFloat64()
	}
	n32 := newRMSNorm32(&a, "", nrm)
	u, du, dyn := make([]float64, rows*in), make([]float64, rows*in), randNormal(rnd, rows*in)
	u32, du32 := make([]float32, rows*in), make([]float32, rows*in)
	nrm.Forward(u, x, rows)
	n32.forward(u32, f32s(x), rows)
	nrm.Backward(du, dyn, x, rows)
	n32.backward(du32, f32s(dyn), f32s(x), rows)
	for _, c := range []struct {
		name string
		got  []float32
		want []float64
	}{{"rmsnorm y", u32, u}, {"rmsnorm dx", du32, du}, {"rmsnorm dgain", n32.gain.Grad, nrm.Gain.Grad}} {
		if d := maxRelDiff(c.got, c.want); d > layer32Tol {
			t.Errorf("%s: relative difference %.3g, want ≤ %g", c.name, d, layer32Tol)
		}
	}

	// GELU with the bias on more elements than gemm.MinFor, so that with
	// two threads it runs split.
	const cols = 64
	rowsG := gemm.MinFor/cols + 3
	k := rowsG * cols
	h, dh, bias := randNormal(rnd, k), randNormal(rnd, k), randNormal(rnd, cols)
	for i := range h {
		h[i] *= 3
	}
	z := make([]float64, k)
	for i := range z {
		z[i] = h[i] + float64(float32(bias[i%cols]))
	}
	g, dg, db := make([]float64, k), make([]float64, k), make([]float64, cols)
	GELU(g, z)
	GELUBackward(dg, dh, z)
	for i, v := range dg {
		db[i%cols] += v
	}
	defer gemm.SetThreads(gemm.SetThreads(1))
	var runs [2]struct{ z, a, cdf, dx, db []float32 }
	for th := range 2 {
		gemm.SetThreads(th + 1)
		var gl gelu32
		r := &runs[th]
		r.z, r.a, r.cdf, r.dx = f32s(h), make([]float32, k), make([]float32, k), make([]float32, k)
		dbP := &Param32{Grad: make([]float32, cols), stale: true}
		for i := range dbP.Grad {
			dbP.Grad[i] = 7 // stale: cleared first
		}
		gl.forwardBias(r.a, r.cdf, r.z, f32s(bias))
		gl.backwardBias(r.dx, f32s(dh), r.z, r.cdf, dbP)
		r.db = dbP.Grad
		for _, c := range []struct {
			name string
			got  []float32
			want []float64
		}{{"gelu z", r.z, z}, {"gelu y", r.a, g}, {"gelu dx", r.dx, dg}, {"gelu db", r.db, db}} {
			if d := maxRelDiff(c.got, c.want); d > layer32Tol {
				t.Errorf("threads %d: %s: relative difference %.3g, want ≤ %g", th+1, c.name, d, layer32Tol)
			}
		}
		// The fused passes equal the separate ones bit for bit.
		zs, as, cs, dxs, dbs := f32s(h), make([]float32, k), make([]float32, k), make([]float32, k), make([]float32, cols)
		b32 := f32s(bias)
		for row := range rowsG {
			f32.Add(zs[row*cols:(row+1)*cols], b32)
		}
		f32.GELU(as, cs, zs)
		f32.GELUBackward(dxs, f32s(dh), zs, cs)
		for row := range rowsG {
			f32.Add(dbs, dxs[row*cols:(row+1)*cols])
		}
		for _, c := range []struct {
			name      string
			got, want []float32
		}{{"z", r.z, zs}, {"a", r.a, as}, {"cdf", r.cdf, cs}, {"dx", r.dx, dxs}, {"db", r.db, dbs}} {
			if !slices.Equal(c.got, c.want) {
				t.Errorf("threads %d: fused %s differs from the separate passes", th+1, c.name)
			}
		}
	}
}

// TestFloat32Params checks the float32 model's parameter lists: the mixer
// tensors stay float64, every other tensor moves to Params32 under its
// float64 name, with the float32 rounding of the same initial values.
func TestFloat32Params(t *testing.T) {
	cfg := Config{Mixer: MixerMHC, N: 4, Width: 8, Depth: 3, Hidden: 2, Inputs: 10, Classes: 4, Seed: 3}
	m64, err := NewModel(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Float32 = true
	m32, err := NewModel(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if m64.Float32() || !m32.Float32() || m64.Params32() != nil {
		t.Fatalf("Float32() = %v, %v; want false, true", m64.Float32(), m32.Float32())
	}
	if m32.NumParams() != m64.NumParams() {
		t.Errorf("NumParams: float32 model %d, float64 model %d", m32.NumParams(), m64.NumParams())
	}
	byName := map[string]*Param{}
	for i, p := range m64.Params() {
		byName[m64.ParamNames()[i]] = p
	}
	if got := len(m32.Params()) + len(m32.Params32()); got != len(m64.Params()) {
		t.Fatalf("%d + %d tensors, want %d", len(m32.Params()), len(m32.Params32()), len(m64.Params()))
	}
	for i, p := range m32.Params() {
		name := m32.ParamNames()[i]
		if !strings.Contains(name, ".mixer.") || byName[name] == nil || !slices.Equal(p.Value, byName[name].Value) {
			t.Errorf("float64 tensor %q of the float32 model is not a mixer tensor equal to the float64 model's", name)
		}
	}
	for i, p := range m32.Params32() {
		name := m32.ParamNames32()[i]
		q := byName[name]
		if q == nil || len(q.Value) != len(p.Value) || len(p.Grad) != len(p.Value) || q.NoDecay != p.NoDecay {
			t.Fatalf("float32 tensor %q has no float64 twin of the same size and decay", name)
		}
		for j, v := range q.Value {
			if p.Value[j] != float32(v) {
				t.Fatalf("%s[%d] = %v, want float32(%v)", name, j, p.Value[j], v)
			}
		}
	}
}

// TestFloat32Training is issue 7's acceptance line 3: the same small
// network trained 200 steps from the same seed in float32 and in float64
// ends within 1% relative loss (the last step's batch loss, and the loss
// over the whole training set), for every mixer.
func TestFloat32Training(t *testing.T) {
	data := teacherData(5, 512, 20, 4)
	for _, name := range MixerNames() {
		var batchLoss, fullLoss [2]float64
		for k, f32 := range []bool{false, true} {
			m, err := NewModel(Config{Mixer: name, N: 4, Width: 16, Depth: 4, Hidden: 2, Inputs: 20, Classes: 4, Seed: 1, Float32: f32})
			if err != nil {
				t.Fatal(err)
			}
			tr, err := NewTrainer(m, data, TrainConfig{Steps: 200, Batch: 32, LR: 3e-3, Warmup: 10, WeightDecay: 0.01, Seed: 2})
			if err != nil {
				t.Fatal(err)
			}
			res, err := tr.Run(t.Context(), nil)
			if err != nil || res.Outcome != Completed {
				t.Fatalf("%s float32=%v: %v %v", name, f32, res, err)
			}
			batchLoss[k] = tr.Log()[len(tr.Log())-1].Loss
			if fullLoss[k], _, err = m.Evaluate(data, 128); err != nil {
				t.Fatal(err)
			}
		}
		rb := math.Abs(batchLoss[1]-batchLoss[0]) / batchLoss[0]
		rf := math.Abs(fullLoss[1]-fullLoss[0]) / fullLoss[0]
		t.Logf("%-9s loss after 200 steps: float64 %.6f / %.6f, float32 %.6f / %.6f (last batch / all data): relative %.2e / %.2e",
			name, batchLoss[0], fullLoss[0], batchLoss[1], fullLoss[1], rb, rf)
		if rb > loss32Tol || rf > loss32Tol {
			t.Errorf("%s: float32 and float64 losses differ by %.3g (last batch) and %.3g (all data), want ≤ %g", name, rb, rf, loss32Tol)
		}
		if fullLoss[0] > 0.9*math.Log(4) {
			t.Errorf("%s: loss %.4f after 200 steps: the run did not learn (chance is ln 4 = 1.386)", name, fullLoss[0])
		}
	}
}

// allocTrainer returns the trainer the allocation tests step: width 128,
// batch 64, so that the products are above gemm.MinParallel and the
// element-wise work above gemm.MinFor, and the helpers run.
func allocTrainer(t *testing.T, data *Dataset, mixer string, f32 bool) *Trainer {
	t.Helper()
	m, err := NewModel(Config{Mixer: mixer, N: 4, Width: 128, Depth: 2, Inputs: 64, Classes: 4, Seed: 1, Float32: f32})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(m, data, TrainConfig{Steps: 1 << 20, Batch: 64, LR: 1e-4, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestStepAllocs is issue 7's acceptance line 4: a training step allocates
// nothing in steady state, in float64 and float32, with one and two
// threads, on whichever backend the binary was built with.
func TestStepAllocs(t *testing.T) {
	defer gemm.SetThreads(gemm.SetThreads(1))
	data := teacherData(1, 256, 64, 4)
	for _, th := range []int{1, 2} {
		gemm.SetThreads(th)
		for _, name := range []string{MixerResidual, MixerMHC} {
			for _, f32 := range []bool{false, true} {
				tr := allocTrainer(t, data, name, f32)
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

// TestFloat32GradNorm checks the gradient norm a float32 step reports —
// the weights' sums of squares taken in the backward pass, the rest after
// it — against the norm of every gradient summed afresh, on two steps (the
// second overwrites the first's stale gradients).
func TestFloat32GradNorm(t *testing.T) {
	data := teacherData(2, 128, 16, 3)
	for _, name := range []string{MixerResidual, MixerMHC} {
		m, err := NewModel(Config{Mixer: name, N: 2, Width: 8, Depth: 3, Inputs: 16, Classes: 3, Seed: 2, Float32: true})
		if err != nil {
			t.Fatal(err)
		}
		// A clip norm far above the gradients' leaves them unscaled.
		tr, err := NewTrainer(m, data, TrainConfig{Steps: 10, Batch: 16, LR: 1e-3, Seed: 2, ClipNorm: 1e30})
		if err != nil {
			t.Fatal(err)
		}
		for step := range 2 {
			rec, err := tr.Step()
			if err != nil {
				t.Fatal(err)
			}
			var ss float64
			for _, p := range m.Params32() {
				for _, g := range p.Grad {
					ss += float64(g) * float64(g)
				}
			}
			for _, p := range m.Params() {
				for _, g := range p.Grad {
					ss += g * g
				}
			}
			if want := math.Sqrt(ss); math.Abs(rec.GradNorm-want) > 1e-12*want || want == 0 {
				t.Errorf("%s step %d: GradNorm %v, recomputed %v", name, step+1, rec.GradNorm, want)
			}
		}
	}
}

// TestStepAllocsParallel is TestStepAllocs with GOMAXPROCS 2 and two
// threads (testing.AllocsPerRun forces GOMAXPROCS to 1): it reads the
// allocation sites of 20 steps from the memory profile and fails on any
// that is not the runtime's own bookkeeping (internal/allocsite) — a
// blocked helper's sudog while the runtime's caches fill up is not the
// step's.
func TestStepAllocsParallel(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	defer gemm.SetThreads(gemm.SetThreads(2))
	rate := runtime.MemProfileRate
	runtime.MemProfileRate = 1
	defer func() { runtime.MemProfileRate = rate }()
	data := teacherData(1, 256, 64, 4)
	for _, name := range []string{MixerResidual, MixerMHC} {
		for _, f32 := range []bool{false, true} {
			tr := allocTrainer(t, data, name, f32)
			steps := func(k int) {
				for range k {
					if _, err := tr.Step(); err != nil {
						t.Fatal(err)
					}
				}
			}
			steps(3)
			before := allocsite.Read()
			steps(20)
			for _, site := range allocsite.Ours(before, allocsite.Read()) {
				t.Errorf("%v %s float32=%v: 20 two-thread steps allocated %d objects at\n%s", gemm.Current(), name, f32, site.Objects, site.Stack)
			}
		}
	}
}

// TestFloat32MixerStorage checks that a float32 model trains the
// coefficient heads' Φ in float32 (hc.Float32Storage): for each mixer of
// the mHC family and sHC, "blockL.mixer.phi" is in Params32, not Params;
// its gradient after one step agrees with the float64 model's (within the
// float32 path's rounding); a second step on the same examples with a
// negligible learning rate gives the same gradient again, not twice it (the
// float32 gradient is cleared between steps); and training moves its value.
func TestFloat32MixerStorage(t *testing.T) {
	data := teacherData(4, 16, 10, 4)
	for _, name := range []string{MixerMHC, MixerMHCExact, MixerMHCLite, MixerSHC} {
		grads := func(f32 bool, lr float64, steps int) (g1, g2 []float64, value, value0 []float64) {
			m, err := NewModel(Config{Mixer: name, N: 4, Width: 8, Depth: 3, Hidden: 2, Inputs: 10, Classes: 4, Seed: 5, Float32: f32})
			if err != nil {
				t.Fatal(err)
			}
			tr, err := NewTrainer(m, data, TrainConfig{Steps: steps, Batch: 16, LR: lr, Seed: 5, ClipNorm: 1e30})
			if err != nil {
				t.Fatal(err)
			}
			const phi = "block1.mixer.phi"
			read := func() (g, v []float64) {
				for i, p := range m.Params32() {
					if m.ParamNames32()[i] == phi {
						for j := range p.Grad {
							g, v = append(g, float64(p.Grad[j])), append(v, float64(p.Value[j]))
						}
					}
				}
				for i, p := range m.Params() {
					if m.ParamNames()[i] == phi {
						if f32 {
							t.Fatalf("%s: %s is among the float64 parameters of a float32 model", name, phi)
						}
						g, v = append(g, p.Grad...), append(v, p.Value...)
					}
				}
				if len(g) == 0 {
					t.Fatalf("%s (float32 %v): no parameter %s", name, f32, phi)
				}
				return g, v
			}
			_, value0 = read()
			value0 = append([]float64(nil), value0...)
			for s := range steps {
				if _, err := tr.Step(); err != nil {
					t.Fatal(err)
				}
				switch s {
				case 0:
					g1, _ = read()
				case 1:
					g2, _ = read()
				}
			}
			_, value = read()
			return g1, g2, value, value0
		}
		g32, again, _, _ := grads(true, 1e-12, 2)
		g64, _, _, _ := grads(false, 1e-12, 1)
		var scale, d64, dAgain float64
		for i := range g64 {
			scale = math.Max(scale, math.Abs(g64[i]))
			d64 = math.Max(d64, math.Abs(g32[i]-g64[i]))
			dAgain = math.Max(dAgain, math.Abs(again[i]-g32[i]))
		}
		if scale == 0 || d64 > 1e-3*scale {
			t.Errorf("%s: float32 ∂Φ differs from float64's by %.3g (scale %.3g)", name, d64, scale)
		}
		if dAgain > 1e-4*scale {
			t.Errorf("%s: the second step's ∂Φ differs from the first's by %.3g (scale %.3g): not cleared between steps?", name, dAgain, scale)
		}
		_, _, v, v0 := grads(true, 1e-2, 5)
		if slices.Equal(v, v0) {
			t.Errorf("%s: five float32 steps left Φ unchanged", name)
		}
		t.Logf("%s: ∂Φ float32 vs float64 %.2g, step 2 vs step 1 %.2g (scale %.3g)", name, d64/scale, dAgain/scale, scale)
	}
}
