package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"time"

	"github.com/hyperconn/hyperconn/net"
)

// lmKey identifies an LM experiment: the mixer, depth, learning rate, seed
// and every other setting that can change its result, the text's SHA-256
// included. -resume reuses a saved run only if its key equals the key the
// current flags give, field for field.
type lmKey struct {
	Format      int     `json:"format"` // lmFormat
	Mixer       string  `json:"mixer"`
	Depth       int     `json:"depth"` // blocks L
	LR          float64 `json:"lr"`
	Seed        uint64  `json:"seed"`
	N           int     `json:"n"` // streams (1 for residual, whatever -n says)
	Width       int     `json:"width"`
	Heads       int     `json:"heads"`
	Hidden      int     `json:"hidden"`
	Seq         int     `json:"seq"`
	Vocab       int     `json:"vocab"`
	Steps       int     `json:"steps"`
	Batch       int     `json:"batch"`
	Warmup      int     `json:"warmup"`
	MinLR       float64 `json:"min_lr"`
	WeightDecay float64 `json:"weight_decay"`
	ClipNorm    float64 `json:"clip_norm"`
	EvalEvery   int     `json:"eval_every"`
	EvalTokens  int     `json:"eval_tokens"`
	Valid       float64 `json:"valid"`       // validation share of the text
	TextSHA256  string  `json:"text_sha256"` // of the text's bytes
	Float32     bool    `json:"float32"`
	DiagEvery   int     `json:"diag_every"` // training-time summaries every k steps (0: none)
	DiagSamples int     `json:"diag_samples"`
}

// name is the base name of the experiment's files under runsDir.
func (k lmKey) name() string {
	return fmt.Sprintf("lm_%s_L%d_lr%s_s%d", k.Mixer, k.Depth, strconv.FormatFloat(k.LR, 'g', -1, 64), k.Seed)
}

// lmJobs returns the experiments of cfg in report order: mixer by mixer
// (in the order of net.MixerNames), then depth, learning rate and seed,
// each ascending. vocab is the corpus's vocabulary size.
func lmJobs(cfg *lmConfig, vocab int) []lmKey {
	var jobs []lmKey
	for _, m := range cfg.Mixers {
		n := cfg.N
		if m == net.MixerResidual {
			n = 1
		}
		for _, d := range cfg.Depths {
			for _, lr := range cfg.LRs {
				for _, s := range cfg.Seeds {
					jobs = append(jobs, lmKey{Format: lmFormat, Mixer: m, Depth: d, LR: lr, Seed: uint64(s), N: n,
						Width: cfg.Width, Heads: cfg.Heads, Hidden: lmHidden, Seq: cfg.Seq, Vocab: vocab,
						Steps: cfg.Steps, Batch: cfg.Batch, Warmup: cfg.Warmup, MinLR: lr / lmMinLRFrac,
						WeightDecay: lmWeightDecay, ClipNorm: lmClipNorm, EvalEvery: cfg.EvalEvery,
						EvalTokens: cfg.EvalTokens, Valid: cfg.Valid, TextSHA256: cfg.TextSHA256,
						Float32: cfg.Float32, DiagEvery: cfg.DiagEvery, DiagSamples: lmDiagSamples})
				}
			}
		}
	}
	return jobs
}

