package plotting_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/hyperconn/hyperconn/internal/plotting"
)

// A log-y line plot of two series, saved as PNG and SVG.
func ExampleLines() {
	dir, err := os.MkdirTemp("", "plotting")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	l := plotting.Lines{
		Title: "max deviation", XLabel: "n", YLabel: "max |sum − 1|", LogY: true,
		Series: []plotting.Series{
			{Name: "fixed-20", X: []float64{2, 4, 8}, Y: []float64{1e-16, 3e-7, 2e-3}},
			{Name: "exact", X: []float64{2, 4, 8}, Y: []float64{0, 2e-16, 4e-16}}, // 0 is drawn at Floor
		},
	}
	p, err := l.Plot()
	if err != nil {
		log.Fatal(err)
	}
	paths, err := plotting.SaveAll(filepath.Join(dir, "deviation"), p, plotting.PanelWidth, plotting.PanelHeight)
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range paths {
		fmt.Println(filepath.Base(p))
	}
	// Output:
	// deviation.png
	// deviation.svg
}

// A heat map of a doubly stochastic 3×3 matrix: row i, drawn i-th from the
// top, holds the weights that build output stream i.
func ExampleHeatMap() {
	dir, err := os.MkdirTemp("", "plotting")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	h := plotting.HeatMap{Title: "H_res", N: 3, M: []float64{.5, .3, .2, .2, .5, .3, .3, .2, .5}}
	fig, err := h.Figure()
	if err != nil {
		log.Fatal(err)
	}
	err = plotting.Save(filepath.Join(dir, "h.svg"), fig, plotting.PanelWidth, plotting.PanelHeight)
	fmt.Println(err)
	// Output:
	// <nil>
}
