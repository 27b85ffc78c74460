package net

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// netMNISTAccuracy is the accuracy on the first 2000 test images that the
// small real-MNIST run of TestTrainMNIST must reach: depth 2, C = 32, n = 4,
// mhc, 400 steps of 64 images (under half an epoch). Such a run measures
// about 93% here; 0.90 leaves room for platform rounding differences while
// failing for any broken block, mixer wiring, optimiser or schedule.
const netMNISTAccuracy = 0.90

// teacherData returns a learnable synthetic data set: k examples of dim
// standard normal features labelled by the argmax of a fixed random linear
// map to classes scores.
func teacherData(seed uint64, k, dim, classes int) *Dataset {
	rnd := rand.New(rand.NewPCG(seed, 0))
	w := randNormal(rnd, dim*classes)
	d := &Dataset{X: randNormal(rnd, k*dim), Y: make([]int, k), N: k, Dim: dim}
	for i := range k {
		best, arg := math.Inf(-1), 0
		for c := range classes {
			var s float64
			for j := range dim {
				s += d.X[i*dim+j] * w[j*classes+c]
			}
			if s > best {
				best, arg = s, c
			}
		}
		d.Y[i] = arg
	}
	return d
}

// smallRun returns a fresh Trainer of a small model on teacher data.
func smallRun(t testing.TB, mixer string, tc TrainConfig) *Trainer {
	t.Helper()
	cfg := Config{Mixer: mixer, N: 4, Width: 8, Depth: 3, Hidden: 2, Inputs: 10, Classes: 4, Seed: 1}
	m, err := NewModel(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(m, teacherData(2, 90, 10, 4), tc)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// weights returns a copy of every parameter value of m, concatenated.
func weights(m *Model) []float64 {
	var w []float64
	for _, p := range m.Params() {
		w = append(w, p.Value...)
	}
	return w
}

// sameBits reports whether a and b are bit-for-bit equal.
func sameBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

// TestTrainRepeatable: two runs of one configuration agree bit for bit,
// and training lowers the loss.
func TestTrainRepeatable(t *testing.T) {
	tc := TrainConfig{Steps: 60, Batch: 16, LR: 5e-3, Warmup: 5, WeightDecay: 0.01, Seed: 3}
	var w [2][]float64
	var logs [2][]StepLog
	for k := range w {
		tr := smallRun(t, MixerMHC, tc)
		calls := 0
		res, err := tr.Run(context.Background(), func(StepLog) { calls++ })
		if err != nil || res.Outcome != Completed || res.Steps != tc.Steps || calls != tc.Steps {
			t.Fatalf("run: %+v, %v, %d progress calls", res, err, calls)
		}
		w[k], logs[k] = weights(tr.Model()), tr.Log()
	}
	if !sameBits(w[0], w[1]) {
		t.Error("two runs with one seed differ")
	}
	for i := range logs[0] {
		if logs[0][i] != logs[1][i] {
			t.Fatalf("logs differ at %d: %+v vs %+v", i, logs[0][i], logs[1][i])
		}
	}
	first, last := logs[0][0], logs[0][len(logs[0])-1]
	if !(last.Loss < first.Loss) || last.Step != tc.Steps || first.LR != tc.LR/5 {
		t.Errorf("first %+v, last %+v", first, last)
	}
	t.Logf("loss %.4f → %.4f", first.Loss, last.Loss)
}

// TestTrainDivergence: a blow-up and a NaN are recorded as the outcome,
// the run stops cleanly and no update is applied by the diverging step.
func TestTrainDivergence(t *testing.T) {
	// Blow-up: a MaxLoss below the initial loss trips on the first step.
	tr := smallRun(t, MixerHC, TrainConfig{Steps: 10, MaxLoss: 0.5})
	before := weights(tr.Model())
	res, err := tr.Run(context.Background(), nil)
	if err != nil || res.Outcome != Diverged || res.Steps != 0 || !strings.Contains(res.Reason, "MaxLoss") {
		t.Fatalf("blow-up: %+v, %v", res, err)
	}
	if !sameBits(before, weights(tr.Model())) {
		t.Error("the diverging step changed the weights")
	}
	if _, err := tr.Step(); !errors.Is(err, ErrDiverged) {
		t.Errorf("step after divergence: %v", err)
	}

	// NaN: a poisoned weight makes the activations non-finite at step 3.
	tr = smallRun(t, MixerMHC, TrainConfig{Steps: 10})
	for range 2 {
		if _, err := tr.Step(); err != nil {
			t.Fatal(err)
		}
	}
	tr.Model().Params()[0].Value[0] = math.NaN()
	res, err = tr.Run(context.Background(), nil)
	if err != nil || res.Outcome != Diverged || res.Steps != 2 {
		t.Fatalf("NaN: %+v, %v", res, err)
	}
	t.Logf("NaN divergence reason: %s", res.Reason)

	// A huge learning rate blows the run up within a few steps.
	tr = smallRun(t, MixerHC, TrainConfig{Steps: 50, LR: 1e4})
	res, err = tr.Run(context.Background(), nil)
	if err != nil || res.Outcome != Diverged {
		t.Fatalf("LR 1e4: %+v, %v", res, err)
	}
	t.Logf("LR 1e4: diverged after %d updates: %s", res.Steps, res.Reason)
}

func TestTrainStopped(t *testing.T) {
	tr := smallRun(t, MixerResidual, TrainConfig{Steps: 10})
	ctx, cancel := context.WithCancel(context.Background())
	res, err := tr.Run(ctx, func(l StepLog) {
		if l.Step == 4 {
			cancel()
		}
	})
	if err != nil || res.Outcome != Stopped || res.Steps != 4 || res.Outcome.String() != "stopped" {
		t.Errorf("%+v, %v", res, err)
	}
}

func TestTrainConfigErrors(t *testing.T) {
	m, err := NewModel(Config{Width: 4, Depth: 1, Inputs: 10, Classes: 4})
	if err != nil {
		t.Fatal(err)
	}
	data := teacherData(1, 20, 10, 4)
	for _, tc := range []struct {
		field string
		cfg   TrainConfig
	}{
		{"Steps", TrainConfig{}},
		{"Batch", TrainConfig{Steps: 1, Batch: -1}},
		{"LR", TrainConfig{Steps: 1, LR: math.NaN()}},
		{"MinLR", TrainConfig{Steps: 1, MinLR: -1}},
		{"Warmup", TrainConfig{Steps: 1, Warmup: -1}},
		{"WeightDecay", TrainConfig{Steps: 1, WeightDecay: math.Inf(1)}},
		{"ClipNorm", TrainConfig{Steps: 1, ClipNorm: math.NaN()}},
		{"Subset", TrainConfig{Steps: 1, Subset: -3}},
		{"MaxLoss", TrainConfig{Steps: 1, MaxLoss: -1}},
		{"DiagEvery", TrainConfig{Steps: 1, DiagEvery: -1}},
		{"SummaryEvery", TrainConfig{Steps: 1, SummaryEvery: -2}},
	} {
		tr, err := NewTrainer(m, data, tc.cfg)
		if tr != nil || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: %v", tc.field, err)
		}
	}
	if _, err := NewTrainer(m, teacherData(1, 5, 3, 4), TrainConfig{Steps: 1}); !errors.Is(err, ErrConfig) {
		t.Errorf("wrong data dimension: %v", err)
	}
	levels := new([256]float64)
	for _, d := range []*Dataset{
		{X: make([]float64, 19*10), Y: make([]int, 20), N: 20, Dim: 10},
		{X: make([]float64, 20*10), Y: make([]int, 19), N: 20, Dim: 10},
		{Bytes: make([]byte, 20*10), Y: make([]int, 20), N: 20, Dim: 10},
		{Bytes: make([]byte, 20*10-1), Levels: levels, Y: make([]int, 20), N: 20, Dim: 10},
		{Y: make([]int, 20), N: 20, Dim: 10},
	} {
		if tr, err := NewTrainer(m, d, TrainConfig{Steps: 1}); tr != nil || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "dataset") {
			t.Errorf("%d values, %d bytes, %d labels, Levels %t: %v", len(d.X), len(d.Bytes), len(d.Y), d.Levels != nil, err)
		}
		mustPanicWith(t, ErrShape, "Evaluate of a malformed Dataset", func() { m.Evaluate(d, 4) })
	}
	empty := &Dataset{Dim: 10}
	if loss, acc, err := m.Evaluate(empty, 4); loss != 0 || acc != 0 || err != nil {
		t.Errorf("Evaluate of an empty Dataset: %v, %v, %v; want zeros", loss, acc, err)
	}
	if _, err := NewTrainer(m, empty, TrainConfig{Steps: 1}); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "no training examples") {
		t.Errorf("an empty Dataset: %v", err)
	}
	ok := &Dataset{Bytes: make([]byte, 20*10), Levels: levels, Y: make([]int, 20), N: 20, Dim: 10}
	if _, err := NewTrainer(m, ok, TrainConfig{Steps: 1}); err != nil {
		t.Errorf("a Dataset of bytes: %v", err)
	}
}

