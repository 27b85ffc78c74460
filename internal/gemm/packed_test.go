package gemm

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/hyperconn/hyperconn/internal/gemm/micro"
)

// Rounding bounds of the differential tests. A computed entry of
// alpha·op(A)·op(B) + beta·C differs from the exact one by at most
// (k+2)·u·(|alpha|·Σ_p |a_ip·b_pj| + |beta·c_ij|) for any summation order,
// with u the unit roundoff; two implementations differ by at most twice
// that. slack covers the separate scaling by alpha before beta·C is added.
const (
	u64   = 0x1p-53
	u32   = 0x1p-24
	slack = 2
)

// withKernels runs f once per micro-kernel pair the default backend can
// use here — every assembly pair the processor supports and the pure-Go
// twins — with the default backend (Gonum) and that pair installed,
// restoring the backend and the pair after.
func withKernels(t *testing.T, f func(t *testing.T)) {
	start, backend := pure, Current()
	defer func() {
		pure = start
		if err := Use(backend); err != nil {
			t.Fatal(err)
		}
	}()
	if err := Use(Gonum); err != nil {
		t.Fatal(err)
	}
	for _, ks := range append(micro.Available(), micro.Go) {
		pure = ks
		t.Run(ks.F32.Name, f)
	}
}

// diffShapes are the shapes of the differential tests: 1×1, primes, ragged
// tiles, inner dimensions across blockK and widths across blockN, and the
// networks' shapes (net's Linear layers at C = 32…512, 64…1024 tokens,
// hidden 4C, their weight and input gradients; the mixers' coefficient
// heads, n = 4: n·C inputs, n²+2n outputs).
var diffShapes = [][3]int{
	{1, 1, 1}, {1, 7, 1}, {7, 1, 3}, {2, 3, 5}, {13, 17, 19}, {31, 37, 41}, {97, 101, 103},
	{12, 32, 256}, {13, 33, 257}, {11, 31, 255}, {24, 600, 513}, {130, 1030, 7},
	{64, 128, 32}, {64, 32, 128}, {32, 128, 64}, {128, 32, 64}, // C = 32, batch 64
	{64, 2048, 512}, {256, 512, 520}, {300, 512, 256}, // C = 512: up, down, weight gradient (rows cut)
	{256, 24, 128}, {128, 24, 256}, // mHC head: tokens × (n·C) by (n·C) × (n²+2n)
}

// bound returns the entry-wise rounding bound of one implementation (see
// u64), from the product of |op(A)| and |op(B)| (computed by gonum's
// Dgemm, exact enough for a bound).
func bound(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int, u float64) []float64 {
	abs := func(v []float64) []float64 {
		w := make([]float64, len(v))
		for i, x := range v {
			w[i] = math.Abs(x)
		}
		return w
	}
	out := make([]float64, m*n)
	gonum.Implementation{}.Dgemm(tA, tB, m, n, k, math.Abs(alpha), abs(a), lda, abs(b), ldb, 0, out, n)
	for i := range m {
		for j := range n {
			out[i*n+j] = slack * float64(k+2) * u * (out[i*n+j] + math.Abs(beta*c[i*ldc+j]))
		}
	}
	return out
}

// diffCase multiplies random operands of one shape with Mul and Mul32 and
// with gonum's reference, and compares them entry by entry, padding
// included.
func diffCase(t *testing.T, rnd *rand.Rand, tA, tB blas.Transpose, m, n, k int, alpha, beta float64) {
	t.Helper()
	lda, ldb, ldc, a, b, c := operands(rnd, tA, tB, m, n, k)
	want := append([]float64(nil), c...)
	gonum.Implementation{}.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, want, ldc)
	got := append([]float64(nil), c...)
	Mul(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, got, ldc)
	compare(t, "Mul", tA, tB, m, n, k, got, want, ldc, bound(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, u64))

	a32, b32, c32 := to32(a), to32(b), to32(c)
	want32 := append([]float32(nil), c32...)
	gonum.Implementation{}.Sgemm(tA, tB, m, n, k, float32(alpha), a32, lda, b32, ldb, float32(beta), want32, ldc)
	Mul32(tA, tB, m, n, k, float32(alpha), a32, lda, b32, ldb, float32(beta), c32, ldc)
	compare(t, "Mul32", tA, tB, m, n, k, to64(c32), to64(want32), ldc, bound(tA, tB, m, n, k, alpha, to64(to32(a)), lda, to64(to32(b)), ldb, beta, to64(to32(c)), ldc, u32))
}

// compare checks |got − want| ≤ 2·bound inside the m×n matrix and
// equality in the padding between rows.
func compare(t *testing.T, name string, tA, tB blas.Transpose, m, n, k int, got, want []float64, ldc int, bnd []float64) {
	t.Helper()
	for i := range got {
		r, j := i/ldc, i%ldc
		tol := 0.0
		if j < n {
			tol = 2 * bnd[r*n+j]
		}
		if d := math.Abs(got[i] - want[i]); !(d <= tol) && !(got[i] == want[i]) {
			t.Fatalf("%s %v %v m=%d n=%d k=%d: entry (%d,%d) = %v, gonum %v (difference %.3g, bound %.3g)", name, tA, tB, m, n, k, r, j, got[i], want[i], d, tol)
		}
	}
}

