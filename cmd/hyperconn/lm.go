package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hyperconn/hyperconn/kromhc"
	"github.com/hyperconn/hyperconn/net"
)

const lmSynopsis = `usage: hyperconn lm [flags]

Language-model experiments: trains the character-level decoder-only
transformer of package net (L blocks of [RMSNorm → causal attention] and
[RMSNorm → MLP], each of the 2L sub-layers wrapped by its own mixer) on
-text (default: Newton's Opticks, embedded in the program) with every
combination of -mixers × -depths × -lrs × -seeds, one experiment per core.
It records every step's loss and gradient norm, the validation loss every
-eval-every steps, and writes results.json, results.csv, one step log and
one run file per experiment and PNG + SVG plots into -out, with a table on
stdout that prints the text's unigram and bigram entropies beside the
validation losses.

mixers: residual (plain pre-norm residual, n = 1), hc (dynamic HC),
  hc-static, mhc (the paper's 20 Sinkhorn sweeps), mhc-exact (exact
  projection), mhclite (n ≤ 8), shc (spectral sphere), idhc (H_res = I),
  kromhc (Kronecker product of permutation mixtures; n a product of factors
  ≤ 8), orthohc (H_res = Cayley(skew) ∈ SO(n)), mhc-v4 (DeepSeek-V4's
  production mHC); or all
Ctrl-C stops cleanly: finished experiments stay saved, and a re-run with
-resume skips every experiment whose saved key (mixer, depth, learning
rate, seed, every other setting and the text's SHA-256) matches.
`

// Defaults of the lm command's flags, in one place: the defaults of the
// no-flag run ("go run ./cmd/hyperconn lm").
const (
	lmDefaultDepths     = "4"     // blocks L (2L mixed sub-layers)
	lmDefaultN          = 4       // residual streams
	lmDefaultWidth      = 64      // model width C
	lmDefaultHeads      = 4       // attention heads
	lmDefaultSeq        = 64      // context length T
	lmDefaultBatch      = 16      // sequences per step
	lmDefaultSteps      = 600     // optimiser steps
	lmDefaultLRs        = "1e-2"  // peak learning rates
	lmDefaultWarmupFrac = 10      // -warmup -1: steps / lmDefaultWarmupFrac warmup steps (60 of 600)
	lmDefaultSeeds      = "1"     // seeds
	lmDefaultEvalEvery  = 50      // validation every k steps
	lmDefaultEvalTokens = 1 << 14 // validation tokens per evaluation
	lmDefaultValid      = 0.1     // validation share of the text (its end)
	lmDefaultDiagEvery  = 10      // training-time summaries every k steps
	lmDefaultFloat32    = true    // float32 layers (as depth's default)
	lmDefaultOut        = "hyperconn-lm"
)

// Training settings the command does not expose as flags. They are part of
// every experiment's key, so changing them here invalidates saved results.
const (
	lmHidden      = net.DefaultHidden // MLP expansion h
	lmMinLRFrac   = 10                // the schedule decays linearly to lr / lmMinLRFrac
	lmWeightDecay = 0.01              // AdamW decay of the Linear weights
	lmClipNorm    = net.DefaultClipNorm
	lmLossWindow  = 20                     // final train loss: mean batch loss of the last steps
	lmDiagSamples = net.DefaultDiagSamples // tokens whose own composites are averaged (the sampled gains)
	// lmFormat versions the meaning of a run file; bump it when the
	// experiment or its measurements change, so that -resume reruns.
	lmFormat = 1
)

// Limits of the lm command's flags.
const (
	maxSeqFlag   = 1 << 16
	maxSeedsFlag = 1 << 20
)

// lmConfig is the parsed command line of "hyperconn lm"; it is echoed in
// results.json.
type lmConfig struct {
	Mixers     []string  `json:"mixers"`
	Depths     []int     `json:"depths"`
	LRs        []float64 `json:"lrs"`
	Seeds      []int     `json:"seeds"`
	N          int       `json:"n"`
	Width      int       `json:"width"`
	Heads      int       `json:"heads"`
	Seq        int       `json:"seq"`
	Batch      int       `json:"batch"`
	Steps      int       `json:"steps"`
	Warmup     int       `json:"warmup"`
	EvalEvery  int       `json:"eval_every"`
	EvalTokens int       `json:"eval_tokens"`
	Valid      float64   `json:"valid"`
	Text       string    `json:"text"`        // the -text path, or the embedded corpus's name
	TextSHA256 string    `json:"text_sha256"` // of the text's bytes
	Float32    bool      `json:"float32"`
	DiagEvery  int       `json:"diag_every"`
	Jobs       int       `json:"jobs"`
	shard      shard     // -shard; the zero value without it
	out        string
	asJSON     bool
	resume     bool
	fs         *flag.FlagSet // for the usage text of a late usage error
}

