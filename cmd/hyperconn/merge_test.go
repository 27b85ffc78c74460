package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// copyDir copies the regular files of src and src/runs into dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	for _, sub := range []string{"", runsDir} {
		entries, err := os.ReadDir(filepath.Join(src, sub))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dst, sub), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if !e.Type().IsRegular() {
				continue
			}
			b, err := os.ReadFile(filepath.Join(src, sub, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dst, sub, e.Name()), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// editFile replaces the first old in path by new.
func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s has no %q", path, old)
	}
	if err := os.WriteFile(path, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestMergeErrors: every problem with merge's input is one line on stderr
// naming the file or setting, exit status 2, and nothing written; the
// shard directories are left as they were.
func TestMergeErrors(t *testing.T) {
	root := t.TempDir()
	whole, s := runShards(t, root, 3)
	dir := func(name string) string { return filepath.Join(root, name) }

	// A shard of another sweep (another -lr), one with a corrupt run file,
	// one with an edited step log, the whole sweep with one run forged
	// (valid checksums, another result), a results.json that claims a
	// shard it does not hold, and the results of another command.
	if r := runDepthInEnv(t, shardSweep(dir("lr"), "--shard", "2/3", "--lr", "0.002"), nil); r.status != exitOK {
		t.Fatal(r.stderr)
	}
	copyDir(t, s[1], dir("corrupt"))
	editFile(t, filepath.Join(dir("corrupt"), runsDir, "mhc_L1.json"), `"test_accuracy": 0.`, `"test_accuracy": 1.`)
	copyDir(t, s[1], dir("log"))
	editFile(t, filepath.Join(dir("log"), runsDir, "residual_L2.csv"), "\n3,", "\n3,1")
	copyDir(t, whole, dir("forged"))
	forged, err := readRunFile(dir("forged"), "hc_L2.json")
	if err != nil {
		t.Fatal(err)
	}
	forged.Record.TestAccuracy += 0.01
	b, err := encodeRun(forged)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir("forged"), runsDir, "hc_L2.json"), b, 0o644)
	copyDir(t, s[0], dir("claims"))
	editFile(t, filepath.Join(dir("claims"), "results.json"), `"shard": "1/3"`, `"shard": "2/3"`)
	os.MkdirAll(dir("exact"), 0o755)
	os.WriteFile(filepath.Join(dir("exact"), "results.json"), []byte(`{"command": "exact", "config": {"n": [4]}}`), 0o644)
	os.MkdirAll(dir("empty"), 0o755)

	before := map[string][]byte{}
	for _, d := range s {
		before[d], _ = os.ReadFile(filepath.Join(d, "results.json"))
	}
	out := dir("merged")
	for _, tc := range []struct {
		name string
		args []string
		msg  []string // in the line, in order
	}{
		{"another sweep", []string{"-out", out, s[0], dir("lr"), s[2]}, []string{"not shards of one sweep", `setting "lr"`, "0.003", "0.002"}},
		{"missing shard", []string{"-out", out, s[0], s[1]}, []string{"2 of the sweep's 8 experiments are missing", "hc_L1 (in none of the shards given)", "mhc_L2", "-partial"}},
		{"missing shard, reordered", []string{s[2], "-out", out, s[0]}, []string{"3 of the sweep's 8 experiments are missing", "residual_L2", "mhc_L1", "shc_L2"}},
		{"corrupt run file", []string{"-out", out, s[0], dir("corrupt"), s[2]}, []string{filepath.Join(dir("corrupt"), runsDir, "mhc_L1.json"), "checksum"}},
		{"edited step log", []string{"-out", out, s[0], dir("log"), s[2]}, []string{filepath.Join(dir("log"), runsDir, "residual_L2.json"), "step log", "checksum"}},
		{"duplicate that differs", []string{"-out", out, s[0], s[1], s[2], dir("forged")}, []string{"hc_L2 differs between", s[0], dir("forged"), "different results"}},
		{"lists another shard's", []string{"-out", out, dir("claims"), s[1], s[2]}, []string{filepath.Join(dir("claims"), "results.json"), "lists residual_L1", "not in its shard 2/3"}},
		{"out is a shard", []string{"-out", s[1], s[0], s[1], s[2]}, []string{"-out " + s[1] + " is the shard directory"}},
		{"out is a shard, another spelling", []string{"-out", s[1] + "/.", s[0], s[1], s[2]}, []string{"is the shard directory"}},
		{"another command", []string{"-out", out, dir("exact")}, []string{`command "exact" cannot be merged`, "depth"}},
		{"no results", []string{"-out", out, s[0], dir("empty")}, []string{"shard directory " + dir("empty"), "no such file"}},
		{"no out", []string{s[0], s[1], s[2]}, []string{"-out: want the directory"}},
		{"no shard", []string{"-out", out}, []string{"no shard directory given"}},
		{"bad flag", []string{"-out", out, "-bogus", s[0]}, []string{"flag provided but not defined: -bogus"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, stdout, stderr := runCLI(append([]string{"merge"}, tc.args...)...)
			first, rest, _ := strings.Cut(stderr, "\n")
			if status != exitUsage || stdout != "" {
				t.Errorf("status %d, stdout %q; want %d and nothing", status, stdout, exitUsage)
			}
			if !strings.HasPrefix(first, "hyperconn merge: ") {
				t.Errorf("first line %q does not start with the command", first)
			}
			at := 0
			for _, m := range tc.msg {
				i := strings.Index(first[at:], m)
				if i < 0 {
					t.Errorf("the error line does not say %q (in order):\n%s", m, first)
					break
				}
				at += i + len(m)
			}
			if rest != "" && !strings.HasPrefix(rest, "usage: hyperconn merge") {
				t.Errorf("more than one line on stderr:\n%s", stderr)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("%s exists after the error (%v)", out, err)
			}
			for _, d := range s {
				if b, _ := os.ReadFile(filepath.Join(d, "results.json")); !bytes.Equal(b, before[d]) {
					t.Errorf("%s/results.json changed", d)
				}
			}
		})
	}

	// A shard held twice, or the whole sweep beside its shards: duplicates
	// with the same results are fine.
	for _, args := range [][]string{{s[0], s[1], s[2], s[1]}, {s[0], whole}} {
		if status, _, stderr := runCLI(append([]string{"merge", "-out", out}, args...)...); status != exitOK {
			t.Errorf("merge %v: status %d\n%s", args, status, stderr)
		}
	}
}

