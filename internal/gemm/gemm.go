package gemm

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/gonum"
)

// Tile sizes of the pure-Go path on gonum's kernels (where the processor
// has no FMA, or with -tags purego): a tile covers at most three of
// gonum's 64×64 blocks, so gonum computes it on its serial kernel.
const (
	TileRows = 64
	TileCols = 192
)

// MinParallel is the smallest product, in multiply-adds (m·n·k), that the
// pure-Go path splits across its helper goroutines: below it the hand-off
// (a few microseconds) costs more than it saves.
const MinParallel = 1 << 17

var (
	// ErrThreads is the panic value of SetThreads for a count below 1.
	ErrThreads = errors.New("gemm: thread count below 1")

	// ErrBackend is wrapped by the error Use returns for a backend that
	// is not compiled into the binary.
	ErrBackend = errors.New("gemm: backend not available")
)

// Backend names a BLAS implementation behind Mul and Mul32.
type Backend int

// The backends. Gonum is always available; OpenBLAS only in binaries built
// with -tags openblas.
const (
	Gonum    Backend = iota // pure Go, no cgo (the default build): the package's micro-kernels, or gonum's (see Kernel)
	OpenBLAS                // OpenBLAS, opened at start-up (cgo, dlopen)
)

// String returns "gonum" or "openblas".
func (b Backend) String() string {
	switch b {
	case Gonum:
		return "gonum"
	case OpenBLAS:
		return "openblas"
	}
	return fmt.Sprintf("Backend(%d)", int(b))
}

// current is the backend in use; it is written only by Use.
var current = Gonum

// Current returns the backend Mul and Mul32 use.
func Current() Backend { return current }

// Available reports the backends compiled into the binary, Gonum first.
func Available() []Backend {
	if haveOpenBLAS {
		return []Backend{Gonum, OpenBLAS}
	}
	return []Backend{Gonum}
}

// Use switches Mul, Mul32 and gonum's blas64 and blas32 packages (so
// gonum's mat too) to backend b. It returns an error wrapping ErrBackend,
// and changes nothing, if b is not compiled in. Use changes process-wide
// state: call it before any goroutine multiplies, not during. A binary
// built with -tags openblas starts on OpenBLAS; Use(Gonum) lets one binary
// time both.
func Use(b Backend) error {
	switch {
	case b == Gonum:
		blas64.Use(gonum.Implementation{})
		blas32.Use(gonum.Implementation{})
	case b == OpenBLAS && haveOpenBLAS:
		useOpenBLAS()
	default:
		return fmt.Errorf("gemm: backend %v: %w (build with -tags openblas and libopenblas-dev installed)", b, ErrBackend)
	}
	current = b
	return nil
}