// lmRecord is one row of results.json and results.csv: one experiment.
// Losses are in nats per character (byte); the README documents each field.
type lmRecord struct {
	Mixer          string  `json:"mixer"`
	Depth          int     `json:"depth"`
	N              int     `json:"n"`
	LR             float64 `json:"lr"`
	Seed           uint64  `json:"seed"`
	DType          string  `json:"dtype"`
	Params         int     `json:"params"`
	Outcome        string  `json:"outcome"`
	Diverged       bool    `json:"diverged"`
	DivergedStep   int     `json:"diverged_step"` // the step that diverged; 0 if none did
	Reason         string  `json:"reason"`
	StepsRun       int     `json:"steps_run"`
	FinalTrainLoss num     `json:"final_train_loss"` // mean batch loss of the last lmLossWindow steps
	// FinalValidLoss is the validation loss after the last step (null if
	// the run diverged before it); BestValidLoss the lowest validation loss
	// of the run, taken after step BestValidStep.
	FinalValidLoss num `json:"final_valid_loss"`
	FinalValidBits num `json:"final_valid_bits"` // FinalValidLoss in bits per character
	BestValidLoss  num `json:"best_valid_loss"`
	BestValidStep  int `json:"best_valid_step"`
	// BelowBigram says whether FinalValidLoss is below the text's bigram
	// entropy H2 (false when it was not measured).
	BelowBigram bool `json:"below_bigram"`
	MaxGradNorm num  `json:"max_grad_norm"`
	// MaxGradNormAfterWarmup and GradSpikeFactor are depth's: the largest
	// global gradient norm after the warmup, and that over the median of
	// the same steps.
	MaxGradNormAfterWarmup num `json:"max_grad_norm_after_warmup"`
	GradSpikeFactor        num `json:"grad_spike_factor"`
	// The training-time diagnostics (net.LMSummary of the training batch
	// every DiagEvery steps and after the last; null without any): the
	// composite forward and backward Amax of H̄_2L···H̄_1 at the last
	// summary and their largest over training; the largest gain of any
	// prefix (forward) or suffix (backward) composite over training; the
	// worst per-token DS deviation of any sub-layer over training; and, at
	// the last summary, the mean identity distance ‖H̄_l − I‖_F/√(n−1) and
	// the utilisation of the last streams (effective number of streams,
	// dominant direction's share of the variance).
	FinalForwardAmax    num    `json:"final_forward_amax"`
	FinalBackwardAmax   num    `json:"final_backward_amax"`
	MaxForwardAmax      num    `json:"max_forward_amax"`
	MaxBackwardAmax     num    `json:"max_backward_amax"`
	MaxLayerForwardAmax num    `json:"max_layer_forward_amax"`
	MaxLayerBackward    num    `json:"max_layer_backward_amax"`
	MaxDSDeviation      num    `json:"max_ds_deviation"`
	IdentityDist        num    `json:"identity_dist"`
	EffectiveStreams    num    `json:"effective_streams"`
	DominantShare       num    `json:"dominant_share"`
	WallSeconds         num    `json:"wall_seconds"`
	TokensPerSecond     num    `json:"tokens_per_second"` // tokens trained over the whole wall time (validation included)
	StepLog             string `json:"step_log"`
	// Validation lists every validation loss taken; results.csv leaves it
	// out (it is not one value per experiment).
	Validation []lmEval `json:"validation"`
	// TrainDiagnostics lists the summaries themselves (JSON only).
	TrainDiagnostics []lmDiag `json:"train_diagnostics"`
}

// lmDiag is one training-time summary: net.LMSummary of the batch of step
// Step, its per-sub-layer curves indexed by sub-layer l = 1..2L.
type lmDiag struct {
	Step                int   `json:"step"`
	ForwardAmax         num   `json:"forward_amax"`
	BackwardAmax        num   `json:"backward_amax"`
	SampledForwardAmax  num   `json:"sampled_forward_amax"`
	SampledBackwardAmax num   `json:"sampled_backward_amax"`
	MaxForwardAmax      num   `json:"max_forward_amax"`
	MaxBackwardAmax     num   `json:"max_backward_amax"`
	MaxDSDeviation      num   `json:"max_ds_deviation"`
	IdentityDist        num   `json:"identity_dist"`
	EffectiveStreams    num   `json:"effective_streams"`
	DominantShare       num   `json:"dominant_share"`
	LayerForwardAmax    []num `json:"layer_forward_amax"`
	LayerBackwardAmax   []num `json:"layer_backward_amax"`
	LayerDSDeviation    []num `json:"layer_ds_deviation"`
	LayerIdentityDist   []num `json:"layer_identity_dist"`
}

// nums converts v to nums.
func nums(v []float64) []num {
	out := make([]num, len(v))
	for i, x := range v {
		out[i] = num(x)
	}
	return out
}

