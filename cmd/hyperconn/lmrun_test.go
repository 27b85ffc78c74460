package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hyperconn/hyperconn/net"
)

func TestLMResume(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	// No training-time summaries: the test is about keys, and the
	// diagnostic plots would double its time.
	args := smallLM(dir, "--mixers", "hc,mhc", "--diag-every", "0")
	first := runLMInEnv(t, args, nil)
	if first.status != exitOK || first.runs != 2 || first.steps != 12 {
		t.Fatalf("first sweep: status %d, %d runs, %d steps; want 0, 2, 12\n%s", first.status, first.runs, first.steps, first.stderr)
	}
	runFile := filepath.Join(dir, runsDir, "lm_hc_L1_lr0.01_s1.json")
	before, err := os.ReadFile(runFile)
	if err != nil {
		t.Fatal(err)
	}

	// The same flags with -resume run nothing and report the same records.
	again := runLMInEnv(t, append(slices.Clone(args), "--resume"), nil)
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

	// A new seed and a new learning rate run only the new experiments.
	more := runLMInEnv(t, append(slices.Clone(args), "--resume", "--seeds", "1,2", "--lrs", "0.01,0.02"), nil)
	if more.status != exitOK || more.runs != 6 {
		t.Errorf("sweep with a new seed and lr: status %d, %d runs; want 0, 6", more.status, more.runs)
	}
	if doc := readResults(t, dir); len(doc.Records) != 8 {
		t.Errorf("results.json has %d records, want 8", len(doc.Records))
	}

	// A copy of the embedded text under another name is the same text: its
	// SHA-256 matches, so the runs are reused.
	tmp := t.TempDir()
	opticks := net.Opticks()
	copyFile := filepath.Join(tmp, "copy.txt")
	if err := os.WriteFile(copyFile, opticks, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runLMInEnv(t, append(slices.Clone(args), "--resume", "--text", copyFile), nil); r.status != exitOK || r.runs != 0 {
		t.Errorf("-text with a copy of Opticks: status %d, %d runs; want 0 and none rerun\n%s", r.status, r.runs, r.stderr)
	}

	// Any changed setting, the text included, makes every saved result
	// stale; a text that differs in one letter (the same vocabulary and
	// length) only through its SHA-256.
	edited := slices.Clone(opticks)
	k := bytes.LastIndexByte(edited, 'e')
	edited[k] = 'a'
	text := filepath.Join(tmp, "edited.txt")
	if err := os.WriteFile(text, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	orig := filepath.Join(tmp, "orig")
	if err := os.CopyFS(orig, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	for k, flag := range [][]string{{"--batch", "3"}, {"--seq", "12"}, {"--n", "2"}, {"--width", "6"},
		{"--heads", "4"}, {"--steps", "5"}, {"--warmup", "2"}, {"--eval-every", "2"}, {"--eval-tokens", "48"},
		{"--valid", "0.2"}, {"--text", text}, {"--float32=false"}, {"--diag-every", "3"}} {
		// Each in its own copy of the finished sweep.
		dir := filepath.Join(tmp, strconv.Itoa(k))
		if err := os.CopyFS(dir, os.DirFS(orig)); err != nil {
			t.Fatal(err)
		}
		flags := append(smallLM(dir, "--mixers", "hc,mhc", "--diag-every", "0", "--resume"), flag...)
		changed := runLMInEnv(t, flags, nil)
		if changed.status != exitOK || changed.runs != 2 {
			t.Errorf("-resume %v: status %d, %d runs; want 0 and both experiments rerun\n%s", flag, changed.status, changed.runs, changed.stderr)
		}
	}
}

// TestLMCancel: Ctrl-C between experiments keeps the finished ones, during
// training drops the one that was training; either way nothing
// half-written remains, and -resume then gives the records of an
// uninterrupted sweep (but the times).
func TestLMCancel(t *testing.T) {
	whole := filepath.Join(t.TempDir(), "whole")
	if r := runLMInEnv(t, smallLM(whole, "--mixers", "hc,mhc,shc", "--jobs", "1"), nil); r.status != exitOK {
		t.Fatal(r.stderr)
	}
	want := recordsWithoutTimes(t, whole)

	t.Run("between experiments", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "out")
		args := smallLM(dir, "--mixers", "hc,mhc,shc", "--jobs", "1")
		r := runLMInEnv(t, args, func(cancel context.CancelFunc, step, runs int) {
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
		if entries, _ := os.ReadDir(filepath.Join(dir, runsDir)); len(entries) != 2 {
			t.Errorf("%s holds %d files, want the 2 of the finished experiment", runsDir, len(entries))
		}
		if _, err := os.Stat(filepath.Join(dir, "lm-loss.png")); !os.IsNotExist(err) {
			t.Errorf("an interrupted sweep drew plots (%v)", err)
		}
		checkNoTemp(t, dir)
		rest := runLMInEnv(t, append(slices.Clone(args), "--resume"), nil)
		if rest.status != exitOK || rest.runs != 2 {
			t.Fatalf("resumed: status %d, %d runs; want 0, 2\n%s", rest.status, rest.runs, rest.stderr)
		}
		if got := recordsWithoutTimes(t, dir); got != want {
			t.Errorf("interrupted and resumed sweep:\n%s\nuninterrupted:\n%s", got, want)
		}
	})
	t.Run("during training", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "out")
		args := smallLM(dir, "--mixers", "hc,mhc,shc", "--jobs", "2")
		r := runLMInEnv(t, args, func(cancel context.CancelFunc, step, _ int) {
			if step == 3 {
				cancel()
			}
		})
		if r.status != exitFailure || r.runs != 0 {
			t.Fatalf("status %d, %d runs; want %d, 0", r.status, r.runs, exitFailure)
		}
		doc := readResults(t, dir)
		if doc.Complete || len(doc.Records) != 0 {
			t.Errorf("results.json: complete %v with %d records; want false with none", doc.Complete, len(doc.Records))
		}
		if entries, _ := os.ReadDir(filepath.Join(dir, runsDir)); len(entries) != 0 {
			t.Errorf("the stopped experiments left %d files in %s", len(entries), runsDir)
		}
		checkNoTemp(t, dir)
		rest := runLMInEnv(t, append(slices.Clone(args), "--resume"), nil)
		if rest.status != exitOK || rest.runs != 3 {
			t.Fatalf("resumed: status %d, %d runs; want 0, 3\n%s", rest.status, rest.runs, rest.stderr)
		}
		if got := recordsWithoutTimes(t, dir); got != want {
			t.Errorf("interrupted and resumed sweep (-jobs 2):\n%s\nuninterrupted (-jobs 1):\n%s", got, want)
		}
	})
}

// TestLMRunChecksum: an edited run file or step log is not republished by
// -resume; the experiment runs again and its record is restored.
func TestLMRunChecksum(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	args := smallLM(dir, "--mixers", "hc,mhc")
	if r := runLMInEnv(t, args, nil); r.status != exitOK {
		t.Fatal(r.stderr)
	}
	want := recordsWithoutTimes(t, dir)
	runFile := filepath.Join(dir, runsDir, "lm_mhc_L1_lr0.01_s1.json")
	logFile := filepath.Join(dir, runsDir, "lm_mhc_L1_lr0.01_s1.csv")
	for _, edit := range []struct {
		file     string
		old, new string
	}{
		{runFile, `"final_valid_loss": 4.`, `"final_valid_loss": 1.`},
		{runFile, `"below_bigram": false`, `"below_bigram": true`},
		{logFile, "\n3,", "\n3,1"},
	} {
		b, err := os.ReadFile(edit.file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte(edit.old)) {
			t.Fatalf("%s has no %q", edit.file, edit.old)
		}
		if err := os.WriteFile(edit.file, bytes.Replace(b, []byte(edit.old), []byte(edit.new), 1), 0o644); err != nil {
			t.Fatal(err)
		}
		r := runLMInEnv(t, append(slices.Clone(args), "--resume"), nil)
		if r.status != exitOK || r.runs != 1 {
			t.Errorf("edit %q → %q: status %d, %d runs; want 0 and the edited experiment rerun", edit.old, edit.new, r.status, r.runs)
		}
		if !strings.Contains(r.stderr, "not reusing") || !strings.Contains(r.stderr, "checksum") {
			t.Errorf("stderr does not say why the run was not reused:\n%s", r.stderr)
		}
		if got := recordsWithoutTimes(t, dir); got != want {
			t.Errorf("after rerunning the edited experiment:\n%s\nwant\n%s", got, want)
		}
	}
}

// TestLMStaleTemps: temporary files of a killed run are removed by the
// next run.
func TestLMStaleTemps(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	if err := os.MkdirAll(filepath.Join(dir, runsDir), 0o755); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	var stale []string
	for _, p := range []string{".results.json.tmp-1", ".lm-loss.png.tmp-2", runsDir + "/.lm_hc_L1_lr0.01_s1.json.tmp-3"} {
		p = filepath.Join(dir, p)
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, old, old)
		stale = append(stale, p)
	}
	r := runLMInEnv(t, smallLM(dir, "--mixers", "hc"), nil)
	if r.status != exitOK || !strings.Contains(r.stderr, "removed 3 temporary files") {
		t.Errorf("status %d, stderr:\n%s", r.status, r.stderr)
	}
	for _, p := range stale {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s remains (%v)", p, err)
		}
	}
	checkNoTemp(t, dir)
}

