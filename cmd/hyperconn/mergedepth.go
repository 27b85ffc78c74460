package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// depthShardRun is a depth experiment's run as merge reads it from a shard:
// the decoded run file and the exact bytes of the run file and of its step
// log, which the merged directory receives unchanged (so their checksums,
// and -resume in the merged directory, still hold).
type depthShardRun struct {
	run       *depthRun
	file, log []byte
}

// depthMerge is the depth command's sweepMerger.
type depthMerge struct {
	cfg  depthConfig
	jobs []depthJob
}

var _ sweepMerger[*depthShardRun] = (*depthMerge)(nil)

// openDepthMerge opens the merge of a depth sweep from one of its shards'
// results.json: the sweep's configuration and its experiments.
func openDepthMerge(results []byte) (sweepMerger[*depthShardRun], error) {
	var doc depthDoc
	if err := json.Unmarshal(results, &doc); err != nil {
		return nil, err
	}
	cfg := doc.Config
	cfg.trainImages, cfg.testImages = doc.Training.TrainImages, doc.Training.TestImages
	if len(cfg.Mixers) == 0 || len(cfg.Depths) == 0 || cfg.trainImages < 1 || cfg.testImages < 1 {
		return nil, errors.New("not a depth sweep's results (no mixers, depths or data sizes; written before hyperconn merge existed?)")
	}
	return &depthMerge{cfg: cfg, jobs: depthJobs(&cfg, cfg.trainImages, cfg.testImages)}, nil
}

func (d *depthMerge) experiments() []string {
	names := make([]string, len(d.jobs))
	for j, job := range d.jobs {
		names[j] = job.key.name()
	}
	return names
}

func (d *depthMerge) listed(results []byte) ([]string, error) {
	var doc struct {
		Records []struct {
			Mixer string `json:"mixer"`
			Depth int    `json:"depth"`
		} `json:"records"`
	}
	if err := json.Unmarshal(results, &doc); err != nil {
		return nil, err
	}
	names := make([]string, len(doc.Records))
	for i, r := range doc.Records {
		names[i] = depthKey{Mixer: r.Mixer, Depth: r.Depth}.name()
	}
	return names, nil
}

func (d *depthMerge) load(dir string, j int) (*depthShardRun, error) {
	r, file, log, err := readRun(dir, d.jobs[j].key)
	if err != nil {
		return nil, err
	}
	return &depthShardRun{run: r, file: file, log: log}, nil
}

// same compares the run files but their wall times and checksums (the run
// file's own checksum covers its wall time; the step log's is compared).
func (d *depthMerge) same(a, b *depthShardRun) bool {
	strip := func(r *depthRun) []byte {
		c := *r
		c.Record.WallSeconds, c.SHA256 = 0, ""
		out, err := json.Marshal(&c)
		if err != nil {
			return nil
		}
		return out
	}
	sa, sb := strip(a.run), strip(b.run)
	return sa != nil && bytes.Equal(sa, sb) && bytes.Equal(a.log, b.log)
}

// write writes the merged depth sweep as runDepthEnv would: results that
// list nothing before any run file is replaced, the run files (each step
// log before its run file), the plots if complete, then the results of
// every run, complete or not, and the table or JSON on stdout.
func (d *depthMerge) write(m *mergeJob, runs []*depthShardRun, have []bool, complete bool) error {
	dir := m.out
	if k := removeStaleTemps(dir, m.start); k > 0 {
		fmt.Fprintf(m.stderr, "hyperconn merge: removed %d temporary files left by an interrupted run\n", k)
	}
	if err := os.MkdirAll(filepath.Join(dir, runsDir), 0o755); err != nil {
		return err
	}
	cfg := d.cfg
	cfg.out = dir
	if err := writeDepthResults(dir, depthDocument(&cfg, nil, false)); err != nil {
		return err
	}
	var finished []*depthRun
	for j, r := range runs {
		if !have[j] {
			continue
		}
		if err := writeAtomic(filepath.Join(dir, r.run.Record.StepLog), r.log); err != nil {
			return err
		}
		if err := writeAtomic(filepath.Join(dir, runsDir, r.run.Key.name()+".json"), r.file); err != nil {
			return err
		}
		finished = append(finished, r.run)
	}
	if complete {
		if err := writeDepthPlots(dir, &cfg, finished); err != nil {
			return err
		}
	}
	doc := depthDocument(&cfg, finished, complete)
	if err := writeDepthResults(dir, doc); err != nil {
		return err
	}
	if m.asJSON {
		b, err := marshalIndent(doc)
		if err != nil {
			return err
		}
		_, err = m.stdout.Write(b)
		return err
	}
	return writeDepthTable(m.stdout, doc)
}
