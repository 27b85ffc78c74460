package plotting

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

var (
	// ErrShape is the panic value for a Series whose X and Y lengths differ
	// or a HeatMap whose matrix is not N×N: a programmer error, as gonum's
	// mat.ErrShape.
	ErrShape = errors.New("plotting: dimension mismatch")
	// ErrNonFinite is wrapped by the error returned for a NaN or infinite
	// value in the data of a plot.
	ErrNonFinite = errors.New("plotting: non-finite value")
	// ErrNoData is wrapped by the error returned for a plot without any point.
	ErrNoData = errors.New("plotting: no data")
)

// DefaultFloor is the value at which a logarithmic axis draws values at or
// below it (0 included) when Lines.Floor is 0: below the float64 rounding of
// any quantity of order 1, so that an exact zero sits visibly on the bottom.
const DefaultFloor = 1e-17

// Panel sizes used by the hyperconn command for one panel of a figure.
const (
	PanelWidth  = 14 * vg.Centimeter
	PanelHeight = 10 * vg.Centimeter
)

// Series is one named polyline through the points (X[i], Y[i]).
type Series struct {
	Name string
	X, Y []float64
}

// Lines describes a line plot of one or more series with a legend.
type Lines struct {
	Title, XLabel, YLabel string
	// LogY makes the y axis logarithmic; values at or below Floor are drawn
	// at Floor.
	LogY bool
	// Floor is the smallest value drawn on a logarithmic axis; 0 means
	// DefaultFloor. It is ignored unless LogY is set.
	Floor  float64
	Series []Series
}

// Plot builds the plot. It returns an error wrapping ErrNonFinite if a value
// is NaN or infinite and one wrapping ErrNoData if no series has a point.
// It panics with ErrShape if a series has len(X) != len(Y).
func (l Lines) Plot() (*plot.Plot, error) {
	floor := l.Floor
	if floor <= 0 {
		floor = DefaultFloor
	}
	points := 0
	for _, s := range l.Series {
		if len(s.X) != len(s.Y) {
			panic(ErrShape)
		}
		for i := range s.X {
			if !finite(s.X[i]) || !finite(s.Y[i]) {
				return nil, fmt.Errorf("plotting: series %q point %d (%g, %g): %w", s.Name, i, s.X[i], s.Y[i], ErrNonFinite)
			}
		}
		points += len(s.X)
	}
	if points == 0 {
		return nil, fmt.Errorf("plotting: line plot %q: %w", l.Title, ErrNoData)
	}

	p := plot.New()
	p.Title.Text = l.Title
	p.X.Label.Text = l.XLabel
	p.Y.Label.Text = l.YLabel
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.Legend.Left = false
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	ymin, ymax := math.Inf(1), math.Inf(-1)
	for k, s := range l.Series {
		xys := make(plotter.XYs, len(s.X))
		for i := range s.X {
			y := s.Y[i]
			if l.LogY {
				y = math.Max(y, floor)
			}
			xys[i] = plotter.XY{X: s.X[i], Y: y}
			ymin, ymax = math.Min(ymin, y), math.Max(ymax, y)
		}
		line, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, fmt.Errorf("plotting: series %q: %w", s.Name, err)
		}
		line.Color = plotutil.Color(k)
		line.Dashes = plotutil.Dashes(k / len(plotutil.SoftColors))
		line.Width = vg.Points(1.2)
		pts.Color = line.Color
		pts.Shape = plotutil.Shape(k)
		pts.Radius = vg.Points(2)
		p.Add(line, pts)
		if s.Name != "" {
			p.Legend.Add(s.Name, line, pts)
		}
	}
	// Headroom above the data for the legend, which gonum draws inside the
	// data area at the top right: a fraction f of the axis per entry.
	entries := 0
	for _, s := range l.Series {
		if s.Name != "" {
			entries++
		}
	}
	f := math.Min(0.5, 0.045*float64(entries))
	if l.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = decadeTicks{}
		// A flat series gives a degenerate range, which a log scale cannot
		// normalise: widen it by a decade each way.
		if ymin == ymax {
			ymin, ymax = ymin/10, ymax*10
		}
		span := math.Log10(ymax / ymin)
		p.Y.Min, p.Y.Max = ymin, ymax*math.Pow(10, f/(1-f)*span)
	} else {
		if ymin == ymax {
			ymin, ymax = ymin-1, ymax+1
		}
		p.Y.Min, p.Y.Max = ymin, ymax+f/(1-f)*(ymax-ymin)
	}
	return p, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Drawer is anything Save can draw on a canvas: a *plot.Plot, a Grid, the
