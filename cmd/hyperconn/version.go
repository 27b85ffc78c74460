package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/hyperconn/hyperconn/internal/gemm"
)

// versionUsage is the version command's usage text.
const versionUsage = "usage: hyperconn version\n\nPrints the program's version and the BLAS its matrix products run on.\n"

// runVersion prints the program's version (module version or VCS revision,
// Go version, platform) and, on a second line, the BLAS the matrix products
// run on (gemm.Describe: with -tags openblas, the OpenBLAS build and the
// kernels it runs, and who chose them).
func runVersion(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			fmt.Fprint(stdout, versionUsage)
			return exitOK
		}
		fmt.Fprintf(stderr, "hyperconn version: %v\n%s", err, versionUsage)
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "hyperconn version: unexpected argument %q\n%s", fs.Arg(0), versionUsage)
		return exitUsage
	}
	fmt.Fprintf(stdout, "hyperconn %s %s %s/%s\n", buildVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(stdout, "products: %s\n", gemm.Describe())
	return exitOK
}

// buildVersion returns the main module's version, or, for a build from a
// source tree, "(devel)" with the VCS revision when the build recorded it.
func buildVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && v == "(devel)" {
			v += " " + s.Value
		}
	}
	return v
}
