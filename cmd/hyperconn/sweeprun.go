package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// sweepCommand is what a sweep command (depth, lm) hands to runSweep once
// its flags are parsed and its experiments listed (type K): how to reuse,
// run, document and draw their runs (type R) and results (type D).
type sweepCommand[K, R, D any] struct {
	name   string // the command's name in messages: "depth" or "lm"
	out    string // -out
	shard  shard  // -shard (zero: the whole sweep)
	resume bool   // -resume
	asJSON bool   // -json
	// load reads the saved run of an experiment for -resume: the run and
	// true, or false and why it is not reused ("" if there is none).
	load func(k K) (r *R, ok bool, reason string)
	// publish builds the results document of the runs finished so far and
	// writes results.json and results.csv atomically.
	publish func(finished []*R, complete bool) (*D, error)
	// sweep runs the experiments jobs[i], i in pending, and calls saved
	// after each run has been saved (from the worker's goroutine).
	sweep func(jobs []K, pending []int, saved func(i int, r *R) error) error
	// plots draws the plots of a complete sweep.
	plots func(finished []*R) error
	// table writes the summary table.
	table func(w io.Writer, doc *D) error
}

// runSweep runs a sweep command's experiments jobs (in report order): it
// keeps this shard's share, reuses the saved runs -resume allows, runs the
// others, keeps results.json and .csv true to the run files at every
// moment, draws the plots of a complete, unsharded sweep, prints the table
// (or the document with -json) and returns the exit status.
func runSweep[K, R, D any](c sweepCommand[K, R, D], jobs []K, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		fmt.Fprintf(stderr, "hyperconn %s: %v\n", c.name, err)
		return exitFailure
	}
	if c.shard.k > 0 {
		picked := c.shard.pick(len(jobs))
		fmt.Fprintf(stderr, "hyperconn %s: %s\n", c.name, c.shard.describe(len(picked), len(jobs)))
		mine := make([]K, 0, len(picked))
		for _, j := range picked {
			mine = append(mine, jobs[j])
		}
		jobs = mine
	}
	if err := os.MkdirAll(filepath.Join(c.out, runsDir), 0o755); err != nil {
		return fail(err)
	}
	runs := make([]*R, len(jobs))
	var pending []int
	resumed := 0
	for i, j := range jobs {
		if c.resume {
			r, ok, reason := c.load(j)
			if ok {
				runs[i] = r
				resumed++
				continue
			}
			if reason != "" {
				fmt.Fprintf(stderr, "hyperconn %s: -resume: not reusing %s\n", c.name, reason)
			}
		}
		pending = append(pending, i)
	}
	if c.resume {
		fmt.Fprintf(stderr, "hyperconn %s: -resume: %d of %d experiments already done in %s\n", c.name, resumed, len(jobs), c.out)
	}

	// results.json and .csv never list a record whose run file says
	// otherwise: before any run file is replaced they list the reused runs
	// only, with complete: false, and after each saved run the runs saved
	// so far (see depthfiles.go).
	var mu sync.Mutex
	finished := func() []*R {
		var out []*R
		for _, r := range runs {
			if r != nil {
				out = append(out, r)
			}
		}
		return out
	}
	if _, err := c.publish(finished(), false); err != nil {
		return fail(err)
	}
	saved := func(i int, r *R) error {
		mu.Lock()
		defer mu.Unlock()
		runs[i] = r
		_, err := c.publish(finished(), false)
		return err
	}
	if err := c.sweep(jobs, pending, saved); err != nil {
		// The first failure; the runs saved before it stay listed with
		// complete: false.
		return fail(err)
	}
	done := finished()
	complete := len(done) == len(jobs)
	// A shard's records are a part of the sweep: merge draws the plots.
	if complete && !c.shard.part() {
		if err := c.plots(done); err != nil {
			return fail(err)
		}
	}
	doc, err := c.publish(done, complete)
	if err != nil {
		return fail(err)
	}
	if c.asJSON {
		b, err := marshalIndent(doc)
		if err == nil {
			_, err = stdout.Write(b)
		}
		if err != nil {
			return fail(err)
		}
	} else if err := c.table(stdout, doc); err != nil {
		return fail(err)
	}
	if !complete {
		fmt.Fprintf(stderr, "hyperconn %s: interrupted: %d of %d experiments finished and saved in %s; "+
			"run it again with -resume to continue\n", c.name, len(done), len(jobs), c.out)
		return exitFailure
	}
	if c.shard.part() {
		fmt.Fprintf(stderr, "hyperconn %s: shard %s finished: %d experiments saved in %s; "+
			"combine the %d shards' directories with hyperconn merge -out DIR SHARD_DIR...\n", c.name, c.shard, len(done), c.out, c.shard.k)
	}
	return exitOK
}
