package main

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot"

	"github.com/hyperconn/hyperconn/internal/plotting"
)

// writeExactPlots writes, for each element type, as PNG and SVG:
// deviation_<dtype>, the max deviation vs n, one panel per family and one
// line per method; drift_<dtype>, the forward and backward Amax of the
// running product H_l···H_1 vs the layer l at the drift n, one row of two
// panels per family; and driftgap_<dtype>, the same as |Amax − 1|, which
// resolves the small drift of the doubly stochastic methods that drift_
// shows as flat lines at 1.
func writeExactPlots(dir string, doc *exactJSON, curves []driftCurve) error {
	for _, dt := range doc.Config.DTypes {
		var panels []*plot.Plot
		for _, f := range families {
			if !slices.Contains(doc.Config.Families, f.slug) {
				continue
			}
			l := plotting.Lines{
				Title:  fmt.Sprintf("%s, %s: worst of %d trials", f.Name, dt, doc.Config.Trials),
				XLabel: "n", YLabel: "max deviation", LogY: true,
			}
			for _, m := range doc.Config.Methods {
				var s plotting.Series
				s.Name = m
				for _, r := range doc.Rows {
					if r.Method == m && r.DType == dt && r.Family == f.slug {
						s.X = append(s.X, float64(r.N))
						s.Y = append(s.Y, r.MaxDeviation)
					}
				}
				if len(s.X) > 0 {
					l.Series = append(l.Series, s)
				}
			}
			p, err := l.Plot()
			if err != nil {
				return err
			}
			panels = append(panels, p)
		}
		if err := saveGrid(filepath.Join(dir, "deviation_"+dt), plotting.Grid{Cols: min(3, len(panels)), Panels: panels}); err != nil {
			return err
		}

		for _, gap := range []bool{false, true} {
			panels, err := driftPanels(doc, curves, dt, gap)
			if err != nil {
				return err
			}
			if len(panels) == 0 {
				continue
			}
			name := "drift_"
			if gap {
				name = "driftgap_"
			}
			if err := saveGrid(filepath.Join(dir, name+dt), plotting.Grid{Cols: 2, Panels: panels}); err != nil {
				return err
			}
		}
	}
	return nil
}

func saveGrid(base string, g plotting.Grid) error {
	w, h := g.Size(plotting.PanelWidth, plotting.PanelHeight)
	_, err := plotting.SaveAll(base, g, w, h)
	return err
}

// driftPanels returns the forward and backward panels of each family for
// the element type dt: the Amax of the running product, or |Amax − 1| if gap.
func driftPanels(doc *exactJSON, curves []driftCurve, dt string, gap bool) ([]*plot.Plot, error) {
	var panels []*plot.Plot
	for _, f := range families {
		if !slices.Contains(doc.Config.Families, f.slug) {
			continue
		}
		for _, backward := range []bool{false, true} {
			l := plotting.Lines{XLabel: "layer l", YLabel: "forward Amax", LogY: true}
			sum := "max_i |Σ_j (H_l···H_1)_ij|"
			if backward {
				l.YLabel, sum = "backward Amax", "max_j |Σ_i (H_l···H_1)_ij|"
			}
			if gap {
				l.YLabel = "|" + l.YLabel + " − 1|"
			}
			for _, c := range curves {
				if c.DType != dt || c.Family != f.slug {
					continue
				}
				l.Title = fmt.Sprintf("%s, %s, n = %d: %s", f.Name, dt, c.N, sum)
				src := c.Forward
				if backward {
					src = c.Backward
				}
				xs, ys := make([]float64, len(src)), make([]float64, len(src))
				for i, v := range src {
					xs[i] = float64(i + 1)
					ys[i] = v
					if gap {
						ys[i] = math.Abs(v - 1)
					}
				}
				l.Series = append(l.Series, plotting.Series{Name: c.Method, X: xs, Y: ys})
			}
			if len(l.Series) == 0 {
				continue
			}
			p, err := l.Plot()
			if err != nil {
				return nil, err
			}
			panels = append(panels, p)
		}
	}
	return panels, nil
}
