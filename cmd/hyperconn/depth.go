package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/hyperconn/hyperconn/kromhc"
	"github.com/hyperconn/hyperconn/net"
)

const depthSynopsis = `usage: hyperconn depth [flags]

Depth-stability experiments: trains the MNIST classifier of package net with
each -mixers mixer at each of -depths blocks, one experiment per core, then
measures the residual matrices of the trained network (SPEC §6) and writes
results.json, results.csv, one step log and one run file per experiment and
PNG + SVG plots into -out, with a summary table on stdout.

mixers: residual (plain pre-norm residual, n = 1), hc (dynamic HC),
  hc-static, mhc (the paper's 20 Sinkhorn sweeps), mhc-exact (exact
  projection), mhclite (n ≤ 8), shc (spectral sphere), idhc (H_res = I),
  kromhc (Kronecker product of permutation mixtures; n a product of factors
  ≤ 8), orthohc (H_res = Cayley(skew) ∈ SO(n)), mhc-v4 (DeepSeek-V4's
  production mHC); or all
Ctrl-C stops cleanly: finished experiments stay saved, and a re-run with
-resume skips every experiment whose saved key (mixer, depth and every
hyperparameter) matches.
`

// Training settings the command does not expose as flags. They are part of
// every experiment's key, so changing them here invalidates saved results.
const (
	depthHidden      = net.DefaultHidden // MLP expansion h
	depthWarmupFrac  = 10                // warmup = steps / depthWarmupFrac
	depthMinLRFrac   = 20                // the schedule decays to lr / depthMinLRFrac
	depthWeightDecay = 0.01              // AdamW decay of the Linear weights and dynamic projections
	depthEvalBatch   = 500               // batch of the test evaluation (does not change the result)
	depthDiagBatch   = 256               // test images the diagnostics run on (the first ones)
	depthDiagSamples = 16                // tokens whose own composites are averaged
	depthLossWindow  = 20                // final train loss: mean batch loss of the last steps
	// depthFormat versions the meaning of a run file; bump it when the
	// experiment or its measurements change, so that -resume reruns.
	// Format 3 added the per-step gradient norms, the gradient-spike fields
	// and the diagnostics taken during training.
	depthFormat = 3
	// depthDiagEvery is the default of -diag-every: a training-time
	// net.Summary costs 0.3–1.3% of a training step (net's
	// BenchmarkSummaryCost: mhc, mhc-exact, hc, shc at n = 4 and mhc at
	// n = 16, depth 32), so one every 5 steps adds about 0.1–0.3% to a run,
	// far under 10%, and still resolves the gains' course step by step.
	depthDiagEvery = 5
)

// Limits of the flags.
const (
	maxDepthFlag = 4096
	maxWidthFlag = 4096
	maxNFlag     = 64
)

// depthConfig is the parsed command line of "hyperconn depth"; it is echoed
// in results.json.
type depthConfig struct {
	Mixers       []string `json:"mixers"`
	Depths       []int    `json:"depths"`
	N            int      `json:"n"`
	Width        int      `json:"width"`
	Steps        int      `json:"steps"`
	Epochs       float64  `json:"epochs"`
	Batch        int      `json:"batch"`
	LR           float64  `json:"lr"`
	Seed         uint64   `json:"seed"`
	Subset       int      `json:"subset"`
	Test         int      `json:"test"`
	Jobs         int      `json:"jobs"`
	HeatmapLayer int      `json:"heatmap_layer"`
	Float32      bool     `json:"float32"`
	DiagEvery    int      `json:"diag_every"`
	// shard is -shard (the zero value without it); trainImages and
	// testImages are the sizes of the training and test sets the
	// experiments use, once resolved against the data.
	shard                   shard
	trainImages, testImages int
	out                     string
	asJSON                  bool
	resume                  bool
	fs                      *flag.FlagSet // for the usage text of a late usage error
}

// depthEnv is what runDepth takes from its surroundings; tests replace it.
type depthEnv struct {
	// ctx stops the sweep when cancelled (SIGINT or SIGTERM in main).
	ctx context.Context
	// terminal selects the progress bar over plain lines on stderr.
	terminal bool
	// statusEvery is the period of the plain status lines; 0 means none.
	statusEvery time.Duration
	// afterStep, if set, is called by a worker after every training step.
	afterStep func(mixer string, depth, step int)
	// afterRun, if set, is called by a worker after a finished experiment
	// has been saved.
	afterRun func(rec depthRecord)
	// start is when the command started: temporary files older than it
	// are left by an interrupted run.
	start time.Time
}

