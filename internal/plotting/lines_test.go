package plotting

import (
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

// TestLinesUnderAndDiverged draws a smoothed series over its raw values and
// a diverged series, and checks the errors of bad underlying data.
func TestLinesUnderAndDiverged(t *testing.T) {
	raw := []float64{2.3, 1.9, 2.2, 1.1, 1.4, 0.9, 0.7, 0.8}
	steps := []float64{1, 2, 3, 4, 5, 6, 7, 8}
	l := Lines{Title: "loss", XLabel: "step", YLabel: "loss", LogY: true, IntX: true, NoMarkers: true,
		Series: []Series{
			{Name: "smooth", X: steps, Y: raw, UnderX: steps, UnderY: raw},
			{Name: "diverged at step 4", X: steps[:3], Y: raw[:3], Crosses: []int{2}},
		}}
	p, err := l.Plot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	paths, err := SaveAll(filepath.Join(dir, "lines"), p, PanelWidth, PanelHeight)
	if err != nil {
		t.Fatal(err)
	}
	checkImages(t, dir, paths...)

	bad := l
	bad.Series = []Series{{Name: "s", X: steps, Y: raw, UnderX: steps, UnderY: append([]float64{math.NaN()}, raw[1:]...)}}
	if _, err := bad.Plot(); !errors.Is(err, ErrNonFinite) || !strings.HasPrefix(err.Error(), "plotting: ") {
		t.Errorf("NaN underlying value: %v", err)
	}
	// Underlying points alone are data.
	bad.Series = []Series{{Name: "s", UnderX: steps, UnderY: raw}}
	if _, err := bad.Plot(); err != nil {
		t.Errorf("underlying points only: %v", err)
	}
	for name, s := range map[string]Series{
		"mismatched underlying lengths": {Name: "s", X: steps, Y: raw, UnderX: steps, UnderY: raw[:2]},
		"cross out of range":            {Name: "s", X: steps, Y: raw, Crosses: []int{len(steps)}},
	} {
		bad.Series = []Series{s}
		func() {
			defer func() {
				if r := recover(); r != ErrShape {
					t.Errorf("%s: recovered %v, want ErrShape", name, r)
				}
			}()
			bad.Plot()
		}()
	}
}

// TestLinesNearlyFlatLog draws gains of 1 ± 1e-15 on a log axis: the axis
// must span decades around 1 (not the rounding), with distinct labels.
func TestLinesNearlyFlatLog(t *testing.T) {
	l := Lines{Title: "gain", LogY: true, Series: []Series{
		{Name: "a", X: []float64{1, 2, 3}, Y: []float64{1, 1 + 2e-16, 1 - 4e-16}},
	}}
	p, err := l.Plot()
	if err != nil {
		t.Fatal(err)
	}
	if !(p.Y.Min <= 0.2 && p.Y.Max >= 5) {
		t.Errorf("y axis [%g, %g], want at least [0.2, 5]", p.Y.Min, p.Y.Max)
	}
	seen := map[string]bool{}
	for _, tk := range p.Y.Tick.Marker.Ticks(p.Y.Min, p.Y.Max) {
		if tk.Label != "" && seen[tk.Label] {
			t.Errorf("label %q twice", tk.Label)
		}
		seen[tk.Label] = true
	}
}
