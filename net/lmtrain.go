package net

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// Defaults applied by NewLMTrainer to zero fields of LMTrainConfig.
const (
	DefaultLMBatch = 16
	DefaultLMLR    = 3e-3
	// DefaultLMEvalTokens bounds the validation tokens scored by one
	// Validate: 16384 tokens give a validation loss whose sampling error
	// (≈ 2/√16384 relative) is below the differences worth reporting.
	DefaultLMEvalTokens = 1 << 14
)

// LMTrainConfig configures an LMTrainer. Steps is required; Batch, LR,
// ClipNorm, MaxLoss and EvalTokens take their defaults when zero; every
// other field means exactly its value.
type LMTrainConfig struct {
	Steps       int     `json:"steps"`        // optimiser updates (≥ 1)
	Batch       int     `json:"batch"`        // sequences per batch; 0 means DefaultLMBatch
	LR          float64 `json:"lr"`           // peak learning rate; 0 means DefaultLMLR
	MinLR       float64 `json:"min_lr"`       // rate the linear decay reaches at the last step
	Warmup      int     `json:"warmup"`       // linear warmup steps
	WeightDecay float64 `json:"weight_decay"` // AdamW's decoupled decay (Params with NoDecay unset)
	ClipNorm    float64 `json:"clip_norm"`    // global gradient-norm clip; 0 means DefaultClipNorm, < 0 none
	Seed        uint64  `json:"seed"`         // seeds the windows drawn for the batches
	MaxLoss     float64 `json:"max_loss"`     // batch loss above which the run diverged; 0 means DefaultMaxLoss
	EvalEvery   int     `json:"eval_every"`   // Validate every EvalEvery steps (and after the last); 0: after the last only
	EvalTokens  int     `json:"eval_tokens"`  // validation tokens per Validate; 0 means DefaultLMEvalTokens
	// DiagEvery records the model's LMSummary (composite gains, DS
	// deviations, identity distances, stream utilisation of the training
	// batch) every DiagEvery steps and after the last; 0 records none.
	DiagEvery int `json:"diag_every"`
	// DiagSamples is the samples argument of those Summarize calls; 0
	// means DefaultDiagSamples.
	DiagSamples int `json:"diag_samples"`
}

// withDefaults fills in the zero fields of cfg and validates it.
func (cfg LMTrainConfig) withDefaults() (LMTrainConfig, error) {
	if cfg.Batch == 0 {
		cfg.Batch = DefaultLMBatch
	}
	if cfg.LR == 0 {
		cfg.LR = DefaultLMLR
	}
	if cfg.ClipNorm == 0 {
		cfg.ClipNorm = DefaultClipNorm
	}
	if cfg.MaxLoss == 0 {
		cfg.MaxLoss = DefaultMaxLoss
	}
	if cfg.EvalTokens == 0 {
		cfg.EvalTokens = DefaultLMEvalTokens
	}
	if cfg.DiagSamples == 0 {
		cfg.DiagSamples = DefaultDiagSamples
	}
	bad := func(field string, v any, want string) (LMTrainConfig, error) {
		return LMTrainConfig{}, fmt.Errorf("net: lm trainer: %s = %v, want %s: %w", field, v, want, ErrConfig)
	}
	switch {
	case cfg.Steps < 1:
		return bad("Steps", cfg.Steps, "≥ 1")
	case cfg.Batch < 1:
		return bad("Batch", cfg.Batch, "≥ 1")
	case !(cfg.LR > 0) || math.IsInf(cfg.LR, 0):
		return bad("LR", cfg.LR, "positive and finite")
	case !(cfg.MinLR >= 0) || math.IsInf(cfg.MinLR, 0):
		return bad("MinLR", cfg.MinLR, "≥ 0 and finite")
	case cfg.Warmup < 0:
		return bad("Warmup", cfg.Warmup, "≥ 0")
	case !(cfg.WeightDecay >= 0) || math.IsInf(cfg.WeightDecay, 0):
		return bad("WeightDecay", cfg.WeightDecay, "≥ 0 and finite")
	case math.IsNaN(cfg.ClipNorm) || math.IsInf(cfg.ClipNorm, 0):
		return bad("ClipNorm", cfg.ClipNorm, "finite")
	case !(cfg.MaxLoss > 0) || math.IsInf(cfg.MaxLoss, 0):
		return bad("MaxLoss", cfg.MaxLoss, "positive and finite")
	case cfg.EvalEvery < 0:
		return bad("EvalEvery", cfg.EvalEvery, "≥ 0")
	case cfg.EvalTokens < 1:
		return bad("EvalTokens", cfg.EvalTokens, "≥ 1")
	case cfg.DiagEvery < 0:
		return bad("DiagEvery", cfg.DiagEvery, "≥ 0")
	case cfg.DiagSamples < 1:
		return bad("DiagSamples", cfg.DiagSamples, "≥ 1")
	}
	return cfg, nil
}

