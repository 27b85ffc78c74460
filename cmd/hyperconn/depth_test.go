package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// dsAmaxTol is how far from 1 the composite Amax of a product of exactly
// doubly stochastic matrices may be: each of the L ≤ 2 factors is DS to
// the projection's floor (≤ 1e-13, SPEC §4) and a product adds rounding of
// order n·ε per factor.
const dsAmaxTol = 1e-12

// depthFields are the documented fields of a record of results.json and the
// columns of results.csv, in order (README.md, "hyperconn depth").
var depthFields = []string{"mixer", "depth", "n", "dtype", "params", "outcome", "diverged", "reason", "steps_run",
	"final_train_loss", "test_loss", "test_accuracy", "wall_seconds", "forward_amax", "backward_amax",
	"sampled_forward_amax", "sampled_backward_amax", "sigma_min", "dist_j", "effective_rank",
	"max_ds_deviation", "composite_ds_deviation", "composite_sphere_error", "max_sphere_error", "max_grad_norm",
	"max_grad_norm_after_warmup", "grad_spike_factor", "max_layer_grad_norm", "step_log"}

// depthJSONOnly are the fields of a record of results.json that results.csv
// leaves out.
var depthJSONOnly = []string{"train_diagnostics"}

// smallDepth are the flags of a sweep small enough for tests: a few
// experiments of 5 steps on 256 images each.
func smallDepth(out string, extra ...string) []string {
	return append([]string{"--depths", "2", "--steps", "5", "--subset", "256", "--test", "256",
		"--width", "8", "--out", out}, extra...)
}

// depthRunResult is what runDepthInEnv observed.
type depthRunResult struct {
	status         int
	stdout, stderr string
	steps, runs    int // training steps taken and experiments finished
}

// runDepthInEnv runs the depth command with args in a test environment:
// plain progress lines, no status ticker, and the hooks counting steps and
// finished experiments. cancelAt, if non-nil, is called from the hooks and
// may cancel the context.
func runDepthInEnv(t *testing.T, args []string, cancelAt func(cancel context.CancelFunc, mixer string, step, runs int)) depthRunResult {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var steps, runs atomic.Int64
	env := depthEnv{ctx: ctx, start: time.Now(),
		afterStep: func(mixer string, depth, step int) {
			steps.Add(1)
			if cancelAt != nil {
				cancelAt(cancel, mixer, step, int(runs.Load()))
			}
		},
		afterRun: func(rec depthRecord) {
			k := runs.Add(1)
			if cancelAt != nil {
				cancelAt(cancel, rec.Mixer, -1, int(k))
			}
		},
	}
	var o, e bytes.Buffer
	status := runDepthEnv(args, &o, &e, env)
	return depthRunResult{status: status, stdout: o.String(), stderr: e.String(), steps: int(steps.Load()), runs: int(runs.Load())}
}

// readResults decodes dir/results.json.
func readResults(t *testing.T, dir string) (doc struct {
	Command  string
	Complete bool
	Records  []map[string]any
}) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("results.json: %v", err)
	}
	return doc
}

// checkNoTemp fails if a temporary file (".name.tmp-*" of plotting.WriteFile)
// is left anywhere under dir.
func checkNoTemp(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			t.Error(err)
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") || strings.Contains(d.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", p)
		}
		return nil
	})
}

