package main

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/hyperconn/hyperconn/internal/plotting"
)

// Base names of the lm plots under -out (each written as .png and .svg).
var lmPlotNames = []string{"lm-loss", "lm-gradnorm"}

// lmFacet is one panel of the per-step plots: the runs of one depth and
// learning rate, of the first seed, one line per mixer.
type lmFacet struct {
	depth int
	lr    float64
	runs  []*lmRun
}

// lmFacets groups runs by depth and learning rate (in report order), each
// with the runs of the first seed only, one per mixer: a panel of one line
// per mixer stays readable, where every seed's line would not. The table and
// results.json hold every seed.
func lmFacets(cfg *lmConfig, runs []*lmRun) []lmFacet {
	var out []lmFacet
	for _, d := range cfg.Depths {
		for _, lr := range cfg.LRs {
			f := lmFacet{depth: d, lr: lr}
			for _, r := range runs {
				if r.Key.Depth == d && r.Key.LR == lr && r.Key.Seed == uint64(cfg.Seeds[0]) {
					f.runs = append(f.runs, r)
				}
			}
			out = append(out, f)
		}
	}
	return out
}

// title returns the panel title of f: "L = 4, lr = 0.01, seed 1: what".
func (f lmFacet) title(seed int, what string) string {
	return fmt.Sprintf("L = %d, lr = %s, seed %d: %s", f.depth, strconv.FormatFloat(f.lr, 'g', -1, 64), seed, what)
}

// lmRunName is r's legend entry: its mixer, and the step that diverged.
func lmRunName(r *lmRun) string {
	if r.Record.Diverged {
		return fmt.Sprintf("%s (diverged at step %d)", r.Key.Mixer, r.Record.DivergedStep)
	}
	return r.Key.Mixer
}

// writeLMPlots writes the plots of the finished runs (all of cfg's
// experiments, in report order) into dir, as PNG and SVG: a panel per depth
// and learning rate, a line per mixer (the first seed's run). A diverged
// run's lines stop at its last step, marked with a cross, and its legend
// entry names the step that diverged.
//
//	lm-loss      training loss vs step, each batch's faint under the mean of the
//	             last lossSmoothing steps, validation losses as dots, and the
//	             text's unigram (H1) and bigram (H2) entropies as grey lines
//	lm-gradnorm  global gradient norm (before clipping) vs step, log scale
func writeLMPlots(dir string, cfg *lmConfig, base lmBaselines, runs []*lmRun) error {
	facets := lmFacets(cfg, runs)
	seed := cfg.Seeds[0]
	var panels []*plot.Plot
	for _, f := range facets {
		l := plotting.Lines{Title: f.title(seed, "loss") + fmt.Sprintf("\nfaint: each batch; line: mean of the last %d; dots: validation", lossSmoothing),
			XLabel: "step", YLabel: "cross-entropy (nats per character)", IntX: true, NoMarkers: true}
		for _, r := range f.runs {
			l.Series = append(l.Series, smoothedSeries(lmRunName(r), r.Record.Diverged, r.Loss))
		}
		p, err := linePlot(l)
		if err != nil {
			return err
		}
		if p != nil {
			if err := addValidation(p, f.runs); err != nil {
				return err
			}
			if err := addBaselines(p, base, cfg.Steps); err != nil {
				return err
			}
			p.Y.Tick.Marker = halfNatTicks{}
		}
		panels = append(panels, p)
	}
	if err := saveGrid(filepath.Join(dir, "lm-loss"), plotting.Grid{Cols: min(2, len(panels)), Panels: panels}); err != nil {
		return err
	}

	panels = panels[:0]
	for _, f := range facets {
		l := plotting.Lines{Title: f.title(seed, "global gradient norm before clipping (every step)"),
			XLabel: "step", YLabel: "‖g‖₂", LogY: true, IntX: true, NoMarkers: true}
		for _, r := range f.runs {
			l.Series = append(l.Series, stepSeries(lmRunName(r), r.Record.Diverged, r.GradNorm))
		}
		p, err := linePlot(l)
		if err != nil {
			return err
		}
		panels = append(panels, p)
	}
	return saveGrid(filepath.Join(dir, "lm-gradnorm"), plotting.Grid{Cols: min(2, len(panels)), Panels: panels})
}

// addValidation draws each run's validation losses on p as filled dots of
// its series' colour (the k-th run has the k-th series' colour).
func addValidation(p *plot.Plot, runs []*lmRun) error {
	for k, r := range runs {
		var xy plotter.XYs
		for _, e := range r.Record.Validation {
			if v := float64(e.Loss); v == v {
				xy = append(xy, plotter.XY{X: float64(e.Step), Y: v})
			}
		}
		if len(xy) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(xy)
		if err != nil {
			return err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: plotutil.Color(k), Radius: vg.Points(2.5), Shape: draw.CircleGlyph{}}
		p.Add(sc)
	}
	return nil
}

// addBaselines draws the unigram and bigram entropies on p as grey
// horizontal lines over the steps, labelled in the legend.
func addBaselines(p *plot.Plot, base lmBaselines, steps int) error {
	for k, b := range []struct {
		name string
		v    float64
	}{{"H1 (unigram entropy)", base.UnigramNats}, {"H2 (bigram entropy)", base.BigramNats}} {
		line, err := plotter.NewLine(plotter.XYs{{X: 1, Y: b.v}, {X: float64(max(steps, 2)), Y: b.v}})
		if err != nil {
			return err
		}
		line.Color = color.Gray{Y: 0x70}
		line.Dashes = []vg.Length{vg.Points(4 + 2*float64(k)), vg.Points(3)}
		p.Add(line)
		p.Legend.Add(b.name, line)
		p.Y.Min = min(p.Y.Min, b.v)
		p.Y.Max = max(p.Y.Max, b.v)
	}
	return nil
}

// halfNatTicks labels a loss axis every half nat (every nat above a range
// of 5), with unlabelled ticks every tenth.
type halfNatTicks struct{}

// Ticks returns the ticks between lo and hi.
func (halfNatTicks) Ticks(lo, hi float64) []plot.Tick {
	step := 0.5
	if hi-lo > 5 {
		step = 1
	}
	var ts []plot.Tick
	for k := math.Ceil(lo * 10); k <= math.Floor(hi*10); k++ {
		v := k / 10
		t := plot.Tick{Value: v}
		if math.Mod(k, step*10) == 0 {
			t.Label = strconv.FormatFloat(v, 'f', 1, 64)
		}
		ts = append(ts, t)
	}
	return ts
}
