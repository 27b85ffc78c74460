package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// shardSweep are the flags of the sweep the shard and merge tests split:
// 4 mixers × 2 depths = 8 experiments, so that 3 shards hold 3, 3 and 2.
func shardSweep(out string, extra ...string) []string {
	return smallDepth(out, append([]string{"--mixers", "residual,hc,mhc,shc", "--depths", "1,2", "--jobs", "2"}, extra...)...)
}

// shardNames are shardSweep's experiments in report order.
var shardNames = []string{"residual_L1", "residual_L2", "hc_L1", "hc_L2", "mhc_L1", "mhc_L2", "shc_L1", "shc_L2"}

// readShardResults decodes dir/results.json as a depth document.
func readShardResults(t *testing.T, dir string) depthDoc {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc depthDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s/results.json: %v", dir, err)
	}
	return doc
}

// runShards runs shardSweep whole into root/whole and as k shards into
// root/s1 … root/sk, each in-process, and returns the shard directories.
func runShards(t *testing.T, root string, k int, extra ...string) (whole string, shards []string) {
	t.Helper()
	whole = filepath.Join(root, "whole")
	if r := runDepthInEnv(t, shardSweep(whole, extra...), nil); r.status != exitOK {
		t.Fatalf("unsplit sweep: status %d\n%s", r.status, r.stderr)
	}
	for i := 1; i <= k; i++ {
		dir := filepath.Join(root, "s"+string(rune('0'+i)))
		r := runDepthInEnv(t, shardSweep(dir, append([]string{"--shard", shard{i, k}.String()}, extra...)...), nil)
		if r.status != exitOK {
			t.Fatalf("shard %d/%d: status %d\n%s", i, k, r.status, r.stderr)
		}
		shards = append(shards, dir)
	}
	return whole, shards
}

// recordsWithout decodes dir/results.json's records as generic maps
// without the wall-time field.
func recordsWithout(t *testing.T, dir string) []map[string]any {
	t.Helper()
	recs := readResults(t, dir).Records
	for _, r := range recs {
		delete(r, "wall_seconds")
	}
	return recs
}

// csvWithout reads dir/results.csv without its wall_seconds column.
func csvWithout(t *testing.T, dir string) [][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "results.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(rows[0], "wall_seconds")
	if col < 0 {
		t.Fatal("results.csv has no wall_seconds column")
	}
	for i := range rows {
		rows[i] = slices.Delete(rows[i], col, col+1)
	}
	return rows
}

