package plotting

import (
	"errors"
	"math"
	"path/filepath"
	"testing"
)

// TestField draws a per-layer quantity over steps (one cell per layer and
// step, uneven step spacing) to PNG and SVG, and checks its errors.
func TestField(t *testing.T) {
	f := Field{Title: "identity distance", XLabel: "step", YLabel: "sub-layer", IntY: true,
		X: []float64{10, 20, 30, 35}, Y: []float64{1, 2, 3}}
	for r := range f.Y {
		for c := range f.X {
			f.Z = append(f.Z, float64(r)*0.1+float64(c)*0.01)
		}
	}
	d, err := f.Figure()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SaveAll(filepath.Join(t.TempDir(), "field"), d, PanelWidth, PanelHeight); err != nil {
		t.Fatal(err)
	}
	// Signed values take the diverging map.
	f.Z[0] = -0.5
	if _, err := f.Figure(); err != nil {
		t.Fatal(err)
	}
	f.Z[5] = math.NaN()
	if _, err := f.Figure(); !errors.Is(err, ErrNonFinite) {
		t.Errorf("a NaN cell gives %v, want ErrNonFinite", err)
	}
	defer func() {
		if r := recover(); r != ErrShape {
			t.Errorf("a short Z panics with %v, want ErrShape", r)
		}
	}()
	Field{X: []float64{1, 2}, Y: []float64{1}, Z: []float64{1}}.Figure()
}

// TestFieldGrid: cell (c, r) of the grid is Z[r·len(X) + c] at (X[c], Y[r]).
func TestFieldGrid(t *testing.T) {
	f := &Field{X: []float64{5, 7}, Y: []float64{1, 2, 3}, Z: []float64{0, 1, 10, 11, 20, 21}}
	g := fieldGrid{f}
	if c, r := g.Dims(); c != 2 || r != 3 {
		t.Fatalf("Dims = %d, %d; want 2, 3", c, r)
	}
	if g.Z(1, 2) != 21 || g.X(1) != 7 || g.Y(2) != 3 {
		t.Errorf("Z(1, 2) = %v at (%v, %v), want 21 at (7, 3)", g.Z(1, 2), g.X(1), g.Y(2))
	}
}