// TestLMDiskFull: a run file that cannot be saved (ENOSPC) is the
// failure the command reports (exit 1), never a completed experiment, and
// the results list only the runs saved before it, as their run files hold
// them.
func TestLMDiskFull(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	defer func() { writeFault = nil }()
	full := false
	writeFault = func(path string) error {
		if strings.HasSuffix(path, "lm_mhc_L1_lr0.01_s1.json") {
			full = true // from now on the disk is full
		}
		if full {
			return syscall.ENOSPC
		}
		return nil
	}
	r := runLMInEnv(t, smallLM(dir, "--mixers", "hc,mhc,shc", "--jobs", "1"), nil)
	if r.status != exitFailure || r.runs != 1 {
		t.Fatalf("status %d after %d saved runs, want %d after 1", r.status, r.runs, exitFailure)
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	last := lines[len(lines)-1]
	if strings.Contains(r.stderr, "mhc L=1 lr=0.01 seed=1 completed") || !strings.Contains(last, "mhc L=1 lr=0.01 seed=1: saving its run") ||
		!strings.Contains(last, "no space left on device") {
		t.Errorf("the last line is not the first failure (saving mhc's run file):\n%s", r.stderr)
	}
	writeFault = nil
	doc := readResults(t, dir)
	// The sweep starts the costliest mixer first (lmMixerCost): shc, then
	// mhc, whose run file cannot be saved; hc never starts.
	if doc.Complete || len(doc.Records) != 1 || doc.Records[0]["mixer"] != "shc" {
		t.Fatalf("results: complete %v with %d records; want false with shc's only", doc.Complete, len(doc.Records))
	}
	run, err := readLMRunFile(dir, "lm_shc_L1_lr0.01_s1.json")
	if err != nil {
		t.Fatal(err)
	}
	b1, _ := json.Marshal(run.Record)
	var rec lmRecord
	b0, _ := json.Marshal(doc.Records[0])
	json.Unmarshal(b0, &rec)
	if b2, _ := json.Marshal(rec); !bytes.Equal(b1, b2) {
		t.Errorf("results.json's record differs from its run file's:\n%s\n%s", b2, b1)
	}
	checkNoTemp(t, dir)
}
