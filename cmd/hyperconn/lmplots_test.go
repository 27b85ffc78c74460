package main

import (
	"slices"
	"testing"

	"github.com/hyperconn/hyperconn/internal/plotting"
)

func TestHalfNatTicks(t *testing.T) {
	var labels []string
	ticks := halfNatTicks{}.Ticks(2.34, 3.61)
	for _, tk := range ticks {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if len(ticks) != 13 || !slices.Equal(labels, []string{"2.5", "3.0", "3.5"}) {
		t.Errorf("%d ticks labelled %v; want 13 (2.4…3.6) labelled 2.5, 3.0, 3.5", len(ticks), labels)
	}
	labels = labels[:0]
	for _, tk := range (halfNatTicks{}).Ticks(0.9, 7.2) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if !slices.Equal(labels, []string{"1.0", "2.0", "3.0", "4.0", "5.0", "6.0", "7.0"}) {
		t.Errorf("a range above 5 nats is labelled %v, want every nat", labels)
	}
}

// TestLMFacets: a panel per depth and learning rate, holding the first
// seed's runs in report order.
func TestLMFacets(t *testing.T) {
	cfg := &lmConfig{Depths: []int{2, 4}, LRs: []float64{0.01, 0.03}, Seeds: []int{3, 5}}
	var runs []*lmRun
	for _, m := range []string{"hc", "mhc"} {
		for _, d := range cfg.Depths {
			for _, lr := range cfg.LRs {
				for _, s := range cfg.Seeds {
					runs = append(runs, &lmRun{Key: lmKey{Mixer: m, Depth: d, LR: lr, Seed: uint64(s)}})
				}
			}
		}
	}
	fs := lmFacets(cfg, runs)
	if len(fs) != 4 {
		t.Fatalf("%d facets, want 4", len(fs))
	}
	for _, f := range fs {
		if len(f.runs) != 2 || f.runs[0].Key.Mixer != "hc" || f.runs[1].Key.Mixer != "mhc" {
			t.Fatalf("facet L=%d lr=%g: %d runs", f.depth, f.lr, len(f.runs))
		}
		for _, r := range f.runs {
			if r.Key.Seed != 3 || r.Key.Depth != f.depth || r.Key.LR != f.lr {
				t.Errorf("facet L=%d lr=%g holds %+v", f.depth, f.lr, r.Key)
			}
		}
	}
}

func TestLMLossSeriesDiverged(t *testing.T) {
	r := &lmRun{Key: lmKey{Mixer: "hc"}, Loss: []num{4, 3, 2},
		Record: lmRecord{Diverged: true, DivergedStep: 4}}
	s := smoothedSeries(lmRunName(r), r.Record.Diverged, r.Loss)
	if s.Name != "hc (diverged at step 4)" || !slices.Equal(s.Crosses, []int{2}) ||
		!slices.Equal(s.UnderY, []float64{4, 3, 2}) || !slices.Equal(s.Y, []float64{4, 3.5, 3}) {
		t.Errorf("series %+v", s)
	}
}

func TestLossRange(t *testing.T) {
	series := []plotting.Series{{Y: []float64{3, 2.5}, UnderY: []float64{4.6, 1.9}}, {Y: []float64{2.8}}}
	lo, hi := lossRange(series, lmBaselines{UnigramNats: 3.1, BigramNats: 2.35})
	if lo != 1.9 || hi != 4.6 {
		t.Errorf("lossRange = %v, %v; want 1.9, 4.6 (the raw batch losses)", lo, hi)
	}
	// The baselines widen the range when the losses stay between them.
	lo, hi = lossRange([]plotting.Series{{Y: []float64{2.5, 2.9}}}, lmBaselines{UnigramNats: 3.1, BigramNats: 2.35})
	if lo != 2.35 || hi != 3.1 {
		t.Errorf("lossRange = %v, %v; want the baselines 2.35, 3.1", lo, hi)
	}
}
