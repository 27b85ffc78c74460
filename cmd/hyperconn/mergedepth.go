package main

import (
	"encoding/json"
	"errors"
	"io"
)

// depthMerge is the depth command's sweepMerger.
type depthMerge struct {
	cfg  depthConfig
	jobs []depthJob
}

var _ sweepMerger[*depthRun] = (*depthMerge)(nil)

// openDepthMerge opens the merge of a depth sweep from one of its shards'
// results.json: the sweep's configuration and its experiments.
func openDepthMerge(results []byte) (sweepMerger[*depthRun], error) {
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

func (d *depthMerge) load(dir string, j int) (*shardRun[*depthRun], error) {
	r, file, log, err := readRun(dir, d.jobs[j].key)
	if err != nil {
		return nil, err
	}
	return &shardRun[*depthRun]{run: r, name: d.jobs[j].key.name(), file: file, log: log}, nil
}

func (d *depthMerge) untimed(r *depthRun) *depthRun {
	c := *r
	c.Record.WallSeconds, c.SHA256 = 0, ""
	return &c
}

func (d *depthMerge) publish(dir string, runs []*depthRun, complete bool) (any, error) {
	cfg := d.cfg
	cfg.out = dir
	doc := depthDocument(&cfg, runs, complete)
	return doc, writeDepthResults(dir, doc)
}

func (d *depthMerge) plots(dir string, runs []*depthRun) error {
	cfg := d.cfg
	cfg.out = dir
	return writeDepthPlots(dir, &cfg, runs)
}

func (d *depthMerge) table(w io.Writer, doc any) error { return writeDepthTable(w, doc.(*depthDoc)) }
