package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

const mergeSynopsis = `usage: hyperconn merge -out DIR [-partial] [-json] SHARD_DIR...

Combines the output directories of one sweep run in shards (hyperconn depth
or hyperconn lm with -shard i/k, one directory per shard) into DIR: the run
files and step logs, results.json, results.csv, the plots and the table on
stdout, exactly as the sweep run on one machine would have written them
(but wall times, and lm's tokens per second).

Every run file is verified as -resume verifies it (its own checksum and its
step log's); the shards must be of one sweep (the same command and
settings, but -jobs, -shard and -out, and lm's -text path: the text's
SHA-256 must match); every experiment of the sweep must be in some shard
(with -partial a missing one is allowed: results.json then says complete:
false and no plots are drawn, as for an interrupted sweep), and one held by
two shards must have the same results in both. Any problem is reported in
one line naming the file or setting, with exit status 2, before anything is
written. DIR may not be one of the shard directories.
`

// mergeMaxNamed is how many missing experiments a merge error names before
// it only counts the rest.
const mergeMaxNamed = 8

// sweepKind is a sweep command whose shards merge combines: results.json's
// "command" selects it.
type sweepKind struct {
	command string
	// vary are the config settings (keys of results.json's "config") the
	// shards of one sweep may differ in.
	vary []string
	// merge combines m's shards, already checked to be of one sweep (same
	// command, config and training settings), into m.out.
	merge func(m *mergeJob) error
}

// sweepKinds are the sweep commands merge knows. A sweep command joins with
// a -shard flag (shard.go), the shardMark in its results.json and an entry
// here built by mergeWith from its sweepMerger.
var sweepKinds = []sweepKind{
	{command: "depth", vary: []string{"jobs"}, merge: mergeWith(openDepthMerge)},
	// An lm sweep's text may have another path on each machine: its
	// SHA-256 (text_sha256, in every experiment's key) must match.
	{command: "lm", vary: []string{"jobs", "text"}, merge: mergeWith(openLMMerge)},
}

// sweepHead is what merge reads first of every shard's results.json: the
// fields every sweep command writes.
type sweepHead struct {
	Command string `json:"command"`
	shardMark
	Config   map[string]json.RawMessage `json:"config"`
	Training json.RawMessage            `json:"training"`
}

// shardDir is one input directory of a merge.
type shardDir struct {
	dir     string
	results []byte // its results.json
	head    sweepHead
	shard   shard // head.Shard parsed; the zero value for a whole sweep
}

// mergeJob is one run of the merge command.
type mergeJob struct {
	out             string
	partial, asJSON bool
	shards          []shardDir
	stdout, stderr  io.Writer
	start           time.Time // temporary files in out older than this are stale
}

// inputError is a problem with merge's input: exit status 2, nothing
// written.
type inputError struct{ err error }

func (e inputError) Error() string { return e.err.Error() }
func (e inputError) Unwrap() error { return e.err }

// badInput returns an inputError formatted as fmt.Errorf does.
func badInput(format string, a ...any) error {
	return inputError{fmt.Errorf(format, a...)}
}

