package main

import (
	"encoding/json"
	"errors"
	"io"
)

// lmMerge is the lm command's sweepMerger.
type lmMerge struct {
	cfg  lmConfig
	base lmBaselines
	jobs []lmKey
}

var _ sweepMerger[*lmRun] = (*lmMerge)(nil)

// openLMMerge opens the merge of an lm sweep from one of its shards'
// results.json: the sweep's configuration, the text's baselines and the
// experiments.
func openLMMerge(results []byte) (sweepMerger[*lmRun], error) {
	var doc lmDoc
	if err := json.Unmarshal(results, &doc); err != nil {
		return nil, err
	}
	cfg := doc.Config
	if len(cfg.Mixers) == 0 || len(cfg.Depths) == 0 || len(cfg.LRs) == 0 || len(cfg.Seeds) == 0 || doc.Baselines.Vocab < 1 {
		return nil, errors.New("not an lm sweep's results (no mixers, depths, learning rates, seeds or vocabulary)")
	}
	return &lmMerge{cfg: cfg, base: doc.Baselines, jobs: lmJobs(&cfg, doc.Baselines.Vocab)}, nil
}

func (l *lmMerge) experiments() []string {
	names := make([]string, len(l.jobs))
	for j, k := range l.jobs {
		names[j] = k.name()
	}
	return names
}

func (l *lmMerge) listed(results []byte) ([]string, error) {
	var doc struct {
		Records []struct {
			Mixer string  `json:"mixer"`
			Depth int     `json:"depth"`
			LR    float64 `json:"lr"`
			Seed  uint64  `json:"seed"`
		} `json:"records"`
	}
	if err := json.Unmarshal(results, &doc); err != nil {
		return nil, err
	}
	names := make([]string, len(doc.Records))
	for i, r := range doc.Records {
		names[i] = lmKey{Mixer: r.Mixer, Depth: r.Depth, LR: r.LR, Seed: r.Seed}.name()
	}
	return names, nil
}

func (l *lmMerge) load(dir string, j int) (*shardRun[*lmRun], error) {
	key := l.jobs[j]
	r, file, log, err := readSealed(dir, key.name(), func(r *lmRun) bool { return r.Key == key })
	if err != nil {
		return nil, err
	}
	return &shardRun[*lmRun]{run: r, name: key.name(), file: file, log: log}, nil
}

func (l *lmMerge) untimed(r *lmRun) *lmRun {
	c := *r
	c.Record.WallSeconds, c.Record.TokensPerSecond, c.SHA256 = 0, 0, ""
	return &c
}

func (l *lmMerge) publish(dir string, runs []*lmRun, complete bool) (any, error) {
	cfg := l.cfg
	cfg.out = dir
	doc := lmDocument(&cfg, l.base, runs, complete)
	return doc, writeResultFiles(dir, doc, lmColumns, doc.Records)
}

func (l *lmMerge) plots(dir string, runs []*lmRun) error {
	cfg := l.cfg
	cfg.out = dir
	return writeLMPlots(dir, &cfg, l.base, runs)
}

func (l *lmMerge) table(w io.Writer, doc any) error { return writeLMTable(w, doc.(*lmDoc)) }