// maxTwin is the largest product (m·n·k) the differential tests give the
// pure-Go twins, which run about 1 GFLOP/s: the shapes above it test the
// assembly's speed path, not the driver, which the smaller ones cover.
const maxTwin = 1 << 23

// TestPackedDifferential compares Mul and Mul32 with gonum's reference on
// every micro-kernel pair, all four transpose combinations, padded strides,
// and several alpha and beta (0 included: C is then not read), serially
// and on two threads.
func TestPackedDifferential(t *testing.T) {
	defer SetThreads(SetThreads(1))
	withKernels(t, func(t *testing.T) {
		for _, th := range []int{1, 2} {
			SetThreads(th)
			rnd := rand.New(rand.NewPCG(5, uint64(th)))
			for _, d := range diffShapes {
				if pure.F32.Name == micro.Go.F32.Name && d[0]*d[1]*d[2] > maxTwin {
					continue
				}
				for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
					for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
						ab := [][2]float64{{1, 0}, {0.7, 0.3}, {-1.5, 1}, {0, 0.5}}[rnd.IntN(4)]
						diffCase(t, rnd, tA, tB, d[0], d[1], d[2], ab[0], ab[1])
					}
				}
			}
		}
	})
}

// TestPackedRandom compares with gonum's reference on random shapes up to
// 200 rows and 600 columns and inner dimension (crossing blockK, blockN
// and every tile edge).
func TestPackedRandom(t *testing.T) {
	defer SetThreads(SetThreads(1))
	withKernels(t, func(t *testing.T) {
		rnd := rand.New(rand.NewPCG(6, 7))
		for range 25 {
			m, n, k := 1+rnd.IntN(200), 1+rnd.IntN(600), 1+rnd.IntN(600)
			if pure.F32.Name == micro.Go.F32.Name && m*n*k > maxTwin {
				continue
			}
			ts := []blas.Transpose{blas.NoTrans, blas.Trans}
			tA, tB := ts[rnd.IntN(2)], ts[rnd.IntN(2)]
			SetThreads(1 + rnd.IntN(2))
			diffCase(t, rnd, tA, tB, m, n, k, rnd.NormFloat64(), float64(rnd.IntN(2))*rnd.NormFloat64())
		}
	})
}

// FuzzPacked compares Mul and Mul32 with gonum's reference on fuzzed
// shapes, transposes and scalars.
func FuzzPacked(f *testing.F) {
	f.Add(uint8(1), uint8(1), uint16(1), uint8(0), 1.0, 0.0)
	f.Add(uint8(13), uint8(33), uint16(257), uint8(3), 0.7, 0.3)
	f.Add(uint8(64), uint8(200), uint16(600), uint8(1), -1.0, 1.0)
	f.Fuzz(func(t *testing.T, m, n uint8, k uint16, trans uint8, alpha, beta float64) {
		if m == 0 || n == 0 || k == 0 || k > 1024 || math.Abs(alpha) > 1e3 || math.Abs(beta) > 1e3 || math.IsNaN(alpha) || math.IsNaN(beta) {
			return
		}
		tA, tB := blas.NoTrans, blas.NoTrans
		if trans&1 != 0 {
			tA = blas.Trans
		}
		if trans&2 != 0 {
			tB = blas.Trans
		}
		rnd := rand.New(rand.NewPCG(uint64(m), uint64(k)))
		diffCase(t, rnd, tA, tB, int(m), int(n), int(k), alpha, beta)
	})
}

// TestPackedSpecial checks BLAS's special values: beta = 0 overwrites C
// without reading it (NaN in C vanishes), alpha = 0 only scales C (NaN in
// A or B does not reach C), and NaN in A does reach C otherwise.
func TestPackedSpecial(t *testing.T) {
	withKernels(t, func(t *testing.T) {
		const m, n, k = 13, 40, 5
		a, b, c := make([]float64, m*k), make([]float64, k*n), make([]float64, m*n)
		for i := range a {
			a[i] = 1
		}
		for i := range b {
			b[i] = 2
		}
		for i := range c {
			c[i] = math.NaN()
		}
		Mul(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, b, n, 0, c, n)
		for i, v := range c {
			if v != 2*k {
				t.Fatalf("beta = 0: c[%d] = %v, want %v", i, v, 2*k)
			}
		}
		a[0] = math.NaN()
		Mul(blas.NoTrans, blas.NoTrans, m, n, k, 0, a, k, b, n, 0.5, c, n)
		for i, v := range c {
			if v != k {
				t.Fatalf("alpha = 0: c[%d] = %v, want %v", i, v, float64(k))
			}
		}
		Mul(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, b, n, 1, c, n)
		if !math.IsNaN(c[0]) || !math.IsNaN(c[n-1]) || math.IsNaN(c[n]) {
			t.Fatalf("NaN in a[0]: row 0 = %v…, row 1 starts %v; want NaN in row 0 only", c[0], c[n])
		}
	})
}

