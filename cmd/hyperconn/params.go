package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/net"
)

const paramsSynopsis = `usage: hyperconn params [flags]

The extra parameters each mixer adds to a sub-layer (a residual connection
x + F(x)): the learnable values of the mixer of n streams of width C, for
every -mixers mixer and -n n. A transformer block has two sub-layers (its
attention and its MLP), so it adds twice these. The plain residual adds 0;
a mixer that refuses an n (mhclite above 8, kromhc with a prime factor
above 8) is listed as refused.

The counts are exact and cheap at any C: a mixer's parameter count is
a·C + b (only the coefficient head's Φ grows with C), so the command
builds each mixer at C = 1 and C = 2 and extrapolates.
`

func runParams(args []string, stdout, stderr io.Writer) int {
	fs := flagSet("params")
	var (
		ns     = fs.String("n", "4,8,16", "stream counts: a comma-separated list of n and ranges a-b, 1 ≤ n ≤ 64")
		width  = fs.Int("width", 256, "stream width C (≥ 1)")
		mixers = fs.String("mixers", "all", "comma-separated mixers (as for depth) or all")
	)
	if st, done := parseFlags(fs, paramsSynopsis, args, stdout, stderr); done {
		return st
	}
	sizes, err := parseInts("n", *ns, 1, maxNFlag)
	var names []string
	if err == nil {
		names, err = parseChoices("mixers", *mixers, net.MixerNames())
	}
	if err == nil && (*width < 1 || *width > maxWidthFlag) {
		err = fmt.Errorf("-width %d: want 1 ≤ C ≤ %d", *width, maxWidthFlag)
	}
	if err != nil {
		return usageError(fs, paramsSynopsis, stderr, err)
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "mixer\tn\tC\tparameters per sub-layer\t\n")
	for _, name := range names {
		for _, n := range sizes {
			k, err := paramCount(name, n, *width)
			if err != nil {
				fmt.Fprintf(tw, "%s\t%d\t%d\trefused\t\n", name, n, *width)
				continue
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t\n", name, n, *width, k)
		}
	}
	if err := tw.Flush(); err != nil {
		fmt.Fprintf(stderr, "hyperconn params: %v\n", err)
		return exitFailure
	}
	if err := writeTrimmed(stdout, b.String()); err != nil {
		fmt.Fprintf(stderr, "hyperconn params: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// paramCount returns the number of learnable values of net's mixer name
// for n streams of width c: count(C) = a·C + b, with a and b from the
// mixers built at C = 1 and 2 (so that mhclite at n = 8, 82 million values
// at C = 256, is never allocated).
func paramCount(name string, n, c int) (int, error) {
	var k [2]int
	for i := range k {
		m, err := net.NewMixer(name, n, i+1, 0)
		if err != nil {
			return 0, err
		}
		k[i] = count(m.Params())
	}
	a := k[1] - k[0]
	return a*c + k[0] - a, nil
}

func count(ps []*hc.Param) int {
	s := 0
	for _, p := range ps {
		s += len(p.Value)
	}
	return s
}
