package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestLMUsageErrors (issue 18, acceptance 5): an empty, binary-only or
// too-short -text file, a -seq longer than the validation split, and every
// bad flag or value exit with status 2, one line on stderr that names the
// problem followed by the usage, nothing on stdout, and no -out directory.
func TestLMUsageErrors(t *testing.T) {
	tmp := t.TempDir()
	file := func(name string, b []byte) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	empty := file("empty.txt", nil)
	binary := file("binary.bin", []byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0x3e, 0})
	noisy := file("noise.bin", bytes.Repeat([]byte{0x80, 0x81, 0xfe, 0x01, 0x02, 'a'}, 100))
	short := file("short.txt", []byte("Too short to split.\n"))
	// 1000 characters: a 10% validation split of 100, so -seq 100 needs 101.
	medium := file("medium.txt", bytes.Repeat([]byte("abcdefghi\n"), 100))
	for _, tc := range []struct {
		name string
		args []string
		msg  string // the start of the first line of stderr
	}{
		{"empty text", []string{"--text", empty}, "hyperconn lm: -text: " + empty + " is empty"},
		{"binary text", []string{"--text", binary}, "hyperconn lm: -text: " + binary + " is binary (a NUL byte at offset 7)"},
		{"non-text bytes", []string{"--text", noisy}, "hyperconn lm: -text: " + noisy + " is not text"},
		{"too short text", []string{"--text", short}, "hyperconn lm: -text: " + short + ": 20 bytes split 18/2"},
		{"missing text", []string{"--text", filepath.Join(tmp, "nope.txt")}, "hyperconn lm: -text: stat " + filepath.Join(tmp, "nope.txt") + ": no such file"},
		{"directory text", []string{"--text", tmp}, "hyperconn lm: -text " + tmp + ": not a regular file"},
		{"seq longer than validation", []string{"--text", medium, "--seq", "100"}, "hyperconn lm: -seq 100: the validation split of " + medium + " holds 100 characters, fewer than one window of seq+1 = 101"},
		{"seq longer than opticks validation", []string{"--seq", "60000"}, "hyperconn lm: -seq 60000: the validation split of Isaac.Newton-Opticks.txt holds 56720 characters"},
		{"unknown flag", []string{"--bogus"}, "hyperconn lm: flag provided but not defined: -bogus"},
		{"stray argument", []string{"hc"}, `hyperconn lm: unexpected argument "hc"`},
		{"unknown mixer", []string{"--mixers", "hc,dhc"}, `hyperconn lm: -mixers: unknown value "dhc"`},
		{"zero depth", []string{"--depths", "0"}, `hyperconn lm: -depths: "0" is not an integer or range`},
		{"bad lr", []string{"--lrs", "0.01,-1"}, `hyperconn lm: -lrs: "-1" is not a positive finite number`},
		{"NaN lr", []string{"--lrs", "NaN"}, `hyperconn lm: -lrs: "NaN" is not a positive finite number`},
		{"empty lr", []string{"--lrs", ""}, `hyperconn lm: -lrs: "" is not a positive finite number`},
		{"bad seed", []string{"--seeds", "1,x"}, `hyperconn lm: -seeds: "x" is not an integer or range`},
		{"negative seed", []string{"--seeds", "-1"}, `hyperconn lm: -seeds: "-1" is not an integer or range`},
		{"n = 0", []string{"--n", "0"}, "hyperconn lm: -n 0: want 1 ≤ n ≤ 64"},
		{"mhclite n", []string{"--mixers", "mhclite", "--n", "9"}, "hyperconn lm: -n 9: mhclite mixes all n! permutations"},
		{"kromhc n", []string{"--mixers", "kromhc", "--n", "11"}, "hyperconn lm: -n 11: kromhc needs n to be a product"},
		{"zero width", []string{"--width", "0"}, "hyperconn lm: -width 0: want 1 ≤ C ≤ 4096"},
		{"heads not dividing", []string{"--width", "10", "--heads", "4"}, "hyperconn lm: -heads 4: want a divisor of -width 10"},
		{"zero heads", []string{"--heads", "0"}, "hyperconn lm: -heads 0: want 1 ≤ heads ≤ width 64"},
		{"zero seq", []string{"--seq", "0"}, "hyperconn lm: -seq 0: want 1 ≤ T ≤ 65536"},
		{"zero batch", []string{"--batch", "0"}, "hyperconn lm: -batch 0: want at least 1"},
		{"zero steps", []string{"--steps", "0"}, "hyperconn lm: -steps 0: want at least 1"},
		{"warmup too long", []string{"--steps", "10", "--warmup", "10"}, "hyperconn lm: -warmup 10: want 0 ≤ warmup < -steps 10"},
		{"negative eval-every", []string{"--eval-every", "-1"}, "hyperconn lm: -eval-every -1: want at least 0"},
		{"negative diag-every", []string{"--diag-every", "-1"}, "hyperconn lm: -diag-every -1: want at least 0"},
		{"float32 not a bool", []string{"--float32=maybe"}, `hyperconn lm: invalid boolean value "maybe" for -float32`},
		{"zero eval-tokens", []string{"--eval-tokens", "0"}, "hyperconn lm: -eval-tokens 0: want at least 1"},
		{"valid 0", []string{"--valid", "0"}, "hyperconn lm: -valid 0: want a share strictly between 0 and 1"},
		{"valid 1", []string{"--valid", "1"}, "hyperconn lm: -valid 1: want a share strictly between 0 and 1"},
		{"zero jobs", []string{"--jobs", "0"}, "hyperconn lm: -jobs 0: want at least 1"},
		{"steps not a number", []string{"--steps", "x"}, `hyperconn lm: invalid value "x" for flag -steps`},
		{"too large", []string{"--mixers", "mhc", "--n", "64", "--width", "4096"}, "hyperconn lm: mhc at depth 4, width 4096, n = 64: net: "},
		{"too many parameters", []string{"--mixers", "residual", "--width", "4096", "--depths", "64"}, "hyperconn lm: residual at depth 64, width 4096, n = 1: 1.289e+10 parameter values would need 412 GB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			args := append([]string{"lm", "--out", out}, tc.args...)
			status, stdout, stderr := runCLI(args...)
			if status != exitUsage {
				t.Errorf("exit status %d, want %d", status, exitUsage)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			first, rest, _ := strings.Cut(stderr, "\n")
			if !strings.HasPrefix(first, tc.msg) {
				t.Errorf("first line of stderr %q, want it to start with %q", first, tc.msg)
			}
			if !strings.HasPrefix(rest, "usage: hyperconn lm") {
				t.Errorf("stderr after the error line is not the usage:\n%s", rest)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("--out %s exists after a usage error (%v)", out, err)
			}
		})
	}
}