// TestMulShapePanics checks that Mul panics with ErrArgs, before writing
// anything, for slices too short or strides too small.
func TestMulShapePanics(t *testing.T) {
	a, b, c := make([]float64, 6), make([]float64, 6), make([]float64, 4)
	for _, tc := range []struct {
		name string
		call func()
	}{
		{"short a", func() { Mul(blas.NoTrans, blas.NoTrans, 2, 2, 3, 1, a[:5], 3, b, 2, 0, c, 2) }},
		{"short b", func() { Mul(blas.NoTrans, blas.NoTrans, 2, 2, 3, 1, a, 3, b[:5], 2, 0, c, 2) }},
		{"short c", func() { Mul(blas.NoTrans, blas.NoTrans, 2, 2, 3, 1, a, 3, b, 2, 0, c[:3], 2) }},
		{"lda", func() { Mul(blas.NoTrans, blas.NoTrans, 2, 2, 3, 1, a, 2, b, 2, 0, c, 2) }},
		{"ldb trans", func() { Mul(blas.NoTrans, blas.Trans, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2) }},
		{"ldc", func() { Mul(blas.NoTrans, blas.NoTrans, 2, 2, 3, 1, a, 3, b, 2, 0, c, 1) }},
		{"transpose", func() { Mul(blas.Transpose(0), blas.NoTrans, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2) }},
		{"negative", func() { Mul(blas.NoTrans, blas.NoTrans, -1, 2, 3, 1, a, 3, b, 2, 0, c, 2) }},
		{"short c32", func() {
			Mul32(blas.NoTrans, blas.NoTrans, 2, 2, 3, 1, make([]float32, 6), 3, make([]float32, 6), 2, 0, make([]float32, 3), 2)
		}},
	} {
		clear(c)
		func() {
			defer func() {
				if r, _ := recover().(error); !errors.Is(r, ErrArgs) {
					t.Errorf("%s: panic %v, want ErrArgs", tc.name, r)
				}
			}()
			tc.call()
		}()
		for _, v := range c {
			if v != 0 {
				t.Fatalf("%s: c written before the panic: %v", tc.name, c)
			}
		}
	}
}

// TestPackedAllocs checks that the packed path does not allocate once its
// workspaces exist, on one and two threads, in both element types.
func TestPackedAllocs(t *testing.T) {
	defer SetThreads(SetThreads(1))
	withKernels(t, func(t *testing.T) {
		const m, n, k = 130, 600, 300
		a, b, c := make([]float64, m*k), make([]float64, k*n), make([]float64, m*n)
		a32, b32, c32 := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
		for _, th := range []int{1, 2} {
			SetThreads(th)
			f := func() {
				Mul(blas.NoTrans, blas.Trans, m, n, k, 1, a, k, b, k, 0.5, c, n)
				Mul32(blas.Trans, blas.NoTrans, m, n, k, 1, a32, m, b32, n, 0, c32, n)
			}
			f()
			if allocs := testing.AllocsPerRun(5, f); allocs != 0 {
				t.Errorf("threads=%d: %v allocs, want 0", th, allocs)
			}
		}
	})
}

// TestKernel checks that Kernel names the installed micro-kernels and that
// the default is the fastest pair available.
func TestKernel(t *testing.T) {
	start := pure
	defer func() { pure = start }()
	pure = micro.Pair{}
	if got := Kernel(); got != "gonum" {
		t.Errorf("no micro-kernels: Kernel() = %q, want gonum", got)
	}
	pure = micro.Go
	if got := Kernel(); got != "go" {
		t.Errorf("twins: Kernel() = %q, want go", got)
	}
	ps := micro.Available()
	if len(ps) > 0 && start.F32 != ps[0].F32 || len(ps) == 0 && start.F32 != nil {
		t.Errorf("default kernels %v, want the fastest available", start)
	}
}

// TestSparesWarm checks that the first workspace taken from an empty free
// list brings Threads() of them into being: a later call on which both
// threads hold one at once (a helper that happened to start late the
// first time) finds the second one free instead of allocating it. (It
// counts workspaces, not allocations: testing.AllocsPerRun's warm-up run
// would allocate the second workspace, and a count of mallocs sees the
// runtime's own.)
func TestSparesWarm(t *testing.T) {
	defer SetThreads(SetThreads(2))
	var s spares[float32]
	s.put(s.get())
	if len(s.free) != 2 {
		t.Fatalf("after the first call %d workspaces free, want Threads() = 2", len(s.free))
	}
	w1, w2 := s.get(), s.get()
	s.put(w1)
	s.put(w2)
	if s.made != 2 || len(s.free) != 2 {
		t.Errorf("two at once after one: %d made, %d free; want 2 and 2", s.made, len(s.free))
	}
}
