package plotting

import (
	"bytes"
	"encoding/xml"
	"errors"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg/draw"
)

// checkImages asserts that every path is a decodable PNG or a well-formed
// SVG document, and that dir holds exactly the files named.
func checkImages(t *testing.T, dir string, paths ...string) {
	t.Helper()
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		switch filepath.Ext(p) {
		case ".png":
			cfg, err := png.DecodeConfig(bytes.NewReader(b))
			if err != nil {
				t.Errorf("%s: not a PNG: %v", p, err)
			} else if cfg.Width < 100 || cfg.Height < 100 {
				t.Errorf("%s: %d×%d pixels, want a full-size image", p, cfg.Width, cfg.Height)
			}
			if _, err := png.Decode(bytes.NewReader(b)); err != nil {
				t.Errorf("%s: PNG does not decode: %v", p, err)
			}
		case ".svg":
			checkSVG(t, p, b)
		default:
			t.Errorf("%s: unexpected extension", p)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, p := range paths {
		want[filepath.Base(p)] = true
	}
	for _, e := range entries {
		if !want[e.Name()] {
			t.Errorf("unexpected file %s left in %s", e.Name(), dir)
		}
	}
}

// checkSVG parses b to its end and asserts that the root element is <svg>.
func checkSVG(t *testing.T, p string, b []byte) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	root := ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Errorf("%s: not well-formed XML: %v", p, err)
			return
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		t.Errorf("%s: root element %q, want svg", p, root)
	}
}

func sampleLines() Lines {
	return Lines{
		Title: "max deviation", XLabel: "n", YLabel: "max |sum − 1|", LogY: true,
		Series: []Series{
			{Name: "fixed-20", X: []float64{2, 4, 8, 16}, Y: []float64{1e-16, 3e-7, 2e-3, 0.1}},
			// An exact zero must be drawn at the floor, not break the log axis.
			{Name: "exact", X: []float64{2, 4, 8, 16}, Y: []float64{0, 2e-16, 4e-16, 9e-16}},
		},
	}
}

func TestSaveAllLines(t *testing.T) {
	dir := t.TempDir()
	p, err := sampleLines().Plot()
	if err != nil {
		t.Fatal(err)
	}
	paths, err := SaveAll(filepath.Join(dir, "dev"), p, PanelWidth, PanelHeight)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 2 {
		t.Fatalf("SaveAll wrote %v, want a PNG and an SVG", paths)
	}
	checkImages(t, dir, paths...)
	fi, err := os.Stat(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi.Mode().Perm())
	}
}

func TestLinesFlatSeries(t *testing.T) {
	// A constant series (the Amax of an sHC product is exactly 1 at every
	// layer) has a degenerate y range, on a log and on a linear axis.
	for _, logY := range []bool{true, false} {
		dir := t.TempDir()
		l := Lines{LogY: logY, Series: []Series{{Name: "one", X: []float64{1, 2, 3}, Y: []float64{1, 1, 1}}}}
		p, err := l.Plot()
		if err != nil {
			t.Fatal(err)
		}
		paths, err := SaveAll(filepath.Join(dir, "flat"), p, PanelWidth, PanelHeight)
		if err != nil {
			t.Fatalf("logY=%v: %v", logY, err)
		}
		checkImages(t, dir, paths...)
	}
}

func TestGridAndHeatMap(t *testing.T) {
	dir := t.TempDir()
	p, err := sampleLines().Plot()
	if err != nil {
		t.Fatal(err)
	}
	g := Grid{Cols: 2, Panels: []*plot.Plot{p, nil, p}}
	w, h := g.Size(PanelWidth, PanelHeight)
	if w != 2*PanelWidth || h != 2*PanelHeight {
		t.Errorf("Grid.Size = %v×%v, want 2×2 panels", w, h)
	}
	var all []string
	paths, err := SaveAll(filepath.Join(dir, "grid"), g, w, h)
	if err != nil {
		t.Fatal(err)
	}
	all = append(all, paths...)

	for _, tc := range []struct {
		name string
		n    int
		m    []float64
	}{
		// A doubly stochastic matrix (sequential palette, labelled cells).
		{"ds", 3, []float64{.5, .3, .2, .2, .5, .3, .3, .2, .5}},
		// A signed sHC-like matrix (diverging palette).
		{"signed", 2, []float64{1.2, -0.2, -0.2, 1.2}},
		// The zero matrix: a degenerate colour range.
		{"zero", 2, []float64{0, 0, 0, 0}},
		// Too large for cell labels.
		{"large", 12, func() []float64 {
			m := make([]float64, 144)
			for i := range 12 {
				m[i*12+i] = 1
			}
			return m
		}()},
	} {
		fig, err := HeatMap{Title: tc.name, N: tc.n, M: tc.m}.Figure()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		paths, err := SaveAll(filepath.Join(dir, tc.name), fig, PanelWidth, PanelHeight)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		all = append(all, paths...)
	}
	checkImages(t, dir, all...)
}

