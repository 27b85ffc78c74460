package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// runCLI runs the command line in-process and returns its outputs.
func runCLI(args ...string) (status int, stdout, stderr string) {
	var o, e bytes.Buffer
	status = run(args, &o, &e)
	return status, o.String(), e.String()
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		msg  string // the start of the first line of stderr
	}{
		{"no command", nil, "hyperconn: no command given"},
		{"unknown command", []string{"frobnicate"}, `hyperconn: unknown command "frobnicate"`},
		{"unknown flag", []string{"exact", "--bogus"}, "hyperconn exact: flag provided but not defined: -bogus"},
		{"n = 0", []string{"exact", "--n", "0"}, `hyperconn exact: -n: "0" is not an integer or range`},
		{"n range", []string{"exact", "--n", "4-2"}, `hyperconn exact: -n: "4-2"`},
		{"n not a number", []string{"exact", "--n", "two"}, `hyperconn exact: -n: "two"`},
		{"negative depth", []string{"exact", "--depth", "-1"}, "hyperconn exact: -depth -1: want at least 1"},
		{"zero trials", []string{"exact", "--trials", "0"}, "hyperconn exact: -trials 0: want at least 1"},
		{"depth not a number", []string{"exact", "--depth", "x"}, `hyperconn exact: invalid value "x" for flag -depth`},
		{"unknown method", []string{"exact", "--methods", "exact,sinkhorn"}, `hyperconn exact: -methods: unknown value "sinkhorn"`},
		{"unknown dtype", []string{"exact", "--dtypes", "float16"}, `hyperconn exact: -dtypes: unknown value "float16"`},
		{"unknown family", []string{"exact", "--families", "cauchy"}, `hyperconn exact: -families: unknown value "cauchy"`},
		{"stray argument", []string{"exact", "extra"}, `hyperconn exact: unexpected argument "extra"`},
		{"plot-n not selected", []string{"exact", "--n", "4", "--plot-n", "5"}, "hyperconn exact: -plot-n 5: not among the sizes"},
		{"no rows", []string{"exact", "--methods", "mhclite", "--n", "9-10"}, "hyperconn exact: the selection has no rows"},
		{"depth unknown flag", []string{"depth", "--bogus"}, "hyperconn depth: flag provided but not defined: -bogus"},
		{"depth negative depth", []string{"depth", "--depths", "8,-4"}, `hyperconn depth: -depths: "-4" is not an integer or range`},
		{"depth zero depth", []string{"depth", "--depths", "0"}, `hyperconn depth: -depths: "0" is not an integer or range`},
		{"depth n = 0", []string{"depth", "--n", "0"}, "hyperconn depth: -n 0: want 1 ≤ n ≤ 64"},
		{"depth unknown mixer", []string{"depth", "--mixers", "hc,dhc"}, `hyperconn depth: -mixers: unknown value "dhc"`},
		{"depth mhclite n", []string{"depth", "--mixers", "mhclite", "--n", "9"}, "hyperconn depth: -n 9: mhclite mixes all n! permutations"},
		{"depth kromhc n", []string{"depth", "--mixers", "kromhc", "--n", "11"}, "hyperconn depth: -n 11: kromhc needs n to be a product of factors ≤ 8"},
		{"depth zero steps", []string{"depth", "--steps", "0"}, "hyperconn depth: -steps 0: want at least 1"},
		{"depth steps and epochs", []string{"depth", "--steps", "10", "--epochs", "1"}, "hyperconn depth: -steps and -epochs are exclusive"},
		{"depth bad lr", []string{"depth", "--lr", "-1"}, "hyperconn depth: -lr -1: want a positive finite value"},
		{"depth NaN lr", []string{"depth", "--lr", "NaN"}, "hyperconn depth: -lr NaN: want a positive finite value"},
		{"depth zero batch", []string{"depth", "--batch", "0"}, "hyperconn depth: -batch 0: want at least 1"},
		{"depth zero test", []string{"depth", "--test", "0"}, "hyperconn depth: -test 0: want at least 1"},
		{"depth zero jobs", []string{"depth", "--jobs", "0"}, "hyperconn depth: -jobs 0: want at least 1"},
		{"depth negative heatmap layer", []string{"depth", "--heatmap-layer", "-1"}, "hyperconn depth: -heatmap-layer -1: want at least 0"},
		{"depth stray argument", []string{"depth", "hc"}, `hyperconn depth: unexpected argument "hc"`},
		// Checked against the data once it is loaded, still before writing.
		{"depth subset too large", []string{"depth", "--subset", "60001"}, "hyperconn depth: -subset 60001: the training set has 60000 images"},
		{"depth test too large", []string{"depth", "--test", "10001"}, "hyperconn depth: -test 10001: the test set has 10000 images"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			args := tc.args
			if len(args) > 0 && (args[0] == "exact" || args[0] == "depth") {
				args = append(slices.Clone(args), "--out", out)
			}
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
			if !strings.HasPrefix(rest, "usage: hyperconn") {
				t.Errorf("stderr after the error line is not the usage:\n%s", rest)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("--out %s exists after a usage error (%v)", out, err)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}, {"exact", "-h"}, {"exact", "--help"}, {"depth", "-h"}} {
		status, stdout, stderr := runCLI(args...)
		if status != exitOK || stderr != "" {
			t.Errorf("%v: status %d, stderr %q; want 0 and nothing", args, status, stderr)
		}
		if !strings.HasPrefix(stdout, "usage: hyperconn") {
			t.Errorf("%v: stdout does not start with the usage:\n%s", args, stdout)
		}
	}
	_, stdout, _ := runCLI("exact", "-h")
	for _, want := range []string{"-depth", "-trials", "-seed", "-n", "-dtypes", "-methods", "-families", "-json", "-out", "-timing", "-plot-n", "shc-structural"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("exact -h does not mention %s", want)
		}
	}
	_, stdout, _ = runCLI("depth", "-h")
	for _, want := range []string{"-mixers", "-depths", "-n", "-width", "-steps", "-epochs", "-batch", "-lr", "-seed",
		"-subset", "-test", "-jobs", "-out", "-json", "-resume", "-heatmap-layer", "mhc-exact"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("depth -h does not mention %s", want)
		}
	}
	_, stdout, _ = runCLI("-h")
	for _, cmd := range []string{"exact", "depth"} {
		if !strings.Contains(stdout, "  "+cmd+" ") {
			t.Errorf("hyperconn -h does not list the %s command:\n%s", cmd, stdout)
		}
	}
}