// TestMergePartial: with -partial, missing experiments are allowed and the
// merged results say so, as an interrupted sweep's would: complete false,
// the records there are in report order, no plots.
func TestMergePartial(t *testing.T) {
	root := t.TempDir()
	_, s := runShards(t, root, 3)
	out := filepath.Join(root, "merged")
	status, stdout, stderr := runCLI("merge", "-partial", "-json", "-out", out, s[2], s[0])
	if status != exitOK {
		t.Fatalf("status %d\n%s", status, stderr)
	}
	if !strings.Contains(stderr, "-partial: 3 of the sweep's 8 experiments are missing (residual_L2 (in none of the shards given), mhc_L1 (in none of the shards given), shc_L2") ||
		!strings.Contains(stderr, "complete: false") {
		t.Errorf("stderr does not name what is missing:\n%s", stderr)
	}
	saved, _ := os.ReadFile(filepath.Join(out, "results.json"))
	if string(saved) != stdout {
		t.Error("results.json differs from the -json output")
	}
	var doc depthDoc
	if err := json.Unmarshal(saved, &doc); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range doc.Records {
		got = append(got, depthKey{Mixer: r.Mixer, Depth: r.Depth}.name())
	}
	want := []string{"residual_L1", "hc_L1", "hc_L2", "mhc_L2", "shc_L1"}
	if doc.Complete || doc.Shard != "" || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("complete %v, shard %q, records %v; want false, none, %v", doc.Complete, doc.Shard, got, want)
	}
	if _, err := os.Stat(filepath.Join(out, "loss.png")); !os.IsNotExist(err) {
		t.Errorf("a partial merge drew plots (%v)", err)
	}
	if complete, k := checkConsistent(t, out, time.Time{}); complete || k != len(want) {
		t.Errorf("merged directory: complete %v with %d records", complete, k)
	}
}

// TestMergeUnfinishedShard: an experiment missing from a shard that was
// interrupted is named with that shard's directory.
func TestMergeUnfinishedShard(t *testing.T) {
	root := t.TempDir()
	var dirs []string
	for i := 1; i <= 3; i++ {
		dir := filepath.Join(root, "s"+string(rune('0'+i)))
		var stop func(context.CancelFunc, string, int, int)
		if i == 2 {
			stop = func(cancel context.CancelFunc, _ string, _, runs int) {
				if runs >= 1 {
					cancel()
				}
			}
		}
		r := runDepthInEnv(t, shardSweep(dir, "--shard", shard{i, 3}.String(), "--jobs", "1"), stop)
		if want := map[bool]int{true: exitFailure, false: exitOK}[i == 2]; r.status != want {
			t.Fatalf("shard %d/3: status %d, want %d\n%s", i, r.status, want, r.stderr)
		}
		dirs = append(dirs, dir)
	}
	out := filepath.Join(root, "merged")
	status, _, stderr := runCLI(append([]string{"merge", "-out", out}, dirs...)...)
	// Shard 2/3 holds residual_L2, mhc_L1 and shc_L2; with -jobs 1 the
	// deepest runs first, so residual_L2 finished.
	want := "2 of the sweep's 8 experiments are missing: mhc_L1 (not finished in " + dirs[1] + "), shc_L2 (not finished in " + dirs[1] + ")"
	if status != exitUsage || !strings.Contains(stderr, want) {
		t.Errorf("status %d, stderr:\n%s\nwant %q", status, stderr, want)
	}
	if status, _, stderr := runCLI(append([]string{"merge", "-partial", "-out", out}, dirs...)...); status != exitOK {
		t.Errorf("-partial: status %d\n%s", status, stderr)
	}
	if doc := readShardResults(t, out); doc.Complete || len(doc.Records) != 6 {
		t.Errorf("-partial: complete %v with %d records; want false with 6", doc.Complete, len(doc.Records))
	}
}

