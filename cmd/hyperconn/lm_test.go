package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hyperconn/hyperconn/net"
)

// lmFields are the documented fields of a record of results.json and the
// columns of results.csv, in order (README.md, "hyperconn lm").
var lmFields = []string{"mixer", "depth", "n", "lr", "seed", "dtype", "params", "outcome", "diverged",
	"diverged_step", "reason", "steps_run", "final_train_loss", "final_valid_loss", "final_valid_bits",
	"best_valid_loss", "best_valid_step", "below_bigram", "max_grad_norm", "max_grad_norm_after_warmup",
	"grad_spike_factor", "final_forward_amax", "final_backward_amax", "max_forward_amax", "max_backward_amax",
	"max_layer_forward_amax", "max_layer_backward_amax", "max_ds_deviation", "identity_dist", "effective_streams",
	"dominant_share", "wall_seconds", "tokens_per_second", "step_log"}

// lmJSONOnly are the fields of a record of results.json that results.csv
// leaves out.
var lmJSONOnly = []string{"validation", "train_diagnostics"}

// smallLM are the flags of an LM sweep small enough for tests: models of
// width 8 and one block, 6 steps of 4 windows of 16 characters of Opticks,
// validation every 3 steps on 64 characters.
func smallLM(out string, extra ...string) []string {
	return append([]string{"--depths", "1", "--width", "8", "--heads", "2", "--seq", "16", "--batch", "4",
		"--steps", "6", "--eval-every", "3", "--eval-tokens", "64", "--out", out}, extra...)
}

// lmRunResult is what runLMInEnv observed.
type lmRunResult struct {
	status         int
	stdout, stderr string
	steps, runs    int // training steps taken and experiments finished
}

// runLMInEnv runs the lm command with args in a test environment: plain
// progress lines, no status ticker, and hooks counting steps and finished
// experiments. cancelAt, if non-nil, is called from the hooks (step −1
// after a saved run) and may cancel the context.
func runLMInEnv(t *testing.T, args []string, cancelAt func(cancel context.CancelFunc, step, runs int)) lmRunResult {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var steps, runs atomic.Int64
	env := lmEnv{ctx: ctx, start: time.Now(),
		afterStep: func(_ lmKey, step int) {
			steps.Add(1)
			if cancelAt != nil {
				cancelAt(cancel, step, int(runs.Load()))
			}
		},
		afterRun: func(lmRecord) {
			k := runs.Add(1)
			if cancelAt != nil {
				cancelAt(cancel, -1, int(k))
			}
		},
	}
	var o, e bytes.Buffer
	status := runLMEnv(args, &o, &e, env)
	return lmRunResult{status: status, stdout: o.String(), stderr: e.String(), steps: int(steps.Load()), runs: int(runs.Load())}
}

// readLMRunFile decodes a run file of dir/runs and verifies its checksums.
func readLMRunFile(dir, name string) (*lmRun, error) {
	b, err := os.ReadFile(filepath.Join(dir, runsDir, name))
	if err != nil {
		return nil, err
	}
	var r lmRun
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	log, err := os.ReadFile(filepath.Join(dir, r.Record.StepLog))
	if err != nil {
		return nil, err
	}
	return &r, checkRun(&r, log)
}

