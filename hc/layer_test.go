package hc_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/allocsite"
)

// meanTol bounds the difference between MeanResTo and a direct average of
// 8 values of size O(1): rounding of the sum and of the scaling.
const meanTol = 1e-15

// batch is a dynamic-HC layer with random data and every buffer of a step.
type batch struct {
	m                *hc.HC
	l                *hc.Layer
	n, c, tokens     int
	x, g, in, f, out []float64
	dx, df           []float64
	branchW          float64
}

func newBatch(t testing.TB, n, c, tokens int) *batch {
	m, err := hc.New(hc.PaperConfig(n, c, 1))
	if err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(5, uint64(n)))
	for _, name := range []string{"W_beta", "W_m", "W_r"} {
		for i := range hc.Lookup(m, name).Value {
			hc.Lookup(m, name).Value[i] = 0.3 * rnd.NormFloat64()
		}
	}
	b := &batch{m: m, l: hc.NewLayer(m), n: n, c: c, tokens: tokens, branchW: 0.5,
		x: make([]float64, tokens*n*c), g: make([]float64, tokens*n*c),
		in: make([]float64, tokens*c), f: make([]float64, tokens*c), out: make([]float64, tokens*n*c),
		dx: make([]float64, tokens*n*c), df: make([]float64, tokens*c)}
	for i := range b.x {
		b.x[i], b.g[i] = rnd.NormFloat64(), rnd.NormFloat64()
	}
	return b
}

func (b *batch) pre() error {
	return b.l.Pre(b.in, b.x, b.tokens)
}

func (b *batch) post() error {
	for i, v := range b.in {
		b.f[i] = b.branchW * v
	}
	return b.l.Post(b.out, b.f)
}

func (b *batch) postBackward() { b.l.PostBackward(b.dx, b.df, b.g) }

func (b *batch) preBackward() {
	for i := range b.df {
		b.df[i] *= b.branchW
	}
	b.l.PreBackward(b.dx, b.df)
}

func (b *batch) step() error {
	if err := b.pre(); err != nil {
		return err
	}
	if err := b.post(); err != nil {
		return err
	}
	b.postBackward()
	b.preBackward()
	return nil
}

