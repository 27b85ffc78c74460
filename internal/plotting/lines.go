package plotting

import (
	"errors"
	"fmt"
	"image/color"
	"math"

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

// minLogSpan is the smallest relative range of the data a logarithmic axis
// spans: a range below 0.1% is invisible on a log axis anyway, so such data
// is drawn as the flat line it is, on an axis two decades high.
const minLogSpan = 1e-3

// underAlpha is the opacity of a Series' underlying line: faint enough that
// a dozen of them leave the series' own lines readable.
const underAlpha = 0x50

// Panel sizes used by the hyperconn command for one panel of a figure.
const (
	PanelWidth  = 14 * vg.Centimeter
	PanelHeight = 10 * vg.Centimeter
)

// Series is one named polyline through the points (X[i], Y[i]).
type Series struct {
	Name string
	X, Y []float64
	// UnderX and UnderY, if not empty, are drawn first, as a thin
	// translucent line of the series' colour without markers: the raw
	// values under a smoothed line, say.
	UnderX, UnderY []float64
	// Crosses are indices of points marked with a large cross: runs that
	// diverged (a run's line ends at its divergence, marked at its last
	// point). Out-of-range indices panic with ErrShape.
	Crosses []int
}

// Lines describes a line plot of one or more series with a legend.
type Lines struct {
	Title, XLabel, YLabel string
	// LogY makes the y axis logarithmic; values at or below Floor are drawn
	// at Floor. Its ticks label every decade (every k-th when more than
	// eight are shown), and 2 and 5 times the decades too when the range
	// spans three decades or less.
	LogY bool
	// Floor is the smallest value drawn on a logarithmic axis; 0 means
	// DefaultFloor. It is ignored unless LogY is set.
	Floor float64
	// IntX puts the x ticks on integers (steps of 1, 2 or 5 times a power
	// of ten) labelled as integers: for layers, depths and steps.
	IntX bool
	// NoMarkers draws the lines without a marker at every point: for
	// series of hundreds of points.
	NoMarkers bool
	Series    []Series
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
		if len(s.X) != len(s.Y) || len(s.UnderX) != len(s.UnderY) {
			panic(ErrShape)
		}
		for _, i := range s.Crosses {
			if i < 0 || i >= len(s.X) {
				panic(ErrShape)
			}
		}
		for i := range s.X {
			if !finite(s.X[i]) || !finite(s.Y[i]) {
				return nil, fmt.Errorf("plotting: series %q point %d (%g, %g): %w", s.Name, i, s.X[i], s.Y[i], ErrNonFinite)
			}
		}
		for i := range s.UnderX {
			if !finite(s.UnderX[i]) || !finite(s.UnderY[i]) {
				return nil, fmt.Errorf("plotting: series %q underlying point %d (%g, %g): %w", s.Name, i, s.UnderX[i], s.UnderY[i], ErrNonFinite)
			}
		}
		points += len(s.X) + len(s.UnderX)
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
	xys := func(x, y []float64) plotter.XYs {
		out := make(plotter.XYs, len(x))
		for i := range x {
			v := y[i]
			if l.LogY {
				v = math.Max(v, floor)
			}
			out[i] = plotter.XY{X: x[i], Y: v}
			ymin, ymax = math.Min(ymin, v), math.Max(ymax, v)
		}
		return out
	}
	// The underlying lines go first, so that every series' own line is
	// drawn over all of them.
	for k, s := range l.Series {
		if len(s.UnderX) == 0 {
			continue
		}
		under, err := plotter.NewLine(xys(s.UnderX, s.UnderY))
		if err != nil {
			return nil, fmt.Errorf("plotting: series %q: %w", s.Name, err)
		}
		r, g, b, _ := plotutil.Color(k).RGBA()
		under.Color = color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: underAlpha}
		under.Width = vg.Points(0.5)
		p.Add(under)
	}
	for k, s := range l.Series {
		if len(s.X) == 0 {
			continue
		}
		line, pts, err := plotter.NewLinePoints(xys(s.X, s.Y))
		if err != nil {
			return nil, fmt.Errorf("plotting: series %q: %w", s.Name, err)
		}
		line.Color = plotutil.Color(k)
		line.Dashes = plotutil.Dashes(k / len(plotutil.SoftColors))
		line.Width = vg.Points(1.2)
		pts.Color = line.Color
		pts.Shape = plotutil.Shape(k)
		pts.Radius = vg.Points(2)
		thumbs := []plot.Thumbnailer{line, pts}
		if l.NoMarkers {
			p.Add(line)
			thumbs = thumbs[:1]
		} else {
			p.Add(line, pts)
		}
		if len(s.Crosses) > 0 {
			all := xys(s.X, s.Y)
			marked := make(plotter.XYs, len(s.Crosses))
			for k, i := range s.Crosses {
				marked[k] = all[i]
			}
			crosses, err := plotter.NewScatter(marked)
			if err != nil {
				return nil, fmt.Errorf("plotting: series %q: %w", s.Name, err)
			}
			crosses.GlyphStyle = draw.GlyphStyle{Color: line.Color, Radius: vg.Points(5), Shape: draw.CrossGlyph{}}
			p.Add(crosses)
		}
		if s.Name != "" {
			p.Legend.Add(s.Name, thumbs...)
		}
	}
	if l.IntX {
		p.X.Tick.Marker = intTicks{}
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
		p.Y.Tick.Marker = logTicks{}
		// A flat series gives a degenerate range, which a log scale cannot
		// normalise, and a nearly flat one (gains of 1 ± 1e-15) a range
		// that blows rounding up to the full height with one label:
		// widen either by a decade each way.
		if ymax <= ymin*(1+minLogSpan) {
			mid := math.Sqrt(ymin * ymax)
			ymin, ymax = mid/10, mid*10
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