// TestDepthShardMerge (issue 18, acceptance line 5): a sweep split into 3
// shards and merged gives the same records as the unsplit sweep, field by
// field but the wall times, the same results.csv rows but that column, the
// same run files and step logs, the same table but the time column, and
// the same plots, byte for byte.
func TestDepthShardMerge(t *testing.T) {
	root := t.TempDir()
	whole, shards := runShards(t, root, 3)

	// Each shard holds its own experiments, marked as a shard.
	for i, dir := range shards {
		doc := readShardResults(t, dir)
		var got, want []string
		for _, r := range doc.Records {
			got = append(got, depthKey{Mixer: r.Mixer, Depth: r.Depth}.name())
		}
		for j, n := range shardNames {
			if j%3 == i {
				want = append(want, n)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("shard %d/3 holds %v, want %v", i+1, got, want)
		}
		if doc.Complete || doc.Shard != (shard{i + 1, 3}).String() || doc.ShardComplete == nil || !*doc.ShardComplete {
			t.Errorf("shard %d/3: complete %v, shard %q, shard_complete %v; want false, %d/3, true",
				i+1, doc.Complete, doc.Shard, doc.ShardComplete, i+1)
		}
		if _, err := os.Stat(filepath.Join(dir, "loss.png")); !os.IsNotExist(err) {
			t.Errorf("shard %d/3 drew plots (%v)", i+1, err)
		}
	}

	merged := filepath.Join(root, "merged")
	// The directories in another order, and a flag after them.
	status, stdout, stderr := runCLI("merge", shards[2], shards[0], shards[1], "-out", merged)
	if status != exitOK {
		t.Fatalf("merge: status %d\n%s", status, stderr)
	}

	a, b := recordsWithout(t, whole), recordsWithout(t, merged)
	if len(a) != len(shardNames) || len(b) != len(a) {
		t.Fatalf("%d records unsplit, %d merged; want %d", len(a), len(b), len(shardNames))
	}
	for i := range a {
		for k, v := range a[i] {
			if !reflect.DeepEqual(b[i][k], v) {
				t.Errorf("record %d (%v L=%v): %s is %v merged, %v unsplit", i, a[i]["mixer"], a[i]["depth"], k, b[i][k], v)
			}
		}
		if len(b[i]) != len(a[i]) {
			t.Errorf("record %d: %d fields merged, %d unsplit", i, len(b[i]), len(a[i]))
		}
	}
	if ca, cb := csvWithout(t, whole), csvWithout(t, merged); !reflect.DeepEqual(ca, cb) {
		t.Errorf("results.csv differs (but wall_seconds):\n%v\n%v", ca, cb)
	}
	dw, dm := readShardResults(t, whole), readShardResults(t, merged)
	if !dm.Complete || dm.Shard != "" || dm.ShardComplete != nil {
		t.Errorf("merged results.json: complete %v, shard %q; want true and no shard mark", dm.Complete, dm.Shard)
	}
	// The whole document but records and -jobs: the same.
	dw.Records, dm.Records = nil, nil
	dm.Config.Jobs = dw.Config.Jobs
	if jw, jm := mustJSON(t, dw), mustJSON(t, dm); !bytes.Equal(jw, jm) {
		t.Errorf("merged results.json (but records) differs:\n%s\n%s", jm, jw)
	}
	// Run files: the same content but wall time and checksum; step logs
	// byte for byte; each verifies.
	for _, n := range shardNames {
		rw, err := readRunFile(whole, n+".json")
		if err != nil {
			t.Fatal(err)
		}
		rm, err := readRunFile(merged, n+".json")
		if err != nil {
			t.Fatalf("merged run file: %v", err)
		}
		rw.Record.WallSeconds, rm.Record.WallSeconds, rw.SHA256, rm.SHA256 = 0, 0, "", ""
		if !bytes.Equal(mustJSON(t, rw), mustJSON(t, rm)) {
			t.Errorf("%s: merged run file differs from the unsplit one", n)
		}
		lw, _ := os.ReadFile(filepath.Join(whole, runsDir, n+".csv"))
		lm, _ := os.ReadFile(filepath.Join(merged, runsDir, n+".csv"))
		if len(lw) == 0 || !bytes.Equal(lw, lm) {
			t.Errorf("%s: merged step log differs from the unsplit one", n)
		}
	}
	// The table, but the time column (the last).
	_, unsplitTable, _ := runCLI(append([]string{"depth"}, shardSweep(whole, "--resume")...)...)
	if ta, tb := tableWithout(unsplitTable, "time s"), tableWithout(stdout, "time s"); !reflect.DeepEqual(ta, tb) || len(tb) != len(shardNames)+1 || len(tb[0]) != 15 {
		t.Errorf("merged table differs from the unsplit one (but the time column):\n%s\nwant\n%s", stdout, unsplitTable)
	}
	// The plots hold no wall time: byte for byte the unsplit sweep's.
	for _, base := range depthPlotNames {
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
	if complete, k := checkConsistent(t, merged, time.Time{}); !complete || k != len(shardNames) {
		t.Errorf("merged directory: complete %v with %d records", complete, k)
	}

	// -resume in the merged directory reuses every run: its run files are
	// those of the sweep.
	if r := runDepthInEnv(t, shardSweep(merged, "--resume"), nil); r.status != exitOK || r.runs != 0 {
		t.Errorf("-resume in the merged directory ran %d experiments (status %d)", r.runs, r.status)
	}
}

// TestDepthShardResume: a shard interrupted after its first experiment
// finishes with -resume, running only its own remaining experiments.
func TestDepthShardResume(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s2")
	args := shardSweep(dir, "--shard", "2/3", "--jobs", "1")
	first := runDepthInEnv(t, args, func(cancel context.CancelFunc, _ string, _, runs int) {
		if runs >= 1 {
			cancel()
		}
	})
	if first.status != exitFailure || first.runs != 1 {
		t.Fatalf("interrupted shard: status %d, %d runs\n%s", first.status, first.runs, first.stderr)
	}
	doc := readShardResults(t, dir)
	if doc.Complete || doc.ShardComplete == nil || *doc.ShardComplete || len(doc.Records) != 1 {
		t.Errorf("interrupted shard: complete %v, shard_complete %v, %d records; want false, false, 1",
			doc.Complete, doc.ShardComplete, len(doc.Records))
	}
	rest := runDepthInEnv(t, append(slices.Clone(args), "--resume"), nil)
	if rest.status != exitOK || rest.runs != 2 || !strings.Contains(rest.stderr, "1 of 3 experiments already done") {
		t.Fatalf("resumed shard: status %d, %d runs\n%s", rest.status, rest.runs, rest.stderr)
	}
	doc = readShardResults(t, dir)
	if doc.Complete || !*doc.ShardComplete || len(doc.Records) != 3 {
		t.Errorf("resumed shard: complete %v, shard_complete %v, %d records; want false, true, 3",
			doc.Complete, *doc.ShardComplete, len(doc.Records))
	}
}

// mustJSON marshals v.
func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tableWithout splits a table printed by a sweep command into cells
// (tabwriter separates them by two or more blanks) and drops the columns
// headed by one of drop, from the header line (the one whose first cell is
// "mixer") on; lines before it are kept whole.
func tableWithout(table string, drop ...string) [][]string {
	sep := regexp.MustCompile(`\s{2,}`)
	var rows [][]string
	var keep []bool
	for line := range strings.Lines(table) {
		cells := sep.Split(strings.TrimSpace(line), -1)
		if keep == nil && cells[0] == "mixer" {
			for _, c := range cells {
				keep = append(keep, !slices.Contains(drop, c))
			}
		}
		if keep == nil {
			rows = append(rows, cells)
			continue
		}
		var row []string
		for k, c := range cells {
			if k >= len(keep) || keep[k] {
				row = append(row, c)
			}
		}
		rows = append(rows, row)
	}
	return rows
}
