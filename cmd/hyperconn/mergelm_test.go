package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hyperconn/hyperconn/net"
)

// lmShardSweep are the flags of the lm sweep the shard tests split: 4
// mixers × 2 seeds = 8 experiments, so that 3 shards hold 3, 3 and 2.
func lmShardSweep(out string, extra ...string) []string {
	return smallLM(out, append([]string{"--mixers", "residual,hc,mhc,shc", "--seeds", "1,2", "--jobs", "2"}, extra...)...)
}

// lmTimeFields are the fields of an lm record that measure time: the only
// ones a merged sweep may differ in from the unsplit one.
var lmTimeFields = []string{"wall_seconds", "tokens_per_second"}

// readLMDoc decodes dir/results.json as an lm document.
func readLMDoc(t *testing.T, dir string) lmDoc {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc lmDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s/results.json: %v", dir, err)
	}
	return doc
}

// csvWithoutColumns reads dir/results.csv without the named columns.
func csvWithoutColumns(t *testing.T, dir string, drop []string) [][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "results.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range drop {
		col := slices.Index(rows[0], name)
		if col < 0 {
			t.Fatalf("results.csv has no %s column", name)
		}
		for i := range rows {
			rows[i] = slices.Delete(rows[i], col, col+1)
		}
	}
	return rows
}

