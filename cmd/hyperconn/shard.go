package main

import (
	"fmt"
	"strconv"
	"strings"
)

// How a sweep is split across machines: "-shard i/k" runs every k-th
// experiment of the sweep — of the experiments in report order (the order
// of results.json), the j-th (0-based) belongs to shard j mod k + 1 — and
// writes them into its own directory, as usual, with a results.json marked
// as a shard ("shard": "i/k", "complete": false unless k = 1) so that
// nobody takes it for a whole sweep. "hyperconn merge" (merge.go) then
// combines the k directories into one, as if the sweep had run on one
// machine. Dealing the experiments round-robin rather than in blocks gives
// every shard a share of each mixer and of each depth, so shards take about
// equally long.

// shardFlagUsage is the usage line of -shard, shared by the sweep commands.
const shardFlagUsage = "run only shard i of k of the sweep: its experiments j = i−1, i−1+k, i−1+2k, … (0-based, in report order), " +
	"into -out as usual, with results.json marked as a shard; combine the k directories with hyperconn merge"

// shard is a -shard i/k selection (1 ≤ i ≤ k). The zero value is the
// whole sweep, unmarked (no -shard flag).
type shard struct{ i, k int }

// parseShard reads the value of -shard: "i/k" with integers 1 ≤ i ≤ k.
// The empty string is the whole sweep.
func parseShard(s string) (shard, error) {
	if s == "" {
		return shard{}, nil
	}
	a, b, ok := strings.Cut(s, "/")
	i, errI := strconv.Atoi(a)
	k, errK := strconv.Atoi(b)
	if !ok || errI != nil || errK != nil || k < 1 || i < 1 || i > k {
		return shard{}, fmt.Errorf("-shard %q: want i/k with integers 1 ≤ i ≤ k (e.g. 2/3: the second of three shards)", s)
	}
	return shard{i: i, k: k}, nil
}

// String returns "i/k", or "" for the whole sweep.
func (s shard) String() string {
	if s.k == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.i, s.k)
}

// owns reports whether the experiment with 0-based index j of the sweep
// belongs to s.
func (s shard) owns(j int) bool {
	return s.k == 0 || j%s.k == s.i-1
}

// part reports whether s is a proper part of the sweep (k > 1): its
// results can never be the whole sweep's.
func (s shard) part() bool { return s.k > 1 }

// pick returns the indices of the experiments of a sweep of n that belong
// to s, ascending.
func (s shard) pick(n int) []int {
	var out []int
	for j := range n {
		if s.owns(j) {
			out = append(out, j)
		}
	}
	return out
}

// shardMark is the part of a sweep command's results.json that says which
// share of the sweep it holds. Both fields are omitted without -shard.
type shardMark struct {
	// Shard is "i/k".
	Shard string `json:"shard,omitempty"`
	// ShardComplete says whether every experiment of the shard finished
	// (the document's complete stays false unless k = 1).
	ShardComplete *bool `json:"shard_complete,omitempty"`
}

// mark returns the shardMark of a results document of s whose own
// experiments are all finished (done) or not.
func (s shard) mark(done bool) shardMark {
	if s.k == 0 {
		return shardMark{}
	}
	return shardMark{Shard: s.String(), ShardComplete: &done}
}

// describe returns the line a sweep prints on stderr before running shard
// s, which holds picked of the sweep's total experiments.
func (s shard) describe(picked, total int) string {
	if picked == 0 {
		return fmt.Sprintf("-shard %s: an empty shard (the sweep has %d experiments, fewer than %d): nothing to run", s, total, s.i)
	}
	return fmt.Sprintf("-shard %s: %d of the sweep's %d experiments", s, picked, total)
}