func TestLayerAllocs(t *testing.T) {
	b := newBatch(t, 4, 16, 40)
	if err := b.step(); err != nil { // warm-up: buffers grow here
		t.Fatal(err)
	}
	var err error
	// In call order, each call legal after the one before; PreBackward needs
	// a PostBackward first, which the previous line shows allocates nothing.
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"Pre", func() { err = errors.Join(err, b.pre()) }},
		{"Post", func() { err = errors.Join(err, b.post()) }},
		{"PostBackward", b.postBackward},
		{"PostBackward+PreBackward", func() { b.postBackward(); b.preBackward() }},
	} {
		if a := testing.AllocsPerRun(20, c.f); a != 0 {
			t.Errorf("%s allocates %v times per call, want 0", c.name, a)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestLayerAllocsParallel checks that whole steps with the helper
// goroutines in use allocate nothing (testing.AllocsPerRun would force
// GOMAXPROCS to 1). The process-wide count also sees the runtime's own
// allocations — a goroutine that blocks on a channel may need a new sudog,
// a new OS thread its m — so the test reads the allocation sites from the
// memory profile and fails on any site that is not one of those
// (internal/allocsite).
func TestLayerAllocsParallel(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	defer hc.SetThreads(hc.SetThreads(4))
	rate := runtime.MemProfileRate
	runtime.MemProfileRate = 1
	defer func() { runtime.MemProfileRate = rate }()
	b := newBatch(t, 4, 16, 40)
	for range 10 {
		if err := b.step(); err != nil {
			t.Fatal(err)
		}
	}
	before := allocsite.Read()
	for range 50 {
		if err := b.step(); err != nil {
			t.Fatal(err)
		}
	}
	for _, site := range allocsite.Ours(before, allocsite.Read()) {
		t.Errorf("50 parallel steps allocated %d objects at\n%s", site.Objects, site.Stack)
	}
}

func TestLayerSequence(t *testing.T) {
	b := newBatch(t, 2, 3, 4)
	panics(t, hc.ErrSequence, "Post first", func() { _ = b.post() })
	panics(t, hc.ErrSequence, "PostBackward first", b.postBackward)
	panics(t, hc.ErrSequence, "PreBackward first", b.preBackward)
	if err := b.pre(); err != nil {
		t.Fatal(err)
	}
	panics(t, hc.ErrSequence, "PostBackward after Pre", b.postBackward)
	if err := b.post(); err != nil {
		t.Fatal(err)
	}
	panics(t, hc.ErrSequence, "PreBackward after Post", b.preBackward)
	b.postBackward()
	b.preBackward()
	panics(t, hc.ErrSequence, "PreBackward twice", b.preBackward)

	// A failed Pre leaves no batch behind.
	b.x[1] = math.NaN()
	if err := b.pre(); !errors.Is(err, hc.ErrNotFinite) {
		t.Fatalf("Pre with NaN: %v", err)
	}
	panics(t, hc.ErrSequence, "Post after a failed Pre", func() { _ = b.post() })
	panics(t, hc.ErrShape, "SetChunks(0)", func() { b.l.SetChunks(0) })
	panics(t, hc.ErrShape, "Residual(0)", func() { hc.Residual(0) })
}

// TestCoefficientNotFinite checks that a non-finite coefficient computed
// from finite data is reported, and that the error names it.
func TestCoefficientNotFinite(t *testing.T) {
	b := newBatch(t, 2, 3, 4)
	hc.Lookup(b.m, "s_beta").Value[0] = math.Inf(1)
	dst := []float64{7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7}
	err := b.l.Pre(dst, b.x, b.tokens)
	if !errors.Is(err, hc.ErrNotFinite) {
		t.Fatalf("Pre: %v, want an error wrapping ErrNotFinite", err)
	}
	if want := "hc: token 0: hc: h_post[0]"; len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
		t.Errorf("error %q does not start with %q", err, want)
	}
	if slices.ContainsFunc(dst, func(v float64) bool { return v != 7 }) {
		t.Errorf("dst written: %v", dst)
	}
}

func TestMeanResTo(t *testing.T) {
	b := newBatch(t, 3, 5, 8)
	if got := b.l.MeanResTo(nil); slices.ContainsFunc(got, func(v float64) bool { return v != 0 }) {
		t.Errorf("MeanResTo with no batch = %v, want zeros", got)
	}
	if err := b.pre(); err != nil {
		t.Fatal(err)
	}
	_, _, res := b.l.Coefficients()
	got := b.l.MeanResTo(make([]float64, 9))
	for k := range 9 {
		var s float64
		for tok := range b.tokens {
			s += res[tok*9+k]
		}
		if want := s / float64(b.tokens); math.Abs(got[k]-want) > meanTol {
			t.Errorf("mean H_res[%d] = %v, want %v", k, got[k], want)
		}
	}
	if b.l.Tokens() != 8 || b.l.Mixer() != hc.Mixer(b.m) {
		t.Errorf("Tokens() = %d, Mixer() = %v", b.l.Tokens(), b.l.Mixer())
	}
	panics(t, hc.ErrShape, "MeanResTo short", func() { b.l.MeanResTo(make([]float64, 8)) })
}

func TestApplyBranchError(t *testing.T) {
	b := newBatch(t, 2, 3, 4)
	errBranch := errors.New("branch failed")
	dst := slices.Repeat([]float64{7}, len(b.out))
	err := b.l.Apply(dst, b.x, b.tokens, func(out, in []float64) error { return errBranch })
	if !errors.Is(err, errBranch) {
		t.Fatalf("Apply: %v, want an error wrapping the branch's", err)
	}
	if slices.ContainsFunc(dst, func(v float64) bool { return v != 7 }) {
		t.Errorf("dst written")
	}
	// Apply equals Pre, branch, Post.
	if err := b.l.Apply(dst, b.x, b.tokens, func(out, in []float64) error {
		for i, v := range in {
			out[i] = b.branchW * v
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := b.pre(); err != nil {
		t.Fatal(err)
	}
	if err := b.post(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dst, b.out) {
		t.Errorf("Apply differs from Pre, branch, Post")
	}
}

// panics checks that f panics with an error wrapping want.
func panics(t *testing.T, want error, what string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		if err, ok := recover().(error); !ok || !errors.Is(err, want) {
			t.Errorf("%s: recovered %v, want a panic wrapping %v", what, err, want)
		}
	}()
	f()
}

// gradNormTol bounds the relative difference between GradNorm and a plain
// sum of squares of the same O(1) values: rounding of sums of up to 3200
// terms taken in a different order.
const gradNormTol = 1e-14

// TestLayerGradNorm checks GradNorm against the norm of the dout given to
// PostBackward, 0 before any; one Layer serves a large batch, then a small
// one (nothing of the first may leak into the second), and the value is
// bit for bit the same whatever the number of token ranges.
func TestLayerGradNorm(t *testing.T) {
	b := newBatch(t, 4, 8, 100)
	if g := b.l.GradNorm(); g != 0 {
		t.Errorf("GradNorm %v before any PostBackward", g)
	}
	for i := range b.g {
		b.g[i] *= float64(1 + i%3)
	}
	want := func(g []float64) float64 {
		var ss float64
		for _, v := range g {
			ss += v * v
		}
		return math.Sqrt(ss)
	}
	var first float64
	for _, chunks := range []int{0, 1, 3, 7} {
		if chunks > 0 {
			b.l.SetChunks(chunks)
		}
		if err := b.step(); err != nil {
			t.Fatal(err)
		}
		got := b.l.GradNorm()
		if w := want(b.g); math.Abs(got-w) > gradNormTol*w {
			t.Errorf("%d chunks: GradNorm %v, want ‖dout‖ = %v", chunks, got, w)
		}
		if chunks == 0 {
			first = got
		} else if got != first {
			t.Errorf("%d chunks: GradNorm %v, default split %v", chunks, got, first)
		}
	}
	// The same Layer on 5 tokens.
	b.tokens = 5
	b.x, b.g = b.x[:5*4*8], b.g[:5*4*8]
	b.in, b.f, b.out = b.in[:5*8], b.f[:5*8], b.out[:5*4*8]
	b.dx, b.df = b.dx[:5*4*8], b.df[:5*8]
	if err := b.step(); err != nil {
		t.Fatal(err)
	}
	if got, w := b.l.GradNorm(), want(b.g); math.Abs(got-w) > gradNormTol*w {
		t.Errorf("5 tokens after 100: GradNorm %v, want ‖dout‖ = %v", got, w)
	}
}

// TestPostOverflow (issue 19, point 8): finite streams and branch output
// whose mix overflows give a Post error wrapping ErrNotFinite (Post
// returned nil and wrote +Inf before). Updated in place, the streams are
// restored bit for bit; the Layer keeps its batch, so a later Post works;
// outputs near the float64 range that do not overflow are written as
// usual.
func TestPostOverflow(t *testing.T) {
	m, err := hc.New(hc.Config{N: 2, C: 3})
	if err != nil {
		t.Fatal(err)
	}
	l := hc.NewLayer(m)
	orig := []float64{1e308, 1, 2, 3, 4, 5}
	x := slices.Clone(orig)
	in := make([]float64, 3)
	if err := l.Pre(in, x, 1); err != nil {
		t.Fatal(err)
	}
	// h_post = B = 1 on both streams at init: 1e308 + 1e308 overflows.
	err = l.Post(x, []float64{1e308, 0, 0})
	if !errors.Is(err, hc.ErrNotFinite) {
		t.Errorf("overflowing in-place output: Post error %v, want ErrNotFinite", err)
	}
	if !slices.Equal(x, orig) {
		t.Errorf("the streams updated in place were not restored: %v", x)
	}
	// Into another buffer: the error again, dst holds the output.
	dst := make([]float64, 6)
	if err := l.Post(dst, []float64{1e308, 0, 0}); !errors.Is(err, hc.ErrNotFinite) {
		t.Errorf("overflowing output: Post error %v, want ErrNotFinite", err)
	}
	// Near the range but finite: written, no error.
	if err := l.Post(x, []float64{-1e308, 0, 0}); err != nil {
		t.Fatalf("finite output near the range: %v", err)
	}
	if x[0] != 0 || x[3] != -1e308+4 {
		t.Errorf("x = %v", x)
	}
}
