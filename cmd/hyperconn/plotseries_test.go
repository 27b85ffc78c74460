package main

import (
	"bytes"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// checkPlotFiles fails unless dir holds base.png, a PNG image, and
// base.svg, a complete SVG document, for each of bases.
func checkPlotFiles(t *testing.T, dir string, bases []string) {
	t.Helper()
	for _, base := range bases {
		for _, ext := range []string{".png", ".svg"} {
			b, err := os.ReadFile(filepath.Join(dir, base+ext))
			if err != nil {
				t.Error(err)
				continue
			}
			if ext == ".png" {
				if _, err := png.Decode(bytes.NewReader(b)); err != nil {
					t.Errorf("%s%s: %v", base, ext, err)
				}
			} else if !bytes.HasSuffix(bytes.TrimSpace(b), []byte("</svg>")) {
				t.Errorf("%s%s is not a complete SVG document", base, ext)
			}
		}
	}
}

func TestStepPoints(t *testing.T) {
	x, y := stepPoints([]num{2, nan, num(math.Inf(1)), 0.5})
	if !slices.Equal(x, []float64{1, 4}) || !slices.Equal(y, []float64{2, 0.5}) {
		t.Errorf("stepPoints = %v, %v; want steps 1 and 4 (the finite values)", x, y)
	}
}

func TestTrailingMean(t *testing.T) {
	got := trailingMean([]float64{1, 3, 5, 7, 9}, 3)
	// (1)/1, (1+3)/2, (1+3+5)/3, (3+5+7)/3, (5+7+9)/3
	if want := []float64{1, 2, 3, 5, 7}; !slices.Equal(got, want) {
		t.Errorf("trailingMean = %v, want %v", got, want)
	}
	if got := trailingMean(nil, 3); len(got) != 0 {
		t.Errorf("trailingMean(nil) = %v", got)
	}
}

func TestPointSeries(t *testing.T) {
	s := pointSeries("hc (diverged at step 31)", true, []float64{10, 20, 30}, []num{2, nan, 8})
	if !slices.Equal(s.X, []float64{10, 30}) || !slices.Equal(s.Y, []float64{2, 8}) || !slices.Equal(s.Crosses, []int{1}) {
		t.Errorf("series %v / %v crosses %v; want (10, 2) and (30, 8), a cross at the last", s.X, s.Y, s.Crosses)
	}
	if s := pointSeries("mhc", false, []float64{10}, []num{1}); len(s.Crosses) != 0 {
		t.Errorf("a completed run is marked: %v", s.Crosses)
	}
}
