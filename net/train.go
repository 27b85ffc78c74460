package net

import (
	"context"
	"errors"
	"fmt"
	"math"
)

// ErrDiverged is wrapped by the error Trainer.Step returns once the run has
// diverged: a NaN or infinite loss, activation, coefficient or gradient
// norm, or a loss above TrainConfig.MaxLoss. The step that diverges applies
// no update.
var ErrDiverged = errors.New("net: training diverged")

// Defaults applied by NewTrainer to zero fields of TrainConfig.
const (
	DefaultBatch    = 64
	DefaultLR       = 2e-3
	DefaultClipNorm = 1.0
	// DefaultMaxLoss is the loss above which a run counts as blown up:
	// cross-entropy over 10 classes starts near ln 10 ≈ 2.3, and a mean
	// loss of 100 means logits off by about 100 on every example.
	DefaultMaxLoss = 100.0
	// DefaultDiagSamples is how many tokens' own composites a recorded
	// Diagnostics averages over.
	DefaultDiagSamples = 16
)

// TrainConfig configures a Trainer. Steps is required; LR, Batch,
// ClipNorm, MaxLoss and DiagSamples take their defaults when zero; every
// other field means exactly its value (0 warmup steps, 0 weight decay, …).
type TrainConfig struct {
	// Steps is the number of optimiser updates of the run (≥ 1).
	Steps int `json:"steps"`
	// Batch is the mini-batch size; 0 means DefaultBatch.
	Batch int `json:"batch"`
	// LR is the peak learning rate; 0 means DefaultLR.
	LR float64 `json:"lr"`
	// MinLR is the learning rate the linear decay reaches at the last step.
	MinLR float64 `json:"min_lr"`
	// Warmup is the number of linear warmup steps.
	Warmup int `json:"warmup"`
	// WeightDecay is AdamW's decoupled decay, applied to the Linear weights
	// and the mixers' dynamic projections only (Params with NoDecay unset).
	WeightDecay float64 `json:"weight_decay"`
	// ClipNorm is the global gradient-norm clip; 0 means DefaultClipNorm,
	// a negative value disables clipping.
	ClipNorm float64 `json:"clip_norm"`
	// Seed seeds the Batcher that deals the mini-batches.
	Seed uint64 `json:"seed"`
	// Subset trains on the first Subset examples; 0 means all of them.
	Subset int `json:"subset"`
	// MaxLoss is the batch loss above which the run has diverged;
	// 0 means DefaultMaxLoss.
	MaxLoss float64 `json:"max_loss"`
	// DiagEvery records the model's Diagnostics every DiagEvery steps
	// (and after the last); 0 records none.
	DiagEvery int `json:"diag_every"`
	// DiagSamples is the samples argument of those Diagnose calls and of
	// the Summarize calls of SummaryEvery; 0 means DefaultDiagSamples.
	DiagSamples int `json:"diag_samples"`
	// SummaryEvery records the model's Summary (composite gains and the
	// worst DS deviation, at about a hundredth of Diagnose's cost) every
	// SummaryEvery steps (and after the last); 0 records none.
	SummaryEvery int `json:"summary_every"`
}