// recordsWithoutTimes returns dir's records of results.json without the
// fields that measure time (the only ones two equal runs may differ in).
func recordsWithoutTimes(t *testing.T, dir string) string {
	t.Helper()
	recs := readResults(t, dir).Records
	for _, r := range recs {
		delete(r, "wall_seconds")
		delete(r, "tokens_per_second")
	}
	b, err := json.Marshal(recs)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLMEndToEnd(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	args := append([]string{"lm"}, smallLM(dir, "--mixers", "residual,hc,mhc-exact", "--lrs", "0.01,0.003", "--json", "--diag-every", "2")...)
	status, stdout, stderr := runCLI(args...)
	if status != exitOK {
		t.Fatalf("status %d, stderr:\n%s", status, stderr)
	}
	if !strings.Contains(stderr, "[6/6]") {
		t.Errorf("stderr has no line for the last experiment:\n%s", stderr)
	}
	saved, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if string(saved) != stdout {
		t.Error("results.json differs from the -json output")
	}
	var doc lmDoc
	if err := json.Unmarshal(saved, &doc); err != nil {
		t.Fatal(err)
	}
	corpus, err := net.NewCorpus(net.OpticksName, net.Opticks(), lmDefaultValid)
	if err != nil {
		t.Fatal(err)
	}
	h1, h2 := corpus.Entropy()
	if b := doc.Baselines; b.UnigramNats != h1 || b.BigramNats != h2 || b.Vocab != len(corpus.Vocab) ||
		math.Abs(b.BigramBits-h2/math.Ln2) > 1e-15 || b.ValidChars != len(corpus.Valid) {
		t.Errorf("baselines %+v, want H1 %v, H2 %v, vocabulary %d", b, h1, h2, len(corpus.Vocab))
	}
	if doc.Command != "lm" || !doc.Complete || len(doc.Records) != 6 {
		t.Fatalf("command %q, complete %v, %d records; want lm, true, 6", doc.Command, doc.Complete, len(doc.Records))
	}
	// Every documented field, nothing else.
	var raw struct{ Records []map[string]any }
	json.Unmarshal(saved, &raw)
	for _, r := range raw.Records {
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range r {
				if !yield(k) {
					return
				}
			}
		})
		if want := slices.Sorted(slices.Values(slices.Concat(lmFields, lmJSONOnly))); !slices.Equal(keys, want) {
			t.Fatalf("record fields %v, want %v", keys, want)
		}
	}
	var order []string
	for _, r := range doc.Records {
		order = append(order, fmt.Sprintf("%s/%g", r.Mixer, r.LR))
		if r.Outcome != "completed" || r.StepsRun != 6 || r.Diverged || r.DivergedStep != 0 {
			t.Errorf("%s lr %g: outcome %s after %d steps, want completed after 6", r.Mixer, r.LR, r.Outcome, r.StepsRun)
		}
		var steps []int
		for _, e := range r.Validation {
			steps = append(steps, e.Step)
		}
		if !slices.Equal(steps, []int{3, 6}) {
			t.Errorf("%s lr %g: validation after steps %v, want [3 6]", r.Mixer, r.LR, steps)
		}
		last := r.Validation[len(r.Validation)-1].Loss
		best := min(r.Validation[0].Loss, last)
		if r.FinalValidLoss != last || r.BestValidLoss != best || r.FinalValidBits != last/math.Ln2 {
			t.Errorf("%s lr %g: final %v, best %v, bits %v; validation %v", r.Mixer, r.LR, r.FinalValidLoss,
				r.BestValidLoss, r.FinalValidBits, r.Validation)
		}
		// Six steps of a tiny model learn little: the loss is near ln V.
		if v := float64(r.FinalValidLoss); !(v > h2 && v < 1.2*doc.Baselines.UniformNats) || r.BelowBigram {
			t.Errorf("%s lr %g: validation loss %v (below H2: %v), want between H2 = %v and 1.2 ln V", r.Mixer, r.LR, v, r.BelowBigram, h2)
		}
		if wantN := map[bool]int{true: 1, false: lmDefaultN}[r.Mixer == "residual"]; r.N != wantN {
			t.Errorf("%s: n = %d, want %d", r.Mixer, r.N, wantN)
		}
		if !(r.TokensPerSecond > 0) || r.Params <= 0 || r.DType != "float32" {
			t.Errorf("%s: tokens/s %v, params %d, dtype %s", r.Mixer, r.TokensPerSecond, r.Params, r.DType)
		}
		// warmup = 6/10 = 0: the spike factor is over every step.
		if r.MaxGradNormAfterWarmup != r.MaxGradNorm || !(r.GradSpikeFactor >= 1) {
			t.Errorf("%s: max gradient norm %v, after warmup %v, spike %v", r.Mixer, r.MaxGradNorm, r.MaxGradNormAfterWarmup, r.GradSpikeFactor)
		}
		checkLMDiagnostics(t, &r, 2*1)
		run, err := readLMRunFile(dir, filepath.Base(strings.TrimSuffix(r.StepLog, ".csv"))+".json")
		if err != nil {
			t.Fatalf("%s: run file: %v", r.StepLog, err)
		}
		if len(run.Loss) != 6 || len(run.GradNorm) != 6 {
			t.Errorf("%s: %d losses and %d gradient norms in the run file, want 6", r.StepLog, len(run.Loss), len(run.GradNorm))
		}
		b1, _ := json.Marshal(run.Record)
		b2, _ := json.Marshal(r)
		if !bytes.Equal(b1, b2) {
			t.Errorf("%s: results.json's record differs from its run file's", r.StepLog)
		}
	}
	want := []string{"residual/0.003", "residual/0.01", "hc/0.003", "hc/0.01", "mhc-exact/0.003", "mhc-exact/0.01"}
	if !slices.Equal(order, want) {
		t.Errorf("records in order %v, want %v", order, want)
	}

	f, err := os.Open(filepath.Join(dir, "results.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("results.csv: %v", err)
	}
	if len(rows) != 7 || !slices.Equal(rows[0], lmFields) {
		t.Fatalf("results.csv has %d rows with header %v; want 7 with %v", len(rows), rows[0], lmFields)
	}
	for i, row := range rows[1:] {
		if row[0] != doc.Records[i].Mixer {
			t.Errorf("csv row %d is %s, json record %s", i+1, row[0], doc.Records[i].Mixer)
		}
		log, err := os.ReadFile(filepath.Join(dir, row[len(row)-1]))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(log)), "\n")
		if len(lines) != 7 || lines[0] != "step,loss,grad_norm,lr" {
			t.Errorf("%s: %d lines starting %q; want a header and 6 steps", row[len(row)-1], len(lines), lines[0])
		}
	}

	checkPlotFiles(t, dir, lmPlotNames)
	checkNoTemp(t, dir)
}