// newLMDiag converts a summary record.
func newLMDiag(s net.LMSummaryRecord) lmDiag {
	return lmDiag{Step: s.Step, ForwardAmax: num(s.ForwardAmax), BackwardAmax: num(s.BackwardAmax),
		SampledForwardAmax: num(s.SampledForwardAmax), SampledBackwardAmax: num(s.SampledBackwardAmax),
		MaxForwardAmax: num(s.MaxForwardAmax), MaxBackwardAmax: num(s.MaxBackwardAmax),
		MaxDSDeviation: num(s.MaxDSDeviation), IdentityDist: num(s.IdentityDist),
		EffectiveStreams: num(s.Utilisation.Effective), DominantShare: num(s.Utilisation.Dominant),
		LayerForwardAmax: nums(s.LayerForwardAmax), LayerBackwardAmax: nums(s.LayerBackwardAmax),
		LayerDSDeviation: nums(s.LayerDSDeviation), LayerIdentityDist: nums(s.LayerIdentityDist)}
}

// setDiagnostics fills the diagnostic fields of rec from its
// TrainDiagnostics, NaN without any. math.Max propagates a NaN, so a
// summary that could not be measured shows as null.
func (rec *lmRecord) setDiagnostics() {
	for _, f := range []*num{&rec.FinalForwardAmax, &rec.FinalBackwardAmax, &rec.MaxForwardAmax, &rec.MaxBackwardAmax,
		&rec.MaxLayerForwardAmax, &rec.MaxLayerBackward, &rec.MaxDSDeviation, &rec.IdentityDist,
		&rec.EffectiveStreams, &rec.DominantShare} {
		*f = nan
	}
	ds := rec.TrainDiagnostics
	if len(ds) == 0 {
		return
	}
	last := ds[len(ds)-1]
	rec.FinalForwardAmax, rec.FinalBackwardAmax = last.ForwardAmax, last.BackwardAmax
	rec.IdentityDist, rec.EffectiveStreams, rec.DominantShare = last.IdentityDist, last.EffectiveStreams, last.DominantShare
	mx := func(get func(d *lmDiag) num) num {
		m := math.Inf(-1)
		for i := range ds {
			m = math.Max(m, float64(get(&ds[i])))
		}
		return num(m)
	}
	rec.MaxForwardAmax = mx(func(d *lmDiag) num { return d.ForwardAmax })
	rec.MaxBackwardAmax = mx(func(d *lmDiag) num { return d.BackwardAmax })
	rec.MaxLayerForwardAmax = mx(func(d *lmDiag) num { return d.MaxForwardAmax })
	rec.MaxLayerBackward = mx(func(d *lmDiag) num { return d.MaxBackwardAmax })
	rec.MaxDSDeviation = mx(func(d *lmDiag) num { return d.MaxDSDeviation })
}

// lmEval is one validation loss, taken after step Step.
type lmEval struct {
	Step int `json:"step"`
	Loss num `json:"loss"`
}

