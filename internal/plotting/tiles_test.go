package plotting

import (
	"path/filepath"
	"testing"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// recordDrawer records the canvas it was drawn on.
type recordDrawer struct{ got *draw.Canvas }

func (r recordDrawer) Draw(c draw.Canvas) { *r.got = c }

// TestTilesLayout checks that each cell gets its own share of the canvas,
// row 0 at the top, and that a nil cell is skipped.
func TestTilesLayout(t *testing.T) {
	var got [3]draw.Canvas
	tl := Tiles{Cols: 2, Cells: []Drawer{recordDrawer{&got[0]}, nil, recordDrawer{&got[2]}}}
	w, h := tl.Size(10, 20)
	if w != 20 || h != 40 {
		t.Fatalf("Size = %v×%v, want 20×40 (2×2 cells of 10×20)", w, h)
	}
	c := draw.Canvas{Rectangle: vg.Rectangle{Min: vg.Point{X: 0, Y: 0}, Max: vg.Point{X: 20, Y: 40}}}
	tl.Draw(c)
	want := []vg.Rectangle{
		{Min: vg.Point{X: 0, Y: 20}, Max: vg.Point{X: 10, Y: 40}}, // row 0, column 0: top left
		{},
		{Min: vg.Point{X: 0, Y: 0}, Max: vg.Point{X: 10, Y: 20}}, // row 1, column 0: bottom left
	}
	for i, r := range want {
		if got[i].Rectangle != r {
			t.Errorf("cell %d drawn on %v, want %v", i, got[i].Rectangle, r)
		}
	}
}

func TestTilesOfHeatMaps(t *testing.T) {
	dir := t.TempDir()
	var cells []Drawer
	for _, m := range [][]float64{{1, 0, 0, 1}, {0.9, 0.1, 0.1, 0.9}, {1.1, -0.1, -0.1, 1.1}} {
		fig, err := HeatMap{Title: "H", N: 2, M: m}.Figure()
		if err != nil {
			t.Fatal(err)
		}
		cells = append(cells, fig)
	}
	tl := Tiles{Cols: 2, Cells: cells}
	w, h := tl.Size(PanelWidth, PanelHeight)
	paths, err := SaveAll(filepath.Join(dir, "tiles"), tl, w, h)
	if err != nil {
		t.Fatal(err)
	}
	checkImages(t, dir, paths...)
}
