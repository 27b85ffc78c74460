package main

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/hyperconn/hyperconn/internal/plotting"
)

// Base names of the lm plots under -out (each written as .png and .svg).
// The diagnostic plots (lm-gain to lm-heatmap) are written only when
// training-time summaries were taken (-diag-every > 0); lm-heatmap only
// when a mixer has n > 1.
var lmPlotNames = []string{"lm-loss", "lm-gradnorm", "lm-gain", "lm-amax", "lm-identity", "lm-streams", "lm-heatmap"}

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
//	lm-gain      forward and backward Amax of the composite H̄_2L···H̄_1 and the
//	             worst per-token DS deviation vs step (every -diag-every steps),
//	             log scale: a row per quantity, a column per panel
//	lm-amax      forward Amax of the prefix composites Π_f(l) = H̄_l···H̄_1 and
//	             backward Amax of the suffixes Π_b(l) = H̄_2L···H̄_l vs the
//	             sub-layer l, at the last summary, and their distance to 1
//	lm-identity  mean identity distance ‖H̄_l − I‖_F/√(n−1) vs step, log scale
//	             (exact zeros are not drawn; the title names a run that is all 0)
//	lm-streams   effective number of streams and the dominant direction's share
//	             of the last streams' variance vs step
//	lm-heatmap   identity distance of each sub-layer (rows) over the steps
//	             (columns), one map per mixer with n > 1 (first panel's runs)
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
			// The curves fall from ln V at the left to their minimum at
			// the right, so the legend in the top right corner covers no
			// data: the axis spans the data and the baselines only,
			// without the headroom Lines leaves for a legend.
			lo, hi := lossRange(l.Series, base)
			p.Y.Min, p.Y.Max = lo-0.02*(hi-lo), hi+0.02*(hi-lo)
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
	if err := saveGrid(filepath.Join(dir, "lm-gradnorm"), plotting.Grid{Cols: min(2, len(panels)), Panels: panels}); err != nil {
		return err
	}
	if cfg.DiagEvery == 0 {
		return nil
	}
	return writeLMDiagPlots(dir, facets, seed)
}