// TestLMTable checks the table: the text and its baselines in nats and bits
// first, then a row per experiment that says where its validation loss is
// against H2, in aligned columns.
func TestLMTable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	status, stdout, stderr := runCLI(append([]string{"lm"}, smallLM(dir, "--mixers", "hc,shc")...)...)
	if status != exitOK {
		t.Fatalf("status %d, stderr:\n%s", status, stderr)
	}
	corpus, _ := net.NewCorpus(net.OpticksName, net.Opticks(), lmDefaultValid)
	h1, h2 := corpus.Entropy()
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	if len(lines) != 5 {
		t.Fatalf("table has %d lines, want the text, the baselines, a header and 2 rows:\n%s", len(lines), stdout)
	}
	for _, want := range []string{net.OpticksName, "567198 characters", fmt.Sprintf("vocabulary %d", len(corpus.Vocab))} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("first line does not name %q: %s", want, lines[0])
		}
	}
	for _, want := range []string{fmt.Sprintf("H1 = %.4f nats (%.4f bits)", h1, h1/math.Ln2),
		fmt.Sprintf("H2 = %.4f nats (%.4f bits)", h2, h2/math.Ln2)} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("baselines line has no %q: %s", want, lines[1])
		}
	}
	for i, want := range []string{"vs H2", "hc", "shc"} {
		if !strings.Contains(lines[2+i], want) {
			t.Errorf("table line %d does not mention %q: %s", 2+i, want, lines[2+i])
		}
	}
	for _, l := range lines[3:] {
		if !strings.Contains(l, "above H2") {
			t.Errorf("a 6-step model below the bigram entropy? %s", l)
		}
		if len([]rune(l)) != len([]rune(lines[2])) {
			t.Errorf("table lines of different widths:\n%s", stdout)
		}
	}
	// The mark follows the record: below H2, diverged, not measured.
	doc := &lmDoc{Records: []lmRecord{{Mixer: "a", FinalValidLoss: 1, BelowBigram: true},
		{Mixer: "b", Diverged: true, DivergedStep: 17, FinalValidLoss: nan}, {Mixer: "c", FinalValidLoss: nan}}}
	var b bytes.Buffer
	if err := writeLMTable(&b, doc); err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")[3:]
	for i, want := range []string{"below H2", "diverged at 17", ""} {
		if want == "" && (strings.Contains(rows[i], "H2") || strings.Contains(rows[i], "diverged")) ||
			!strings.Contains(rows[i], want) {
			t.Errorf("row %d: %q, want %q in the vs H2 column", i, rows[i], want)
		}
	}
}