func TestDepthEndToEnd(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	args := append([]string{"depth"}, smallDepth(dir, "--depths", "1,2", "--mixers", "residual,hc,mhc-exact", "--json", "--diag-every", "2")...)
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
	doc := readResults(t, dir)
	if doc.Command != "depth" || !doc.Complete || len(doc.Records) != 6 {
		t.Fatalf("command %q, complete %v, %d records; want depth, true, 6 (3 mixers × 2 depths)",
			doc.Command, doc.Complete, len(doc.Records))
	}
	var order []string
	for _, r := range doc.Records {
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range r {
				if !yield(k) {
					return
				}
			}
		})
		if want := slices.Sorted(slices.Values(slices.Concat(depthFields, depthJSONOnly))); !slices.Equal(keys, want) {
			t.Fatalf("record fields %v, want %v", keys, want)
		}
		order = append(order, r["mixer"].(string)+"/"+strings.TrimSuffix(r["step_log"].(string), ".csv")[len("runs/"):])
		if r["outcome"] != "completed" || r["steps_run"] != 5.0 {
			t.Errorf("%v: outcome %v after %v steps, want completed after 5", r["mixer"], r["outcome"], r["steps_run"])
		}
		// 5 steps, warmup 5/10 = 0: every step counts after the warmup.
		mg, mw, sf := r["max_grad_norm"].(float64), r["max_grad_norm_after_warmup"].(float64), r["grad_spike_factor"].(float64)
		if mw != mg || !(sf >= 1) {
			t.Errorf("%v L=%v: max gradient norm %v, after warmup %v, spike factor %v; want equal norms, factor ≥ 1", r["mixer"], r["depth"], mg, mw, sf)
		}
		// Training-time diagnostics every 2 steps and at the last.
		var steps []float64
		for _, d := range r["train_diagnostics"].([]any) {
			d := d.(map[string]any)
			steps = append(steps, d["step"].(float64))
			if m := r["mixer"]; m == "residual" || m == "mhc-exact" {
				if v := d["forward_amax"].(float64); math.Abs(v-1) > dsAmaxTol {
					t.Errorf("%v L=%v step %v: training forward_amax %v, want 1", m, r["depth"], d["step"], v)
				}
			}
		}
		if !slices.Equal(steps, []float64{2, 4, 5}) {
			t.Errorf("%v L=%v: training diagnostics at steps %v, want [2 4 5]", r["mixer"], r["depth"], steps)
		}
		if acc := r["test_accuracy"].(float64); acc < 0 || acc > 1 {
			t.Errorf("%v: test accuracy %v outside [0, 1]", r["mixer"], acc)
		}
		// Residual has the 1×1 matrix 1, mhc-exact exactly doubly
		// stochastic matrices: both composite gains are 1.
		if m := r["mixer"]; m == "residual" || m == "mhc-exact" {
			for _, f := range []string{"forward_amax", "backward_amax", "sampled_forward_amax", "sampled_backward_amax"} {
				if v := r[f].(float64); math.Abs(v-1) > dsAmaxTol {
					t.Errorf("%v L=%v: %s = %v, want 1 within %g", m, r["depth"], f, v, dsAmaxTol)
				}
			}
		}
	}
	want := []string{"residual/residual_L1", "residual/residual_L2", "hc/hc_L1", "hc/hc_L2", "mhc-exact/mhc-exact_L1", "mhc-exact/mhc-exact_L2"}
	if !slices.Equal(order, want) {
		t.Errorf("records in order %v, want %v", order, want)
	}

	// results.csv: the same fields as columns, one row per record.
	f, err := os.Open(filepath.Join(dir, "results.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("results.csv: %v", err)
	}
	if len(rows) != 7 || !slices.Equal(rows[0], depthFields) {
		t.Fatalf("results.csv has %d rows with header %v; want 7 with %v", len(rows), rows[0], depthFields)
	}
	for i, row := range rows[1:] {
		if row[0] != doc.Records[i]["mixer"] {
			t.Errorf("csv row %d is %s, json record %v", i+1, row[0], doc.Records[i]["mixer"])
		}
		log, err := os.ReadFile(filepath.Join(dir, row[len(row)-1]))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(log)), "\n")
		if len(lines) != 6 || lines[0] != "step,loss,accuracy,grad_norm,lr" {
			t.Errorf("%s: %d lines starting %q; want a header and 5 steps", row[len(row)-1], len(lines), lines[0])
		}
	}

	// The plots, as PNG and SVG.
	checkPlotFiles(t, dir, depthPlotNames)
	checkNoTemp(t, dir)
}

func TestDepthTable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	status, stdout, stderr := runCLI(append([]string{"depth"}, smallDepth(dir, "--mixers", "hc,shc")...)...)
	if status != exitOK {
		t.Fatalf("status %d, stderr:\n%s", status, stderr)
	}
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("table has %d lines, want a header and 2 rows:\n%s", len(lines), stdout)
	}
	for _, want := range []string{"max ‖g‖ after wu", "spike ×"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("table header has no %q column: %s", want, lines[0])
		}
	}
	for i, want := range []string{"fwd Amax", "hc", "shc"} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("table line %d does not mention %q: %s", i, want, lines[i])
		}
	}
	// The columns are aligned: every line has the same width.
	for _, l := range lines[1:] {
		if len([]rune(l)) != len([]rune(lines[0])) {
			t.Errorf("table lines of different widths:\n%s", stdout)
			break
		}
	}
}