// lossRange returns the smallest and largest value of the series' points
// (and underlying points) and of the baselines' entropies.
func lossRange(series []plotting.Series, base lmBaselines) (lo, hi float64) {
	lo, hi = min(base.UnigramNats, base.BigramNats), max(base.UnigramNats, base.BigramNats)
	for _, s := range series {
		for _, ys := range [][]float64{s.Y, s.UnderY} {
			for _, y := range ys {
				lo, hi = min(lo, y), max(hi, y)
			}
		}
	}
	return lo, hi
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

// lmDiagRow is one row of a diagnostic figure: a quantity of the
// training-time summaries against the step.
type lmDiagRow struct {
	title, ylabel string
	log           bool
	// multi leaves out the runs with one stream (the residual baseline),
	// whose value is fixed (identity distance 0, one stream); their
	// series stay, empty, to keep the colours of the other plots.
	multi bool
	// zeroNamed leaves out exact zeros (a log axis would draw them at its
	// floor, stretching it over decades no value occupies) and names a run
	// whose values are all zero in the panel's title instead.
	zeroNamed bool
	get       func(d *lmDiag) num
}

// writeLMDiagPlots writes lm-gain, lm-amax, lm-identity, lm-streams and
// lm-heatmap (see writeLMPlots).
func writeLMDiagPlots(dir string, facets []lmFacet, seed int) error {
	figures := []struct {
		name string
		rows []lmDiagRow
	}{
		{"lm-gain", []lmDiagRow{
			{"forward Amax of H̄_2L···H̄_1 (max |row sum|)", "forward Amax", true, false, false, func(d *lmDiag) num { return d.ForwardAmax }},
			{"backward Amax of H̄_2L···H̄_1 (max |column sum|)", "backward Amax", true, false, false, func(d *lmDiag) num { return d.BackwardAmax }},
			{"worst DS deviation of a token's H_res (0 at 1e-17)", "max |row or column sum − 1|", true, false, false, func(d *lmDiag) num { return d.MaxDSDeviation }},
		}},
		{"lm-identity", []lmDiagRow{
			{"mean over l of ‖H̄_l − I‖_F/√(n−1)", "identity distance", true, true, true, func(d *lmDiag) num { return d.IdentityDist }},
		}},
		{"lm-streams", []lmDiagRow{
			{"effective number of streams", "exp(entropy of the covariance's spectrum)", false, true, false, func(d *lmDiag) num { return d.EffectiveStreams }},
			{"dominant direction's share of the variance", "dominant share", false, true, false, func(d *lmDiag) num { return d.DominantShare }},
		}},
	}
	for _, fig := range figures {
		var panels []*plot.Plot
		for _, row := range fig.rows {
			for _, f := range facets {
				l := plotting.Lines{Title: f.title(seed, row.title), XLabel: "training step", YLabel: row.ylabel,
					LogY: row.log, IntX: true, NoMarkers: true}
				var zero []string // runs whose values are all left out as zeros
				for _, r := range f.runs {
					s := plotting.Series{Name: lmRunName(r)}
					if row.multi && r.Key.N < 2 {
						l.Series = append(l.Series, s)
						continue
					}
					var at []float64
					var v []num
					zeros := 0
					for i := range r.Record.TrainDiagnostics {
						d := &r.Record.TrainDiagnostics[i]
						x := row.get(d)
						if row.zeroNamed && x == 0 {
							x, zeros = nan, zeros+1
						}
						at, v = append(at, float64(d.Step)), append(v, x)
					}
					if zeros > 0 && zeros == len(v) {
						zero = append(zero, s.Name)
					}
					l.Series = append(l.Series, pointSeries(s.Name, r.Record.Diverged, at, v))
				}
				if len(zero) > 0 {
					l.Title += " (0, not drawn: " + strings.Join(zero, ", ") + ")"
				}
				p, err := linePlot(l)
				if err != nil {
					return err
				}
				panels = append(panels, p)
			}
		}
		if err := saveGrid(filepath.Join(dir, fig.name), plotting.Grid{Cols: len(facets), Panels: panels}); err != nil {
			return err
		}
	}

	// Gains of the prefix and suffix composites against the sub-layer, at
	// the last summary; and their distance to 1, which separates the
	// doubly stochastic mixers drawn on top of each other at 1.
	var panels []*plot.Plot
	for _, q := range []struct {
		title, ylabel string
		get           func(d *lmDiag) []num
		gap           bool
	}{
		{"forward Amax of Π_f(l) = H̄_l···H̄_1", "forward Amax", func(d *lmDiag) []num { return d.LayerForwardAmax }, false},
		{"backward Amax of Π_b(l) = H̄_2L···H̄_l", "backward Amax", func(d *lmDiag) []num { return d.LayerBackwardAmax }, false},
		{"|forward Amax − 1| of Π_f(l) (0 drawn at 1e-17)", "|forward Amax − 1|", func(d *lmDiag) []num { return d.LayerForwardAmax }, true},
		{"|backward Amax − 1| of Π_b(l) (0 drawn at 1e-17)", "|backward Amax − 1|", func(d *lmDiag) []num { return d.LayerBackwardAmax }, true},
	} {
		for _, f := range facets {
			l := plotting.Lines{Title: f.title(seed, q.title), XLabel: "sub-layer l (odd: attention, even: MLP)", YLabel: q.ylabel,
				LogY: true, IntX: true}
			for _, r := range f.runs {
				s := plotting.Series{Name: lmRunName(r)}
				if ds := r.Record.TrainDiagnostics; len(ds) > 0 {
					s = layerSeries(lmRunName(r), q.get(&ds[len(ds)-1]))
					if q.gap {
						s = gapSeries(s)
					}
				}
				l.Series = append(l.Series, s)
			}
			p, err := linePlot(l)
			if err != nil {
				return err
			}
			panels = append(panels, p)
		}
	}
	if err := saveGrid(filepath.Join(dir, "lm-amax"), plotting.Grid{Cols: len(facets), Panels: panels}); err != nil {
		return err
	}

	// Per-layer identity distance over training, one map per mixer.
	var cells []plotting.Drawer
	for _, r := range facets[0].runs {
		ds := r.Record.TrainDiagnostics
		if r.Key.N < 2 || len(ds) == 0 {
			continue
		}
		layers := len(ds[0].LayerIdentityDist)
		fld := plotting.Field{Title: fmt.Sprintf("%s: ‖H̄_l − I‖_F/√(n−1), own colour scale", lmRunName(r)),
			XLabel: "training step", YLabel: "sub-layer l", IntY: true}
		for l := range layers {
			fld.Y = append(fld.Y, float64(l+1))
		}
		for _, d := range ds {
			fld.X = append(fld.X, float64(d.Step))
		}
		fld.Z = make([]float64, len(fld.X)*layers)
		for c, d := range ds {
			for l, v := range d.LayerIdentityDist {
				fld.Z[l*len(fld.X)+c] = float64(v)
			}
		}
		fig, err := fld.Figure()
		if errors.Is(err, plotting.ErrNonFinite) {
			continue // a diverged run's last summary: nothing to colour
		}
		if err != nil {
			return err
		}
		cells = append(cells, fig)
	}
	if len(cells) == 0 {
		return nil
	}
	t := plotting.Tiles{Cols: min(heatmapCols, len(cells)), Cells: cells}
	w, h := t.Size(plotting.PanelWidth, plotting.PanelHeight)
	_, err := plotting.SaveAll(filepath.Join(dir, "lm-heatmap"), t, w, h)
	return err
}