// runMerge is the "merge" command.
func runMerge(args []string, stdout, stderr io.Writer) int {
	fs := flagSet("merge")
	out := fs.String("out", "", "output directory of the merged sweep (created if needed; not one of the shard directories)")
	partial := fs.Bool("partial", false, "allow experiments missing from every shard: the merged results say complete: false")
	asJSON := fs.Bool("json", false, "print the merged results.json document instead of the table")
	// Flags and directories may interleave: "merge a b -out m" as well as
	// "merge -out m a b"; everything after "--" is a directory.
	var dirs, tail []string
	if i := slices.Index(args, "--"); i >= 0 {
		args, tail = args[:i], args[i+1:]
	}
	for rest := args; ; {
		if st, stop := parseFlagsOnly(fs, mergeSynopsis, rest, stdout, stderr); stop {
			return st
		}
		if fs.NArg() == 0 {
			break
		}
		dirs, rest = append(dirs, fs.Arg(0)), fs.Args()[1:]
	}
	dirs = append(dirs, tail...)
	switch {
	case *out == "":
		return usageError(fs, mergeSynopsis, stderr, errors.New("-out: want the directory to write the merged sweep into"))
	case len(dirs) == 0:
		return usageError(fs, mergeSynopsis, stderr, errors.New("no shard directory given"))
	}
	m := &mergeJob{out: *out, partial: *partial, asJSON: *asJSON, stdout: stdout, stderr: stderr, start: time.Now()}
	err := m.run(dirs)
	var bad inputError
	switch {
	case errors.As(err, &bad):
		fmt.Fprintf(stderr, "hyperconn merge: %v\n", err)
		return exitUsage
	case err != nil:
		fmt.Fprintf(stderr, "hyperconn merge: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// run reads and checks the shard directories and hands them to their
// command's merge.
func (m *mergeJob) run(dirs []string) error {
	for _, d := range dirs {
		if same, err := sameDir(m.out, d); err != nil {
			return badInput("%v", err)
		} else if same {
			return badInput("-out %s is the shard directory %s: write the merged sweep elsewhere", m.out, d)
		}
	}
	for _, d := range dirs {
		s, err := readShardDir(d)
		if err != nil {
			return err
		}
		m.shards = append(m.shards, s)
	}
	first := &m.shards[0]
	i := slices.IndexFunc(sweepKinds, func(k sweepKind) bool { return k.command == first.head.Command })
	if i < 0 {
		var known []string
		for _, k := range sweepKinds {
			known = append(known, k.command)
		}
		return badInput("%s: command %q cannot be merged (merge combines the shards of %s)",
			resultsPath(first.dir), first.head.Command, strings.Join(known, ", "))
	}
	kind := sweepKinds[i]
	for _, s := range m.shards[1:] {
		if err := sameSweep(kind, first, &s); err != nil {
			return err
		}
	}
	return kind.merge(m)
}

// resultsPath is the path of dir's results.json.
func resultsPath(dir string) string { return filepath.Join(dir, "results.json") }

// maxResultsFile bounds what merge reads of a results.json.
const maxResultsFile = 1 << 30

// readShardDir reads the results.json of a shard directory.
func readShardDir(dir string) (shardDir, error) {
	s := shardDir{dir: dir}
	b, err := readAll(resultsPath(dir), maxResultsFile)
	if err != nil {
		return s, badInput("shard directory %s: %v", dir, err)
	}
	s.results = b
	if err := json.Unmarshal(b, &s.head); err != nil {
		return s, badInput("%s: %v", resultsPath(dir), err)
	}
	if s.head.Command == "" || s.head.Config == nil {
		return s, badInput("%s: not the results of a sweep (no command or config)", resultsPath(dir))
	}
	if s.shard, err = parseShard(s.head.Shard); err != nil {
		return s, badInput("%s: %v", resultsPath(dir), err)
	}
	return s, nil
}

// sameSweep checks that b is a shard of a's sweep: the same command, and
// the same config (but kind.vary) and training settings.
func sameSweep(kind sweepKind, a, b *shardDir) error {
	if a.head.Command != b.head.Command {
		return badInput("%s is a %q sweep, %s a %q sweep: not shards of one sweep", b.dir, b.head.Command, a.dir, a.head.Command)
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range a.head.Config {
			if !yield(k) {
				return
			}
		}
		for k := range b.head.Config {
			if _, dup := a.head.Config[k]; !dup && !yield(k) {
				return
			}
		}
	})
	for _, k := range keys {
		if slices.Contains(kind.vary, k) {
			continue
		}
		va, vb := compactJSON(a.head.Config[k]), compactJSON(b.head.Config[k])
		if va != vb {
			return badInput("%s and %s are not shards of one sweep: setting %q is %s in one and %s in the other",
				a.dir, b.dir, k, orAbsent(va), orAbsent(vb))
		}
	}
	if va, vb := compactJSON(a.head.Training), compactJSON(b.head.Training); va != vb {
		return badInput("%s and %s are not shards of one sweep: their fixed training settings differ (%s vs %s)",
			a.dir, b.dir, orAbsent(va), orAbsent(vb))
	}
	return nil
}

// compactJSON returns the JSON value b without insignificant space ("" if
// b is empty).
func compactJSON(b json.RawMessage) string {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return string(b)
	}
	return buf.String()
}

// orAbsent returns v, or "absent" if v is empty.
func orAbsent(v string) string {
	if v == "" {
		return "absent"
	}
	return v
}

// sameDir reports whether the paths a and b name the same directory (a
// need not exist).
func sameDir(a, b string) (bool, error) {
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(fa, fb), nil
	}
	pa, err := filepath.Abs(a)
	if err != nil {
		return false, err
	}
	pb, err := filepath.Abs(b)
	if err != nil {
		return false, err
	}
	return pa == pb, nil
}

