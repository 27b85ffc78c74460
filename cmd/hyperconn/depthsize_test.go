package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDepthSizeFlags (issue 19, point 2): flag combinations each within its
// own bound but too large as a whole are refused as usage errors (exit 2)
// that name the size, before any directory is created; the accepted ones
// stay within maxDepthMemory.
func TestDepthSizeFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // "" for accepted
	}{
		{[]string{"--jobs", "1", "--mixers", "residual", "--depths", "4096", "--width", "4096", "--steps", "1"}, "would need"},
		{[]string{"--mixers", "mhc", "--n", "64", "--width", "4096", "--depths", "1"}, "would need"},
		{[]string{"--mixers", "mhclite", "--n", "8", "--width", "512", "--depths", "1"}, "would need"},
		{[]string{"--mixers", "hc", "--n", "64", "--width", "2048", "--depths", "64", "--jobs", "2"}, "would need"},
		{[]string{"--mixers", "all", "--depths", "1-200", "--width", "512", "--jobs", "64"}, "would need"},
		{[]string{"--mixers", "residual", "--depths", "64", "--width", "1024", "--batch", "1000000", "--jobs", "4"}, "would need"},
		{[]string{"--mixers", "all", "--depths", "8,16,32", "--width", "32"}, ""},
		{[]string{"--mixers", "mhclite", "--n", "8", "--width", "32", "--depths", "4", "--jobs", "2"}, ""},
		{[]string{"--mixers", "residual", "--depths", "1024", "--width", "32", "--jobs", "1"}, ""},
	} {
		out := filepath.Join(t.TempDir(), "out")
		cfg, status, done := parseDepthFlags(append(slices.Clone(tc.args), "--out", out), &bytes.Buffer{}, &bytes.Buffer{})
		if tc.want == "" {
			if done {
				t.Errorf("%v: refused", tc.args)
			}
			if err := checkDepthMemory(&cfg); err != nil {
				t.Errorf("%v: %v", tc.args, err)
			}
			continue
		}
		if !done || status != exitUsage {
			t.Errorf("%v: accepted (status %d)", tc.args, status)
			continue
		}
		st, _, stderr := runCLI(append([]string{"depth", "--out", out}, tc.args...)...)
		if st != exitUsage || !strings.Contains(stderr, tc.want) || strings.Contains(stderr, "goroutine") {
			t.Errorf("%v: status %d, stderr:\n%s", tc.args, st, stderr)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%v: the refused command created %s (%v)", tc.args, out, err)
		}
	}
}

// TestExactSizeFlags: "hyperconn exact" keeps every draw in memory, so
// -trials and -depth, unbounded on their own, are refused together with n
// when they would need more than maxExactMemory (exit 2, naming the size);
// the defaults and the README's examples pass.
func TestExactSizeFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--trials", "1000000000"},
		{"--depth", "100000000", "--n", "64"},
		{"--trials", "200000", "--n", "2-64", "--families", "all"},
	} {
		st, _, stderr := runCLI(append([]string{"exact"}, args...)...)
		if st != exitUsage || !strings.Contains(stderr, "would need") {
			t.Errorf("exact %v: status %d, stderr:\n%s", args, st, stderr)
		}
	}
	for _, n := range []string{"2-16", "2-64"} {
		cfg := exactConfig{Trials: 32, Depth: 64, Families: familySlugs()}
		cfg.Sizes, _ = parseInts("n", n, 2, 64)
		if err := checkExactMemory(&cfg); err != nil {
			t.Errorf("-n %s with the default -trials and -depth: %v", n, err)
		}
	}
}
