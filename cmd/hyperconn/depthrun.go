package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/hyperconn/hyperconn/net"
)

// runsDir is the subdirectory of -out holding one run file and one step log
// per experiment.
const runsDir = "runs"

// depthKey identifies an experiment: the mixer, the depth and every setting
// that can change its result. -resume reuses a saved run only if its key
// equals the key the current flags give, field for field.
type depthKey struct {
	Format      int     `json:"format"` // depthFormat
	Mixer       string  `json:"mixer"`
	Depth       int     `json:"depth"`
	N           int     `json:"n"` // streams (1 for residual, whatever -n says)
	Width       int     `json:"width"`
	Hidden      int     `json:"hidden"`
	Steps       int     `json:"steps"` // after resolving -epochs
	Batch       int     `json:"batch"`
	LR          float64 `json:"lr"`
	MinLR       float64 `json:"min_lr"`
	Warmup      int     `json:"warmup"`
	WeightDecay float64 `json:"weight_decay"`
	Seed        uint64  `json:"seed"`
	Float32     bool    `json:"float32"`
	Train       int     `json:"train"` // training images (-subset resolved)
	Test        int     `json:"test"`  // test images
	DiagBatch   int     `json:"diag_batch"`
	DiagSamples int     `json:"diag_samples"`
	DiagEvery   int     `json:"diag_every"` // training-time diagnostics every k steps (0: none)
}

// name is the base name of the experiment's files under runsDir.
func (k depthKey) name() string { return fmt.Sprintf("%s_L%d", k.Mixer, k.Depth) }

// stepLogName is the path of key's step log relative to the output
// directory (the record's step_log).
func stepLogName(key depthKey) string { return runsDir + "/" + key.name() + ".csv" }

// depthJob is one experiment of the sweep.
type depthJob struct {
	key depthKey
}

// depthJobs returns the experiments of cfg in report order: mixer by mixer
// (in the order of net.MixerNames), depth ascending.
func depthJobs(cfg *depthConfig, train, test int) []depthJob {
	var jobs []depthJob
	for _, m := range cfg.Mixers {
		n := cfg.N
		if m == net.MixerResidual {
			n = 1
		}
		for _, d := range cfg.Depths {
			jobs = append(jobs, depthJob{key: depthKey{
				Format: depthFormat, Mixer: m, Depth: d, N: n, Width: cfg.Width, Hidden: depthHidden,
				Steps: cfg.Steps, Batch: cfg.Batch, LR: cfg.LR, MinLR: cfg.LR / depthMinLRFrac,
				Warmup: cfg.Steps / depthWarmupFrac, WeightDecay: depthWeightDecay, Seed: cfg.Seed, Float32: cfg.Float32,
				Train: train, Test: test, DiagBatch: min(depthDiagBatch, test), DiagSamples: depthDiagSamples,
				DiagEvery: cfg.DiagEvery,
			}})
		}
	}
	return jobs
}

// num is a float64 that JSON encodes as null when it is NaN or infinite
// (and decodes null as NaN): a quantity that could not be measured, or that
// overflowed, on a run whose network diverged.
type num float64

// nan is the value of a quantity that was not measured.
var nan = num(math.NaN())

