package hc

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The reference per-token mixing: the plain axpy and dot loops the kernels
// replace, one row at a time, as layer.go had them. The kernels must equal
// them bit for bit. Their products are converted with float64(·), as in the
// kernels, so that no build fuses them into FMAs (see kernel.go).

// loopAxpy sets dst += a·x.
func loopAxpy(dst []float64, a float64, x []float64) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] += float64(a * v)
	}
}

// loopDot returns x·y.
func loopDot(x, y []float64) float64 {
	y = y[:len(x)]
	var s float64
	for i, v := range x {
		s += float64(v * y[i])
	}
	return s
}

// loopRead sets dst = Σ_i pre[i]·x_i.
func loopRead(dst, pre, x []float64) {
	c := len(dst)
	scaleTo(dst, pre[0], x[:c])
	for i := 1; i < len(pre); i++ {
		loopAxpy(dst, pre[i], x[i*c:(i+1)*c])
	}
}

// loopWrite sets y_i = post[i]·f + Σ_j res[i*n+j]·x_j.
func loopWrite(dst, post, res, x, f []float64) {
	n, c := len(post), len(f)
	for i := range n {
		row := dst[i*c : (i+1)*c]
		scaleTo(row, post[i], f)
		for j, h := range res[i*n : (i+1)*n] {
			loopAxpy(row, h, x[j*c:(j+1)*c])
		}
	}
}

// loopWriteBack is the backward pass of loopWrite.
func loopWriteBack(dx, df, dpost, dres, post, res, x, f, dout []float64) {
	n, c := len(post), len(f)
	for j := range n {
		row := dx[j*c : (j+1)*c]
		scaleTo(row, res[j], dout[:c])
		for i := 1; i < n; i++ {
			loopAxpy(row, res[i*n+j], dout[i*c:(i+1)*c])
		}
	}
	scaleTo(df, post[0], dout[:c])
	for i := 1; i < n; i++ {
		loopAxpy(df, post[i], dout[i*c:(i+1)*c])
	}
	for i := range n {
		g := dout[i*c : (i+1)*c]
		dpost[i] = loopDot(g, f)
		for j := range n {
			dres[i*n+j] = loopDot(g, x[j*c:(j+1)*c])
		}
	}
}

// loopReadBack is the backward pass of loopRead.
func loopReadBack(dx, dpre, pre, x, din []float64) {
	c := len(din)
	for i := range pre {
		xi := x[i*c : (i+1)*c]
		dpre[i] = loopDot(din, xi)
		loopAxpy(dx[i*c:(i+1)*c], pre[i], din)
	}
}

// mixData holds the operands and results of a batch of tokens, laid out as
// in a Layer: x, dout, y and dx are tokens×n×C, f, din, dst and df are
// tokens×C, pre, post, dpre and dpost tokens×n, res and dres tokens×n×n.
type mixData struct {
	n, c              int
	x, f, dout, din   []float64
	pre, post, res    []float64
	dst, y, dx, df    []float64
	dpre, dpost, dres []float64
}

// newMixData fills a batch with standard normal numbers, the outputs too
// (readBackMix adds to dx, and every other output must be overwritten).
func newMixData(rnd *rand.Rand, n, c, tokens int) *mixData {
	v := func(k int) []float64 {
		s := make([]float64, k)
		for i := range s {
			s[i] = rnd.NormFloat64()
		}
		return s
	}
	return &mixData{n: n, c: c,
		x: v(tokens * n * c), f: v(tokens * c), dout: v(tokens * n * c), din: v(tokens * c),
		pre: v(tokens * n), post: v(tokens * n), res: v(tokens * n * n),
		dst: v(tokens * c), y: v(tokens * n * c), dx: v(tokens * n * c), df: v(tokens * c),
		dpre: v(tokens * n), dpost: v(tokens * n), dres: v(tokens * n * n)}
}

// clone returns a deep copy of d.
func (d *mixData) clone() *mixData {
	e := *d
	for _, p := range e.slices() {
		*p = append([]float64(nil), (*p)...)
	}
	return &e
}

// slices returns pointers to every slice of d.
func (d *mixData) slices() []*[]float64 {
	return []*[]float64{&d.x, &d.f, &d.dout, &d.din, &d.pre, &d.post, &d.res,
		&d.dst, &d.y, &d.dx, &d.df, &d.dpre, &d.dpost, &d.dres}
}