// A sweepMerger is one sweep command's side of merge, opened on the first
// shard's results.json; R is its run file.
type sweepMerger[R sealed] interface {
	// experiments returns the names of the sweep's experiments in report
	// order: the order -shard deals them in.
	experiments() []string
	// listed returns the names of the experiments whose records a shard's
	// results.json lists.
	listed(results []byte) ([]string, error)
	// load reads the run of the sweep's experiment j from a shard
	// directory and verifies it as -resume does (checksums, key); the
	// error names the file.
	load(dir string, j int) (*shardRun[R], error)
	// untimed returns a copy of r without what differs between two runs
	// of one experiment: its wall-time fields and its own checksum (which
	// covers them).
	untimed(r R) R
	// publish writes results.json and results.csv of runs (the finished
	// experiments, in report order) into dir, as the sweep command does,
	// and returns the document.
	publish(dir string, runs []R, complete bool) (doc any, err error)
	// plots writes the plots of the whole sweep's runs into dir.
	plots(dir string, runs []R) error
	// table prints the summary table of a document publish returned.
	table(w io.Writer, doc any) error
}

// shardRun is one experiment's run as merge reads it from a shard: the
// decoded run file and the exact bytes of the run file and of its step
// log, which the merged directory receives unchanged (so that their
// checksums, and -resume in the merged directory, still hold).
type shardRun[R sealed] struct {
	run       R
	name      string // base name of the run file under runsDir
	file, log []byte
}

// save writes r's step log and then its run file into dir, each
// atomically, as a sweep saves a finished run.
func (r *shardRun[R]) save(dir string) error {
	if err := writeAtomic(filepath.Join(dir, r.run.stepLog()), r.log); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, runsDir, r.name+".json"), r.file)
}

// mergeWith returns the merge of a sweepKind whose sweepMerger open
// returns from a results.json.
func mergeWith[R sealed](open func(results []byte) (sweepMerger[R], error)) func(m *mergeJob) error {
	return func(m *mergeJob) error {
		sm, err := open(m.shards[0].results)
		if err != nil {
			return badInput("%s: %v", resultsPath(m.shards[0].dir), err)
		}
		return mergeRuns(m, sm)
	}
}

