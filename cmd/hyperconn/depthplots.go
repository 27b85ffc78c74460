package main

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot"

	"github.com/hyperconn/hyperconn/internal/plotting"
)

// Plot settings of the depth command.
const (
	// lossSmoothing is the trailing window, in steps, of the moving average
	// the loss plot draws over the faint raw batch losses: single batch
	// losses are too noisy to compare seven curves by.
	lossSmoothing = 10
	// heatmapCols is the number of heat maps in a row of heatmap.png.
	heatmapCols = 3
)

// Base names of the depth plots under -out (each written as .png and .svg);
// gain is written only when training-time diagnostics were taken
// (-diag-every > 0).
var depthPlotNames = []string{"loss", "gradnorm", "gain", "amax", "accuracy", "identity", "heatmap"}

// writeDepthPlots writes the plots of the finished runs (all of cfg's
// experiments, in report order) into dir, as PNG and SVG. A diverged run's
// lines stop at its last step, marked with a cross, and its legend entry
// names the step that diverged.
//
//	loss      batch loss vs step, raw (faint) under its trailing mean, log scale,
//	          a panel per depth, a line per mixer
//	gradnorm  global gradient norm (before clipping) vs step, every step, log
//	          scale, a panel per depth
//	gain      forward and backward Amax of the composite H̄_L···H̄_1 and the worst
//	          per-token DS deviation, vs training step (every -diag-every
//	          steps), log scale: a row per quantity, a column per depth
//	amax      forward Amax of Π_f(l) and backward Amax of Π_b(l) vs the layer l
//	          at the deepest depth, log scale, a line per mixer
//	accuracy  test accuracy vs depth, a line per mixer
//	identity  ‖H̄_l − I‖_F/√(n−1) vs the layer l, a panel per depth, log scale
//	heatmap   the token-averaged H_res of block -heatmap-layer at the deepest
//	          depth, one heat map per mixer with n > 1
func writeDepthPlots(dir string, cfg *depthConfig, runs []*depthRun) error {
	byDepth := func(d int) []*depthRun {
		var out []*depthRun
		for _, r := range runs {
			if r.Key.Depth == d {
				out = append(out, r)
			}
		}
		return out
	}
	deepest := slices.Max(cfg.Depths)

	// Loss and gradient norm vs step, one panel per depth.
	var panels []*plot.Plot
	for _, d := range cfg.Depths {
		l := plotting.Lines{Title: fmt.Sprintf("L = %d: training loss (faint: each batch; line: mean of the last %d)", d, lossSmoothing),
			XLabel: "step", YLabel: "cross-entropy (nats)", LogY: true, IntX: true, NoMarkers: true}
		for _, r := range byDepth(d) {
			l.Series = append(l.Series, smoothedSeries(runName(r), r.Record.Diverged, r.Loss))
		}
		p, err := linePlot(l)
		if err != nil {
			return err
		}
		panels = append(panels, p)
	}
	if err := saveGrid(filepath.Join(dir, "loss"), plotting.Grid{Cols: min(3, len(panels)), Panels: panels}); err != nil {
		return err
	}
	panels = panels[:0]
	for _, d := range cfg.Depths {
		l := plotting.Lines{Title: fmt.Sprintf("L = %d: global gradient norm before clipping (every step)", d),
			XLabel: "step", YLabel: "‖g‖₂", LogY: true, IntX: true, NoMarkers: true}
		for _, r := range byDepth(d) {
			s := stepSeries(runName(r), r.Record.Diverged, r.GradNorm)
			l.Series = append(l.Series, s)
		}
		p, err := linePlot(l)
		if err != nil {
			return err
		}
		panels = append(panels, p)
	}
	if err := saveGrid(filepath.Join(dir, "gradnorm"), plotting.Grid{Cols: min(3, len(panels)), Panels: panels}); err != nil {
		return err
	}

	// Composite gains and DS deviation vs training step: a row per
	// quantity, a column per depth.
	if cfg.DiagEvery > 0 {
		rows := []struct {
			title, ylabel string
			get           func(d depthTrainDiag) num
		}{
			{"forward Amax of H̄_L···H̄_1 (max |row sum|)", "forward Amax", func(d depthTrainDiag) num { return d.ForwardAmax }},
			{"backward Amax of H̄_L···H̄_1 (max |column sum|)", "backward Amax", func(d depthTrainDiag) num { return d.BackwardAmax }},
			{"max per-token DS deviation of any block (0 drawn at 1e-17)", "max |row or column sum − 1|", func(d depthTrainDiag) num { return d.MaxDSDeviation }},
		}
		panels = panels[:0]
		for _, row := range rows {
			for _, d := range cfg.Depths {
				l := plotting.Lines{Title: fmt.Sprintf("L = %d: %s", d, row.title),
					XLabel: "training step", YLabel: row.ylabel, LogY: true, IntX: true, NoMarkers: true}
				for _, r := range byDepth(d) {
					var at []float64
					var v []num
					for _, t := range r.Record.TrainDiagnostics {
						at, v = append(at, float64(t.Step)), append(v, row.get(t))
					}
					l.Series = append(l.Series, pointSeries(runName(r), r.Record.Diverged, at, v))
				}
				p, err := linePlot(l)
				if err != nil {
					return err
				}
				panels = append(panels, p)
			}
		}
		if slices.ContainsFunc(panels, func(p *plot.Plot) bool { return p != nil }) {
			if err := saveGrid(filepath.Join(dir, "gain"), plotting.Grid{Cols: len(cfg.Depths), Panels: panels}); err != nil {
				return err
			}
		}
	}

	// Composite Amax vs layer at the deepest depth.
	deep := byDepth(deepest)
	fwd := plotting.Lines{Title: fmt.Sprintf("L = %d: forward Amax of Π_f(l) = H̄_l···H̄_1 (max |row sum|)", deepest),
		XLabel: "layer l", YLabel: "forward Amax", LogY: true, IntX: true}
	bwd := plotting.Lines{Title: fmt.Sprintf("L = %d: backward Amax of Π_b(l) = H̄_L···H̄_l (max |column sum|)", deepest),
		XLabel: "layer l", YLabel: "backward Amax", LogY: true, IntX: true}
	for _, r := range deep {
		fwd.Series = append(fwd.Series, layerSeries(runName(r), r.Layers.ForwardAmax))
		bwd.Series = append(bwd.Series, layerSeries(runName(r), r.Layers.BackwardAmax))
	}
	// The same as |Amax − 1|, which separates the doubly stochastic mixers
	// (drawn on top of each other at 1 above): the paper's Fixed-20
	// Sinkhorn leaves a column-sum gap that the exact projections do not.
	fwdGap, bwdGap := fwd, bwd
	fwdGap.YLabel, bwdGap.YLabel = "|forward Amax − 1|", "|backward Amax − 1|"
	fwdGap.Title = fmt.Sprintf("L = %d: |forward Amax − 1| of Π_f(l) (0 is drawn at 1e-17)", deepest)
	bwdGap.Title = fmt.Sprintf("L = %d: |backward Amax − 1| of Π_b(l) (0 is drawn at 1e-17)", deepest)
	fwdGap.Series, bwdGap.Series = nil, nil
	for _, r := range deep {
		fwdGap.Series = append(fwdGap.Series, gapSeries(layerSeries(runName(r), r.Layers.ForwardAmax)))
		bwdGap.Series = append(bwdGap.Series, gapSeries(layerSeries(runName(r), r.Layers.BackwardAmax)))
	}
	if err := saveLines(filepath.Join(dir, "amax"), fwd, bwd, fwdGap, bwdGap); err != nil {
		return err
	}

	// Test accuracy vs depth.
	acc := plotting.Lines{Title: "test accuracy after training (×: the run diverged)", XLabel: "depth L (blocks)", YLabel: "test accuracy", IntX: true}
	for _, m := range cfg.Mixers {
		s := plotting.Series{Name: m}
		for _, r := range runs {
			if v := float64(r.Record.TestAccuracy); r.Key.Mixer == m && !math.IsNaN(v) {
				if r.Record.Diverged {
					s.Crosses = append(s.Crosses, len(s.X))
				}
				s.X = append(s.X, float64(r.Key.Depth))
				s.Y = append(s.Y, v)
			}
		}
		acc.Series = append(acc.Series, s)
	}
	if err := saveLines(filepath.Join(dir, "accuracy"), acc); err != nil {
		return err
	}

	// Identity distance per layer, one panel per depth; the residual
	// baseline has n = 1 and no distance to show.
	panels = panels[:0]
	for _, d := range cfg.Depths {
		l := plotting.Lines{Title: fmt.Sprintf("L = %d: identity distance ‖H̄_l − I‖_F/√(n−1)", d),
			XLabel: "layer l", YLabel: "identity distance", LogY: true, IntX: true}
		for _, r := range byDepth(d) {
			s := plotting.Series{Name: runName(r)} // empty for n = 1: keeps the colours of the other plots
			if r.Key.N > 1 {
				s = layerSeries(runName(r), r.Layers.IdentityDist)
			}
			l.Series = append(l.Series, s)
		}
		if !slices.ContainsFunc(l.Series, func(s plotting.Series) bool { return len(s.X) > 0 }) {
			continue
		}
		p, err := linePlot(l)
		if err != nil {
			return err
		}
		panels = append(panels, p)
	}
	if len(panels) > 0 {
		if err := saveGrid(filepath.Join(dir, "identity"), plotting.Grid{Cols: min(3, len(panels)), Panels: panels}); err != nil {
			return err
		}
	}

	// Heat maps of H̄ at the chosen layer of the deepest networks.
	var cells []plotting.Drawer
	for _, r := range deep {
		if r.Key.N < 2 {
			continue
		}
		layer := heatmapLayer(cfg.HeatmapLayer, r.Layers.IdentityDist)
		res := r.Layers.Res[layer-1]
		if len(res) == 0 {
			continue // not measured: the network diverged
		}
		m := make([]float64, len(res))
		for k, v := range res {
			m[k] = float64(v)
		}
		fig, err := plotting.HeatMap{Title: fmt.Sprintf("%s: token-averaged H_res, block %d of %d", r.Key.Mixer, layer, deepest),
			N: r.Key.N, M: m}.Figure()
		if err != nil {
			return err
		}
		cells = append(cells, fig)
	}
	if len(cells) > 0 {
		t := plotting.Tiles{Cols: min(heatmapCols, len(cells)), Cells: cells}
		w, h := t.Size(plotting.PanelWidth, plotting.PanelHeight)
		if _, err := plotting.SaveAll(filepath.Join(dir, "heatmap"), t, w, h); err != nil {
			return err
		}
	}
	return nil
}

