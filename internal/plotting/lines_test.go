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