// mixFuncs is one implementation of the four per-token functions.
type mixFuncs struct {
	read      func(dst, pre, x []float64)
	write     func(dst, post, res, x, f []float64)
	writeBack func(dx, df, dpost, dres, post, res, x, f, dout []float64)
	readBack  func(dx, dpre, pre, x, din []float64)
}

// The implementations: the plain loops and the kernels the Layer calls.
var (
	loopFuncs   = mixFuncs{loopRead, loopWrite, loopWriteBack, loopReadBack}
	kernelFuncs = mixFuncs{readMix, writeMix, writeBackMix, readBackMix}
)

// pureGo runs f with the assembly kernels turned off.
func pureGo(f func()) {
	defer func(old bool) { useAVX = old }(useAVX)
	useAVX = false
	f()
}

// op runs one of the four functions ("read", "write", "writeBack",
// "readBack") on token t of d.
func (fs mixFuncs) op(name string, d *mixData, t int) {
	n, c := d.n, d.c
	x, f := d.x[t*n*c:(t+1)*n*c], d.f[t*c:(t+1)*c]
	pre, post, res := d.pre[t*n:(t+1)*n], d.post[t*n:(t+1)*n], d.res[t*n*n:(t+1)*n*n]
	switch name {
	case "read":
		fs.read(d.dst[t*c:(t+1)*c], pre, x)
	case "write":
		fs.write(d.y[t*n*c:(t+1)*n*c], post, res, x, f)
	case "writeBack":
		fs.writeBack(d.dx[t*n*c:(t+1)*n*c], d.df[t*c:(t+1)*c], d.dpost[t*n:(t+1)*n],
			d.dres[t*n*n:(t+1)*n*n], post, res, x, f, d.dout[t*n*c:(t+1)*n*c])
	case "readBack":
		fs.readBack(d.dx[t*n*c:(t+1)*n*c], d.dpre[t*n:(t+1)*n], pre, x, d.din[t*c:(t+1)*c])
	default:
		panic("unknown op " + name)
	}
}

var mixOps = []string{"read", "write", "writeBack", "readBack"}

// sameBits reports the first index where a and b differ, or -1. Two NaNs
// count as equal whatever their payloads (which the ordering of operands
// inside one instruction may decide); any other value must match bit for bit.
func sameBits(a, b []float64) int {
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return i
		}
	}
	return -1
}

// sliceNames names the slices of mixData.slices, in order.
var sliceNames = []string{"x", "f", "dout", "din", "pre", "post", "res",
	"dst", "y", "dx", "df", "dpre", "dpost", "dres"}

// checkAgainstLoops runs the four functions, one after the other, on token
// 0 of a copy of d with the plain loops, with the pure-Go kernels, and with
// the kernels as the Layer calls them (the assembly, on amd64 with AVX), and
// checks that every slice, inputs included, ends bit for bit the same.
func checkAgainstLoops(t *testing.T, d *mixData) {
	t.Helper()
	for _, impl := range []struct {
		name string
		run  func(func())
	}{{"Go", pureGo}, {"kernel", func(f func()) { f() }}} {
		want, got := d.clone(), d.clone()
		for _, op := range mixOps {
			loopFuncs.op(op, want, 0)
			impl.run(func() { kernelFuncs.op(op, got, 0) })
			ws, gs := want.slices(), got.slices()
			for k := range ws {
				if i := sameBits(*ws[k], *gs[k]); i >= 0 {
					t.Fatalf("%s, n=%d C=%d, after %s: %s[%d] = %v, want %v (plain loops)",
						impl.name, d.n, d.c, op, sliceNames[k], i, (*gs[k])[i], (*ws[k])[i])
				}
			}
		}
	}
}

// TestKernelsMatchLoops checks the kernels against the plain loops for
// stream counts 1 to 9 and widths that are and are not multiples of 2, 4
// and 8, down to C = 1.
func TestKernelsMatchLoops(t *testing.T) {
	t.Logf("useAVX = %v", useAVX)
	rnd := rand.New(rand.NewPCG(7, 11))
	for n := 1; n <= 9; n++ {
		for _, c := range []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 16, 17, 31, 33, 64, 127, 128, 130, 256} {
			checkAgainstLoops(t, newMixData(rnd, n, c, 1))
		}
	}
}