// Mul computes C = alpha·op(A)·op(B) + beta·C with C m×n and the inner
// dimension k, in float64. A, B and C are row-major with strides lda, ldb
// and ldc; op is the transpose when tA (tB) is blas.Trans. With k = 0 it
// scales C by beta. C must not overlap A or B. Mul never allocates. It may
// be called from several goroutines at once.
//
// On Gonum, Mul computes C on the packed micro-kernels of package micro
// (or, without them, tile by tile on gonum's serial kernel; see Kernel)
// and, when Threads() > 1 and the product has at least MinParallel
// multiply-adds, splits C by rows or columns between the calling goroutine
// and Threads()−1 persistent helpers. On OpenBLAS the kernel is a
// single-threaded cblas_dgemm call, split the same way. Mul panics with
// ErrArgs if a dimension is negative, a transpose unknown, a stride
// shorter than its row or a slice too short.
func Mul(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	mul(&pool.j64, pure64, dgemm, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Mul32 is Mul in float32 (BLAS Sgemm), with the same layout, rules and
// backends.
func Mul32(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	mul(&pool.j32, pure32, sgemm, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// pure64 and pure32 are the default backend's serial kernels: the packed
// micro-kernels where the processor has them, else gonum's (tiled).
func pure64(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if kd := pure.F64; kd != nil {
		packed(kd, &spares64, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	tiled64(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func pure32(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if kd := pure.F32; kd != nil {
		packed(kd, &spares32, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	tiled32(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// kernelFunc computes one product (or part of one) serially.
type kernelFunc[F float32 | float64] func(tA, tB blas.Transpose, m, n, k int, alpha F, a []F, lda int, b []F, ldb int, beta F, c []F, ldc int)

// mul is Mul for either element type: the product on the current backend's
// serial kernel (onGonum or onOpenBLAS), split across the helpers through
// the pool's job j when it is large enough.
func mul[F float32 | float64](j *job[F], onGonum, onOpenBLAS kernelFunc[F], tA, tB blas.Transpose, m, n, k int, alpha F, a []F, lda int, b []F, ldb int, beta F, c []F, ldc int) {
	if checkGemm(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc) {
		return
	}
	if clock.on.Load() {
		defer clock.add(time.Now())
	}
	if rec.on.Load() {
		var zero F
		_, f32 := any(zero).(float32)
		rec.add(Shape{TransA: tA, TransB: tB, M: m, N: n, K: k, Alpha: float64(alpha), Beta: float64(beta), Float32: f32})
	}
	if k == 0 {
		scale(beta, m, n, c, ldc)
		return
	}
	kernel, perThread := onGonum, 2
	if current == OpenBLAS {
		kernel, perThread = onOpenBLAS, 1
	}
	if !parallel(m, n, k) {
		kernel(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	*j = job[F]{tA: tA, tB: tB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, kernel: kernel, perThread: perThread}
	run(j)
	*j = job[F]{}
	pool.busy.Unlock()
}

// scale multiplies the m×n matrix c by beta.
func scale[F float32 | float64](beta F, m, n int, c []F, ldc int) {
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// job is one parallel pure-Go product, cut into parts that are disjoint
// blocks of rows (or of columns) of C. The pool owns one job per element
// type, used by the Mul that holds pool.busy, so that no call allocates.
type job[F float32 | float64] struct {
	tA, tB      blas.Transpose
	m, n, k     int
	alpha, beta F
	a, b, c     []F
	lda, ldb    int
	ldc         int
	kernel      kernelFunc[F]
	perThread   int // parts per thread: 2 balance gonum's uneven tiles, 1 keeps OpenBLAS's calls large
	parts       int
	byRows      bool
	next        atomicInt
	team
}

// atomicInt is the part counter of a job.
type atomicInt = atomic.Int64

// part computes rows (byRows) or columns [lo, hi) of C.
func (j *job[F]) part(p int) {
	if j.byRows {
		lo, hi := splitGrain(j.m, j.parts, p, rowGrain)
		if lo == hi {
			return
		}
		a := j.a[lo:]
		if j.tA == blas.NoTrans {
			a = j.a[lo*j.lda:]
		}
		j.kernel(j.tA, j.tB, hi-lo, j.n, j.k, j.alpha, a, j.lda, j.b, j.ldb, j.beta, j.c[lo*j.ldc:], j.ldc)
		return
	}
	lo, hi := split(j.n, j.parts, p)
	if lo == hi {
		return
	}
	b := j.b[lo:]
	if j.tB == blas.Trans {
		b = j.b[lo*j.ldb:]
	}
	j.kernel(j.tA, j.tB, j.m, hi-lo, j.k, j.alpha, j.a, j.lda, b, j.ldb, j.beta, j.c[lo:], j.ldc)
}

// work takes parts from the shared counter until none is left.
func (j *job[F]) work() {
	for {
		p := int(j.next.Add(1) - 1)
		if p >= j.parts {
			return
		}
		j.part(p)
	}
}

// helped is implemented by job[float32] and job[float64]: what a helper
// goroutine runs.
type helped interface {
	work()
	done()
}

// split returns the bounds of part p of [0, total) cut into parts ranges
// whose sizes are multiples of colGrain except the last; trailing parts may
// be empty.
func split(total, parts, p int) (lo, hi int) { return splitGrain(total, parts, p, colGrain) }

// The grains of a parallel product's parts: multiples of every
// micro-kernel's tile (MR rows, NR columns), so that only the last part
// has ragged tiles.
const (
	rowGrain = 12
	colGrain = 32
)

// pool holds the helpers of the pure-Go path: threads−1 goroutines that
// block on tasks. busy is held by the one Mul that is using them; a Mul
// that finds it taken (another goroutine is multiplying in parallel, as the
// token-parallel mixers do) runs serially instead, so the helpers never
// queue and the total parallelism never exceeds threads.
var pool struct {
	busy    sync.Mutex // held by the parallel Mul in progress
	j64     job[float64]
	j32     job[float32]
	rj      rangeJob
	pj      partJob
	mu      sync.Mutex // guards started
	started int
	tasks   chan helped
}

// threads is the current thread count (see SetThreads).
var threads atomic.Int32

func init() {
	threads.Store(int32(runtime.GOMAXPROCS(0)))
}

// Threads returns the number of threads one Mul may use.
func Threads() int { return int(threads.Load()) }

// SetThreads sets how many threads one call of Mul, Mul32, For or Parts
// may use — the calling goroutine plus k−1 persistent helper goroutines, on
// either backend (OpenBLAS itself stays single-threaded) — and returns the
// previous count. The default is GOMAXPROCS at start-up: one run uses
// every core. A program that runs one experiment per core (the CLI's sweep
// mode) calls SetThreads(1) first, so that the runs do not compete for
// cores. SetThreads panics with ErrThreads if k < 1.
func SetThreads(k int) int {
	if k < 1 {
		panic(ErrThreads)
	}
	return int(threads.Swap(int32(k)))
}

// parallel reports whether a product of m·n·k multiply-adds runs on the
// helpers; when true the caller holds pool.busy and must release it.
func parallel(m, n, k int) bool {
	return Threads() > 1 && m*n*k >= MinParallel && (m >= 16 || n >= 16) && pool.busy.TryLock()
}

// run computes the product of j across the calling goroutine and the
// helpers, in j.perThread parts per thread; it cuts the longer side of C.
func run[F float32 | float64](j *job[F]) {
	t := Threads()
	j.byRows = j.m >= j.n
	side, grain := j.n, colGrain
	if j.byRows {
		side, grain = j.m, rowGrain
	}
	j.parts = max(1, min(j.perThread*t, (side+grain-1)/grain))
	j.next.Store(0)
	launch(j, min(t-1, j.parts-1))
}

// launch runs j's work on the calling goroutine and helpers more, and
// returns when all are done. The caller holds pool.busy.
func launch(j interface {
	helped
	start(k int)
	wait(k int)
}, helpers int) {
	tasks := startHelpers(helpers)
	j.start(helpers)
	for range helpers {
		tasks <- j
	}
	j.work()
	j.wait(helpers)
}

// startHelpers makes sure at least k helper goroutines exist.
func startHelpers(k int) chan helped {
	pool.mu.Lock()
	defer pool.mu.Unlock()
	if pool.tasks == nil {
		pool.tasks = make(chan helped, 64)
	}
	for ; pool.started < k; pool.started++ {
		go helper(pool.tasks)
	}
	return pool.tasks
}

func helper(tasks <-chan helped) {
	for {
		j := next(tasks)
		j.work()
		j.done()
	}
}

// Spin is how long a goroutine of a parallel call polls before it blocks:
// a helper waiting for its next task, the caller waiting for its helpers.
// A training step makes hundreds of parallel calls a few microseconds
// apart; waking a blocked goroutine costs 10–30 µs on this machine, which
// made two threads slower than one. Polling yields the thread to any
// runnable goroutine, and lasts only while calls keep coming: an idle
// helper (Threads() = 1, or between steps) blocks and costs nothing.
const Spin = 50 * time.Microsecond

// next receives a helper's next task, polling for up to Spin first.
func next(tasks <-chan helped) helped {
	deadline := time.Now().Add(Spin)
	for {
		select {
		case j := <-tasks:
			return j
		default:
		}
		if time.Now().After(deadline) {
			return <-tasks
		}
		runtime.Gosched()
	}
}

// team is the completion state of one parallel call's helpers.
type team struct {
	wg       sync.WaitGroup
	finished atomic.Int64
}

// start expects k helpers.
func (t *team) start(k int) {
	t.finished.Store(0)
	t.wg.Add(k)
}

// done is called by a helper when its share is done.
func (t *team) done() {
	t.finished.Add(1)
	t.wg.Done()
}

// wait returns when the k helpers are done, polling for up to Spin before
// it blocks.
func (t *team) wait(k int) {
	deadline := time.Now().Add(Spin)
	for t.finished.Load() < int64(k) && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	t.wg.Wait()
}

// tiled64 computes a float64 product tile by tile on gonum's serial kernel
// (never another backend: the tiling exists for gonum's allocation
// behaviour only).
func tiled64(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	for i0 := 0; i0 < m; i0 += TileRows {
		mi := min(TileRows, m-i0)
		ai := a[i0:]
		if tA == blas.NoTrans {
			ai = a[i0*lda:]
		}
		for j0 := 0; j0 < n; j0 += TileCols {
			nj := min(TileCols, n-j0)
			bj := b[j0:]
			if tB == blas.Trans {
				bj = b[j0*ldb:]
			}
			gonum.Implementation{}.Dgemm(tA, tB, mi, nj, k, alpha, ai, lda, bj, ldb, beta, c[i0*ldc+j0:], ldc)
		}
	}
}

// tiled32 is tiled64 in float32.
func tiled32(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i0 := 0; i0 < m; i0 += TileRows {
		mi := min(TileRows, m-i0)
		ai := a[i0:]
		if tA == blas.NoTrans {
			ai = a[i0*lda:]
		}
		for j0 := 0; j0 < n; j0 += TileCols {
			nj := min(TileCols, n-j0)
			bj := b[j0:]
			if tB == blas.Trans {
				bj = b[j0*ldb:]
			}
			gonum.Implementation{}.Sgemm(tA, tB, mi, nj, k, alpha, ai, lda, bj, ldb, beta, c[i0*ldc+j0:], ldc)
		}
	}
}

// productClock accumulates the time spent in Mul and Mul32 while on.
type productClock struct {
	on    atomic.Bool
	spent atomic.Int64 // nanoseconds
}

// clock is the package's productClock (see Clock).
var clock productClock

// add adds the time since t0.
func (c *productClock) add(t0 time.Time) { c.spent.Add(int64(time.Since(t0))) }

// Clock starts (on) or stops accumulating the wall time spent in Mul and
// Mul32, and returns the total accumulated since the program started; the
// time of a stretch of work is the difference of two readings. Calls made
// concurrently each add their own time, so the total means "time in
// products" only when one goroutine multiplies at a time (Threads() = 1):
// the speed benchmarks use it to report the share of a training step spent
// in products. Off, it costs one atomic load per call.
func Clock(on bool) time.Duration {
	clock.on.Store(on)
	return time.Duration(clock.spent.Load())
}