// TestLMSizeFlags: settings each within its own bound but too large
// together are refused before anything is written, naming the size; the
// defaults and the README's commands pass.
func TestLMSizeFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // "" for accepted
	}{
		{[]string{"--mixers", "residual", "--width", "4096", "--depths", "64", "--jobs", "1"}, "would need"},
		{[]string{"--mixers", "hc", "--seq", "4096", "--batch", "64", "--jobs", "2"}, "would need"},
		{[]string{"--mixers", "all", "--depths", "1-100", "--width", "512", "--jobs", "8"}, "would need"},
		{nil, ""},
		{[]string{"--depths", "8", "--width", "128", "--seeds", "1-2"}, ""},
		{[]string{"--seq", "256", "--batch", "32", "--jobs", "2"}, ""},
	} {
		out := filepath.Join(t.TempDir(), "out")
		cfg, _, status, done := parseLMFlags(append(slices.Clone(tc.args), "--out", out), &bytes.Buffer{}, &bytes.Buffer{})
		if tc.want == "" {
			if done {
				t.Errorf("%v: refused", tc.args)
			} else if err := checkLMMemory(&cfg, 93); err != nil {
				t.Errorf("%v: %v", tc.args, err)
			}
			continue
		}
		if !done || status != exitUsage {
			t.Errorf("%v: accepted (status %d)", tc.args, status)
			continue
		}
		st, _, stderr := runCLI(append([]string{"lm", "--out", out}, tc.args...)...)
		if st != exitUsage || !strings.Contains(stderr, tc.want) || strings.Contains(stderr, "goroutine") {
			t.Errorf("%v: status %d, stderr:\n%s", tc.args, st, stderr)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%v: the refused command created %s (%v)", tc.args, out, err)
		}
	}
}