// failingWriterTo writes part of an image, then fails, as a full disk would.
type failingWriterTo struct{}

var errDisk = errors.New("disk full")

func (failingWriterTo) WriteTo(w io.Writer) (int64, error) {
	n, _ := w.Write([]byte("\x89PNG partial"))
	return int64(n), errDisk
}

// panicDrawer panics while drawing, as gonum/plot does on an axis it
// cannot represent.
type panicDrawer struct{}

func (panicDrawer) Draw(draw.Canvas) { panic("Values must be greater than 0 for a log scale.") }

func TestErrorsLeaveNoFile(t *testing.T) {
	p, err := sampleLines().Plot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	old := filepath.Join(dir, "old.png")
	if err := os.WriteFile(old, []byte("previous"), 0o644); err != nil {
		t.Fatal(err)
	}

	// A failing write keeps the previous content and leaves no temporary.
	if err := WriteFile(old, failingWriterTo{}); !errors.Is(err, errDisk) {
		t.Errorf("WriteFile with a failing source: %v, want %v", err, errDisk)
	}
	if b, _ := os.ReadFile(old); string(b) != "previous" {
		t.Errorf("failed write changed the file to %q", b)
	}
	if err := WriteFile(filepath.Join(dir, "new.png"), failingWriterTo{}); !errors.Is(err, errDisk) {
		t.Errorf("WriteFile with a failing source: %v, want %v", err, errDisk)
	}
	// An unsupported format and a panic while drawing write nothing.
	if err := Save(filepath.Join(dir, "x.gif"), p, PanelWidth, PanelHeight); !errors.Is(err, ErrFormat) {
		t.Errorf("Save .gif: %v, want ErrFormat", err)
	}
	if err := Save(filepath.Join(dir, "x.png"), panicDrawer{}, PanelWidth, PanelHeight); !errors.Is(err, ErrDraw) {
		t.Errorf("Save of a panicking drawer: %v, want ErrDraw", err)
	}
	if _, err := SaveAll(filepath.Join(dir, "y"), panicDrawer{}, PanelWidth, PanelHeight); !errors.Is(err, ErrDraw) {
		t.Errorf("SaveAll of a panicking drawer: %v, want ErrDraw", err)
	}
	// A missing directory is an error, not a panic.
	if err := Save(filepath.Join(dir, "missing", "x.png"), p, PanelWidth, PanelHeight); err == nil || !strings.Contains(err.Error(), "plotting:") {
		t.Errorf("Save into a missing directory: %v, want a plotting error", err)
	}
	checkImagesOnly(t, dir, "old.png")
}

// checkImagesOnly asserts that dir holds exactly the named files.
func checkImagesOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("directory holds %v, want %v", got, names)
	}
}

func TestDataErrors(t *testing.T) {
	nan := Lines{Series: []Series{{Name: "bad", X: []float64{1, 2}, Y: []float64{1, math.Inf(1)}}}}
	if _, err := nan.Plot(); !errors.Is(err, ErrNonFinite) {
		t.Errorf("Lines with +Inf: %v, want ErrNonFinite", err)
	}
	if _, err := (Lines{Title: "empty", LogY: true}).Plot(); !errors.Is(err, ErrNoData) {
		t.Errorf("Lines without points: %v, want ErrNoData", err)
	}
	if _, err := (HeatMap{N: 1, M: []float64{math.NaN()}}).Figure(); !errors.Is(err, ErrNonFinite) {
		t.Errorf("HeatMap with NaN: %v, want ErrNonFinite", err)
	}
	for name, f := range map[string]func(){
		"series":  func() { _, _ = (Lines{Series: []Series{{X: []float64{1}, Y: nil}}}).Plot() },
		"heatmap": func() { _, _ = (HeatMap{N: 2, M: []float64{1, 2, 3}}).Figure() },
		"n=0":     func() { _, _ = (HeatMap{N: 0}).Figure() },
	} {
		func() {
			defer func() {
				if r := recover(); r != ErrShape {
					t.Errorf("%s: recovered %v, want ErrShape", name, r)
				}
			}()
			f()
		}()
	}
}
