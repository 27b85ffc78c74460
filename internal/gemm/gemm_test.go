package gemm

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas"
)

// naive is the textbook triple loop in float64, the oracle.
func naive(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	at := func(i, p int) float64 {
		if tA == blas.Trans {
			return a[p*lda+i]
		}
		return a[i*lda+p]
	}
	bt := func(p, j int) float64 {
		if tB == blas.Trans {
			return b[j*ldb+p]
		}
		return b[p*ldb+j]
	}
	for i := range m {
		for j := range n {
			var s float64
			for p := range k {
				s += at(i, p) * bt(p, j)
			}
			c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
		}
	}
}

// Tolerances of the products against the float64 oracle, per unit of
// (k+1)·max|term|: a sum of k products rounds by at most about k ulps.
const (
	tol64 = 1e-15 * 4 // float64 ulp is 2.2e-16; blocked sums reorder terms
	tol32 = 1e-7 * 4  // float32 ulp is 1.2e-7
)

// shapes exercise k = 0, ragged tiles, and products above MinParallel
// (130·400·33 and 256·300·64), split by rows and by columns.
var shapes = [][3]int{{1, 1, 1}, {3, 5, 7}, {70, 200, 9}, {130, 400, 33}, {256, 300, 64}, {20, 700, 40}, {5, 3, 0}}

// forBackends runs f once per compiled-in backend and thread count 1 and 2,
// restoring the start state after.
func forBackends(t *testing.T, f func(t *testing.T)) {
	start, threads := Current(), Threads()
	defer func() {
		if err := Use(start); err != nil {
			t.Fatal(err)
		}
		SetThreads(threads)
	}()
	for _, be := range Available() {
		for _, th := range []int{1, 2} {
			if err := Use(be); err != nil {
				t.Fatal(err)
			}
			SetThreads(th)
			t.Run(fmt.Sprintf("%v/threads=%d", be, th), f)
		}
	}
}

func TestMul(t *testing.T) {
	forBackends(t, func(t *testing.T) {
		rnd := rand.New(rand.NewPCG(1, 2))
		for _, d := range shapes {
			m, n, k := d[0], d[1], d[2]
			for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
					lda, ldb, ldc, a, b, c := operands(rnd, tA, tB, m, n, k)
					want := append([]float64(nil), c...)
					naive(tA, tB, m, n, k, 0.7, a, lda, b, ldb, 0.3, want, ldc)
					got := append([]float64(nil), c...)
					Mul(tA, tB, m, n, k, 0.7, a, lda, b, ldb, 0.3, got, ldc)
					check(t, "Mul", tA, tB, m, n, k, got, want, ldc, tol64)

					a32, b32, c32 := to32(a), to32(b), to32(c)
					// The oracle on the float32-rounded operands.
					want = to64(c32)
					naive(tA, tB, m, n, k, 0.7, to64(a32), lda, to64(b32), ldb, 0.3, want, ldc)
					Mul32(tA, tB, m, n, k, 0.7, a32, lda, b32, ldb, 0.3, c32, ldc)
					check(t, "Mul32", tA, tB, m, n, k, to64(c32), want, ldc, tol32)
				}
			}
		}
	})
}

// operands returns random operands of the given shape with padded strides.
func operands(rnd *rand.Rand, tA, tB blas.Transpose, m, n, k int) (lda, ldb, ldc int, a, b, c []float64) {
	randv := func(l int) []float64 {
		v := make([]float64, l)
		for i := range v {
			v[i] = rnd.NormFloat64()
		}
		return v
	}
	lda, ldb = k+2, n+1
	ra, rb := m, k
	if tA == blas.Trans {
		lda, ra = m+2, k
	}
	if tB == blas.Trans {
		ldb, rb = k+1, n
	}
	ldc = n + 3
	return lda, ldb, ldc, randv(max(ra*lda, 1)), randv(max(rb*ldb, 1)), randv(m * ldc)
}