// TestMergeDiskFull: a merge that cannot write a file fails with exit
// status 1 naming it, and the merged directory stays consistent: its
// results list only runs whose run files are there (here none), with
// complete: false.
func TestMergeDiskFull(t *testing.T) {
	root := t.TempDir()
	_, s := runShards(t, root, 3)
	out := filepath.Join(root, "merged")
	defer func() { writeFault = nil }()
	writeFault = func(path string) error {
		if strings.HasSuffix(path, "mhc_L1.json") {
			return syscall.ENOSPC
		}
		return nil
	}
	status, _, stderr := runCLI(append([]string{"merge", "-out", out}, s...)...)
	if status != exitFailure || !strings.Contains(stderr, "mhc_L1.json") || !strings.Contains(stderr, "no space left on device") {
		t.Errorf("status %d, stderr:\n%s", status, stderr)
	}
	writeFault = nil
	if complete, k := checkConsistent(t, out, time.Time{}); complete || k != 0 {
		t.Errorf("after the failed merge: complete %v with %d records; want false with none", complete, k)
	}
	// Merging again over it succeeds.
	if status, _, stderr := runCLI(append([]string{"merge", "-out", out}, s...)...); status != exitOK {
		t.Fatalf("second merge: status %d\n%s", status, stderr)
	}
	if complete, k := checkConsistent(t, out, time.Time{}); !complete || k != 8 {
		t.Errorf("after the second merge: complete %v with %d records", complete, k)
	}
}

// TestMergeUsage: -h prints the usage, and after "--" every argument is a
// directory, even one that looks like a flag.
func TestMergeUsage(t *testing.T) {
	status, stdout, stderr := runCLI("merge", "-h")
	if status != exitOK || stderr != "" || !strings.HasPrefix(stdout, "usage: hyperconn merge") {
		t.Errorf("merge -h: status %d, stderr %q, stdout:\n%s", status, stderr, stdout)
	}
	for _, want := range []string{"-out", "-partial", "-json", "SHARD_DIR"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("merge -h does not mention %s", want)
		}
	}
	if _, stdout, _ := runCLI("-h"); !strings.Contains(stdout, "  merge ") {
		t.Errorf("hyperconn -h does not list merge:\n%s", stdout)
	}
	out := filepath.Join(t.TempDir(), "out")
	status, _, stderr = runCLI("merge", "-out", out, "--", "-x")
	if first, _, _ := strings.Cut(stderr, "\n"); status != exitUsage || !strings.HasPrefix(first, "hyperconn merge: shard directory -x:") {
		t.Errorf(`merge -out DIR -- -x: status %d, stderr:\n%s`, status, stderr)
	}
}

// TestMergeMixedShards: shards of one sweep cut with different k (1/2,
// 2/4 and 4/4 together hold every experiment once) merge into the whole
// sweep.
func TestMergeMixedShards(t *testing.T) {
	root := t.TempDir()
	var dirs []string
	for _, sh := range []string{"1/2", "2/4", "4/4"} {
		dir := filepath.Join(root, strings.ReplaceAll(sh, "/", "of"))
		if r := runDepthInEnv(t, shardSweep(dir, "--shard", sh), nil); r.status != exitOK {
			t.Fatalf("shard %s: status %d\n%s", sh, r.status, r.stderr)
		}
		dirs = append(dirs, dir)
	}
	out := filepath.Join(root, "merged")
	if status, _, stderr := runCLI(append([]string{"merge", "-out", out}, dirs...)...); status != exitOK {
		t.Fatalf("status %d\n%s", status, stderr)
	}
	doc := readShardResults(t, out)
	var got []string
	for _, r := range doc.Records {
		got = append(got, depthKey{Mixer: r.Mixer, Depth: r.Depth}.name())
	}
	if !doc.Complete || strings.Join(got, ",") != strings.Join(shardNames, ",") {
		t.Errorf("complete %v, records %v; want true, %v", doc.Complete, got, shardNames)
	}
}
