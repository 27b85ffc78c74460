package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readRunFile decodes a run file and verifies its checksums.
func readRunFile(dir, name string) (*depthRun, error) {
	b, err := os.ReadFile(filepath.Join(dir, runsDir, name))
	if err != nil {
		return nil, err
	}
	var r depthRun
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	log, err := os.ReadFile(filepath.Join(dir, r.Record.StepLog))
	if err != nil {
		return nil, err
	}
	if err := checkRun(&r, log); err != nil {
		return nil, err
	}
	return &r, nil
}

// checkConsistent checks the invariant of depthfiles.go in dir: every
// record results.json and results.csv list is, field for field, the
// record of a run file beside them whose checksums hold, and no temporary
// file older than before remains. Either results file may be absent (a
// process killed before it wrote them). It returns results.json's
// complete flag and its number of records (-1 without the file).
func checkConsistent(t *testing.T, dir string, before time.Time) (complete bool, records int) {
	t.Helper()
	records = -1
	runRecord := func(mixer string, depth int) ([]byte, *depthRecord) {
		t.Helper()
		r, err := readRunFile(dir, depthKey{Mixer: mixer, Depth: depth}.name()+".json")
		if err != nil {
			t.Errorf("%s L=%d listed in the results, but its run file: %v", mixer, depth, err)
			return nil, nil
		}
		b, _ := json.Marshal(r.Record)
		return b, &r.Record
	}
	if b, err := os.ReadFile(filepath.Join(dir, "results.json")); err == nil {
		var doc depthDoc
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("results.json: %v", err)
		}
		complete, records = doc.Complete, len(doc.Records)
		for _, rec := range doc.Records {
			want, _ := runRecord(rec.Mixer, rec.Depth)
			if got, _ := json.Marshal(rec); want != nil && !bytes.Equal(got, want) {
				t.Errorf("results.json's record of %s L=%d differs from its run file:\n%s\n%s", rec.Mixer, rec.Depth, got, want)
			}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "results.csv")); err == nil {
		rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
		if err != nil || len(rows) == 0 {
			t.Fatalf("results.csv: %v, %d rows", err, len(rows))
		}
		for _, row := range rows[1:] {
			var depth int
			fmt.Sscan(row[1], &depth)
			_, rec := runRecord(row[0], depth)
			if rec == nil {
				continue
			}
			for k, c := range recordColumns {
				if c.cell(rec) != row[k] {
					t.Errorf("results.csv's %s of %s L=%d is %q, its run file says %q", c.name, row[0], depth, row[k], c.cell(rec))
				}
			}
		}
	}
	for _, d := range []string{dir, filepath.Join(dir, runsDir)} {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if fi, err := e.Info(); err == nil && strings.Contains(e.Name(), tempMark) && fi.ModTime().Before(before) {
				t.Errorf("temporary file %s from before the current run remains", filepath.Join(d, e.Name()))
			}
		}
	}
	return complete, records
}

// TestDepthRunChecksum (issue 19, point 4): an edited run file or step log
// is not republished by -resume; the experiment runs again and its result
// is restored. Before the checksums, 296 of 300 edits were republished.
func TestDepthRunChecksum(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	args := smallDepth(dir, "--mixers", "hc,mhc")
	if r := runDepthInEnv(t, args, nil); r.status != exitOK {
		t.Fatal(r.stderr)
	}
	orig := readResults(t, dir)
	runFile := filepath.Join(dir, runsDir, "mhc_L2.json")
	logFile := filepath.Join(dir, runsDir, "mhc_L2.csv")
	for _, edit := range []struct {
		file     string
		old, new string
	}{
		{runFile, `"test_accuracy": 0.`, `"test_accuracy": 1.`},
		{runFile, `"outcome": "completed"`, `"outcome": "diverged!"`},
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
		r := runDepthInEnv(t, append(slices.Clone(args), "--resume"), nil)
		if r.status != exitOK || r.runs != 1 {
			t.Errorf("edit %q → %q: status %d, %d runs; want 0 and the edited experiment rerun", edit.old, edit.new, r.status, r.runs)
		}
		if !strings.Contains(r.stderr, "not reusing") || !strings.Contains(r.stderr, "checksum") {
			t.Errorf("stderr does not say why the run was not reused:\n%s", r.stderr)
		}
		again := readResults(t, dir)
		if len(again.Records) != len(orig.Records) || again.Records[1]["test_accuracy"] != orig.Records[1]["test_accuracy"] {
			t.Errorf("after rerunning the edited experiment: %v, want %v", again.Records, orig.Records)
		}
		checkConsistent(t, dir, time.Now())
	}
}