// TestTrainDiagnostics checks that diagnostics are recorded on schedule.
func TestTrainDiagnostics(t *testing.T) {
	tr := smallRun(t, MixerMHCLite, TrainConfig{Steps: 7, DiagEvery: 3, DiagSamples: 2})
	if _, err := tr.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	var steps []int
	for _, d := range tr.Diagnostics() {
		steps = append(steps, d.Step)
		if d.Sampled != 2 || len(d.Layers) != 3 || d.Composite.Mean.DSDeviation > compositeDSTol {
			t.Errorf("step %d: %d sampled, %d layers, DS dev %g", d.Step, d.Sampled, len(d.Layers), d.Composite.Mean.DSDeviation)
		}
	}
	if len(steps) != 3 || steps[0] != 3 || steps[1] != 6 || steps[2] != 7 {
		t.Errorf("diagnostics at steps %v, want [3 6 7]", steps)
	}
}

// TestTrainSummaries checks that summaries are recorded on schedule and
// that each is the Diagnostics of the same step, field for field.
func TestTrainSummaries(t *testing.T) {
	tr := smallRun(t, MixerHC, TrainConfig{Steps: 8, DiagEvery: 2, SummaryEvery: 2, DiagSamples: 2})
	if _, err := tr.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	sums, diags := tr.Summaries(), tr.Diagnostics()
	if len(sums) != 4 || len(diags) != 4 {
		t.Fatalf("%d summaries, %d diagnostics; want 4 each", len(sums), len(diags))
	}
	for k, s := range sums {
		d := diags[k]
		if s.Step != 2*(k+1) || d.Step != s.Step {
			t.Errorf("summary %d at step %d, diagnostics at %d; want %d", k, s.Step, d.Step, 2*(k+1))
		}
		if want := summaryOf(d.Diagnostics); s.Summary != want {
			t.Errorf("step %d: summary %+v, want %+v", s.Step, s.Summary, want)
		}
	}
	// HC's matrices are not doubly stochastic: the gains must have moved
	// off 1 after 8 updates, or the test compares nothing.
	if last := sums[len(sums)-1]; last.ForwardAmax == 1 || last.MaxDSDeviation == 0 {
		t.Errorf("last summary %+v: hc's gains still exactly 1", last.Summary)
	}
}