// MarshalJSON encodes x as a JSON number, or null if it is not finite.
func (x num) MarshalJSON() ([]byte, error) {
	f := float64(x)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

// UnmarshalJSON decodes a JSON number, or null as NaN.
func (x *num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*x = nan
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*x = num(f)
	return nil
}

// String formats x for the CSV file: empty if not finite.
func (x num) String() string {
	f := float64(x)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return ""
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// depthRecord is one row of results.json and results.csv: one experiment.
// The JSON names are stable; README.md documents each field.
type depthRecord struct {
	Mixer               string `json:"mixer"`
	Depth               int    `json:"depth"`
	N                   int    `json:"n"`
	DType               string `json:"dtype"` // "float32" with -float32, else "float64"
	Params              int    `json:"params"`
	Outcome             string `json:"outcome"`
	Diverged            bool   `json:"diverged"`
	Reason              string `json:"reason"`
	StepsRun            int    `json:"steps_run"`
	FinalTrainLoss      num    `json:"final_train_loss"`
	TestLoss            num    `json:"test_loss"`
	TestAccuracy        num    `json:"test_accuracy"`
	WallSeconds         num    `json:"wall_seconds"`
	ForwardAmax         num    `json:"forward_amax"`
	BackwardAmax        num    `json:"backward_amax"`
	SampledForwardAmax  num    `json:"sampled_forward_amax"`
	SampledBackwardAmax num    `json:"sampled_backward_amax"`
	SigmaMin            num    `json:"sigma_min"`
	DistJ               num    `json:"dist_j"`
	EffectiveRank       num    `json:"effective_rank"`
	MaxDSDeviation      num    `json:"max_ds_deviation"`
	// CompositeDSDeviation and CompositeSphereError are the DS deviation
	// and |σ₁ − 1| of the composite Π_f(L) itself: the worst of the
	// token-averaged composite and the sampled tokens' own composites.
	CompositeDSDeviation num `json:"composite_ds_deviation"`
	CompositeSphereError num `json:"composite_sphere_error"`
	MaxSphereError       num `json:"max_sphere_error"`
	MaxGradNorm          num `json:"max_grad_norm"`
	// MaxGradNormAfterWarmup is the largest global gradient norm of the
	// steps after the warmup, and GradSpikeFactor that maximum over the
	// median of the same steps: the size of the worst spike, which the
	// maximum over all steps hides behind the large norms of the first few.
	MaxGradNormAfterWarmup num    `json:"max_grad_norm_after_warmup"`
	GradSpikeFactor        num    `json:"grad_spike_factor"`
	MaxLayerGradNorm       num    `json:"max_layer_grad_norm"`
	StepLog                string `json:"step_log"`
	// TrainDiagnostics are the composite gains and the worst DS deviation
	// of the training batch every DiagEvery steps; results.csv leaves them
	// out (they are not one value per experiment).
	TrainDiagnostics []depthTrainDiag `json:"train_diagnostics"`
}

// depthTrainDiag is one training-time measurement: net.Summary of the
// batch of step Step.
type depthTrainDiag struct {
	Step                int `json:"step"`
	ForwardAmax         num `json:"forward_amax"`
	BackwardAmax        num `json:"backward_amax"`
	SampledForwardAmax  num `json:"sampled_forward_amax"`
	SampledBackwardAmax num `json:"sampled_backward_amax"`
	MaxDSDeviation      num `json:"max_ds_deviation"`
}

// recordColumns are the columns of results.csv, in the order of the JSON
// fields of depthRecord (all but train_diagnostics), with the cell of each.
var recordColumns = []column[depthRecord]{
	{"mixer", func(r *depthRecord) string { return r.Mixer }},
	{"depth", func(r *depthRecord) string { return strconv.Itoa(r.Depth) }},
	{"n", func(r *depthRecord) string { return strconv.Itoa(r.N) }},
	{"dtype", func(r *depthRecord) string { return r.DType }},
	{"params", func(r *depthRecord) string { return strconv.Itoa(r.Params) }},
	{"outcome", func(r *depthRecord) string { return r.Outcome }},
	{"diverged", func(r *depthRecord) string { return strconv.FormatBool(r.Diverged) }},
	{"reason", func(r *depthRecord) string { return r.Reason }},
	{"steps_run", func(r *depthRecord) string { return strconv.Itoa(r.StepsRun) }},
	{"final_train_loss", func(r *depthRecord) string { return r.FinalTrainLoss.String() }},
	{"test_loss", func(r *depthRecord) string { return r.TestLoss.String() }},
	{"test_accuracy", func(r *depthRecord) string { return r.TestAccuracy.String() }},
	{"wall_seconds", func(r *depthRecord) string { return r.WallSeconds.String() }},
	{"forward_amax", func(r *depthRecord) string { return r.ForwardAmax.String() }},
	{"backward_amax", func(r *depthRecord) string { return r.BackwardAmax.String() }},
	{"sampled_forward_amax", func(r *depthRecord) string { return r.SampledForwardAmax.String() }},
	{"sampled_backward_amax", func(r *depthRecord) string { return r.SampledBackwardAmax.String() }},
	{"sigma_min", func(r *depthRecord) string { return r.SigmaMin.String() }},
	{"dist_j", func(r *depthRecord) string { return r.DistJ.String() }},
	{"effective_rank", func(r *depthRecord) string { return r.EffectiveRank.String() }},
	{"max_ds_deviation", func(r *depthRecord) string { return r.MaxDSDeviation.String() }},
	{"composite_ds_deviation", func(r *depthRecord) string { return r.CompositeDSDeviation.String() }},
	{"composite_sphere_error", func(r *depthRecord) string { return r.CompositeSphereError.String() }},
	{"max_sphere_error", func(r *depthRecord) string { return r.MaxSphereError.String() }},
	{"max_grad_norm", func(r *depthRecord) string { return r.MaxGradNorm.String() }},
	{"max_grad_norm_after_warmup", func(r *depthRecord) string { return r.MaxGradNormAfterWarmup.String() }},
	{"grad_spike_factor", func(r *depthRecord) string { return r.GradSpikeFactor.String() }},
	{"max_layer_grad_norm", func(r *depthRecord) string { return r.MaxLayerGradNorm.String() }},
	{"step_log", func(r *depthRecord) string { return r.StepLog }},
}

// depthLayers are the per-block diagnostics of a trained network, indexed
// by block l−1 for l = 1..L.
type depthLayers struct {
	// ForwardAmax[l−1] is the forward Amax of Π_f(l) = H̄_l···H̄_1 and
	// BackwardAmax[l−1] the backward Amax of Π_b(l) = H̄_L···H̄_l, on the
	// token-averaged matrices H̄.
	ForwardAmax  []num `json:"forward_amax"`
	BackwardAmax []num `json:"backward_amax"`
	// IdentityDist is ‖H̄_l − I‖_F/√(n−1) (0 when n = 1).
	IdentityDist []num `json:"identity_dist"`
	// DSDeviation and SphereError are the worst over single tokens.
	DSDeviation []num `json:"ds_deviation"`
	SphereError []num `json:"sphere_error"`
	// GradNorm is ‖∂L/∂X_l‖_F at the last training step.
	GradNorm []num `json:"grad_norm"`
	// Res[l−1] is H̄_l, n×n row-major.
	Res [][]num `json:"res"`
}

// depthRun is the run file of one finished experiment: its key, its row of
// the results, its per-step batch losses and gradient norms and its
// per-block diagnostics.
type depthRun struct {
	Key      depthKey    `json:"key"`
	Record   depthRecord `json:"record"`
	Loss     []num       `json:"loss"`
	GradNorm []num       `json:"grad_norm"` // global, before clipping
	Layers   depthLayers `json:"layers"`
	// StepLogSHA256 is the SHA-256 of the step log's bytes, and SHA256 that
	// of this run file's content with SHA256 empty (see encodeRun).
	StepLogSHA256 string `json:"step_log_sha256"`
	SHA256        string `json:"sha256"`
	// log is the training's step log, written by saveRun; a loaded run
	// does not have it.
	log []net.StepLog
}

// runExperiment trains and measures one experiment. It returns nil and no
// error if ctx was cancelled before the training finished: such a run is
// not recorded. A divergence is a result (Record.Diverged), not an error.
func runExperiment(ctx context.Context, key depthKey, train, test *net.Dataset, afterStep func(step int)) (*depthRun, error) {
	if ctx.Err() != nil {
		return nil, nil
	}
	start := time.Now()
	model, err := net.NewModel(net.Config{Mixer: key.Mixer, N: key.N, Width: key.Width, Depth: key.Depth,
		Hidden: key.Hidden, Seed: key.Seed, Float32: key.Float32})
	if err != nil {
		return nil, err
	}
	tr, err := net.NewTrainer(model, train, net.TrainConfig{Steps: key.Steps, Batch: key.Batch, LR: key.LR,
		MinLR: key.MinLR, Warmup: key.Warmup, WeightDecay: key.WeightDecay, Seed: key.Seed, Subset: key.Train,
		SummaryEvery: key.DiagEvery, DiagSamples: key.DiagSamples})
	if err != nil {
		return nil, err
	}
	var progress func(net.StepLog)
	if afterStep != nil {
		progress = func(s net.StepLog) { afterStep(s.Step) }
	}
	res, err := tr.Run(ctx, progress)
	if err != nil {
		return nil, err
	}
	if res.Outcome == net.Stopped {
		return nil, nil
	}

	r := &depthRun{Key: key}
	rec := &r.Record
	dtype := dtypeName(key.Float32)
	*rec = depthRecord{Mixer: key.Mixer, Depth: key.Depth, N: key.N, DType: dtype, Params: model.NumParams(),
		Outcome: res.Outcome.String(), Diverged: res.Outcome == net.Diverged, Reason: res.Reason,
		StepsRun: res.Steps, FinalTrainLoss: nan, TestLoss: nan, TestAccuracy: nan,
		StepLog: stepLogName(key)}
	log := tr.Log()
	r.log = log
	maxGrad := 0.0
	r.Loss, r.GradNorm = make([]num, 0, len(log)), make([]num, 0, len(log))
	for _, s := range log {
		r.Loss = append(r.Loss, num(s.Loss))
		r.GradNorm = append(r.GradNorm, num(s.GradNorm))
		maxGrad = math.Max(maxGrad, s.GradNorm)
	}
	rec.MaxGradNormAfterWarmup, rec.GradSpikeFactor = gradSpike(r.GradNorm, key.Warmup)
	rec.TrainDiagnostics = make([]depthTrainDiag, 0, len(tr.Summaries()))
	for _, s := range tr.Summaries() {
		rec.TrainDiagnostics = append(rec.TrainDiagnostics, depthTrainDiag{Step: s.Step,
			ForwardAmax: num(s.ForwardAmax), BackwardAmax: num(s.BackwardAmax),
			SampledForwardAmax: num(s.SampledForwardAmax), SampledBackwardAmax: num(s.SampledBackwardAmax),
			MaxDSDeviation: num(s.MaxDSDeviation)})
	}
	if len(log) > 0 {
		var sum float64
		tail := log[max(0, len(log)-depthLossWindow):]
		for _, s := range tail {
			sum += s.Loss
		}
		rec.FinalTrainLoss = num(sum / float64(len(tail)))
		rec.MaxGradNorm = num(maxGrad)
	} else {
		rec.MaxGradNorm = nan
	}

	// A network that no longer computes finite outputs has no test score
	// and no diagnostics: they stay NaN (null in JSON).
	loss, acc, err := model.Evaluate(test, depthEvalBatch)
	switch {
	case errors.Is(err, net.ErrNonFinite):
	case err != nil:
		return nil, err
	default:
		rec.TestLoss, rec.TestAccuracy = num(loss), num(acc)
	}
	diagRows := key.DiagBatch
	diagX := make([]float64, diagRows*test.Dim)
	test.Rows(diagX, 0, diagRows)
	_, err = model.Logits(diagX, diagRows)
	switch {
	case errors.Is(err, net.ErrNonFinite):
		setDiagnostics(r, nil)
	case err != nil:
		return nil, err
	default:
		d := model.Diagnose(key.DiagSamples)
		setDiagnostics(r, &d)
	}
	rec.WallSeconds = num(time.Since(start).Seconds())
	return r, nil
}

// gradSpike returns the largest of the gradient norms g (g[s−1] is step
// s's) of the steps after the first warmup, and that maximum over their
// median; both NaN when no step after the warmup ran. A zero median (a
// network whose gradient vanished) gives an infinite or NaN factor, encoded
// null.
func gradSpike(g []num, warmup int) (maxNorm, factor num) {
	if warmup >= len(g) {
		return nan, nan
	}
	v := make([]float64, 0, len(g)-warmup)
	for _, x := range g[warmup:] {
		v = append(v, float64(x))
	}
	slices.Sort(v)
	k := len(v) / 2
	median := v[k]
	if len(v)%2 == 0 {
		median = (v[k-1] + v[k]) / 2
	}
	top := v[len(v)-1]
	return num(top), num(top / median)
}

// setDiagnostics fills the diagnostic fields of r from d, or with NaN if d
// is nil.
func setDiagnostics(r *depthRun, d *net.Diagnostics) {
	rec, L := &r.Record, r.Key.Depth
	lay := &r.Layers
	for _, s := range []*[]num{&lay.ForwardAmax, &lay.BackwardAmax, &lay.IdentityDist, &lay.DSDeviation, &lay.SphereError, &lay.GradNorm} {
		*s = make([]num, L)
	}
	lay.Res = make([][]num, L)
	if d == nil {
		for _, f := range []*num{&rec.ForwardAmax, &rec.BackwardAmax, &rec.SampledForwardAmax, &rec.SampledBackwardAmax,
			&rec.SigmaMin, &rec.DistJ, &rec.EffectiveRank, &rec.MaxDSDeviation, &rec.MaxSphereError, &rec.MaxLayerGradNorm,
			&rec.CompositeDSDeviation, &rec.CompositeSphereError} {
			*f = nan
		}
		for _, s := range []*[]num{&lay.ForwardAmax, &lay.BackwardAmax, &lay.IdentityDist, &lay.DSDeviation, &lay.SphereError, &lay.GradNorm} {
			for l := range *s {
				(*s)[l] = nan
			}
		}
		for l := range lay.Res {
			lay.Res[l] = []num{}
		}
		return
	}
	c := &d.Composite
	rec.ForwardAmax, rec.BackwardAmax = num(c.Mean.ForwardAmax), num(c.Mean.BackwardAmax)
	rec.SampledForwardAmax, rec.SampledBackwardAmax = num(c.Sampled.ForwardAmax), num(c.Sampled.BackwardAmax)
	rec.SigmaMin, rec.DistJ, rec.EffectiveRank = num(c.Mean.SigmaMin), num(c.Mean.DistJ), num(c.Mean.EffectiveRank)
	rec.CompositeDSDeviation = num(math.Max(c.Mean.DSDeviation, c.SampledMaxDSDeviation))
	rec.CompositeSphereError = num(math.Max(math.Abs(c.Mean.Sigma1-1), c.SampledMaxSphereError))
	var maxDS, maxSphere, maxGrad float64
	for l, ls := range d.Layers {
		lay.ForwardAmax[l], lay.BackwardAmax[l] = num(c.ForwardAmax[l]), num(c.BackwardAmax[l])
		lay.IdentityDist[l] = num(ls.Mean.IdentityDist)
		lay.DSDeviation[l], lay.SphereError[l] = num(ls.MaxDSDeviation), num(ls.MaxSphereError)
		lay.GradNorm[l] = num(ls.GradNorm)
		lay.Res[l] = make([]num, len(ls.Res))
		for k, v := range ls.Res {
			lay.Res[l][k] = num(v)
		}
		// math.Max propagates a NaN, so an unmeasurable layer shows.
		maxDS, maxSphere = math.Max(maxDS, ls.MaxDSDeviation), math.Max(maxSphere, ls.MaxSphereError)
		maxGrad = math.Max(maxGrad, ls.GradNorm)
	}
	rec.MaxDSDeviation, rec.MaxSphereError, rec.MaxLayerGradNorm = num(maxDS), num(maxSphere), num(maxGrad)
}

// saveRun writes the step log and then the run file of r under dir/runs,
// each atomically. The run file comes last: its presence marks the
// experiment finished, and the step log it names is already complete.
func saveRun(dir string, r *depthRun) error {
	var csv bytes.Buffer
	csv.WriteString("step,loss,accuracy,grad_norm,lr\n")
	for _, s := range r.log {
		fmt.Fprintf(&csv, "%d,%s,%s,%s,%s\n", s.Step, num(s.Loss), num(s.Accuracy), num(s.GradNorm), num(s.LR))
	}
	r.StepLogSHA256 = sha256Hex(csv.Bytes())
	b, err := encodeRun(r)
	if err != nil {
		return err
	}
	// The log first: a run file is only valid with the log it names.
	if err := writeAtomic(filepath.Join(dir, r.Record.StepLog), csv.Bytes()); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, runsDir, r.Key.name()+".json"), b)
}

// maxRunFile bounds what loadRun reads of a run or step-log file: far above
// any real one (a run of 10⁶ steps logs ≈ 60 MB).
const maxRunFile = 1 << 30

// loadRun returns the saved run of key under dir if there is one whose key
// equals key and whose checksums (its own and its step log's) match. A
// missing or stale run file means the experiment must run again (ok false,
// reason ""); one that is unreadable, edited or corrupt too, and reason
// says why.
func loadRun(dir string, key depthKey) (r *depthRun, ok bool, reason string) {
	return resumable(readRun(dir, key))
}

// readRun reads and verifies the run file of key under dir as
// readSealed does, and checks that it has key.Depth layers.
func readRun(dir string, key depthKey) (r *depthRun, file, log []byte, err error) {
	r, file, log, err = readSealed(dir, key.name(), func(r *depthRun) bool { return r.Key == key })
	if err == nil && len(r.Layers.Res) != key.Depth {
		return nil, nil, nil, fmt.Errorf("%s: %d layers, want %d", filepath.Join(dir, runsDir, key.name()+".json"), len(r.Layers.Res), key.Depth)
	}
	return r, file, log, err
}
