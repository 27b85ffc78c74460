package plotting

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// MaxCellLabels is the largest n for which HeatMap writes every cell's value
// in the cell; above it the labels would not fit in a panel.
const MaxCellLabels = 8

// HeatMap describes a heat map of the n×n row-major matrix M: entry (i, j) is
// M[i*N+j], drawn in row i from the top and column j from the left.
type HeatMap struct {
	Title string
	N     int
	M     []float64
}

// matrixGrid adapts a row-major matrix to plotter.GridXYZ, with row 0 at the
// top: grid row r is matrix row N−1−r.
type matrixGrid struct {
	n int
	m []float64
}

func (g matrixGrid) Dims() (c, r int)   { return g.n, g.n }
func (g matrixGrid) Z(c, r int) float64 { return g.m[(g.n-1-r)*g.n+c] }
func (g matrixGrid) X(c int) float64    { return float64(c) }
func (g matrixGrid) Y(r int) float64    { return float64(r) }

// Figure builds the heat map beside its colour bar. A nonnegative matrix is
// coloured from white (0) to dark (its maximum); a matrix with a negative
// entry from blue (−a) through white (0) to red (+a), a = max |M_ij|.
// It returns an error wrapping ErrNonFinite if M holds a NaN or an infinity,
// and panics with ErrShape if N < 1 or len(M) != N².
func (h HeatMap) Figure() (Drawer, error) {
	if h.N < 1 || len(h.M) != h.N*h.N {
		panic(ErrShape)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for k, v := range h.M {
		if !finite(v) {
			return nil, fmt.Errorf("plotting: heat map %q entry (%d, %d) = %g: %w", h.Title, k/h.N, k%h.N, v, ErrNonFinite)
		}
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	cm, lo, hi := colorMap(lo, hi)

	n := h.N
	p := plot.New()
	p.Title.Text = h.Title
	hm := plotter.NewHeatMap(matrixGrid{n: n, m: h.M}, cm.Palette(255))
	hm.Min, hm.Max = lo, hi
	p.Add(hm)
	p.X.Label.Text = "input stream j"
	p.Y.Label.Text = "output stream i (row i builds stream i)"
	p.X.Padding, p.Y.Padding = 0, 0
	var xt, yt plot.ConstantTicks
	step := max(1, n/8)
	for k := 0; k < n; k += step {
		xt = append(xt, plot.Tick{Value: float64(k), Label: strconv.Itoa(k)})
		yt = append(yt, plot.Tick{Value: float64(n - 1 - k), Label: strconv.Itoa(k)})
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = xt, yt

	if n <= MaxCellLabels {
		xys := make(plotter.XYs, 0, n*n)
		strs := make([]string, 0, n*n)
		for i := range n {
			for j := range n {
				xys = append(xys, plotter.XY{X: float64(j), Y: float64(n - 1 - i)})
				strs = append(strs, strconv.FormatFloat(h.M[i*n+j], 'g', 3, 64))
			}
		}
		labels, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: strs})
		if err != nil {
			return nil, fmt.Errorf("plotting: heat map %q: %w", h.Title, err)
		}
		for k := range labels.TextStyle {
			v := h.M[k]
			// Dark text on light cells: the palettes are light near 0
			// (diverging) or near lo (sequential).
			light := math.Abs(v) < 0.6*math.Max(math.Abs(lo), math.Abs(hi))
			labels.TextStyle[k].Color = color.Black
			if !light {
				labels.TextStyle[k].Color = color.White
			}
			labels.TextStyle[k].XAlign = draw.XCenter
			labels.TextStyle[k].YAlign = draw.YCenter
			labels.TextStyle[k].Font.Size = vg.Points(9)
		}
		p.Add(labels)
	}

	bar := plot.New()
	bar.Add(&plotter.ColorBar{ColorMap: cm, Vertical: true})
	bar.HideX()
	bar.Y.Padding = 0
	return heatFigure{heat: p, bar: bar}, nil
}

// colorMap returns the colour map of values in [lo, hi] and the range it
// spans: for nonnegative values white (0) to dark (hi), else blue (−a)
// through white (0) to red (+a), a = max(|lo|, |hi|).
func colorMap(lo, hi float64) (cm palette.ColorMap, from, to float64) {
	cm = moreland.SmoothBlueRed()
	if lo >= 0 {
		// The positive half of the same diverging map: white at 0.
		lo = 0
		if hi == 0 {
			hi = 1
		}
		cm = &upperHalf{DivergingColorMap: moreland.SmoothBlueRed()}
	} else {
		a := math.Max(-lo, hi)
		lo, hi = -a, a
	}
	cm.SetMin(lo)
	cm.SetMax(hi)
	return cm, lo, hi
}

// upperHalf is the half [0, max] of a diverging colour map centred on 0: it
// colours a nonnegative matrix as the positive entries of a signed one.
type upperHalf struct {
	palette.DivergingColorMap
}

// SetMin does nothing: the half map always starts at 0.
func (u *upperHalf) SetMin(float64) {}

// SetMax sets the maximum and mirrors it as the minimum of the full map.
func (u *upperHalf) SetMax(v float64) {
	u.DivergingColorMap.SetMax(v)
	u.DivergingColorMap.SetMin(-v)
}

// Min returns 0, the lower end of the half map.
func (u *upperHalf) Min() float64 { return 0 }

// Palette returns colors evenly spaced over [0, Max].
func (u *upperHalf) Palette(colors int) palette.Palette {
	c := make([]color.Color, colors)
	hi := u.Max()
	for k := range c {
		v := hi * float64(k) / float64(max(colors-1, 1))
		col, err := u.At(v)
		if err != nil {
			col = color.Transparent
		}
		c[k] = col
	}
	return colorList(c)
}

// colorList is a palette.Palette of fixed colours.
type colorList []color.Color

// Colors returns the colours.
func (c colorList) Colors() []color.Color { return c }

// heatFigure draws a heat map with its colour bar on the right.
type heatFigure struct {
	heat, bar *plot.Plot
}

// Draw draws the map on the left 85% of c and the colour bar on the rest.
func (f heatFigure) Draw(c draw.Canvas) {
	split := c.Min.X + 0.85*(c.Max.X-c.Min.X)
	left, right := c, c
	left.Max.X = split
	right.Min.X = split + vg.Points(6)
	right.Max.X -= vg.Points(4)
	// Leave the bar the title's height at the top, so its ends line up
	// roughly with the map's.
	right.Max.Y -= vg.Points(22)
	right.Min.Y += vg.Points(34)
	f.heat.Draw(left)
	f.bar.Draw(right)
}