// heatmapLayer returns the 1-based block the heat map shows for
// -heatmap-layer want in a network whose blocks have the identity distances
// dist: want itself, the last block if want is deeper than the network, and
// for want = 0 the block farthest from the identity (the first of equals).
func heatmapLayer(want int, dist []num) int {
	if want > 0 {
		return min(want, len(dist))
	}
	best := 0
	for l, d := range dist {
		if d > dist[best] {
			best = l
		}
	}
	return best + 1
}

// saveLines writes the line plots side by side.
func saveLines(base string, ls ...plotting.Lines) error {
	var panels []*plot.Plot
	for _, l := range ls {
		p, err := linePlot(l)
		if err != nil {
			return err
		}
		panels = append(panels, p)
	}
	return saveGrid(base, plotting.Grid{Cols: min(2, len(panels)), Panels: panels})
}

// gapSeries returns s with every y replaced by |y − 1|.
func gapSeries(s plotting.Series) plotting.Series {
	y := make([]float64, len(s.Y))
	for i, v := range s.Y {
		y[i] = math.Abs(v - 1)
	}
	s.Y = y
	return s
}

// runName is r's legend entry: its mixer, and the step that diverged.
func runName(r *depthRun) string {
	if r.Record.Diverged {
		return fmt.Sprintf("%s (diverged at step %d)", r.Key.Mixer, r.Record.StepsRun+1)
	}
	return r.Key.Mixer
}

// layerSeries returns the per-layer values v against the layer l = 1..L,
// leaving out those not measured.
func layerSeries(name string, v []num) plotting.Series {
	s := plotting.Series{Name: name}
	for l, x := range v {
		if f := float64(x); !math.IsNaN(f) && !math.IsInf(f, 0) {
			s.X = append(s.X, float64(l+1))
			s.Y = append(s.Y, f)
		}
	}
	return s
}

// linePlot builds l's plot; a plot without any point (every run it would
// show diverged) gives a nil panel, which a Grid leaves empty.
func linePlot(l plotting.Lines) (*plot.Plot, error) {
	p, err := l.Plot()
	if errors.Is(err, plotting.ErrNoData) {
		return nil, nil
	}
	return p, err
}
