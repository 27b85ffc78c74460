package plotting

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
)

// Field describes a heat map of a quantity over two axes, such as a
// per-layer measurement over training steps: Z[r·len(X) + c] is the value
// at (X[c], Y[r]), with X and Y the centres of the cells, ascending. It is
// coloured as HeatMap colours a matrix, beside its colour bar, with row 0
// at the bottom.
type Field struct {
	Title, XLabel, YLabel string
	X, Y, Z               []float64
	// IntY puts the y ticks on integers (layers).
	IntY bool
}

// fieldGrid adapts a Field to plotter.GridXYZ.
type fieldGrid struct{ f *Field }

func (g fieldGrid) Dims() (c, r int)   { return len(g.f.X), len(g.f.Y) }
func (g fieldGrid) Z(c, r int) float64 { return g.f.Z[r*len(g.f.X)+c] }
func (g fieldGrid) X(c int) float64    { return g.f.X[c] }
func (g fieldGrid) Y(r int) float64    { return g.f.Y[r] }

// Figure builds the heat map beside its colour bar. It returns an error
// wrapping ErrNonFinite if Z holds a NaN or an infinity, and panics with
// ErrShape if X or Y is empty or len(Z) != len(X)·len(Y).
func (f Field) Figure() (Drawer, error) {
	if len(f.X) == 0 || len(f.Y) == 0 || len(f.Z) != len(f.X)*len(f.Y) {
		panic(ErrShape)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for k, v := range f.Z {
		if !finite(v) {
			return nil, fmt.Errorf("plotting: field %q at (%g, %g) = %g: %w", f.Title, f.X[k%len(f.X)], f.Y[k/len(f.X)], v, ErrNonFinite)
		}
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	cm, lo, hi := colorMap(lo, hi)
	p := plot.New()
	p.Title.Text = f.Title
	p.X.Label.Text, p.Y.Label.Text = f.XLabel, f.YLabel
	hm := plotter.NewHeatMap(fieldGrid{&f}, cm.Palette(255))
	hm.Min, hm.Max = lo, hi
	p.Add(hm)
	p.X.Padding, p.Y.Padding = 0, 0
	if f.IntY {
		p.Y.Tick.Marker = intTicks{}
	}
	bar := plot.New()
	bar.Add(&plotter.ColorBar{ColorMap: cm, Vertical: true})
	bar.HideX()
	bar.Y.Padding = 0
	return heatFigure{heat: p, bar: bar}, nil
}