// lmColumns are the columns of results.csv, in the order of the JSON
// fields of lmRecord (all but the lists).
var lmColumns = []column[lmRecord]{
	{"mixer", func(r *lmRecord) string { return r.Mixer }},
	{"depth", func(r *lmRecord) string { return strconv.Itoa(r.Depth) }},
	{"n", func(r *lmRecord) string { return strconv.Itoa(r.N) }},
	{"lr", func(r *lmRecord) string { return strconv.FormatFloat(r.LR, 'g', -1, 64) }},
	{"seed", func(r *lmRecord) string { return strconv.FormatUint(r.Seed, 10) }},
	{"dtype", func(r *lmRecord) string { return r.DType }},
	{"params", func(r *lmRecord) string { return strconv.Itoa(r.Params) }},
	{"outcome", func(r *lmRecord) string { return r.Outcome }},
	{"diverged", func(r *lmRecord) string { return strconv.FormatBool(r.Diverged) }},
	{"diverged_step", func(r *lmRecord) string { return strconv.Itoa(r.DivergedStep) }},
	{"reason", func(r *lmRecord) string { return r.Reason }},
	{"steps_run", func(r *lmRecord) string { return strconv.Itoa(r.StepsRun) }},
	{"final_train_loss", func(r *lmRecord) string { return r.FinalTrainLoss.String() }},
	{"final_valid_loss", func(r *lmRecord) string { return r.FinalValidLoss.String() }},
	{"final_valid_bits", func(r *lmRecord) string { return r.FinalValidBits.String() }},
	{"best_valid_loss", func(r *lmRecord) string { return r.BestValidLoss.String() }},
	{"best_valid_step", func(r *lmRecord) string { return strconv.Itoa(r.BestValidStep) }},
	{"below_bigram", func(r *lmRecord) string { return strconv.FormatBool(r.BelowBigram) }},
	{"max_grad_norm", func(r *lmRecord) string { return r.MaxGradNorm.String() }},
	{"max_grad_norm_after_warmup", func(r *lmRecord) string { return r.MaxGradNormAfterWarmup.String() }},
	{"grad_spike_factor", func(r *lmRecord) string { return r.GradSpikeFactor.String() }},
	{"final_forward_amax", func(r *lmRecord) string { return r.FinalForwardAmax.String() }},
	{"final_backward_amax", func(r *lmRecord) string { return r.FinalBackwardAmax.String() }},
	{"max_forward_amax", func(r *lmRecord) string { return r.MaxForwardAmax.String() }},
	{"max_backward_amax", func(r *lmRecord) string { return r.MaxBackwardAmax.String() }},
	{"max_layer_forward_amax", func(r *lmRecord) string { return r.MaxLayerForwardAmax.String() }},
	{"max_layer_backward_amax", func(r *lmRecord) string { return r.MaxLayerBackward.String() }},
	{"max_ds_deviation", func(r *lmRecord) string { return r.MaxDSDeviation.String() }},
	{"identity_dist", func(r *lmRecord) string { return r.IdentityDist.String() }},
	{"effective_streams", func(r *lmRecord) string { return r.EffectiveStreams.String() }},
	{"dominant_share", func(r *lmRecord) string { return r.DominantShare.String() }},
	{"wall_seconds", func(r *lmRecord) string { return r.WallSeconds.String() }},
	{"tokens_per_second", func(r *lmRecord) string { return r.TokensPerSecond.String() }},
	{"step_log", func(r *lmRecord) string { return r.StepLog }},
}

// lmRun is the run file of one finished LM experiment: its key, its row of
// the results and its per-step batch losses and gradient norms.
type lmRun struct {
	Key      lmKey    `json:"key"`
	Record   lmRecord `json:"record"`
	Loss     []num    `json:"loss"`
	GradNorm []num    `json:"grad_norm"` // global, before clipping
	// StepLogSHA256 is the SHA-256 of the step log's bytes, and SHA256 that
	// of this run file's content with SHA256 empty (see encodeRun).
	StepLogSHA256 string `json:"step_log_sha256"`
	SHA256        string `json:"sha256"`
	// log is the training's step log, written by saveLMRun; a loaded run
	// does not have it.
	log []net.LMStep
}

func (r *lmRun) checksums() (self, log *string) { return &r.SHA256, &r.StepLogSHA256 }
func (r *lmRun) stepLog() string                { return r.Record.StepLog }