// mergeRuns collects every shard's listed runs, checks them and writes the
// merged sweep.
func mergeRuns[R sealed](m *mergeJob, sm sweepMerger[R]) error {
	names := sm.experiments()
	index := make(map[string]int, len(names))
	for j, n := range names {
		index[n] = j
	}
	runs := make([]*shardRun[R], len(names))
	have := make([]bool, len(names))
	from := make([]string, len(names))
	for _, s := range m.shards {
		listed, err := sm.listed(s.results)
		if err != nil {
			return badInput("%s: %v", resultsPath(s.dir), err)
		}
		for _, name := range listed {
			j, ok := index[name]
			switch {
			case !ok:
				return badInput("%s lists %s, which is not an experiment of the sweep", resultsPath(s.dir), name)
			case !s.shard.owns(j):
				return badInput("%s lists %s, which is not in its shard %s", resultsPath(s.dir), name, s.shard)
			}
			r, err := sm.load(s.dir, j)
			if err != nil {
				return badInput("%v", err)
			}
			if have[j] {
				if !sameResults(sm, runs[j], r) {
					return badInput("%s differs between %s and %s: the same experiment with different results", name, from[j], s.dir)
				}
				continue
			}
			runs[j], have[j], from[j] = r, true, s.dir
		}
	}
	var missing []string
	for j, ok := range have {
		if !ok {
			missing = append(missing, names[j]+" ("+owners(m.shards, j)+")")
		}
	}
	complete := len(missing) == 0
	if !complete {
		list := strings.Join(missing[:min(len(missing), mergeMaxNamed)], ", ")
		if len(missing) > mergeMaxNamed {
			list += fmt.Sprintf(" and %d more", len(missing)-mergeMaxNamed)
		}
		if !m.partial {
			return badInput("%d of the sweep's %d experiments are missing: %s; merge the shards that hold them, or pass -partial",
				len(missing), len(names), list)
		}
		fmt.Fprintf(m.stderr, "hyperconn merge: -partial: %d of the sweep's %d experiments are missing (%s): "+
			"results.json says complete: false and no plots are drawn\n", len(missing), len(names), list)
	}
	return writeMerged(m, sm, runs, have, complete)
}

// writeMerged writes the merged sweep into m.out as its command would
// have: results that list nothing before any run file is replaced (so they
// never claim a run file that is being replaced), the run files (each step
// log before its run file), the plots if complete, then the results of
// every run, complete or not, and the table or JSON on m.stdout.
func writeMerged[R sealed](m *mergeJob, sm sweepMerger[R], runs []*shardRun[R], have []bool, complete bool) error {
	dir := m.out
	if k := removeStaleTemps(dir, m.start); k > 0 {
		fmt.Fprintf(m.stderr, "hyperconn merge: removed %d temporary files left by an interrupted run\n", k)
	}
	if err := os.MkdirAll(filepath.Join(dir, runsDir), 0o755); err != nil {
		return err
	}
	if _, err := sm.publish(dir, nil, false); err != nil {
		return err
	}
	var finished []R
	for j, r := range runs {
		if !have[j] {
			continue
		}
		if err := r.save(dir); err != nil {
			return err
		}
		finished = append(finished, r.run)
	}
	if complete {
		if err := sm.plots(dir, finished); err != nil {
			return err
		}
	}
	doc, err := sm.publish(dir, finished, complete)
	if err != nil {
		return err
	}
	if !m.asJSON {
		return sm.table(m.stdout, doc)
	}
	b, err := marshalIndent(doc)
	if err != nil {
		return err
	}
	_, err = m.stdout.Write(b)
	return err
}

// sameResults reports whether two runs of one experiment hold the same
// results: the same run file but its wall times and its own checksum, and
// the same step log byte for byte.
func sameResults[R sealed](sm sweepMerger[R], a, b *shardRun[R]) bool {
	ja, errA := json.Marshal(sm.untimed(a.run))
	jb, errB := json.Marshal(sm.untimed(b.run))
	return errA == nil && errB == nil && bytes.Equal(ja, jb) && bytes.Equal(a.log, b.log)
}

// owners describes where experiment j should have come from: the shard
// directories among shards that own it.
func owners(shards []shardDir, j int) string {
	var dirs []string
	for _, s := range shards {
		if s.shard.owns(j) {
			dirs = append(dirs, s.dir)
		}
	}
	if len(dirs) == 0 {
		return "in none of the shards given"
	}
	return "not finished in " + strings.Join(dirs, ", ")
}