// lmEnv is what runLMEnv takes from its surroundings; tests replace it.
type lmEnv struct {
	// ctx stops the sweep when cancelled (SIGINT or SIGTERM in runLM).
	ctx context.Context
	// terminal selects the progress bar over plain lines on stderr.
	terminal bool
	// statusEvery is the period of the plain status lines; 0 means none.
	statusEvery time.Duration
	// afterStep, if set, is called by a worker after every training step
	// of job i.
	afterStep func(key lmKey, step int)
	// afterRun, if set, is called by a worker after a finished experiment
	// has been saved.
	afterRun func(rec lmRecord)
	// start is when the command started: temporary files older than it
	// are left by an interrupted run.
	start time.Time
}

// runLM is the "lm" command: it stops on SIGINT or SIGTERM; a second
// signal kills the process (every file is written atomically, so that too
// leaves no half-written file).
func runLM(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop) // restore the default action for a second signal
	return runLMEnv(args, stdout, stderr, lmEnv{ctx: ctx, terminal: isTerminal(stderr), statusEvery: 15 * time.Second,
		start: time.Now()})
}

// parseFloats reads a comma-separated list of positive finite numbers,
// sorted and without duplicates.
func parseFloats(flagName, s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		v, err := strconv.ParseFloat(f, 64)
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("-%s: %q is not a positive finite number", flagName, f)
		}
		out = append(out, v)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// parseLMFlags parses and validates args, reads -text and checks the
