package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseShard(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want shard
		ok   bool
	}{
		{"", shard{}, true},
		{"1/1", shard{1, 1}, true},
		{"2/3", shard{2, 3}, true},
		{"3/3", shard{3, 3}, true},
		{"7/100", shard{7, 100}, true},
		{"0/3", shard{}, false},
		{"4/3", shard{}, false},
		{"a/b", shard{}, false},
		{"1/0", shard{}, false},
		{"-1/3", shard{}, false},
		{"1/-3", shard{}, false},
		{"1", shard{}, false},
		{"1/3/5", shard{}, false},
		{" 1/3", shard{}, false},
		{"1/", shard{}, false},
		{"/3", shard{}, false},
		{"1/99999999999999999999", shard{}, false},
	} {
		got, err := parseShard(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseShard(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "-shard ") {
			t.Errorf("parseShard(%q): error %q does not name the flag", tc.in, err)
		}
		if tc.ok && got.String() != tc.in {
			t.Errorf("parseShard(%q).String() = %q", tc.in, got.String())
		}
	}
}

// TestShardPick checks that the k shards of a sweep of n experiments
// partition it, round-robin in report order.
func TestShardPick(t *testing.T) {
	for _, n := range []int{0, 1, 5, 8, 9} {
		for k := 1; k <= 10; k++ {
			var all []int
			for i := 1; i <= k; i++ {
				s := shard{i, k}
				p := s.pick(n)
				for _, j := range p {
					if j%k != i-1 || !s.owns(j) {
						t.Errorf("n=%d: shard %v picks %d", n, s, j)
					}
				}
				if want := (n - i + k) / k; len(p) != want {
					t.Errorf("n=%d: shard %v picks %d experiments, want %d", n, s, len(p), want)
				}
				all = append(all, p...)
			}
			slices.Sort(all)
			if len(all) != n || (n > 0 && (all[0] != 0 || all[n-1] != n-1 || len(slices.Compact(all)) != n)) {
				t.Errorf("n=%d, k=%d: the shards pick %v, want each of 0…%d once", n, k, all, n-1)
			}
		}
	}
	if got := (shard{}).pick(3); !slices.Equal(got, []int{0, 1, 2}) {
		t.Errorf("the whole sweep picks %v", got)
	}
}

func TestShardMark(t *testing.T) {
	if m := (shard{}).mark(true); m.Shard != "" || m.ShardComplete != nil {
		t.Errorf("the whole sweep is marked %+v", m)
	}
	m := shard{2, 3}.mark(false)
	if m.Shard != "2/3" || m.ShardComplete == nil || *m.ShardComplete {
		t.Errorf("shard 2/3 unfinished is marked %+v", m)
	}
}

// TestDepthShardUsage: a malformed -shard is a usage error of one line
// (then the usage), exit status 2, and nothing is written.
func TestDepthShardUsage(t *testing.T) {
	for _, v := range []string{"0/3", "4/3", "a/b", "1/0", "1", "1/3/3"} {
		out := filepath.Join(t.TempDir(), "out")
		status, stdout, stderr := runCLI(append([]string{"depth"}, smallDepth(out, "--mixers", "hc", "--shard", v)...)...)
		first, rest, _ := strings.Cut(stderr, "\n")
		if status != exitUsage || stdout != "" || !strings.HasPrefix(first, `hyperconn depth: -shard "`+v+`": want i/k`) ||
			!strings.HasPrefix(rest, "usage: hyperconn depth") {
			t.Errorf("-shard %s: status %d, stdout %q, stderr:\n%s", v, status, stdout, stderr)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("-shard %s: %s exists after the usage error (%v)", v, out, err)
		}
	}
	// An empty -shard= is the flag's default: the whole sweep, unmarked.
	out := filepath.Join(t.TempDir(), "out")
	if status, _, stderr := runCLI(append([]string{"depth"}, smallDepth(out, "--mixers", "hc", "--shard=")...)...); status != exitOK {
		t.Errorf("-shard=: status %d\n%s", status, stderr)
	}
	if doc := readShardResults(t, out); !doc.Complete || doc.Shard != "" || doc.ShardComplete != nil {
		t.Errorf("-shard=: complete %v, shard %q, shard_complete %v; want true and no mark", doc.Complete, doc.Shard, doc.ShardComplete)
	}
}

// TestDepthShardEmpty: a shard with no experiment (k above the sweep's
// size) is valid, says so and writes results with no records.
func TestDepthShardEmpty(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	r := runDepthInEnv(t, smallDepth(dir, "--mixers", "hc,mhc", "--shard", "3/5"), nil)
	if r.status != exitOK || r.runs != 0 || !strings.Contains(r.stderr, "-shard 3/5: an empty shard (the sweep has 2 experiments") {
		t.Fatalf("status %d, %d runs, stderr:\n%s", r.status, r.runs, r.stderr)
	}
	doc := readShardResults(t, dir)
	if doc.Complete || doc.Shard != "3/5" || doc.ShardComplete == nil || !*doc.ShardComplete || len(doc.Records) != 0 {
		t.Errorf("results.json: complete %v, shard %q, shard_complete %v, %d records; want false, 3/5, true, 0",
			doc.Complete, doc.Shard, doc.ShardComplete, len(doc.Records))
	}
	if _, err := os.Stat(filepath.Join(dir, "loss.png")); !os.IsNotExist(err) {
		t.Errorf("a shard drew plots (%v)", err)
	}
}