// LMStep is the record of one update of an LMTrainer.
type LMStep struct {
	Step     int     `json:"step"`      // 1-based index of the update
	Loss     float64 `json:"loss"`      // mean cross-entropy of the batch, nats per token
	GradNorm float64 `json:"grad_norm"` // global gradient norm before clipping
	LR       float64 `json:"lr"`        // learning rate of the update
}

// LMEval is a validation loss taken after the update Step.
type LMEval struct {
	Step int     `json:"step"`
	Loss float64 `json:"loss"` // nats per token
}

// LMTrainer trains an LM on a Corpus: batches of windows of Seq+1 tokens
// drawn uniformly from the training split by a PCG(Seed, 1) generator
// (inputs the first Seq tokens, targets the last Seq), AdamW with a
// warmup-then-linear-decay Schedule and global gradient clipping, and a
// validation loss over fixed, non-overlapping windows at the start of the
// validation split. A run is bit-for-bit repeatable on one machine.
type LMTrainer struct {
	model    *LM
	corpus   *Corpus
	cfg      LMTrainConfig
	opt      *AdamW
	opt32    *adamW32 // the float32 parameters of a Float32 LM; nil otherwise
	sched    Schedule
	rnd      *rand.Rand
	x, y     []byte
	log      []LMStep
	evals    []LMEval
	sums     []LMSummaryRecord
	diverged error
}

// NewLMTrainer returns a trainer of m on c. Errors wrap ErrConfig and name
// the problem: a bad LMTrainConfig, a corpus whose vocabulary is larger
// than the model's, or a split shorter than one window of Seq+1 tokens.
func NewLMTrainer(m *LM, c *Corpus, cfg LMTrainConfig) (*LMTrainer, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	mc := m.Config()
	switch {
	case len(c.Vocab) > mc.Vocab:
		return nil, fmt.Errorf("net: lm trainer: corpus vocabulary %d larger than the model's %d: %w", len(c.Vocab), mc.Vocab, ErrConfig)
	case len(c.Train) < mc.Seq+1:
		return nil, fmt.Errorf("net: lm trainer: training split of %d tokens is shorter than one window of Seq+1 = %d: %w", len(c.Train), mc.Seq+1, ErrConfig)
	case len(c.Valid) < mc.Seq+1:
		return nil, fmt.Errorf("net: lm trainer: validation split of %d tokens is shorter than one window of Seq+1 = %d: %w", len(c.Valid), mc.Seq+1, ErrConfig)
	}
	opt, err := NewAdamW(m.Params(), AdamWConfig{WeightDecay: cfg.WeightDecay})
	if err != nil {
		return nil, err
	}
	var opt32 *adamW32
	if m.arena != nil {
		opt32 = newAdamW32(m.arena, opt.Config())
	}
	rows := cfg.Batch * mc.Seq
	return &LMTrainer{
		model:  m,
		corpus: c,
		cfg:    cfg,
		opt:    opt,
		opt32:  opt32,
		sched:  Schedule{Peak: cfg.LR, Min: cfg.MinLR, Warmup: cfg.Warmup, Total: cfg.Steps},
		rnd:    rand.New(rand.NewPCG(cfg.Seed, 1)),
		x:      make([]byte, rows),
		y:      make([]byte, rows),
		log:    make([]LMStep, 0, min(cfg.Steps, 1<<16)),
	}, nil
}

// Model returns the model being trained.
func (t *LMTrainer) Model() *LM { return t.model }

// Config returns the training configuration, defaults filled in.
func (t *LMTrainer) Config() LMTrainConfig { return t.cfg }

// Steps returns the number of updates applied.
func (t *LMTrainer) Steps() int { return t.opt.Steps() }

// Log returns the record of every update applied. The slice is the
// trainer's own.
func (t *LMTrainer) Log() []LMStep { return t.log }

// Evals returns the validation losses taken so far. The slice is the
// trainer's own.
func (t *LMTrainer) Evals() []LMEval { return t.evals }

// Summaries returns the LMSummary records taken every DiagEvery steps. The
// slice is the trainer's own.
func (t *LMTrainer) Summaries() []LMSummaryRecord { return t.sums }

