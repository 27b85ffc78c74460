// Command hyperconn runs hyperconn's experiments from the command line.
//
// Usage:
//
//	hyperconn exact [flags]   exactness report: Fixed-20 (the mHC paper) versus Exact
//
// Run "hyperconn <command> -h" for a command's flags.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// usage is printed for "hyperconn -h" and for an unknown command.
const usage = `usage: hyperconn <command> [flags]

commands:
  exact   exactness report: max doubly-stochastic deviation of Fixed-20
          (the mHC paper's Sinkhorn) versus the exact projection

Run "hyperconn <command> -h" for a command's flags.
`

// run executes the command line args and returns the exit status: 0 on
// success, 1 on a failure while running, 2 on a usage error.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "exact":
		return runExact(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "hyperconn: unknown command %q\n%s", args[0], usage)
	return 2
}
