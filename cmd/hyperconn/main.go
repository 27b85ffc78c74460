package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hyperconn/hyperconn/internal/gemm"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// command is one subcommand of hyperconn. Run receives the arguments after
// the command's name and returns the exit status (see run).
type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

// commands lists the subcommands in the order the usage shows them.
var commands = []command{
	{"exact", "exactness report: how close each projection (Sinkhorn Fixed-20, Tolerance,\n" +
		"Exact, mHC-lite, sHC structural and normalised) comes to its manifold,\n" +
		"the drift of a deep product, and the cost per projection", runExact},
	{"depth", "depth-stability experiments: train the MNIST network of package net\n" +
		"with each mixer at each depth, measure its residual matrices (composite\n" +
		"Amax, σ_min, ‖M−J‖₂, DS deviation), write results and plots", runDepth},
	{"lm", "language-model experiments: train a character-level transformer on a\n" +
		"text (default: Newton's Opticks, built in) with each mixer, depth, learning\n" +
		"rate and seed; loss, validation loss, gradient norms, entropy baselines, plots", runLM},
	{"params", "the extra parameters each mixer adds to a sub-layer, at -n and -width", runParams},
	{"version", "the program's version and the BLAS its matrix products run on", runVersion},
}

// usage returns the top-level usage text.
func usage() string {
	var b strings.Builder
	b.WriteString("usage: hyperconn <command> [flags]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-7s %s\n", c.name, strings.ReplaceAll(c.summary, "\n", "\n          "))
	}
	b.WriteString("\nRun \"hyperconn <command> -h\" for a command's flags.\n")
	fmt.Fprintf(&b, "\nproducts: %s\n", gemm.Describe())
	return b.String()
}

// run executes the command line args (without the program name) and returns
// the exit status: exitOK on success, exitFailure on a failure while running,
// exitUsage on a usage error (which prints one line naming the problem and the
// usage on stderr, and writes no file).
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintf(stderr, "hyperconn: no command given\n%s", usage())
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage())
		return exitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "hyperconn: unknown command %q\n%s", args[0], usage())
	return exitUsage
}