// TestDepthStaleTemps (issue 19, point 5): temporary files of a killed run
// are removed by the next run; newer ones (another process's, still being
// written) are left alone.
func TestDepthStaleTemps(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	if err := os.MkdirAll(filepath.Join(dir, runsDir), 0o755); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	var stale []string
	for _, p := range []string{".results.json.tmp-123", ".loss.png.tmp-9", runsDir + "/.hc_L2.json.tmp-77", runsDir + "/.hc_L2.csv.tmp-1"} {
		p = filepath.Join(dir, p)
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, old, old)
		stale = append(stale, p)
	}
	fresh := filepath.Join(dir, ".other.tmp-5")
	os.WriteFile(fresh, nil, 0o600)
	os.Chtimes(fresh, time.Now().Add(time.Hour), time.Now().Add(time.Hour))
	r := runDepthInEnv(t, smallDepth(dir, "--mixers", "hc"), nil)
	if r.status != exitOK || !strings.Contains(r.stderr, "removed 4 temporary files") {
		t.Errorf("status %d, stderr:\n%s", r.status, r.stderr)
	}
	for _, p := range stale {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s remains (%v)", p, err)
		}
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a temporary file newer than the run was removed: %v", err)
	}
	checkConsistent(t, dir, time.Now().Add(-time.Minute))
}

// TestDepthRerunConsistent (issue 19, point 3): a rerun with other flags
// that stops after its first experiment leaves results that agree with the
// run files (complete: false), not the old complete results. Before, the
// old results.json said complete: true with 5 steps beside a 4-step run.
func TestDepthRerunConsistent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	args := smallDepth(dir, "--mixers", "hc,mhc,shc", "--jobs", "1")
	if r := runDepthInEnv(t, args, nil); r.status != exitOK {
		t.Fatal(r.stderr)
	}
	if complete, k := checkConsistent(t, dir, time.Now()); !complete || k != 3 {
		t.Fatalf("first sweep: complete %v with %d records", complete, k)
	}
	for _, tc := range []struct {
		extra []string
		want  int // records listed: the runs reused and the one finished
	}{{[]string{"--steps", "4"}, 1}, {[]string{"--steps", "4", "--resume"}, 2}, {[]string{"--lr", "0.002", "--resume"}, 1}} {
		extra := tc.extra
		r := runDepthInEnv(t, append(slices.Clone(args), extra...), func(cancel context.CancelFunc, _ string, _, runs int) {
			if runs >= 1 {
				cancel()
			}
		})
		if r.status != exitFailure || r.runs != 1 {
			t.Fatalf("%v: status %d after %d runs", extra, r.status, r.runs)
		}
		complete, k := checkConsistent(t, dir, time.Now())
		if complete || k != tc.want {
			t.Errorf("%v, stopped after one experiment: results complete %v with %d records; want false with %d", extra, complete, k, tc.want)
		}
		if doc := readResults(t, dir); doc.Records[0]["steps_run"] != float64(4) && extra[0] == "--steps" {
			t.Errorf("%v: the listed record ran %v steps", extra, doc.Records[0]["steps_run"])
		}
	}
	// Complete results again, then a rerun that dies while saving its first
	// run file (after its step log): nothing may still claim the old runs.
	if r := runDepthInEnv(t, args, nil); r.status != exitOK {
		t.Fatal(r.stderr)
	}
	defer func() { writeFault = nil }()
	writeFault = func(path string) error {
		if strings.HasSuffix(path, ".json") && strings.Contains(path, runsDir) {
			return syscall.EIO
		}
		return nil
	}
	if r := runDepthInEnv(t, append(slices.Clone(args), "--steps", "4"), nil); r.status != exitFailure {
		t.Fatalf("status %d with a failing disk", r.status)
	}
	writeFault = nil
	if complete, k := checkConsistent(t, dir, time.Now()); complete || k != 0 {
		t.Errorf("after a failed save: results complete %v with %d records; want false with none", complete, k)
	}
}

// TestDepthDiskFull (issue 19, point 6): when a run file cannot be saved
// (a full disk), the progress line does not call the experiment completed,
// the first failure is the error reported, and the results list only the
// runs that were saved.
func TestDepthDiskFull(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	defer func() { writeFault = nil }()
	full := false
	writeFault = func(path string) error {
		if strings.HasSuffix(path, "mhc_L2.json") {
			full = true // from now on the disk is full
		}
		if full {
			return syscall.ENOSPC
		}
		return nil
	}
	r := runDepthInEnv(t, smallDepth(dir, "--mixers", "hc,mhc,shc", "--jobs", "1"), nil)
	if r.status != exitFailure {
		t.Fatalf("status %d, want %d", r.status, exitFailure)
	}
	if strings.Contains(r.stderr, "mhc L=2 completed") {
		t.Errorf("the unsaved experiment is reported completed:\n%s", r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	last := lines[len(lines)-1]
	if !strings.Contains(last, "mhc at depth 2: saving its run") || !strings.Contains(last, "mhc_L2.json") ||
		!strings.Contains(last, "no space left on device") {
		t.Errorf("the last line is not the first failure (saving mhc_L2.json):\n%s", r.stderr)
	}
	writeFault = nil
	if complete, k := checkConsistent(t, dir, time.Now()); complete || k != 1 {
		t.Errorf("results complete %v with %d records; want false with hc's only", complete, k)
	}
}