// runDepth is the "depth" command: it stops on SIGINT or SIGTERM; a
// second signal kills the process (every file is written atomically, so
// that too leaves no half-written file).
func runDepth(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop) // restore the default action for a second signal
	return runDepthEnv(args, stdout, stderr, depthEnv{ctx: ctx, terminal: isTerminal(stderr), statusEvery: 15 * time.Second,
		start: time.Now()})
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// parseDepthFlags parses and validates args. It returns done = true with
// the exit status when the command must stop (help or a usage error, both
// already printed).
func parseDepthFlags(args []string, stdout, stderr io.Writer) (cfg depthConfig, status int, done bool) {
	fs := flagSet("depth")
	var (
		mixers   = fs.String("mixers", "all", "comma-separated mixers (see above) or all")
		depths   = fs.String("depths", "8,16,32", "numbers of blocks L: a comma-separated list of L and ranges a-b")
		n        = fs.Int("n", 4, "residual streams n (1–64; mhclite needs n ≤ 8; residual always has 1)")
		width    = fs.Int("width", 32, "model width C")
		steps    = fs.Int("steps", 300, "optimiser steps per experiment")
		epochs   = fs.Float64("epochs", 0, "train for this many passes over -subset instead of -steps (0: use -steps)")
		batch    = fs.Int("batch", 64, "mini-batch size")
		lr       = fs.Float64("lr", 3e-3, "peak learning rate (AdamW, 10% warmup, linear decay to lr/20)")
		seed     = fs.Uint64("seed", 1, "seed of the initial weights and of the mini-batch order")
		subset   = fs.Int("subset", 0, "train on the first k of the 60000 training images (0: all)")
		test     = fs.Int("test", 2000, "score on the first k of the 10000 test images")
		jobs     = fs.Int("jobs", runtime.GOMAXPROCS(0), "experiments run in parallel")
		out      = fs.String("out", "hyperconn-depth", "output directory (created if needed)")
		asJSON   = fs.Bool("json", false, "print the results.json document instead of the table")
		resume   = fs.Bool("resume", false, "skip experiments whose results in -out have the same key")
		heatmapL = fs.Int("heatmap-layer", 0, "block l (1-based) whose token-averaged H_res the heat map shows; 0: per mixer, the block farthest from I")
		float32  = fs.Bool("float32", true, "train the embedding, MLPs, norms, head and the mixers' head weights Φ in float32 (the streams and the rest of the mixers stay float64); -float32=false trains everything in float64")
		every    = fs.Int("diag-every", depthDiagEvery, "during training, record the composite gains and the worst DS deviation every k steps (and at the last; 0: none)")
		shardArg = fs.String("shard", "", shardFlagUsage)
	)
	if st, stop := parseFlags(fs, depthSynopsis, args, stdout, stderr); stop {
		return cfg, st, true
	}
	cfg = depthConfig{N: *n, Width: *width, Steps: *steps, Epochs: *epochs, Batch: *batch, LR: *lr,
		Seed: *seed, Subset: *subset, Test: *test, Jobs: *jobs, HeatmapLayer: *heatmapL, Float32: *float32,
		DiagEvery: *every, out: *out, asJSON: *asJSON, resume: *resume, fs: fs}
	// Only the first problem is reported: the error is one line.
	var first error
	note := func(err error) {
		if first == nil {
			first = err
		}
	}
	var err error
	cfg.Mixers, err = parseChoices("mixers", *mixers, net.MixerNames())
	note(err)
	cfg.Depths, err = parseInts("depths", *depths, 1, maxDepthFlag)
	note(err)
	cfg.shard, err = parseShard(*shardArg)
	note(err)
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	bad := func(cond bool, format string, a ...any) {
		if cond {
			note(fmt.Errorf(format, a...))
		}
	}
	bad(*n < 1 || *n > maxNFlag, "-n %d: want 1 ≤ n ≤ %d", *n, maxNFlag)
	bad(*n > net.MaxLiteN && slices.Contains(cfg.Mixers, net.MixerMHCLite),
		"-n %d: mhclite mixes all n! permutations and needs n ≤ %d", *n, net.MaxLiteN)
	if *n >= 1 && slices.Contains(cfg.Mixers, net.MixerKromHC) {
		_, err := kromhc.NumParams(kromhc.PaperConfig(*n, 1, 0))
		bad(err != nil, "-n %d: kromhc needs n to be a product of factors ≤ %d (its prime factors are used)", *n, kromhc.MaxFactor)
	}
	bad(*width < 1 || *width > maxWidthFlag, "-width %d: want 1 ≤ C ≤ %d", *width, maxWidthFlag)
	bad(*steps < 1, "-steps %d: want at least 1", *steps)
	bad(set["steps"] && set["epochs"], "-steps and -epochs are exclusive")
	bad(!(*epochs >= 0) || math.IsInf(*epochs, 0), "-epochs %g: want a finite value ≥ 0", *epochs)
	bad(*batch < 1, "-batch %d: want at least 1", *batch)
	bad(!(*lr > 0) || math.IsInf(*lr, 0), "-lr %g: want a positive finite value", *lr)
	bad(*subset < 0, "-subset %d: want at least 0", *subset)
	bad(*test < 1, "-test %d: want at least 1", *test)
	bad(*jobs < 1, "-jobs %d: want at least 1", *jobs)
	bad(*heatmapL < 0, "-heatmap-layer %d: want at least 0", *heatmapL)
	bad(*every < 0, "-diag-every %d: want at least 0", *every)
	bad(*out == "", "-out: want a directory")
	if first == nil {
		note(checkDepthMemory(&cfg))
	}
	if first != nil {
		return cfg, usageError(fs, depthSynopsis, stderr, first), true
	}
	return cfg, exitOK, false
}

