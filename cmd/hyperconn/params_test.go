package main

import (
	"strings"
	"testing"

	"github.com/hyperconn/hyperconn/net"
)

// TestParamCount checks the extrapolated count against a mixer built at the
// width itself, for every mixer at n = 4 and 8 (mhclite at 4 only: its
// n = 8 mixer at C = 96 holds 31 million values).
func TestParamCount(t *testing.T) {
	const c = 96
	for _, name := range net.MixerNames() {
		for _, n := range []int{4, 8} {
			if name == net.MixerMHCLite && n == 8 {
				continue
			}
			m, err := net.NewMixer(name, n, c, 0)
			if err != nil {
				t.Fatal(err)
			}
			got, err := paramCount(name, n, c)
			if err != nil || got != count(m.Params()) {
				t.Errorf("%s n=%d: paramCount = %d, %v; the mixer holds %d", name, n, got, err, count(m.Params()))
			}
		}
	}
}

// TestParamsCommand checks the table's rows for kromhc, mhc and mhclite at
// n = 4 and 8, C = 256 (the figures of the README), and the refusals.
func TestParamsCommand(t *testing.T) {
	status, stdout, stderr := runCLI("params", "-mixers", "mhc,mhclite,kromhc", "-n", "4,8,11", "-width", "256")
	if status != exitOK || stderr != "" {
		t.Fatalf("status %d, stderr %q", status, stderr)
	}
	t.Logf("\n%s", stdout)
	for _, want := range []string{
		"mhc   4  256      24603", "mhc   8  256     163923",
		"mhclite   4  256      32803", "mhclite   8  256   82648467", "mhclite  11  256    refused",
		"kromhc   4  256      12303", "kromhc   8  256      45081", "kromhc  11  256    refused",
	} {
		fields := strings.Fields(want)
		found := false
		for line := range strings.Lines(stdout) {
			if strings.Join(strings.Fields(line), " ") == strings.Join(fields, " ") {
				found = true
			}
		}
		if !found {
			t.Errorf("no row %q in\n%s", strings.Join(fields, " "), stdout)
		}
	}
	if status, _, _ := runCLI("params", "-width", "0"); status != exitUsage {
		t.Errorf("-width 0: status %d, want %d", status, exitUsage)
	}
}