// settings against it. It returns the corpus and done = true with the exit
// status when the command must stop (help or a usage error, both already
// printed). Nothing is written.
func parseLMFlags(args []string, stdout, stderr io.Writer) (cfg lmConfig, corpus *net.Corpus, status int, done bool) {
	fs := flagSet("lm")
	var (
		mixers     = fs.String("mixers", "all", "comma-separated mixers (see above) or all")
		depths     = fs.String("depths", lmDefaultDepths, "numbers of transformer blocks L (each has 2 mixed sub-layers): a comma-separated list of L and ranges a-b")
		lrs        = fs.String("lrs", lmDefaultLRs, "comma-separated peak learning rates (AdamW, -warmup steps of linear warmup, then linear decay to lr/10)")
		seeds      = fs.String("seeds", lmDefaultSeeds, "seeds of the initial weights and of the windows drawn: a comma-separated list and ranges a-b")
		n          = fs.Int("n", lmDefaultN, "residual streams n (1–64; mhclite needs n ≤ 8; residual always has 1)")
		width      = fs.Int("width", lmDefaultWidth, "model width C (a multiple of -heads)")
		heads      = fs.Int("heads", lmDefaultHeads, "attention heads")
		seq        = fs.Int("seq", lmDefaultSeq, "context length T in characters (bytes)")
		batch      = fs.Int("batch", lmDefaultBatch, "sequences per step (a step trains on batch·seq tokens)")
		steps      = fs.Int("steps", lmDefaultSteps, "optimiser steps per experiment")
		warmup     = fs.Int("warmup", -1, fmt.Sprintf("linear warmup steps, less than -steps (-1: steps/%d)", lmDefaultWarmupFrac))
		evalEvery  = fs.Int("eval-every", lmDefaultEvalEvery, "validation loss every k steps (and after the last; 0: after the last only)")
		evalTokens = fs.Int("eval-tokens", lmDefaultEvalTokens, "validation tokens per evaluation (the first ones of the validation split, whole windows of -seq)")
		text       = fs.String("text", "", "train on this text file (UTF-8 or bytes; default: Newton's Opticks, embedded)")
		valid      = fs.Float64("valid", lmDefaultValid, "share of the text, at its end, that validates (0 < v < 1)")
		jobs       = fs.Int("jobs", runtime.GOMAXPROCS(0), "experiments run in parallel")
		out        = fs.String("out", lmDefaultOut, "output directory (created if needed)")
		asJSON     = fs.Bool("json", false, "print the results.json document instead of the table")
		resume     = fs.Bool("resume", false, "skip experiments whose results in -out have the same key")
		float32    = fs.Bool("float32", lmDefaultFloat32, "train the embeddings, norms, attention, MLPs, head and the mixers' head weights Φ in float32 (the streams and the rest of the mixers stay float64); -float32=false trains everything in float64")
		diagEvery  = fs.Int("diag-every", lmDefaultDiagEvery, "during training, summarise the residual matrices (composite gains, per-layer identity distance and DS deviation, stream utilisation) every k steps (and after the last; 0: none)")
		shardArg   = fs.String("shard", "", shardFlagUsage)
	)
	if st, stop := parseFlags(fs, lmSynopsis, args, stdout, stderr); stop {
		return cfg, nil, st, true
	}
	if *warmup == -1 {
		*warmup = *steps / lmDefaultWarmupFrac
	}
	cfg = lmConfig{N: *n, Width: *width, Heads: *heads, Seq: *seq, Batch: *batch, Steps: *steps, Warmup: *warmup,
		EvalEvery: *evalEvery, EvalTokens: *evalTokens, Valid: *valid, Float32: *float32, DiagEvery: *diagEvery, Jobs: *jobs, out: *out, asJSON: *asJSON,
		resume: *resume, fs: fs}
	// Only the first problem is reported: the error is one line.
	var first error
	note := func(err error) {
		if first == nil {
			first = err
		}
	}
	bad := func(cond bool, format string, a ...any) {
		if cond {
			note(fmt.Errorf(format, a...))
		}
	}
	var err error
	cfg.Mixers, err = parseChoices("mixers", *mixers, net.MixerNames())
	note(err)
	cfg.Depths, err = parseInts("depths", *depths, 1, maxDepthFlag)
	note(err)
	cfg.LRs, err = parseFloats("lrs", *lrs)
	note(err)
	cfg.Seeds, err = parseInts("seeds", *seeds, 0, maxSeedsFlag)
	note(err)
	cfg.shard, err = parseShard(*shardArg)
	note(err)
	bad(*n < 1 || *n > maxNFlag, "-n %d: want 1 ≤ n ≤ %d", *n, maxNFlag)
	bad(*n > net.MaxLiteN && slices.Contains(cfg.Mixers, net.MixerMHCLite),
		"-n %d: mhclite mixes all n! permutations and needs n ≤ %d", *n, net.MaxLiteN)
	if *n >= 1 && slices.Contains(cfg.Mixers, net.MixerKromHC) {
		_, err := kromhc.NumParams(kromhc.PaperConfig(*n, 1, 0))
		bad(err != nil, "-n %d: kromhc needs n to be a product of factors ≤ %d (its prime factors are used)", *n, kromhc.MaxFactor)
	}
	bad(*width < 1 || *width > maxWidthFlag, "-width %d: want 1 ≤ C ≤ %d", *width, maxWidthFlag)
	bad(*heads < 1 || *heads > max(*width, 1), "-heads %d: want 1 ≤ heads ≤ width %d", *heads, *width)
	bad(*heads >= 1 && *width%*heads != 0, "-heads %d: want a divisor of -width %d", *heads, *width)
	bad(*seq < 1 || *seq > maxSeqFlag, "-seq %d: want 1 ≤ T ≤ %d", *seq, maxSeqFlag)
	bad(*batch < 1, "-batch %d: want at least 1", *batch)
	bad(*steps < 1, "-steps %d: want at least 1", *steps)
	bad(*warmup < 0 || *warmup >= *steps, "-warmup %d: want 0 ≤ warmup < -steps %d", *warmup, *steps)
	bad(*evalEvery < 0, "-eval-every %d: want at least 0", *evalEvery)
	bad(*evalTokens < 1, "-eval-tokens %d: want at least 1", *evalTokens)
	bad(*diagEvery < 0, "-diag-every %d: want at least 0", *diagEvery)
	bad(!(*valid > 0 && *valid < 1), "-valid %g: want a share strictly between 0 and 1", *valid)
	bad(*jobs < 1, "-jobs %d: want at least 1", *jobs)
	bad(*out == "", "-out: want a directory")
	if first == nil {
		corpus, err = loadLMText(&cfg, *text)
		note(err)
	}
	if first == nil {
		// The validation scores whole windows of -seq tokens followed by
		// their next token, and so does a training batch.
		bad(len(corpus.Valid) < cfg.Seq+1, "-seq %d: the validation split of %s holds %d characters, fewer than one window of seq+1 = %d (lower -seq or raise -valid)",
			cfg.Seq, cfg.Text, len(corpus.Valid), cfg.Seq+1)
		bad(len(corpus.Train) < cfg.Seq+1, "-seq %d: the training split of %s holds %d characters, fewer than one window of seq+1 = %d",
			cfg.Seq, cfg.Text, len(corpus.Train), cfg.Seq+1)
	}
	if first == nil {
		note(checkLMMemory(&cfg, len(corpus.Vocab)))
	}
	if first != nil {
		return cfg, nil, usageError(fs, lmSynopsis, stderr, first), true
	}
	return cfg, corpus, exitOK, false
}