// Step draws a batch, runs forward and backward, clips (the global norm
// over the float64 and, in a Float32 LM, the float32 gradients) and
// applies one AdamW update (a float32 one to the float32 parameters), and
// returns the step's record; every DiagEvery steps (and at the last) it
// summarises the training batch (Summaries), and every EvalEvery steps
// (and at the last) it validates. A divergence (a non-finite value, or a
// loss above MaxLoss) applies no update and returns an error wrapping
// ErrDiverged, as does every later call.
func (t *LMTrainer) Step() (LMStep, error) {
	if t.diverged != nil {
		return LMStep{}, t.diverged
	}
	seq := t.model.cfg.Seq
	for b := range t.cfg.Batch {
		o := t.rnd.IntN(len(t.corpus.Train) - seq)
		copy(t.x[b*seq:(b+1)*seq], t.corpus.Train[o:o+seq])
		copy(t.y[b*seq:(b+1)*seq], t.corpus.Train[o+1:o+seq+1])
	}
	step := t.opt.Steps() + 1
	loss, err := t.model.Forward(t.x, t.y, t.cfg.Batch)
	switch {
	case errors.Is(err, ErrNonFinite):
		return LMStep{}, t.diverge(step, err.Error())
	case err != nil:
		return LMStep{}, fmt.Errorf("net: lm step %d: %w", step, err)
	case loss > t.cfg.MaxLoss:
		return LMStep{}, t.diverge(step, fmt.Sprintf("loss %.4g above MaxLoss %g", loss, t.cfg.MaxLoss))
	}
	t.opt.ZeroGrad()
	if t.opt32 != nil {
		t.opt32.zeroGrad()
	}
	t.model.Backward()
	gn, scale32 := clipGrads(t.model.Params(), t.opt32, t.cfg.ClipNorm)
	if math.IsNaN(gn) || math.IsInf(gn, 0) {
		return LMStep{}, t.diverge(step, fmt.Sprintf("gradient norm %v", gn))
	}
	lr := t.sched.LR(t.opt.Steps())
	// gn is finite, so is every gradient: AdamW need not scan them again.
	if err := t.opt.update(lr, true); err != nil {
		return LMStep{}, t.diverge(step, err.Error())
	}
	if t.opt32 != nil {
		t.opt32.stepScaled(lr, scale32)
	}
	rec := LMStep{Step: step, Loss: loss, GradNorm: gn, LR: lr}
	t.log = append(t.log, rec)
	if e := t.cfg.DiagEvery; e > 0 && (step%e == 0 || step == t.cfg.Steps) {
		t.sums = append(t.sums, LMSummaryRecord{Step: step, LMSummary: t.model.Summarize(t.cfg.DiagSamples)})
	}
	if e := t.cfg.EvalEvery; (e > 0 && step%e == 0) || step == t.cfg.Steps {
		v, err := t.Validate()
		if err != nil {
			return rec, t.diverge(step, "validation: "+err.Error())
		}
		t.evals = append(t.evals, LMEval{Step: step, Loss: v})
	}
	return rec, nil
}

// Validate returns the model's mean loss over the first EvalTokens tokens
// of the validation split (whole windows of Seq tokens, non-overlapping,
// targets shifted by one; at least one window), in nats per token. It
// leaves no batch for Backward. Errors wrap ErrNonFinite.
func (t *LMTrainer) Validate() (float64, error) {
	seq, valid := t.model.cfg.Seq, t.corpus.Valid
	windows := max(1, min((len(valid)-1)/seq, t.cfg.EvalTokens/seq))
	var sum float64
	for lo := 0; lo < windows; lo += t.cfg.Batch {
		k := min(t.cfg.Batch, windows-lo)
		x, y := t.x[:k*seq], t.y[:k*seq]
		for b := range k {
			o := (lo + b) * seq
			copy(x[b*seq:(b+1)*seq], valid[o:o+seq])
			copy(y[b*seq:(b+1)*seq], valid[o+1:o+seq+1])
		}
		loss, err := t.model.Forward(x, y, k)
		t.model.ready = false
		if err != nil {
			return 0, err
		}
		sum += loss * float64(k)
	}
	return sum / float64(windows), nil
}

// diverge records the divergence of step and returns its error.
func (t *LMTrainer) diverge(step int, reason string) error {
	t.diverged = fmt.Errorf("net: lm step %d: %s: %w", step, reason, ErrDiverged)
	return t.diverged
}

// Run steps until Steps updates have been applied, the run diverges, or ctx
// is cancelled (checked between steps), and says which in the Result.
// After each update it calls progress, unless nil, with the step's record.
// A divergence is an outcome, not an error.
func (t *LMTrainer) Run(ctx context.Context, progress func(LMStep)) (Result, error) {
	return runSteps(ctx, t.cfg.Steps, t.opt, t.Step, progress)
}
