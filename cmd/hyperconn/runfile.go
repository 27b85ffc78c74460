package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
)

// The run-file machinery shared by the sweep commands (depth and lm): a run
// file is the JSON document of one finished experiment, sealed with the
// SHA-256 of its own content and of its step log (see depthfiles.go for
// why), and results.csv is one row per record through a list of columns.

// sealed is a run file: a JSON document holding its own checksum and its
// step log's.
type sealed interface {
	// checksums returns the run file's fields holding the SHA-256 of its
	// own content (computed with the field empty) and of its step log.
	checksums() (self, log *string)
	// stepLog returns the path of the step log, relative to the output
	// directory.
	stepLog() string
}

func (r *depthRun) checksums() (self, log *string) { return &r.SHA256, &r.StepLogSHA256 }
func (r *depthRun) stepLog() string                { return r.Record.StepLog }

// loadRunFile decodes the run file name+".json" under dir/runs into a new
// R if it exists, match accepts it (its key equals the wanted one) and its
// checksums hold. A missing run file, or one match refuses (another
// experiment's: stale), gives ok false and reason ""; one that is
// unreadable, edited or corrupt gives ok false and a reason that says why.
func loadRunFile[R any, P interface {
	*R
	sealed
}](dir, name string, match func(P) bool) (r P, ok bool, reason string) {
	return resumable(readSealed[R, P](dir, name, match))
}

// resumable turns what readSealed (or a reader built on it) returns into
// what -resume needs: the run and ok, or no run and the reason to report
// ("" when there is nothing to report: no run file, or a stale one).
func resumable[P any](r P, _, _ []byte, err error) (run P, ok bool, reason string) {
	var none P
	switch {
	case err == nil:
		return r, true, ""
	case errors.Is(err, errNoRun), errors.Is(err, errStaleRun):
		return none, false, ""
	}
	return none, false, err.Error()
}

// Errors of readSealed that -resume does not report: the experiment
// simply runs (again).
var (
	errNoRun    = errors.New("no run file")
	errStaleRun = errors.New("the run file is another experiment's (its key differs)")
)

// readSealed reads and verifies the run file name+".json" under dir/runs,
// as -resume and merge use it: it returns the decoded run, the run file's
// bytes and its step log's. The error wraps errNoRun if there is no run
// file and errStaleRun if match refuses it, and otherwise names the file
// and what is wrong with it (unreadable, a step log that is not
// runs/name.csv or is missing, checksums that do not match).
func readSealed[R any, P interface {
	*R
	sealed
}](dir, name string, match func(P) bool) (r P, file, log []byte, err error) {
	path := filepath.Join(dir, runsDir, name+".json")
	file, err = readAll(path, maxRunFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil, fmt.Errorf("%s: %w", path, errNoRun)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	r = new(R)
	if err := json.Unmarshal(file, r); err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %v", path, err)
	}
	if !match(r) {
		return nil, nil, nil, fmt.Errorf("%s: %w", path, errStaleRun)
	}
	if want := runsDir + "/" + name + ".csv"; r.stepLog() != want {
		return nil, nil, nil, fmt.Errorf("%s: its step log is %q, want %q", path, r.stepLog(), want)
	}
	log, err = readAll(filepath.Join(dir, r.stepLog()), maxRunFile)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: step log: %v", path, err)
	}
	if err := checkRun(r, log); err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %v", path, err)
	}
	return r, file, log, nil
}

// column is one column of results.csv: its header (the record's JSON
// name) and the cell of a record.
type column[R any] struct {
	name string
	cell func(r *R) string
}

// writeResultFiles writes results.csv (a header and one row per record,
// through cols) and then results.json (doc) into dir, each atomically.
func writeResultFiles[R any](dir string, doc any, cols []column[R], recs []R) error {
	b, err := marshalIndent(doc)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	row := make([]string, len(cols))
	for k, c := range cols {
		row[k] = c.name
	}
	w.Write(row)
	for i := range recs {
		for k, c := range cols {
			row[k] = c.cell(&recs[i])
		}
		w.Write(row)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	// The CSV first: while the two disagree (a kill between the writes),
	// the CSV lists the newer runs, each as saved in its run file, and the
	// JSON says whether the set is complete.
	if err := writeAtomic(filepath.Join(dir, "results.csv"), buf.Bytes()); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, "results.json"), b)
}