// check compares got with want entry by entry, padding included (Mul must
// not write it). The scale of a term is at most ~|N(0,1)|² ≈ 10 here.
func check(t *testing.T, name string, tA, tB blas.Transpose, m, n, k int, got, want []float64, ldc int, tol float64) {
	t.Helper()
	bound := tol * float64(k+1) * 10
	for i := range got {
		if math.Abs(got[i]-want[i]) > bound {
			t.Fatalf("%s %v %v m=%d n=%d k=%d: entry (%d,%d) = %v, want %v (tolerance %.2g)", name, tA, tB, m, n, k, i/ldc, i%ldc, got[i], want[i], bound)
		}
	}
}

func to32(v []float64) []float32 {
	w := make([]float32, len(v))
	for i, x := range v {
		w[i] = float32(x)
	}
	return w
}

func to64(v []float32) []float64 {
	w := make([]float64, len(v))
	for i, x := range v {
		w[i] = float64(x)
	}
	return w
}

// TestMulBetaZero checks that beta = 0 overwrites C, NaN included, as BLAS
// specifies (C is not read).
func TestMulBetaZero(t *testing.T) {
	forBackends(t, func(t *testing.T) {
		a := []float64{1, 2, 3, 4, 5, 6}
		b := []float64{7, 8, 9, 10, 11, 12}
		c := []float64{math.NaN(), math.NaN(), math.NaN(), math.NaN()}
		Mul(blas.NoTrans, blas.NoTrans, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2)
		want := []float64{58, 64, 139, 154} // by hand: rows of a times columns of b
		for i := range c {
			if c[i] != want[i] {
				t.Fatalf("c = %v, want %v", c, want)
			}
		}
		c = []float64{math.NaN(), 1}
		Mul(blas.NoTrans, blas.NoTrans, 1, 2, 0, 1, nil, 1, nil, 2, 0, c, 2)
		if c[0] != 0 || c[1] != 0 {
			t.Fatalf("k = 0, beta = 0: c = %v, want zeros", c)
		}
	})
}

// TestMulRepeatable checks that the parallel path gives bit-for-bit the
// result of the same call repeated (each entry has one owner).
func TestMulRepeatable(t *testing.T) {
	forBackends(t, func(t *testing.T) {
		rnd := rand.New(rand.NewPCG(3, 4))
		lda, ldb, ldc, a, b, c := operands(rnd, blas.NoTrans, blas.Trans, 256, 300, 64)
		c1 := append([]float64(nil), c...)
		c2 := append([]float64(nil), c...)
		Mul(blas.NoTrans, blas.Trans, 256, 300, 64, 1, a, lda, b, ldb, 1, c1, ldc)
		Mul(blas.NoTrans, blas.Trans, 256, 300, 64, 1, a, lda, b, ldb, 1, c2, ldc)
		for i := range c1 {
			if c1[i] != c2[i] {
				t.Fatalf("entry %d: %v then %v", i, c1[i], c2[i])
			}
		}
	})
}

func TestMulAllocs(t *testing.T) {
	forBackends(t, func(t *testing.T) {
		const m, n, k = 256, 1024, 64 // 4×16 gonum blocks: parallel if not tiled
		a, b, c := make([]float64, m*k), make([]float64, k*n), make([]float64, m*n)
		a32, b32, c32 := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
		Mul(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, b, n, 0, c, n) // start the helpers
		if allocs := testing.AllocsPerRun(3, func() {
			Mul(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, b, n, 0, c, n)
			Mul32(blas.Trans, blas.NoTrans, k, n, m, 1, a32, k, c32, n, 0, b32, n)
		}); allocs != 0 {
			t.Errorf("%v allocs, want 0", allocs)
		}
	})
}