// resolveData checks the data-dependent flags against the loaded sets and
// fixes the number of steps of an -epochs run. It returns the training set
// (the -subset), the test subset and a usage error.
func resolveData(cfg *depthConfig, train, test *net.Dataset) (*net.Dataset, *net.Dataset, error) {
	if cfg.Subset > train.N {
		return nil, nil, fmt.Errorf("-subset %d: the training set has %d images", cfg.Subset, train.N)
	}
	if cfg.Test > test.N {
		return nil, nil, fmt.Errorf("-test %d: the test set has %d images", cfg.Test, test.N)
	}
	if cfg.Subset > 0 {
		train = train.Subset(cfg.Subset)
	}
	if cfg.Epochs > 0 {
		steps := math.Ceil(cfg.Epochs * float64(train.N) / float64(cfg.Batch))
		if steps > math.MaxInt32 {
			return nil, nil, fmt.Errorf("-epochs %g: %g steps is too many", cfg.Epochs, steps)
		}
		cfg.Steps = max(1, int(steps))
	}
	cfg.trainImages, cfg.testImages = train.N, cfg.Test
	return train, test.Subset(cfg.Test), nil
}

// mnist memoises net.LoadMNIST: the sets are read-only and take a third of
// a second to load, which the tests pay once.
var mnist struct {
	once        sync.Once
	train, test *net.Dataset
	err         error
}

func loadMNIST() (train, test *net.Dataset, err error) {
	mnist.once.Do(func() { mnist.train, mnist.test, mnist.err = net.LoadMNIST("") })
	return mnist.train, mnist.test, mnist.err
}

// runDepthEnv runs the depth command in env and returns the exit status.
func runDepthEnv(args []string, stdout, stderr io.Writer, env depthEnv) int {
	cfg, status, done := parseDepthFlags(args, stdout, stderr)
	if done {
		return status
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "hyperconn depth: %v\n", err)
		return exitFailure
	}
	// First of all, before anything is written: a killed run's leftovers.
	if k := removeStaleTemps(cfg.out, env.start); k > 0 {
		fmt.Fprintf(stderr, "hyperconn depth: removed %d temporary files left by an interrupted run\n", k)
	}
	train, test, err := loadMNIST()
	if err != nil {
		return fail(err)
	}
	train, test, err = resolveData(&cfg, train, test)
	if err != nil {
		return usageError(cfg.fs, depthSynopsis, stderr, err)
	}

	return runSweep(sweepCommand[depthJob, depthRun, depthDoc]{
		name: "depth", out: cfg.out, shard: cfg.shard, resume: cfg.resume, asJSON: cfg.asJSON,
		load: func(j depthJob) (*depthRun, bool, string) { return loadRun(cfg.out, j.key) },
		publish: func(finished []*depthRun, complete bool) (*depthDoc, error) {
			doc := depthDocument(&cfg, finished, complete)
			return doc, writeDepthResults(cfg.out, doc)
		},
		sweep: func(jobs []depthJob, pending []int, saved func(int, *depthRun) error) error {
			return sweep(env, &cfg, train, test, jobs, pending, saved, stderr)
		},
		plots: func(finished []*depthRun) error { return writeDepthPlots(cfg.out, &cfg, finished) },
		table: writeDepthTable,
	}, depthJobs(&cfg, train.N, test.N), stdout, stderr)
}