// TestLMShardMerge (issue 18, acceptance line 5, for lm): an lm sweep
// split into 3 shards and merged gives the records of the unsplit sweep
// field by field but the time fields, the same results.csv rows but those
// columns, the same run files and step logs, the same table but the time
// columns, and the same plots byte for byte.
func TestLMShardMerge(t *testing.T) {
	root := t.TempDir()
	whole := filepath.Join(root, "whole")
	if r := runLMInEnv(t, lmShardSweep(whole), nil); r.status != exitOK {
		t.Fatalf("unsplit sweep: status %d\n%s", r.status, r.stderr)
	}
	names := slices.Collect(func(yield func(string) bool) {
		for _, r := range readLMDoc(t, whole).Records {
			if !yield(lmKey{Mixer: r.Mixer, Depth: r.Depth, LR: r.LR, Seed: r.Seed}.name()) {
				return
			}
		}
	})
	if len(names) != 8 {
		t.Fatalf("the unsplit sweep has %d records, want 8", len(names))
	}
	var shards []string
	for i := 1; i <= 3; i++ {
		dir := filepath.Join(root, "s"+string(rune('0'+i)))
		r := runLMInEnv(t, lmShardSweep(dir, "--shard", shard{i, 3}.String()), nil)
		if r.status != exitOK {
			t.Fatalf("shard %d/3: status %d\n%s", i, r.status, r.stderr)
		}
		doc := readLMDoc(t, dir)
		var got, want []string
		for _, rec := range doc.Records {
			got = append(got, lmKey{Mixer: rec.Mixer, Depth: rec.Depth, LR: rec.LR, Seed: rec.Seed}.name())
		}
		for j, n := range names {
			if j%3 == i-1 {
				want = append(want, n)
			}
		}
		if !slices.Equal(got, want) || doc.Complete || doc.Shard != (shard{i, 3}).String() || doc.ShardComplete == nil || !*doc.ShardComplete {
			t.Errorf("shard %d/3: records %v (want %v), complete %v, shard %q, shard_complete %v", i, got, want,
				doc.Complete, doc.Shard, doc.ShardComplete)
		}
		if _, err := os.Stat(filepath.Join(dir, lmPlotNames[0]+".png")); !os.IsNotExist(err) {
			t.Errorf("shard %d/3 drew plots (%v)", i, err)
		}
		shards = append(shards, dir)
	}

	merged := filepath.Join(root, "merged")
	status, stdout, stderr := runCLI("merge", "-out", merged, shards[1], shards[2], shards[0])
	if status != exitOK {
		t.Fatalf("merge: status %d\n%s", status, stderr)
	}
	strip := func(dir string) []map[string]any {
		recs := readResults(t, dir).Records
		for _, r := range recs {
			for _, f := range lmTimeFields {
				delete(r, f)
			}
		}
		return recs
	}
	a, b := strip(whole), strip(merged)
	if len(b) != len(a) {
		t.Fatalf("%d records merged, %d unsplit", len(b), len(a))
	}
	for i := range a {
		for k, v := range a[i] {
			if !reflect.DeepEqual(b[i][k], v) {
				t.Errorf("record %d (%v seed %v): %s is %v merged, %v unsplit", i, a[i]["mixer"], a[i]["seed"], k, b[i][k], v)
			}
		}
		if len(b[i]) != len(a[i]) {
			t.Errorf("record %d: %d fields merged, %d unsplit", i, len(b[i]), len(a[i]))
		}
	}
	if ca, cb := csvWithoutColumns(t, whole, lmTimeFields), csvWithoutColumns(t, merged, lmTimeFields); !reflect.DeepEqual(ca, cb) {
		t.Errorf("results.csv differs (but the time columns):\n%v\n%v", ca, cb)
	}
	dw, dm := readLMDoc(t, whole), readLMDoc(t, merged)
	if !dm.Complete || dm.Shard != "" || dm.ShardComplete != nil {
		t.Errorf("merged results.json: complete %v, shard %q; want true and no shard mark", dm.Complete, dm.Shard)
	}
	dw.Records, dm.Records = nil, nil
	dm.Config.Jobs = dw.Config.Jobs
	if jw, jm := mustJSON(t, dw), mustJSON(t, dm); !bytes.Equal(jw, jm) {
		t.Errorf("merged results.json (but records) differs:\n%s\n%s", jm, jw)
	}
	for _, n := range names {
		rw, err := readLMRunFile(whole, n+".json")
		if err != nil {
			t.Fatal(err)
		}
		rm, err := readLMRunFile(merged, n+".json")
		if err != nil {
			t.Fatalf("merged run file: %v", err)
		}
		for _, r := range []*lmRun{rw, rm} {
			r.Record.WallSeconds, r.Record.TokensPerSecond, r.SHA256 = 0, 0, ""
		}
		if !bytes.Equal(mustJSON(t, rw), mustJSON(t, rm)) {
			t.Errorf("%s: merged run file differs from the unsplit one", n)
		}
		lw, _ := os.ReadFile(filepath.Join(whole, runsDir, n+".csv"))
		lm, _ := os.ReadFile(filepath.Join(merged, runsDir, n+".csv"))
		if len(lw) == 0 || !bytes.Equal(lw, lm) {
			t.Errorf("%s: merged step log differs from the unsplit one", n)
		}
	}
	_, unsplitTable, _ := runCLI(append([]string{"lm"}, lmShardSweep(whole, "--resume")...)...)
	if ta, tb := tableWithout(unsplitTable, "tok/s", "time s"), tableWithout(stdout, "tok/s", "time s"); !reflect.DeepEqual(ta, tb) ||
		len(tb) != len(names)+3 || slices.Contains(tb[2], "time s") || !slices.Contains(tb[2], "valid nats") {
		t.Errorf("merged table differs from the unsplit one (but the time columns):\n%s\nwant\n%s", stdout, unsplitTable)
	}
	for _, base := range lmPlotNames {
		for _, ext := range []string{".png", ".svg"} {
			pw, err := os.ReadFile(filepath.Join(whole, base+ext))
			if err != nil {
				t.Fatal(err)
			}
			if pm, err := os.ReadFile(filepath.Join(merged, base+ext)); err != nil || !bytes.Equal(pm, pw) {
				t.Errorf("merged plot %s%s differs from the unsplit sweep's (%v)", base, ext, err)
			}
		}
	}
	checkNoTemp(t, merged)

	// The text may have another path on another machine, but not other
	// content: a shard of another text is not of this sweep.
	text := filepath.Join(root, "text.txt")
	if err := os.WriteFile(text, net.Opticks()[:200000], 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(root, "other")
	if r := runLMInEnv(t, lmShardSweep(other, "--shard", "2/3", "--text", text), nil); r.status != exitOK {
		t.Fatalf("shard of another text: status %d\n%s", r.status, r.stderr)
	}
	out := filepath.Join(root, "merged2")
	status, _, stderr = runCLI("merge", "-out", out, shards[0], other, shards[2])
	if status != exitUsage || !strings.Contains(stderr, `setting "text_sha256"`) {
		t.Errorf("merge with a shard of another text: status %d, stderr:\n%s", status, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("%s exists after the error (%v)", out, err)
	}
	// The same text under another path (as on another machine): one sweep.
	same := filepath.Join(root, "opticks.txt")
	if err := os.WriteFile(same, net.Opticks(), 0o644); err != nil {
		t.Fatal(err)
	}
	moved := filepath.Join(root, "moved")
	if r := runLMInEnv(t, lmShardSweep(moved, "--shard", "2/3", "--text", same), nil); r.status != exitOK {
		t.Fatalf("shard of the text under another path: status %d\n%s", r.status, r.stderr)
	}
	out = filepath.Join(root, "merged3")
	if status, _, stderr := runCLI("merge", "-out", out, shards[0], moved, shards[2]); status != exitOK {
		t.Errorf("merge with the text under another path: status %d\n%s", status, stderr)
	} else if c := strip(out); !reflect.DeepEqual(c, a) {
		t.Errorf("merged with the text under another path, the records differ from the unsplit sweep's")
	}

	// -resume reuses every merged run.
	if r := runLMInEnv(t, lmShardSweep(merged, "--resume"), nil); r.status != exitOK || r.runs != 0 {
		t.Errorf("-resume in the merged directory ran %d experiments (status %d)", r.runs, r.status)
	}
}

// TestLMShardUsage: a malformed -shard of lm is a usage error, nothing
// written.
func TestLMShardUsage(t *testing.T) {
	for _, v := range []string{"0/3", "4/3", "a/b", "1/0"} {
		out := filepath.Join(t.TempDir(), "out")
		status, _, stderr := runCLI(append([]string{"lm"}, smallLM(out, "--shard", v)...)...)
		if first, _, _ := strings.Cut(stderr, "\n"); status != exitUsage || !strings.HasPrefix(first, `hyperconn lm: -shard "`+v+`": want i/k`) {
			t.Errorf("-shard %s: status %d, stderr:\n%s", v, status, stderr)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("-shard %s: %s exists after the usage error (%v)", v, out, err)
		}
	}
}