func TestDepthResume(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	args := smallDepth(dir, "--mixers", "hc,mhc")
	first := runDepthInEnv(t, args, nil)
	if first.status != exitOK || first.runs != 2 || first.steps != 10 {
		t.Fatalf("first sweep: status %d, %d runs, %d steps; want 0, 2, 10\n%s", first.status, first.runs, first.steps, first.stderr)
	}
	runFile := filepath.Join(dir, runsDir, "hc_L2.json")
	before, err := os.ReadFile(runFile)
	if err != nil {
		t.Fatal(err)
	}

	// The same flags with -resume run nothing and report the same records.
	again := runDepthInEnv(t, append(slices.Clone(args), "--resume"), nil)
	if again.status != exitOK || again.runs != 0 || again.steps != 0 {
		t.Errorf("resumed sweep: status %d, %d runs, %d steps; want 0, 0, 0", again.status, again.runs, again.steps)
	}
	if !strings.Contains(again.stderr, "2 of 2 experiments already done") {
		t.Errorf("stderr does not report the skipped experiments:\n%s", again.stderr)
	}
	if after, _ := os.ReadFile(runFile); !bytes.Equal(before, after) {
		t.Error("-resume rewrote a finished run file")
	}
	if again.stdout != first.stdout {
		t.Errorf("resumed table differs:\n%s\nwant\n%s", again.stdout, first.stdout)
	}

	// A new depth runs only the new experiments.
	more := runDepthInEnv(t, append(slices.Clone(args), "--resume", "--depths", "1,2"), nil)
	if more.status != exitOK || more.runs != 2 {
		t.Errorf("sweep with a new depth: status %d, %d runs; want 0, 2", more.status, more.runs)
	}
	if doc := readResults(t, dir); len(doc.Records) != 4 {
		t.Errorf("results.json has %d records, want 4", len(doc.Records))
	}

	// Any changed hyperparameter makes every saved result stale.
	for _, flag := range [][]string{{"--lr", "0.002"}, {"--seed", "2"}, {"--batch", "32"}, {"--test", "128"},
		{"--subset", "200"}, {"--n", "2"}, {"--width", "6"}, {"--steps", "4"}} {
		changed := runDepthInEnv(t, append(slices.Clone(args), append([]string{"--resume"}, flag...)...), nil)
		if changed.status != exitOK || changed.runs != 2 {
			t.Errorf("-resume %v: status %d, %d runs; want 0 and both experiments rerun", flag, changed.status, changed.runs)
		}
		// Restore the original results for the next flag.
		if r := runDepthInEnv(t, args, nil); r.status != exitOK {
			t.Fatal(r.stderr)
		}
	}
}

func TestDepthCancel(t *testing.T) {
	t.Run("between experiments", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "out")
		args := smallDepth(dir, "--mixers", "hc,mhc,shc", "--jobs", "1")
		// Cancel as soon as the first experiment is saved.
		r := runDepthInEnv(t, args, func(cancel context.CancelFunc, _ string, step, runs int) {
			if runs >= 1 {
				cancel()
			}
		})
		if r.status != exitFailure || r.runs != 1 {
			t.Fatalf("status %d after %d runs; want %d after 1", r.status, r.runs, exitFailure)
		}
		if !strings.Contains(r.stderr, "interrupted: 1 of 3 experiments finished") {
			t.Errorf("stderr does not say what was kept:\n%s", r.stderr)
		}
		doc := readResults(t, dir)
		if doc.Complete || len(doc.Records) != 1 || doc.Records[0]["outcome"] != "completed" {
			t.Errorf("results.json: complete %v with %d records; want false with the 1 finished", doc.Complete, len(doc.Records))
		}
		entries, _ := os.ReadDir(filepath.Join(dir, runsDir))
		if len(entries) != 2 { // one run file and its step log
			t.Errorf("%s holds %d files, want the 2 of the finished experiment", runsDir, len(entries))
		}
		if _, err := os.Stat(filepath.Join(dir, "loss.png")); !os.IsNotExist(err) {
			t.Errorf("an interrupted sweep drew plots (%v)", err)
		}
		checkNoTemp(t, dir)

		// -resume finishes the other two.
		rest := runDepthInEnv(t, append(slices.Clone(args), "--resume"), nil)
		if rest.status != exitOK || rest.runs != 2 {
			t.Fatalf("resumed: status %d, %d runs; want 0, 2\n%s", rest.status, rest.runs, rest.stderr)
		}
		if doc := readResults(t, dir); !doc.Complete || len(doc.Records) != 3 {
			t.Errorf("after -resume results.json: complete %v with %d records; want true with 3", doc.Complete, len(doc.Records))
		}
	})
	t.Run("during training", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "out")
		// Cancel at the third step of the first experiment: it stops there
		// and is not recorded.
		r := runDepthInEnv(t, smallDepth(dir, "--mixers", "hc", "--jobs", "1"),
			func(cancel context.CancelFunc, _ string, step, _ int) {
				if step == 3 {
					cancel()
				}
			})
		if r.status != exitFailure || r.runs != 0 || r.steps != 3 {
			t.Fatalf("status %d, %d runs, %d steps; want %d, 0, 3", r.status, r.runs, r.steps, exitFailure)
		}
		doc := readResults(t, dir)
		if doc.Complete || len(doc.Records) != 0 {
			t.Errorf("results.json: complete %v with %d records; want false with none", doc.Complete, len(doc.Records))
		}
		if entries, _ := os.ReadDir(filepath.Join(dir, runsDir)); len(entries) != 0 {
			t.Errorf("the stopped experiment left %d files in %s", len(entries), runsDir)
		}
		checkNoTemp(t, dir)
	})
}