// FuzzKernels checks the kernels against the plain loops on random shapes
// and data: standard normal numbers (kind 0), coefficients drawn from
// {0, −0, 1, −1} (kind 1, exact copies and cancellations), or magnitudes
// from 1e−320 to 1e300 (kind 2: subnormals, overflow to ±Inf, NaN from
// Inf − Inf).
func FuzzKernels(f *testing.F) {
	for _, n := range []uint8{1, 2, 3, 4, 8} {
		for _, c := range []uint16{1, 3, 4, 5, 128} {
			for kind := range uint8(3) {
				f.Add(uint64(n)*1000+uint64(c), n, c, kind)
			}
		}
	}
	f.Fuzz(func(t *testing.T, seed uint64, n8 uint8, c16 uint16, kind uint8) {
		n, c := int(n8%9)+1, int(c16%300)+1
		rnd := rand.New(rand.NewPCG(seed, uint64(kind)))
		d := newMixData(rnd, n, c, 1)
		switch kind % 3 {
		case 1:
			for _, s := range [][]float64{d.pre, d.post, d.res} {
				for i := range s {
					s[i] = [...]float64{0, math.Copysign(0, -1), 1, -1}[rnd.IntN(4)]
				}
			}
		case 2:
			for _, p := range d.slices() {
				for i := range *p {
					(*p)[i] *= math.Pow(10, float64(rnd.IntN(621)-320))
				}
			}
		}
		checkAgainstLoops(t, d)
	})
}

// TestKernelsExactAtInit checks the cases the conformance suite needs
// exactly: with coefficients 0 and 1 (h_pre = e_k, h_post = 1, H_res a
// permutation) the kernels, in pure Go and as the Layer calls them, copy and
// add streams without rounding.
func TestKernelsExactAtInit(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 5))
	for _, n := range []int{1, 2, 3, 4, 5, 8} {
		for _, c := range []int{1, 3, 4, 13, 128} {
			d := newMixData(rnd, n, c, 1)
			perm := rnd.Perm(n)
			clear(d.pre)
			clear(d.res)
			d.pre[n-1] = 1
			for i := range n {
				d.post[i] = 1
				d.res[i*n+perm[i]] = 1
			}
			for _, run := range []func(func()){pureGo, func(f func()) { f() }} {
				run(func() {
					readMix(d.dst, d.pre, d.x)
					writeMix(d.y, d.post, d.res, d.x, d.f)
				})
				for k := range c {
					if d.dst[k] != d.x[(n-1)*c+k] {
						t.Fatalf("n=%d C=%d: read[%d] = %v, want stream %d's %v", n, c, k, d.dst[k], n-1, d.x[(n-1)*c+k])
					}
					for i := range n {
						if want := d.f[k] + d.x[perm[i]*c+k]; d.y[i*c+k] != want {
							t.Fatalf("n=%d C=%d: y_%d[%d] = %v, want f + x_%d = %v", n, c, i, k, d.y[i*c+k], perm[i], want)
						}
					}
				}
			}
		}
	}
}

// TestKernelsAllocs checks that the kernels allocate nothing.
func TestKernelsAllocs(t *testing.T) {
	for _, n := range []int{3, 4, 8} {
		d := newMixData(rand.New(rand.NewPCG(1, 1)), n, 16, 1)
		for _, op := range mixOps {
			if a := testing.AllocsPerRun(10, func() { kernelFuncs.op(op, d, 0) }); a != 0 {
				t.Errorf("n=%d %s allocates %v times, want 0", n, op, a)
			}
		}
	}
}

// BenchmarkTokenKernels times each per-token function over a batch of 64
// tokens (a layer's batch in a training step of the depth-32 network) with
// the plain loops (impl=loops) and with the kernels as the Layer calls them
// (impl=kernel), reporting ns/token. Run it with -tags purego to time the
// pure-Go kernels:
//
//	go test -run '^$' -bench TokenKernels -count 6 ./hc | benchstat -col /impl -
func BenchmarkTokenKernels(b *testing.B) {
	const tokens = 64
	for _, n := range []int{1, 2, 3, 4, 8} {
		for _, c := range []int{128, 256} {
			d := newMixData(rand.New(rand.NewPCG(uint64(n), uint64(c))), n, c, tokens)
			for _, op := range mixOps {
				for _, impl := range []struct {
					name string
					fs   mixFuncs
				}{{"loops", loopFuncs}, {"kernel", kernelFuncs}} {
					b.Run(fmt.Sprintf("n=%d/C=%d/%s/impl=%s", n, c, op, impl.name), func(b *testing.B) {
						for b.Loop() {
							for t := range tokens {
								impl.fs.op(op, d, t)
							}
						}
						b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*tokens), "ns/token")
					})
				}
			}
		}
	}
}
