package plotting

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

var (
	// ErrFormat is wrapped by the error returned for a file name whose
	// extension is not one of Formats.
	ErrFormat = errors.New("plotting: unsupported image format")
	// ErrDraw is wrapped by the error returned when gonum/plot panics while
	// drawing (for instance on an axis range it cannot represent).
	ErrDraw = errors.New("plotting: drawing failed")
)

// Formats are the image formats SaveAll writes, by file extension.
var Formats = []string{"png", "svg"}

// DPI is the resolution of PNG images.
const DPI = 150

// Save draws d on a w×h canvas and writes it to path in the format named by
// its extension (.png or .svg), atomically: the image is rendered in memory,
// written to a temporary file in path's directory and renamed to path.
// On error path is left as it was and no temporary file remains.
func Save(path string, d Drawer, w, h vg.Length) error {
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	var buf bytes.Buffer
	if err := render(&buf, d, w, h, format); err != nil {
		return fmt.Errorf("plotting: %s: %w", path, err)
	}
	return WriteFile(path, &buf)
}

// SaveAll writes d to base+".png" and base+".svg" (see Save) and returns
// the paths written. If one fails, the files already written are kept.
func SaveAll(base string, d Drawer, w, h vg.Length) ([]string, error) {
	var paths []string
	for _, f := range Formats {
		p := base + "." + f
		if err := Save(p, d, w, h); err != nil {
			return paths, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// render draws d into w in the given format; a panic inside gonum/plot
// becomes an error wrapping ErrDraw.
func render(w io.Writer, d Drawer, width, height vg.Length, format string) (err error) {
	var c vg.CanvasWriterTo
	switch format {
	case "png":
		c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(DPI))}
	case "svg":
		c = vgsvg.New(width, height)
	default:
		return fmt.Errorf("%q: %w", format, ErrFormat)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrDraw, r)
		}
	}()
	d.Draw(draw.New(c))
	_, err = c.WriteTo(w)
	return err
}

// WriteFile writes the content of src to path atomically: into a temporary
// file ".NAME.tmp-*" in path's directory, synced and closed, renamed to
// path, then the directory synced so the rename survives a crash. On error
// path is left as it was and the temporary file is removed.
func WriteFile(path string, src io.WriterTo) (err error) {
	dir, name := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return fmt.Errorf("plotting: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			err = fmt.Errorf("plotting: writing %s: %w", path, err)
		}
	}()
	if _, err = src.WriteTo(f); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	// CreateTemp makes the file 0600; results are meant to be shared.
	if err = os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable (a file system that cannot sync a
// directory, os.ErrInvalid, is not an error).
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}