func TestUse(t *testing.T) {
	if err := Use(Backend(7)); !errors.Is(err, ErrBackend) {
		t.Errorf("Use(Backend(7)) = %v, want ErrBackend", err)
	}
	if !haveOpenBLAS {
		if err := Use(OpenBLAS); !errors.Is(err, ErrBackend) {
			t.Errorf("pure-Go build: Use(OpenBLAS) = %v, want ErrBackend", err)
		}
		if Current() != Gonum {
			t.Errorf("pure-Go build: Current() = %v, want gonum", Current())
		}
	}
	if got := Available()[0]; got != Gonum {
		t.Errorf("Available()[0] = %v, want gonum", got)
	}
	if s := OpenBLAS.String(); s != "openblas" {
		t.Errorf("OpenBLAS.String() = %q", s)
	}
}

func TestSetThreads(t *testing.T) {
	old := SetThreads(3)
	defer SetThreads(old)
	if got := Threads(); got != 3 {
		t.Errorf("Threads() = %d after SetThreads(3)", got)
	}
	defer func() {
		if r := recover(); r != ErrThreads {
			t.Errorf("SetThreads(0) panicked with %v, want ErrThreads", r)
		}
	}()
	SetThreads(0)
}

func TestSplit(t *testing.T) {
	for _, c := range []struct{ total, parts int }{{64, 4}, {512, 4}, {130, 4}, {9, 2}, {20, 4}} {
		next := 0
		for p := range c.parts {
			lo, hi := split(c.total, c.parts, p)
			if lo != next || hi < lo {
				t.Fatalf("split(%d, %d, %d) = [%d, %d), want it to start at %d", c.total, c.parts, p, lo, hi, next)
			}
			next = hi
		}
		if next != c.total {
			t.Fatalf("split(%d, %d, ·) covers [0, %d)", c.total, c.parts, next)
		}
	}
}

// sumSquares is a Ranger that squares v in place and counts the calls.
type sumSquares struct {
	v []float64
}

func (s *sumSquares) Range(lo, hi int) {
	for i := lo; i < hi; i++ {
		s.v[i] *= s.v[i]
	}
}

// TestFor checks that For visits every index exactly once, serially and in
// parallel, without allocating.
func TestFor(t *testing.T) {
	old := Threads()
	defer SetThreads(old)
	for _, th := range []int{1, 2, 3} {
		SetThreads(th)
		for _, n := range []int{0, 1, 100, MinFor, 3*MinFor + 5} {
			s := &sumSquares{v: make([]float64, n)}
			for i := range s.v {
				s.v[i] = float64(i%97) + 2
			}
			For(n, s)
			for i, v := range s.v {
				if w := float64(i%97) + 2; v != w*w {
					t.Fatalf("threads=%d n=%d: v[%d] = %v, want %v (each index exactly once)", th, n, i, v, w*w)
				}
			}
		}
		s := &sumSquares{v: make([]float64, 3*MinFor)}
		if allocs := testing.AllocsPerRun(5, func() { For(len(s.v), s) }); allocs != 0 {
			t.Errorf("threads=%d: For allocates %v times, want 0", th, allocs)
		}
	}
}

// TestClock checks that the product clock counts the time of products,
// only while on.
func TestClock(t *testing.T) {
	a, b, c := make([]float64, 64*64), make([]float64, 64*64), make([]float64, 64*64)
	before := Clock(true)
	start := time.Now()
	for range 20 {
		Mul(blas.NoTrans, blas.NoTrans, 64, 64, 64, 1, a, 64, b, 64, 0, c, 64)
	}
	wall := time.Since(start)
	total := Clock(false)
	spent := total - before
	if spent <= 0 || spent > wall {
		t.Errorf("clock counted %v for products that took %v of wall time", spent, wall)
	}
	Mul(blas.NoTrans, blas.NoTrans, 64, 64, 64, 1, a, 64, b, 64, 0, c, 64)
	if again := Clock(false); again != total {
		t.Errorf("clock moved from %v to %v while off", total, again)
	}
}
