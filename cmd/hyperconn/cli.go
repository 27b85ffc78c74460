package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Exit statuses of every command.
const (
	exitOK      = 0 // success, or help requested
	exitFailure = 1 // a failure while running (a projection error, a write error)
	exitUsage   = 2 // a usage error: unknown flag, bad value; nothing was written
)

// flagSet returns a silent flag set for the command name: parse errors and
// usage are printed by parseFlags, not by the flag package.
func flagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("hyperconn "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// usageText returns the synopsis followed by fs's flags and their defaults.
func usageText(fs *flag.FlagSet, synopsis string) string {
	var b strings.Builder
	b.WriteString(synopsis)
	b.WriteString("\nflags:\n")
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	return b.String()
}

// parseFlags parses args into fs. It returns done = true with the exit
// status when the command must stop: exitOK after printing the usage on
// stdout for -h, exitUsage after printing the error and the usage on stderr.
// Positional arguments are a usage error.
func parseFlags(fs *flag.FlagSet, synopsis string, args []string, stdout, stderr io.Writer) (status int, done bool) {
	if status, done = parseFlagsOnly(fs, synopsis, args, stdout, stderr); done {
		return status, done
	}
	if fs.NArg() > 0 {
		return usageError(fs, synopsis, stderr, fmt.Errorf("unexpected argument %q", fs.Arg(0))), true
	}
	return exitOK, false
}

// parseFlagsOnly is parseFlags for a command that takes positional
// arguments (fs.Args after the flags).
func parseFlagsOnly(fs *flag.FlagSet, synopsis string, args []string, stdout, stderr io.Writer) (status int, done bool) {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usageText(fs, synopsis))
		return exitOK, true
	}
	if err != nil {
		return usageError(fs, synopsis, stderr, err), true
	}
	return exitOK, false
}

// usageError prints "<command>: err" and the usage on stderr and returns
// exitUsage.
func usageError(fs *flag.FlagSet, synopsis string, stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "%s: %v\n%s", fs.Name(), err, usageText(fs, synopsis))
	return exitUsage
}

// parseInts reads a comma-separated list of integers and inclusive ranges
// ("2-16", "2,4,8", "2-4,8") in [lo, hi], sorted and without duplicates.
func parseInts(flagName, s string, lo, hi int) ([]int, error) {
	var out []int
	bad := func(f string) error {
		return fmt.Errorf("-%s: %q is not an integer or range a-b within [%d, %d]", flagName, f, lo, hi)
	}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		a, b, isRange := strings.Cut(f, "-")
		from, err1 := strconv.Atoi(a)
		to, err2 := from, error(nil)
		if isRange {
			to, err2 = strconv.Atoi(b)
		}
		if err1 != nil || err2 != nil || from < lo || to > hi || from > to {
			return nil, bad(f)
		}
		for v := from; v <= to; v++ {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// parseChoices reads a comma-separated list of names, each one of valid,
// keeping the order of valid and dropping duplicates. "all" selects every
// valid name.
func parseChoices(flagName, s string, valid []string) ([]string, error) {
	if strings.TrimSpace(s) == "all" {
		return slices.Clone(valid), nil
	}
	seen := map[string]bool{}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if !slices.Contains(valid, f) {
			return nil, fmt.Errorf("-%s: unknown value %q (want one or more of %s, or all)", flagName, f, strings.Join(valid, ","))
		}
		seen[f] = true
	}
	var out []string
	for _, v := range valid {
		if seen[v] {
			out = append(out, v)
		}
	}
	return out, nil
}

// writeTrimmed writes the lines of a tabwriter table to w without their
// trailing blanks (tabwriter pads the last cell too).
func writeTrimmed(w io.Writer, table string) error {
	for line := range strings.Lines(table) {
		if _, err := io.WriteString(w, strings.TrimRight(line, " \n")+"\n"); err != nil {
			return err
		}
	}
	return nil
}
