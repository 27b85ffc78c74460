package plotting

import (
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Tiles lays out figures of any kind (a HeatMap's figure, a *plot.Plot, a
// Grid) in rows of Cols equal cells, in row-major order; a nil cell is left
// empty. Unlike Grid it does not align axes, which figures other than plots
// do not expose: use Grid for line plots, Tiles for heat maps.
type Tiles struct {
	Cols  int
	Cells []Drawer
}

var _ Drawer = Tiles{}

// Size returns the size of the tiling when each cell is w×h.
func (t Tiles) Size(w, h vg.Length) (vg.Length, vg.Length) {
	cols, rows := t.dims()
	return vg.Length(cols) * w, vg.Length(rows) * h
}

func (t Tiles) dims() (cols, rows int) { return cellDims(len(t.Cells), t.Cols) }

// Draw draws each cell on its share of c, row 0 at the top.
func (t Tiles) Draw(c draw.Canvas) {
	cols, rows := t.dims()
	w := (c.Max.X - c.Min.X) / vg.Length(cols)
	h := (c.Max.Y - c.Min.Y) / vg.Length(rows)
	for i, d := range t.Cells {
		if d == nil {
			continue
		}
		r, k := i/cols, i%cols
		cell := c
		cell.Min.X = c.Min.X + vg.Length(k)*w
		cell.Max.X = cell.Min.X + w
		cell.Max.Y = c.Max.Y - vg.Length(r)*h
		cell.Min.Y = cell.Max.Y - h
		d.Draw(cell)
	}
}