// runLMExperiment trains one experiment on corpus. It returns nil and no
// error if ctx was cancelled before the training finished: such a run is
// not recorded. A divergence is a result (Record.Diverged), not an error.
// h2 is the corpus's bigram entropy, for Record.BelowBigram.
func runLMExperiment(ctx context.Context, key lmKey, corpus *net.Corpus, h2 float64, afterStep func(step int)) (*lmRun, error) {
	if ctx.Err() != nil {
		return nil, nil
	}
	start := time.Now()
	model, err := net.NewLM(net.LMConfig{Mixer: key.Mixer, N: key.N, Vocab: key.Vocab, Seq: key.Seq, Width: key.Width,
		Heads: key.Heads, Depth: key.Depth, Hidden: key.Hidden, Seed: key.Seed, Float32: key.Float32})
	if err != nil {
		return nil, err
	}
	tr, err := net.NewLMTrainer(model, corpus, net.LMTrainConfig{Steps: key.Steps, Batch: key.Batch, LR: key.LR,
		MinLR: key.MinLR, Warmup: key.Warmup, WeightDecay: key.WeightDecay, ClipNorm: key.ClipNorm, Seed: key.Seed,
		EvalEvery: key.EvalEvery, EvalTokens: key.EvalTokens, DiagEvery: key.DiagEvery, DiagSamples: key.DiagSamples})
	if err != nil {
		return nil, err
	}
	var progress func(net.LMStep)
	if afterStep != nil {
		progress = func(s net.LMStep) { afterStep(s.Step) }
	}
	res, err := tr.Run(ctx, progress)
	if err != nil {
		return nil, err
	}
	if res.Outcome == net.Stopped {
		return nil, nil
	}
	wall := time.Since(start).Seconds()

	r := &lmRun{Key: key, log: tr.Log()}
	rec := &r.Record
	dtype := dtypeName(key.Float32)
	*rec = lmRecord{Mixer: key.Mixer, Depth: key.Depth, N: key.N, LR: key.LR, Seed: key.Seed, DType: dtype,
		Params: model.NumParams(), Outcome: res.Outcome.String(), Diverged: res.Outcome == net.Diverged,
		Reason: res.Reason, StepsRun: res.Steps, FinalTrainLoss: nan, FinalValidLoss: nan, FinalValidBits: nan,
		BestValidLoss: nan, MaxGradNorm: nan, WallSeconds: num(wall),
		TokensPerSecond: num(float64(res.Steps*key.Batch*key.Seq) / wall),
		StepLog:         runsDir + "/" + key.name() + ".csv", Validation: []lmEval{}}
	if rec.Diverged {
		rec.DivergedStep = res.Steps + 1
	}
	log := tr.Log()
	r.Loss, r.GradNorm = make([]num, 0, len(log)), make([]num, 0, len(log))
	maxGrad := 0.0
	for _, s := range log {
		r.Loss = append(r.Loss, num(s.Loss))
		r.GradNorm = append(r.GradNorm, num(s.GradNorm))
		maxGrad = math.Max(maxGrad, s.GradNorm)
	}
	if len(log) > 0 {
		var sum float64
		tail := log[max(0, len(log)-lmLossWindow):]
		for _, s := range tail {
			sum += s.Loss
		}
		rec.FinalTrainLoss, rec.MaxGradNorm = num(sum/float64(len(tail))), num(maxGrad)
	}
	rec.MaxGradNormAfterWarmup, rec.GradSpikeFactor = gradSpike(r.GradNorm, key.Warmup)
	for _, e := range tr.Evals() {
		rec.Validation = append(rec.Validation, lmEval{Step: e.Step, Loss: num(e.Loss)})
		if !(e.Loss >= float64(rec.BestValidLoss)) { // the first, or lower (NaN compares false)
			rec.BestValidLoss, rec.BestValidStep = num(e.Loss), e.Step
		}
		if e.Step == key.Steps {
			rec.FinalValidLoss, rec.FinalValidBits = num(e.Loss), num(e.Loss/math.Ln2)
		}
	}
	rec.BelowBigram = float64(rec.FinalValidLoss) < h2
	rec.TrainDiagnostics = make([]lmDiag, 0, len(tr.Summaries()))
	for _, sr := range tr.Summaries() {
		rec.TrainDiagnostics = append(rec.TrainDiagnostics, newLMDiag(sr))
	}
	rec.setDiagnostics()
	return r, nil
}

// saveLMRun writes the step log and then the run file of r under dir/runs,
// each atomically. The run file comes last: its presence marks the
// experiment finished, and the step log it names is already complete.
func saveLMRun(dir string, r *lmRun) error {
	var csv bytes.Buffer
	csv.WriteString("step,loss,grad_norm,lr\n")
	for _, s := range r.log {
		fmt.Fprintf(&csv, "%d,%s,%s,%s\n", s.Step, num(s.Loss), num(s.GradNorm), num(s.LR))
	}
	r.StepLogSHA256 = sha256Hex(csv.Bytes())
	b, err := encodeRun(r)
	if err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(dir, r.Record.StepLog), csv.Bytes()); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, runsDir, r.Key.name()+".json"), b)
}

// loadLMRun returns the saved run of key under dir if there is one whose
// key equals key and whose checksums hold (see loadRunFile).
func loadLMRun(dir string, key lmKey) (*lmRun, bool, string) {
	return loadRunFile(dir, key.name(), func(r *lmRun) bool { return r.Key == key })
}