func TestNumJSON(t *testing.T) {
	type rec struct{ A, B, C num }
	b, err := json.Marshal(rec{A: 1.5, B: num(math.NaN()), C: num(math.Inf(1))})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"A":1.5,"B":null,"C":null}` {
		t.Errorf("Marshal = %s, want non-finite values as null", b)
	}
	var got rec
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.A != 1.5 || !math.IsNaN(float64(got.B)) || !math.IsNaN(float64(got.C)) {
		t.Errorf("Unmarshal = %+v, want 1.5 and NaN for null", got)
	}
	if s := num(math.NaN()).String(); s != "" {
		t.Errorf("NaN formats as %q in CSV, want an empty cell", s)
	}
}

func TestHeatmapLayer(t *testing.T) {
	dist := []num{0.1, 0.5, 0.2, 0.5}
	for _, tc := range []struct{ want, got int }{
		{0, 2}, // the farthest from I, the first of two equal
		{1, 1}, {4, 4},
		{9, 4}, // deeper than the network: its last block
	} {
		if g := heatmapLayer(tc.want, dist); g != tc.got {
			t.Errorf("heatmapLayer(%d, %v) = %d, want %d", tc.want, dist, g, tc.got)
		}
	}
}

// TestDepthJobsIndependent checks that the results do not depend on how
// many experiments run in parallel: every run is single-threaded.
func TestDepthJobsIndependent(t *testing.T) {
	var docs [2][]map[string]any
	for k, jobs := range []string{"1", "2"} {
		dir := filepath.Join(t.TempDir(), "out")
		r := runDepthInEnv(t, smallDepth(dir, "--mixers", "hc,mhc,shc", "--jobs", jobs), nil)
		if r.status != exitOK {
			t.Fatalf("-jobs %s: status %d\n%s", jobs, r.status, r.stderr)
		}
		docs[k] = readResults(t, dir).Records
		for _, rec := range docs[k] {
			delete(rec, "wall_seconds")
		}
	}
	b0, _ := json.Marshal(docs[0])
	b1, _ := json.Marshal(docs[1])
	if !bytes.Equal(b0, b1) {
		t.Errorf("records differ between -jobs 1 and -jobs 2:\n%s\n%s", b0, b1)
	}
}

// TestDepthFloat32 runs a small sweep with -float32=false, then the same
// with no -float32 flag (float32 is the default): every record of the
// second says float32 and completes, and -resume does not take a float64
// run for a float32 one (the key differs).
func TestDepthFloat32(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	if status, _, stderr := runCLI(append([]string{"depth"}, smallDepth(dir, "--mixers", "residual,mhc", "--float32=false")...)...); status != exitOK {
		t.Fatalf("float64 sweep: status %d, stderr:\n%s", status, stderr)
	}
	if doc := readResults(t, dir); len(doc.Records) != 2 || doc.Records[0]["dtype"] != "float64" {
		t.Fatalf("-float32=false: records %v, want 2 in float64", doc.Records)
	}
	status, _, stderr := runCLI(append([]string{"depth"}, smallDepth(dir, "--mixers", "residual,mhc", "--resume")...)...)
	if status != exitOK {
		t.Fatalf("float32 sweep: status %d, stderr:\n%s", status, stderr)
	}
	if !strings.Contains(stderr, "0 of 2 experiments already done") {
		t.Errorf("-resume reused float64 runs for -float32:\n%s", stderr)
	}
	doc := readResults(t, dir)
	if len(doc.Records) != 2 {
		t.Fatalf("%d records, want 2", len(doc.Records))
	}
	for _, r := range doc.Records {
		if r["dtype"] != "float32" || r["outcome"] != "completed" {
			t.Errorf("%v: dtype %v, outcome %v; want float32, completed", r["mixer"], r["dtype"], r["outcome"])
		}
	}
}