// loadLMText reads the -text file (or takes the embedded Opticks when path
// is empty), records its name and SHA-256 in cfg and returns its corpus.
// Its errors are usage errors: they name the file and the problem.
func loadLMText(cfg *lmConfig, path string) (*net.Corpus, error) {
	var text []byte
	name := net.OpticksName
	if path == "" {
		text = net.Opticks()
	} else {
		name = path
		st, err := os.Stat(path)
		switch {
		case err != nil:
			return nil, fmt.Errorf("-text: %w", err)
		case !st.Mode().IsRegular():
			return nil, fmt.Errorf("-text %s: not a regular file", path)
		case st.Size() > net.MaxTextBytes:
			return nil, fmt.Errorf("-text %s: %d bytes, more than the %d this tool reads", path, st.Size(), int64(net.MaxTextBytes))
		}
		if text, err = readAll(path, net.MaxTextBytes); err != nil {
			return nil, fmt.Errorf("-text: %w", err)
		}
	}
	c, err := net.NewCorpus(name, text, cfg.Valid)
	if err != nil {
		// net's message names the file and the problem after its prefix.
		msg := strings.TrimPrefix(err.Error(), net.ErrText.Error()+": ")
		return nil, fmt.Errorf("-text: %s", msg)
	}
	sum := sha256.Sum256(text)
	cfg.Text, cfg.TextSHA256 = name, hex.EncodeToString(sum[:])
	return c, nil
}

// runLMEnv runs the lm command in env and returns the exit status.
func runLMEnv(args []string, stdout, stderr io.Writer, env lmEnv) int {
	cfg, corpus, status, done := parseLMFlags(args, stdout, stderr)
	if done {
		return status
	}
	// First of all, before anything is written: a killed run's leftovers.
	if k := removeStaleTemps(cfg.out, env.start); k > 0 {
		fmt.Fprintf(stderr, "hyperconn lm: removed %d temporary files left by an interrupted run\n", k)
	}
	h1, h2 := corpus.Entropy()
	base := newLMBaselines(corpus, h1, h2)
	return runSweep(sweepCommand[lmKey, lmRun, lmDoc]{
		name: "lm", out: cfg.out, shard: cfg.shard, resume: cfg.resume, asJSON: cfg.asJSON,
		load: func(k lmKey) (*lmRun, bool, string) { return loadLMRun(cfg.out, k) },
		publish: func(finished []*lmRun, complete bool) (*lmDoc, error) {
			doc := lmDocument(&cfg, base, finished, complete)
			return doc, writeResultFiles(cfg.out, doc, lmColumns, doc.Records)
		},
		sweep: func(jobs []lmKey, pending []int, saved func(int, *lmRun) error) error {
			return lmSweep(env, &cfg, corpus, jobs, pending, saved, stderr)
		},
		plots: func(finished []*lmRun) error { return writeLMPlots(cfg.out, &cfg, base, finished) },
		table: writeLMTable,
	}, lmJobs(&cfg, len(corpus.Vocab)), stdout, stderr)
}