// checkLMDiagnostics checks r's training-time summaries (every 2 steps of
// 6) and the record's fields taken from them; subLayers is 2L.
func checkLMDiagnostics(t *testing.T, r *lmRecord, subLayers int) {
	t.Helper()
	var steps []int
	maxFwd, maxLayer, maxDS := 0.0, 0.0, 0.0
	for _, d := range r.TrainDiagnostics {
		steps = append(steps, d.Step)
		maxFwd = max(maxFwd, float64(d.ForwardAmax))
		maxLayer = max(maxLayer, float64(d.MaxForwardAmax))
		maxDS = max(maxDS, float64(d.MaxDSDeviation))
		for _, l := range [][]num{d.LayerForwardAmax, d.LayerBackwardAmax, d.LayerDSDeviation, d.LayerIdentityDist} {
			if len(l) != subLayers {
				t.Fatalf("%s: %d per-layer values, want %d", r.Mixer, len(l), subLayers)
			}
		}
		// The whole composite is the last prefix.
		if d.LayerForwardAmax[subLayers-1] != d.ForwardAmax || d.LayerBackwardAmax[0] != d.BackwardAmax {
			t.Errorf("%s step %d: composite gains %v, %v; last prefix %v, first suffix %v", r.Mixer, d.Step,
				d.ForwardAmax, d.BackwardAmax, d.LayerForwardAmax[subLayers-1], d.LayerBackwardAmax[0])
		}
		// The residual's 1×1 matrix is 1 and mhc-exact's matrices are
		// doubly stochastic: both composite gains are 1; neither leaves
		// its streams less than one.
		if r.Mixer == "residual" || r.Mixer == "mhc-exact" {
			for _, v := range []num{d.ForwardAmax, d.BackwardAmax, d.SampledForwardAmax, d.SampledBackwardAmax} {
				if math.Abs(float64(v)-1) > dsAmaxTol {
					t.Errorf("%s step %d: composite gain %v, want 1 within %g", r.Mixer, d.Step, v, dsAmaxTol)
				}
			}
		}
		if r.Mixer == "residual" && (d.IdentityDist != 0 || d.EffectiveStreams != 1 || d.DominantShare != 1) {
			t.Errorf("residual step %d: identity distance %v, %v effective streams, dominant share %v; want 0, 1, 1",
				d.Step, d.IdentityDist, d.EffectiveStreams, d.DominantShare)
		}
		if !(d.EffectiveStreams >= 1 && float64(d.EffectiveStreams) <= 4+1e-12) {
			t.Errorf("%s step %d: %v effective streams, want 1…4", r.Mixer, d.Step, d.EffectiveStreams)
		}
	}
	if !slices.Equal(steps, []int{2, 4, 6}) {
		t.Fatalf("%s: summaries at steps %v, want [2 4 6]", r.Mixer, steps)
	}
	last := r.TrainDiagnostics[len(r.TrainDiagnostics)-1]
	if r.FinalForwardAmax != last.ForwardAmax || r.FinalBackwardAmax != last.BackwardAmax ||
		r.IdentityDist != last.IdentityDist || r.EffectiveStreams != last.EffectiveStreams ||
		r.DominantShare != last.DominantShare || float64(r.MaxForwardAmax) != maxFwd ||
		float64(r.MaxLayerForwardAmax) != maxLayer || float64(r.MaxDSDeviation) != maxDS {
		t.Errorf("%s: record %+v does not follow its summaries %+v", r.Mixer, r, r.TrainDiagnostics)
	}
	if r.Mixer == "mhc-exact" && !(r.MaxDSDeviation < 1e-12) {
		t.Errorf("mhc-exact: worst DS deviation %v, want at the projection's floor", r.MaxDSDeviation)
	}
}

// TestLMFloat32: -float32=false trains in float64, the default in float32,
// and -resume does not take one for the other.
func TestLMFloat32(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	args := smallLM(dir, "--mixers", "residual,mhc")
	if r := runLMInEnv(t, append(slices.Clone(args), "--float32=false"), nil); r.status != exitOK {
		t.Fatal(r.stderr)
	}
	if doc := readResults(t, dir); len(doc.Records) != 2 || doc.Records[0]["dtype"] != "float64" {
		t.Fatalf("-float32=false: records %v, want 2 in float64", doc.Records)
	}
	r := runLMInEnv(t, append(slices.Clone(args), "--resume"), nil)
	if r.status != exitOK || r.runs != 2 || !strings.Contains(r.stderr, "0 of 2 experiments already done") {
		t.Errorf("-resume reused float64 runs for float32: status %d, %d runs\n%s", r.status, r.runs, r.stderr)
	}
	for _, rec := range readResults(t, dir).Records {
		if rec["dtype"] != "float32" || rec["outcome"] != "completed" {
			t.Errorf("%v: dtype %v, outcome %v; want float32, completed", rec["mixer"], rec["dtype"], rec["outcome"])
		}
	}
}

// TestLMHelp: "lm -h" prints the usage with every flag on stdout and exits
// 0; the command list names lm.
func TestLMHelp(t *testing.T) {
	status, stdout, stderr := runCLI("lm", "-h")
	if status != exitOK || stderr != "" || !strings.HasPrefix(stdout, "usage: hyperconn lm") {
		t.Fatalf("lm -h: status %d, stderr %q, stdout:\n%s", status, stderr, stdout)
	}
	for _, want := range []string{"-mixers", "-depths", "-lrs", "-seeds", "-n", "-width", "-heads", "-seq", "-batch",
		"-steps", "-warmup", "-eval-every", "-eval-tokens", "-diag-every", "-text", "-valid", "-float32", "-jobs",
		"-out", "-json", "-resume", "mhc-exact"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("lm -h does not mention %s", want)
		}
	}
	if _, stdout, _ := runCLI("-h"); !strings.Contains(stdout, "  lm ") {
		t.Errorf("hyperconn -h does not list the lm command:\n%s", stdout)
	}
}