// TestTrainMNIST trains a small net on real MNIST (see netMNISTAccuracy).
func TestTrainMNIST(t *testing.T) {
	train, test := realMNIST(t)
	m, err := NewModel(Config{Mixer: MixerMHC, N: 4, Width: 32, Depth: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(m, train, TrainConfig{Steps: 400, Batch: 64, LR: 3e-3, MinLR: 1e-4, Warmup: 40, WeightDecay: 0.01, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := tr.Run(context.Background(), nil)
	if err != nil || res.Outcome != Completed {
		t.Fatalf("%+v, %v", res, err)
	}
	loss, acc, err := m.Evaluate(test.Subset(2000), 250)
	if err != nil {
		t.Fatal(err)
	}
	// The test set keeps its pixels as bytes; expanded to float64 it scores
	// the same to the last bit (the last batch of 230 is a partial one).
	loss64, acc64, err := m.Evaluate(test.Subset(1980).Float64(), 250)
	if err != nil {
		t.Fatal(err)
	}
	lossB, accB, err := m.Evaluate(test.Subset(1980), 250)
	if err != nil || lossB != loss64 || accB != acc64 {
		t.Errorf("Evaluate on bytes: %v, %v, %v; on float64: %v, %v", lossB, accB, err, loss64, acc64)
	}
	t.Logf("%d steps in %v: test subset loss %.4f, accuracy %.4f", res.Steps, time.Since(start).Round(time.Millisecond), loss, acc)
	if acc < netMNISTAccuracy {
		t.Errorf("accuracy %.4f < %.2f", acc, netMNISTAccuracy)
	}
}