// goldenArgs is a small, timing-free run whose table is compared with
// testdata/exact_table.golden (regenerate with go test -run Golden -update).
var goldenArgs = []string{"exact", "--n", "3,4", "--trials", "4", "--depth", "8", "--timing=false"}

func TestExactTableGolden(t *testing.T) {
	status, stdout, stderr := runCLI(goldenArgs...)
	if status != exitOK || stderr != "" {
		t.Fatalf("status %d, stderr %q", status, stderr)
	}
	golden := filepath.Join("testdata", "exact_table.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(stdout), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if stdout != string(want) {
		t.Errorf("table differs from %s (run go test -run Golden -update to accept):\n%s", golden, stdout)
	}
}

// jsonFields are the documented, stable field names of a row.
var jsonFields = []string{"backward_amax", "depth", "dtype", "family", "family_name", "forward_amax",
	"max_deviation", "max_iterations", "max_norm_error", "measure", "median_deviation", "method", "n",
	"ns_forward", "ns_forward_backward", "trials"}

func TestExactJSONAndOut(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "results")
	status, stdout, stderr := runCLI("exact", "--json", "--out", dir, "--n", "3-4", "--trials", "3",
		"--depth", "5", "--timing=false", "--dtypes", "float64")
	if status != exitOK || stderr != "" {
		t.Fatalf("status %d, stderr %q", status, stderr)
	}
	var doc struct {
		Command string
		Config  map[string]any
		Rows    []map[string]any
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("stdout is not JSON: %v", err)
	}
	// 9 methods × 2 sizes × 5 families, all in float64; n = 3 and 4 suit
	// every method and family.
	if doc.Command != "exact" || len(doc.Rows) != 90 {
		t.Fatalf("command %q with %d rows, want exact with 90", doc.Command, len(doc.Rows))
	}
	for _, r := range doc.Rows {
		var keys []string
		for k := range r {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, jsonFields) {
			t.Fatalf("row fields %v, want %v", keys, jsonFields)
		}
	}
	saved, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if string(saved) != stdout {
		t.Error("results.json differs from the -json output")
	}

	var want []string
	for _, base := range []string{"deviation_float64", "drift_float64", "driftgap_float64"} {
		want = append(want, base+".png", base+".svg")
	}
	want = append(want, "results.json")
	slices.Sort(want)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if !slices.Equal(got, want) {
		t.Errorf("--out holds %v, want %v (and no temporary files)", got, want)
	}
	for _, name := range got {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		switch filepath.Ext(name) {
		case ".png":
			if _, err := png.Decode(bytes.NewReader(b)); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		case ".svg":
			if !bytes.Contains(b, []byte("<svg")) || !bytes.HasSuffix(bytes.TrimSpace(b), []byte("</svg>")) {
				t.Errorf("%s is not a complete SVG document", name)
			}
		}
	}
}

// TestOutIsAFile checks that an unwritable --out fails with status 1.
func TestOutIsAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	status, _, stderr := runCLI("exact", "--out", file, "--n", "3", "--trials", "1", "--depth", "1",
		"--timing=false", "--methods", "exact")
	if status != exitFailure || !strings.HasPrefix(stderr, "hyperconn exact: ") {
		t.Errorf("status %d, stderr %q; want %d and an error", status, stderr, exitFailure)
	}
}

func TestParseInts(t *testing.T) {
	got, err := parseInts("n", "8, 2-4,3,16", 2, 64)
	if err != nil || !slices.Equal(got, []int{2, 3, 4, 8, 16}) {
		t.Errorf("parseInts = %v, %v", got, err)
	}
	for _, bad := range []string{"", "1", "65", "2-", "-3", "a-b", "5-4", "2,,3"} {
		if _, err := parseInts("n", bad, 2, 64); err == nil {
			t.Errorf("parseInts(%q) accepted", bad)
		}
	}
	c, err := parseChoices("m", "exact,fixed20,exact", methodNames)
	if err != nil || !slices.Equal(c, []string{methodFixed, methodExact}) {
		t.Errorf("parseChoices = %v, %v; want report order without duplicates", c, err)
	}
}