// withDefaults fills in the zero fields of cfg and validates it.
func (cfg TrainConfig) withDefaults() (TrainConfig, error) {
	if cfg.Batch == 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.LR == 0 {
		cfg.LR = DefaultLR
	}
	if cfg.ClipNorm == 0 {
		cfg.ClipNorm = DefaultClipNorm
	}
	if cfg.MaxLoss == 0 {
		cfg.MaxLoss = DefaultMaxLoss
	}
	if cfg.DiagSamples == 0 {
		cfg.DiagSamples = DefaultDiagSamples
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	bad := func(field string, v any, want string) (TrainConfig, error) {
		return TrainConfig{}, fmt.Errorf("net: train config: %s = %v, want %s: %w", field, v, want, ErrConfig)
	}
	switch {
	case cfg.Steps < 1:
		return bad("Steps", cfg.Steps, "≥ 1")
	case cfg.Batch < 1:
		return bad("Batch", cfg.Batch, "≥ 1")
	case !(cfg.LR > 0) || !finite(cfg.LR):
		return bad("LR", cfg.LR, "positive and finite")
	case !(cfg.MinLR >= 0) || !finite(cfg.MinLR):
		return bad("MinLR", cfg.MinLR, "≥ 0 and finite")
	case cfg.Warmup < 0:
		return bad("Warmup", cfg.Warmup, "≥ 0")
	case !(cfg.WeightDecay >= 0) || !finite(cfg.WeightDecay):
		return bad("WeightDecay", cfg.WeightDecay, "≥ 0 and finite")
	case !finite(cfg.ClipNorm):
		return bad("ClipNorm", cfg.ClipNorm, "finite")
	case cfg.Subset < 0:
		return bad("Subset", cfg.Subset, "≥ 0")
	case !(cfg.MaxLoss > 0) || !finite(cfg.MaxLoss):
		return bad("MaxLoss", cfg.MaxLoss, "positive and finite")
	case cfg.DiagEvery < 0:
		return bad("DiagEvery", cfg.DiagEvery, "≥ 0")
	case cfg.DiagSamples < 0:
		return bad("DiagSamples", cfg.DiagSamples, "≥ 0")
	case cfg.SummaryEvery < 0:
		return bad("SummaryEvery", cfg.SummaryEvery, "≥ 0")
	}
	return cfg, nil
}

// StepLog is the record of one update.
type StepLog struct {
	Step     int     `json:"step"`      // 1-based index of the update
	Loss     float64 `json:"loss"`      // mean cross-entropy of the batch
	Accuracy float64 `json:"accuracy"`  // fraction of the batch classified correctly
	GradNorm float64 `json:"grad_norm"` // global gradient norm before clipping
	LR       float64 `json:"lr"`        // learning rate of the update
}

// DiagRecord is a Diagnostics taken after the update Step.
type DiagRecord struct {
	Step int // the number of updates applied when it was taken
	Diagnostics
}

// SummaryRecord is a Summary of the batch of the update Step, taken after
// that update.
type SummaryRecord struct {
	Step int `json:"step"` // the number of updates applied when it was taken
	Summary
}

// Outcome is how a run ended.
type Outcome int

// Outcomes of Trainer.Run.
const (
	Completed Outcome = iota // every step ran
	Diverged                 // the run diverged (see ErrDiverged) and stopped
	Stopped                  // the context was cancelled between two steps
)

// String returns "completed", "diverged" or "stopped".
func (o Outcome) String() string {
	switch o {
	case Completed:
		return "completed"
	case Diverged:
		return "diverged"
	case Stopped:
		return "stopped"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Result summarises a run.
type Result struct {
	// Outcome is how the run ended.
	Outcome Outcome
	// Steps is the number of updates applied so far, including those of
	// earlier runs of a resumed Trainer.
	Steps int
	// Reason says why the run diverged; empty otherwise.
	Reason string
}

// Trainer trains a Model on a Dataset with AdamW, a warmup-then-linear-decay
// Schedule and gradient clipping. With the same Model seed, TrainConfig and
// data a run is bit-for-bit repeatable on one machine, and a run saved with
// Save and continued by Resume reproduces the uninterrupted run exactly.
type Trainer struct {
	model    *Model
	cfg      TrainConfig
	data     *Dataset
	opt      *AdamW
	opt32    *adamW32 // the float32 parameters of a Config.Float32 model; nil otherwise
	sched    Schedule
	batcher  *Batcher
	x        []float64
	y        []int
	log      []StepLog
	diags    []DiagRecord
	sums     []SummaryRecord
	diverged error
}

// NewTrainer returns a Trainer for m on the first cfg.Subset examples of
// train. Errors wrap ErrConfig and name the field: a bad TrainConfig, data
// whose dimension is not the model's Inputs, a Dataset whose slices do not
// hold N examples, or an empty training set.
func NewTrainer(m *Model, train *Dataset, cfg TrainConfig) (*Trainer, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if train == nil || train.Dim != m.cfg.Inputs {
		dim := 0
		if train != nil {
			dim = train.Dim
		}
		return nil, fmt.Errorf("net: trainer: data dimension %d, want the model's Inputs = %d: %w", dim, m.cfg.Inputs, ErrConfig)
	}
	if err := train.check(); err != nil {
		return nil, fmt.Errorf("net: trainer: %w: %w", err, ErrConfig)
	}
	data := train
	if cfg.Subset > 0 {
		data = train.Subset(cfg.Subset)
	}
	if data.N < 1 {
		return nil, fmt.Errorf("net: trainer: no training examples: %w", ErrConfig)
	}
	opt, err := NewAdamW(m.Params(), AdamWConfig{WeightDecay: cfg.WeightDecay})
	if err != nil {
		return nil, err
	}
	var opt32 *adamW32
	if m.f32 != nil {
		opt32 = newAdamW32(&m.f32.arena, opt.Config())
	}
	b := min(cfg.Batch, data.N)
	return &Trainer{
		opt32:   opt32,
		model:   m,
		cfg:     cfg,
		data:    data,
		opt:     opt,
		sched:   Schedule{Peak: cfg.LR, Min: cfg.MinLR, Warmup: cfg.Warmup, Total: cfg.Steps},
		batcher: NewBatcher(data.N, cfg.Batch, cfg.Seed),
		x:       make([]float64, b*data.Dim),
		y:       make([]int, b),
		log:     make([]StepLog, 0, min(cfg.Steps, 1<<16)),
	}, nil
}

// Model returns the model being trained.
func (t *Trainer) Model() *Model { return t.model }

// Config returns the training configuration, defaults filled in.
func (t *Trainer) Config() TrainConfig { return t.cfg }

// Steps returns the number of updates applied.
func (t *Trainer) Steps() int { return t.opt.Steps() }

// Log returns the records of the updates applied by this Trainer value
// (not those before a Resume). The slice is the Trainer's own.
func (t *Trainer) Log() []StepLog { return t.log }

// Diagnostics returns the Diagnostics recorded every DiagEvery steps.
func (t *Trainer) Diagnostics() []DiagRecord { return t.diags }

// Summaries returns the Summaries recorded every SummaryEvery steps by this
// Trainer value. The slice is the Trainer's own.
func (t *Trainer) Summaries() []SummaryRecord { return t.sums }

// Step draws the next mini-batch, runs forward and backward, clips the
// gradients and applies one AdamW update. It returns the step's record.
// When the run diverges it applies no update, records why, and returns an
// error wrapping ErrDiverged, as it does on every later call. Other errors
// (a label out of range) wrap ErrLabel.
func (t *Trainer) Step() (StepLog, error) {
	if t.diverged != nil {
		return StepLog{}, t.diverged
	}
	idx := t.batcher.Next()
	r := len(idx)
	x, y := t.x[:r*t.data.Dim], t.y[:r]
	t.data.Gather(x, y, idx)
	step := t.opt.Steps() + 1
	loss, correct, err := t.model.Forward(x, y)
	switch {
	case errors.Is(err, ErrNonFinite):
		return StepLog{}, t.diverge(step, err.Error())
	case err != nil:
		return StepLog{}, fmt.Errorf("net: step %d: %w", step, err)
	case loss > t.cfg.MaxLoss:
		return StepLog{}, t.diverge(step, fmt.Sprintf("loss %.4g above MaxLoss %g", loss, t.cfg.MaxLoss))
	}
	t.opt.ZeroGrad()
	if t.opt32 != nil {
		t.opt32.zeroGrad()
	}
	t.model.Backward()
	gn, scale32 := t.clip()
	if math.IsNaN(gn) || math.IsInf(gn, 0) {
		return StepLog{}, t.diverge(step, fmt.Sprintf("gradient norm %v", gn))
	}
	lr := t.sched.LR(t.opt.Steps())
	// gn is finite, so is every gradient: AdamW need not scan them again.
	if err := t.opt.update(lr, true); err != nil {
		return StepLog{}, t.diverge(step, err.Error())
	}
	if t.opt32 != nil {
		t.opt32.stepScaled(lr, scale32)
	}
	rec := StepLog{Step: step, Loss: loss, Accuracy: float64(correct) / float64(r), GradNorm: gn, LR: lr}
	t.log = append(t.log, rec)
	if e := t.cfg.DiagEvery; e > 0 && (step%e == 0 || step == t.cfg.Steps) {
		t.diags = append(t.diags, DiagRecord{Step: step, Diagnostics: t.model.Diagnose(t.cfg.DiagSamples)})
	}
	if e := t.cfg.SummaryEvery; e > 0 && (step%e == 0 || step == t.cfg.Steps) {
		t.sums = append(t.sums, SummaryRecord{Step: step, Summary: t.model.Summarize(t.cfg.DiagSamples)})
	}
	return rec, nil
}

// clip clips the global gradient norm to ClipNorm and returns the norm
// before clipping and the float32 gradients' factor (see clipGrads).
func (t *Trainer) clip() (norm, scale32 float64) {
	return clipGrads(t.model.Params(), t.opt32, t.cfg.ClipNorm)
}

// diverge records the divergence of step and returns its error.
func (t *Trainer) diverge(step int, reason string) error {
	t.diverged = fmt.Errorf("net: step %d: %s: %w", step, reason, ErrDiverged)
	return t.diverged
}

// Run steps until Steps updates have been applied in all, the run
// diverges, or ctx is cancelled (checked between steps), and reports which
// in the Result. After each update it calls progress, unless nil, with the
// step's record. A divergence is an outcome, not an error: the returned
// error is non-nil only for failures that are not the network's (a label
// out of range).
func (t *Trainer) Run(ctx context.Context, progress func(StepLog)) (Result, error) {
	return runSteps(ctx, t.cfg.Steps, t.opt, t.Step, progress)
}

// runSteps is the loop of Trainer.Run and LMTrainer.Run: it calls step
// until opt has applied total updates, a step diverges (ErrDiverged: an
// outcome, not an error) or ctx is cancelled (checked between steps), and
// hands each record to progress unless it is nil.
func runSteps[R any](ctx context.Context, total int, opt *AdamW, step func() (R, error), progress func(R)) (Result, error) {
	for opt.Steps() < total {
		if ctx.Err() != nil {
			return Result{Outcome: Stopped, Steps: opt.Steps()}, nil
		}
		rec, err := step()
		if errors.Is(err, ErrDiverged) {
			return Result{Outcome: Diverged, Steps: opt.Steps(), Reason: err.Error()}, nil
		}
		if err != nil {
			return Result{Steps: opt.Steps()}, err
		}
		if progress != nil {
			progress(rec)
		}
	}
	return Result{Outcome: Completed, Steps: opt.Steps()}, nil
}