// figure of a HeatMap.
type Drawer interface {
	Draw(c draw.Canvas)
}

var (
	_ Drawer = (*plot.Plot)(nil)
	_ Drawer = Grid{}
)

// Grid lays out panels in rows of Cols, in row-major order, with their axes
// aligned; a nil panel leaves its cell empty.
type Grid struct {
	Cols   int
	Panels []*plot.Plot
}

// Size returns the size of the grid when each panel is w×h.
func (g Grid) Size(w, h vg.Length) (vg.Length, vg.Length) {
	cols, rows := g.dims()
	return vg.Length(cols) * w, vg.Length(rows) * h
}

func (g Grid) dims() (cols, rows int) { return cellDims(len(g.Panels), g.Cols) }

// cellDims returns the columns and rows of a layout of count cells in rows
// of cols (at least one of each).
func cellDims(count, cols int) (int, int) {
	cols = max(cols, 1)
	return cols, max((count+cols-1)/cols, 1)
}

// Draw draws the panels on c.
func (g Grid) Draw(c draw.Canvas) {
	cols, rows := g.dims()
	// plot.Align mis-sizes the rows of a grid with nil cells, so an empty
	// cell is measured with a stand-in panel, which is not drawn.
	var standIn *plot.Plot
	for _, p := range g.Panels {
		if p != nil {
			standIn = p
		}
	}
	if standIn == nil {
		return
	}
	plots := make([][]*plot.Plot, rows)
	for r := range plots {
		plots[r] = make([]*plot.Plot, cols)
		for k := range cols {
			plots[r][k] = standIn
			if i := r*cols + k; i < len(g.Panels) && g.Panels[i] != nil {
				plots[r][k] = g.Panels[i]
			}
		}
	}
	pad := vg.Points(4)
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: 2 * pad, PadY: 2 * pad,
		PadTop: pad, PadBottom: pad, PadLeft: pad, PadRight: pad}
	canvases := plot.Align(plots, tiles, c)
	for r := range plots {
		for k := range plots[r] {
			if i := r*cols + k; i < len(g.Panels) && g.Panels[i] != nil {
				g.Panels[i].Draw(canvases[r][k])
			}
		}
	}
}

// decadeTicks marks the powers of ten on a logarithmic axis, labelled 1e-15
// rather than 0.0000…1, every k-th decade when the range spans more than
// eight. A range that holds fewer than two powers of ten falls back to
// gonum's default ticks.
type decadeTicks struct{}

// Ticks returns the ticks of [lo, hi].
func (decadeTicks) Ticks(lo, hi float64) []plot.Tick {
	e0, e1 := int(math.Ceil(math.Log10(lo)-1e-9)), int(math.Floor(math.Log10(hi)+1e-9))
	if e1-e0 < 1 {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	step := (e1-e0)/8 + 1
	var ts []plot.Tick
	for e := e0; e <= e1; e++ {
		v := math.Pow(10, float64(e))
		if (e-e0)%step != 0 {
			ts = append(ts, plot.Tick{Value: v})
			continue
		}
		ts = append(ts, plot.Tick{Value: v, Label: decadeLabel(e)})
	}
	return ts
}

// decadeLabel formats 10^e: plainly for small exponents, as 1e-15 otherwise.
func decadeLabel(e int) string {
	if e >= -2 && e <= 3 {
		return strconv.FormatFloat(math.Pow(10, float64(e)), 'f', -1, 64)
	}
	return "1e" + strconv.Itoa(e)
}
