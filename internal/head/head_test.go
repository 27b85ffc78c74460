package head

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/hyperconn/hyperconn/hc"
)

// fdTol bounds the relative error of the backward pass against a
// fourth-order central difference with step fdStep (truncation ~h⁴ ≈ 1e-16,
// rounding ~ε/h ≈ 1e-12 on these O(1) maps).
const (
	fdTol  = 1e-7
	fdStep = 1e-4
)

// TestInit reproduces the reference init's gates (SPEC §3.2): h_pre =
// sigmoid(±1) = 0.73106/0.26894, h_post = 2·sigmoid(±1) = 1.46212/0.53788.
func TestInit(t *testing.T) {
	h, err := New(4, 3, 16, 6) // home stream 6 mod 4 = 2
	if err != nil {
		t.Fatal(err)
	}
	w := h.NewWorker()
	pre, post, raw := make([]float64, 4), make([]float64, 4), make([]float64, 16)
	x := make([]float64, 12)
	for i := range x {
		x[i] = float64(i) - 5
	}
	w.Forward(pre, post, raw, make([]float64, h.TapeLen()), x)
	for i := 0; i < 4; i++ {
		wp, wq := 0.26894, 0.53788
		if i == 2 {
			wp, wq = 0.73106, 1.46212
		}
		if math.Abs(pre[i]-wp) > 5e-6 || math.Abs(post[i]-wq) > 5e-6 {
			t.Errorf("stream %d: h_pre %.6f h_post %.6f, want %g %g", i, pre[i], post[i], wp, wq)
		}
	}
	for _, v := range raw {
		if v != 0 {
			t.Fatalf("raw logits %v, want 0 (φ = 0 at init)", raw)
		}
	}
}

// TestBackward checks ∂L/∂x and every parameter's gradient of
// L = ⟨G_pre, h_pre⟩ + ⟨G_post, h_post⟩ + ⟨G_raw, raw⟩ against central
// differences, with random G and parameters off the init.
func TestBackward(t *testing.T) {
	const n, c, k = 3, 4, 5
	rnd := rand.New(rand.NewPCG(1, 2))
	h, err := New(n, c, k, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range h.Params() {
		for i := range p.Value {
			p.Value[i] += 0.5 * rnd.NormFloat64()
		}
	}
	randv := func(m int) []float64 {
		v := make([]float64, m)
		for i := range v {
			v[i] = rnd.NormFloat64()
		}
		return v
	}
	x, gp, gq, gr := randv(n*c), randv(n), randv(n), randv(k)
	loss := func() float64 {
		w := h.NewWorker()
		pre, post, raw := make([]float64, n), make([]float64, n), make([]float64, k)
		w.Forward(pre, post, raw, make([]float64, h.TapeLen()), x)
		var s float64
		for i := range pre {
			s += gp[i]*pre[i] + gq[i]*post[i]
		}
		for i := range raw {
			s += gr[i] * raw[i]
		}
		return s
	}
	w := h.NewWorker()
	tape := make([]float64, h.TapeLen())
	w.Forward(make([]float64, n), make([]float64, n), make([]float64, k), tape, x)
	dx := make([]float64, n*c)
	w.Backward(dx, x, tape, gp, gq, gr)
	w.Flush()

	check := func(name string, v, grad []float64) {
		for i := range v {
			at := func(d float64) float64 {
				old := v[i]
				v[i] = old + d
				defer func() { v[i] = old }()
				return loss()
			}
			fd := (8*(at(fdStep)-at(-fdStep)) - (at(2*fdStep) - at(-2*fdStep))) / (12 * fdStep)
			if math.Abs(fd-grad[i]) > fdTol*math.Max(1, math.Abs(fd)) {
				t.Errorf("%s[%d]: backward %.12g, finite difference %.12g", name, i, grad[i], fd)
			}
		}
	}
	check("x", x, dx)
	for _, p := range h.Params() {
		check(p.Name, p.Value, p.Grad)
	}
}

func TestNewErrors(t *testing.T) {
	for _, a := range [][4]int{{0, 1, 1, 0}, {1, 0, 1, 0}, {1, 1, -1, 0}, {1, 1, 1, -1}} {
		if _, err := New(a[0], a[1], a[2], a[3]); err == nil {
			t.Errorf("New%v: no error", a)
		}
	}
}

func TestAllocs(t *testing.T) {
	h, _ := New(4, 8, 16, 0)
	w := h.NewWorker()
	x := make([]float64, 32)
	pre, post, raw, tape, dx := make([]float64, 4), make([]float64, 4), make([]float64, 16), make([]float64, h.TapeLen()), make([]float64, 32)
	if a := testing.AllocsPerRun(10, func() {
		w.Forward(pre, post, raw, tape, x)
		w.Backward(dx, x, tape, pre, post, raw)
		w.Flush()
	}); a != 0 {
		t.Errorf("%v allocs per token, want 0", a)
	}
}

// float32Tol bounds the relative gap between float32 and float64 products
// in the head alone: y = x̂·Φ summed over nC = 64 float32 terms is accurate
// to a few times 1e-7 of its largest term.
const float32Tol = 1e-6

// chunkRun is one worker's forward and backward pass over a chunk.
type chunkRun struct {
	pre, post, tape, dx []float64
	grads               [][]float64
}

// runChunk runs w over tokens tokens of x with upstream gradients gp, gq,
// gr and flushes it into h's zeroed gradients.
func runChunk(h *Head, w *Worker, x, gp, gq, gr []float64, tokens int) chunkRun {
	n, tl := h.n, h.TapeLen()
	r := chunkRun{pre: make([]float64, tokens*n), post: make([]float64, tokens*n),
		tape: make([]float64, tokens*tl), dx: make([]float64, len(x))}
	w.ForwardChunk(r.pre, r.post, r.tape, tl, x, tokens)
	w.BackwardChunk(r.dx, x, r.tape, tl, gp, gq, gr, tokens)
	for _, p := range h.Params() {
		clear(p.Grad)
	}
	w.Flush()
	for _, p := range h.Params() {
		r.grads = append(r.grads, append([]float64(nil), p.Grad...))
	}
	return r
}

// randomHead returns New(n, c, k, layer) with its parameters perturbed by
// N(0, 0.25) draws, and a function drawing standard normal vectors from the
// same seeded generator.
func randomHead(t *testing.T, n, c, k, layer int, seed uint64) (*Head, func(int) []float64) {
	t.Helper()
	rnd := rand.New(rand.NewPCG(seed, seed+1))
	h, err := New(n, c, k, layer)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range h.Params() {
		for i := range p.Value {
			p.Value[i] += 0.5 * rnd.NormFloat64()
		}
	}
	return h, func(m int) []float64 {
		v := make([]float64, m)
		for i := range v {
			v[i] = rnd.NormFloat64()
		}
		return v
	}
}

// TestFloat32Products checks SetFloat32Products: the results agree with
// float64 products within float32Tol; turned off again, they are
// bit-identical to a head that never had it on; a backward pass whose
// chunk is no longer in the worker's float32 scratch (another chunk was
// forwarded since) rounds X and Φ again and gives, bit for bit, what a
// fresh worker gives; several chunks between Flushes add up.
func TestFloat32Products(t *testing.T) {
	const n, c, k, tokens = 4, 16, 16, 9
	h, randv := randomHead(t, n, c, k, 1, 3)
	x, x2 := randv(tokens*n*c), randv(tokens*n*c)
	gp, gq, gr := randv(tokens*n), randv(tokens*n), randv(tokens*k)

	r64 := runChunk(h, h.NewWorker(), x, gp, gq, gr, tokens)
	h.SetFloat32Products(true)
	w := h.NewWorker()
	r32 := runChunk(h, w, x, gp, gq, gr, tokens)
	pairs := [][2][]float64{{r32.pre, r64.pre}, {r32.post, r64.post}, {r32.dx, r64.dx}}
	for i := range r32.grads {
		pairs = append(pairs, [2][]float64{r32.grads[i], r64.grads[i]})
	}
	for i, p := range pairs {
		var d, s float64
		for j := range p[0] {
			d = math.Max(d, math.Abs(p[0][j]-p[1][j]))
			s = math.Max(s, math.Abs(p[1][j]))
		}
		if d > float32Tol*s || d == 0 && i == 2 {
			t.Errorf("result %d: float32 products differ from float64 by %.3g, scale %.3g", i, d, s)
		}
	}

	// Forward x2 on w, then backward x's chunk from a tape recorded by
	// another worker: w must round x and Φ again.
	other := h.NewWorker()
	tl := h.TapeLen()
	tape := make([]float64, tokens*tl)
	other.ForwardChunk(make([]float64, tokens*n), make([]float64, tokens*n), tape, tl, x, tokens)
	w.ForwardChunk(make([]float64, tokens*n), make([]float64, tokens*n), make([]float64, tokens*tl), tl, x2, tokens)
	dx := make([]float64, len(x))
	w.BackwardChunk(dx, x, tape, tl, gp, gq, gr, tokens)
	for _, p := range h.Params() {
		clear(p.Grad)
	}
	w.Flush()
	if !bitsEqual(dx, r32.dx) || !bitsEqual(h.Phi.Grad, r32.grads[0]) {
		t.Error("a backward pass after another chunk's forward differs from a fresh worker's")
	}

	// Two chunks before one Flush: the gradients are the sum of both.
	for _, p := range h.Params() {
		clear(p.Grad)
	}
	r2 := runChunk(h, h.NewWorker(), x2, gp, gq, gr, tokens)
	ws := h.NewWorker()
	for _, xs := range [][]float64{x, x2} {
		tape := make([]float64, tokens*tl)
		ws.ForwardChunk(make([]float64, tokens*n), make([]float64, tokens*n), tape, tl, xs, tokens)
		ws.BackwardChunk(make([]float64, len(xs)), xs, tape, tl, gp, gq, gr, tokens)
	}
	for _, p := range h.Params() {
		clear(p.Grad)
	}
	ws.Flush()
	for i, p := range h.Params() {
		for j, v := range p.Grad {
			if want := r32.grads[i][j] + r2.grads[i][j]; math.Abs(v-want) > 1e-14*math.Max(1, math.Abs(want)) {
				t.Fatalf("two chunks: gradient of %s[%d] = %v, want %v", p.Name, j, v, want)
			}
		}
	}

	h.SetFloat32Products(false)
	again := runChunk(h, w, x, gp, gq, gr, tokens)
	for i, p := range [][2][]float64{{again.pre, r64.pre}, {again.post, r64.post}, {again.tape, r64.tape}, {again.dx, r64.dx}} {
		if !bitsEqual(p[0], p[1]) {
			t.Errorf("result %d: float64 products after float32 ones are not bit-identical", i)
		}
	}
	for i := range again.grads {
		if !bitsEqual(again.grads[i], r64.grads[i]) {
			t.Errorf("gradient %d: float64 products after float32 ones are not bit-identical", i)
		}
	}
}

func bitsEqual(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

// TestAllocsFloat32 checks that a steady-state chunk with float32 products
// allocates nothing, whether or not its float32 scratch is reused.
func TestAllocsFloat32(t *testing.T) {
	const n, c, k, tokens = 4, 8, 16, 5
	h, _ := New(n, c, k, 0)
	h.SetFloat32Products(true)
	w := h.NewWorker()
	tl := h.TapeLen()
	x := make([]float64, tokens*n*c)
	pre, post, raw, tape, dx := make([]float64, tokens*n), make([]float64, tokens*n), make([]float64, tokens*k), make([]float64, tokens*tl), make([]float64, tokens*n*c)
	step := func() {
		w.ForwardChunk(pre, post, tape, tl, x, tokens)
		w.BackwardChunk(dx, x, tape, tl, pre, post, raw, tokens)
		w.BackwardChunk(dx, x, tape, tl, pre, post, raw, tokens) // scratch no longer holds X
		w.Flush()
	}
	step()
	if a := testing.AllocsPerRun(10, step); a != 0 {
		t.Errorf("%v allocs per chunk, want 0", a)
	}
}

// TestFloat32Storage checks SetFloat32Storage: with Φ held in float32 (its
// value the rounding of Phi.Value), a chunk's coefficients, tape and ∂x are
// bit-identical to those of float32 products on the float64 Φ, and its ∂Φ,
// added into the float32 gradient, equals theirs rounded; Phi.Value and
// Phi.Grad are left alone; two chunks before a Flush add up (in float32);
// the head reads the float32 value as it is at each chunk; detaching
// (explicitly or by turning float32 products off) widens it back into
// Phi.Value; bad calls give errors and change nothing.
func TestFloat32Storage(t *testing.T) {
	const n, c, k, tokens = 4, 16, 16, 9
	h, randv := randomHead(t, n, c, k, 2, 5)
	x, x2 := randv(tokens*n*c), randv(tokens*n*c)
	gp, gq, gr := randv(tokens*n), randv(tokens*n), randv(tokens*k)
	phi := h.Phi
	v32, g32 := make([]float32, len(phi.Value)), make([]float32, len(phi.Value))
	for i, v := range phi.Value {
		v32[i] = float32(v)
	}

	if err := h.SetFloat32Storage(phi, v32, g32); err == nil {
		t.Error("float32 storage accepted with float64 products")
	}
	h.SetFloat32Products(true)
	ref := runChunk(h, h.NewWorker(), x, gp, gq, gr, tokens)
	for _, bad := range []struct {
		name   string
		p      *hc.Param
		v, g   []float32
		wanted string
	}{
		{"another parameter", h.Gates, v32, g32, "cannot be held"},
		{"nil parameter", nil, v32, g32, "cannot be held"},
		{"short value", phi, v32[1:], g32, "len(value)"},
		{"short gradient", phi, v32, g32[1:], "len(grad)"},
	} {
		if err := h.SetFloat32Storage(bad.p, bad.v, bad.g); err == nil || !strings.Contains(err.Error(), bad.wanted) {
			t.Errorf("%s: error %v, want one containing %q", bad.name, err, bad.wanted)
		}
	}
	if h.v32 != nil {
		t.Fatal("a refused call attached the storage")
	}
	if err := h.SetFloat32Storage(phi, v32, g32); err != nil {
		t.Fatal(err)
	}
	value0 := append([]float64(nil), phi.Value...)
	for i := range phi.Grad {
		phi.Grad[i] = 7 // must stay untouched
	}
	w := h.NewWorker()
	tl := h.TapeLen()
	run := func(w *Worker, xs []float64) chunkRun {
		r := chunkRun{pre: make([]float64, tokens*n), post: make([]float64, tokens*n),
			tape: make([]float64, tokens*tl), dx: make([]float64, len(xs))}
		w.ForwardChunk(r.pre, r.post, r.tape, tl, xs, tokens)
		w.BackwardChunk(r.dx, xs, r.tape, tl, gp, gq, gr, tokens)
		return r
	}
	got := run(w, x)
	w.Flush()
	for i, p := range [][2][]float64{{got.pre, ref.pre}, {got.post, ref.post}, {got.dx, ref.dx}} {
		if !bitsEqual(p[0], p[1]) {
			t.Errorf("result %d: float32 storage differs from float32 products", i)
		}
	}
	for i := range got.tape { // the stamps (every TapeLen-th value) differ
		if (i+1)%tl != 0 && math.Float64bits(got.tape[i]) != math.Float64bits(ref.tape[i]) {
			t.Fatalf("tape[%d] = %v, want %v", i, got.tape[i], ref.tape[i])
		}
	}
	for i, g := range g32 {
		if g != float32(ref.grads[0][i]) {
			t.Fatalf("float32 ∂Φ[%d] = %v, want %v", i, g, float32(ref.grads[0][i]))
		}
	}
	if !bitsEqual(phi.Value, value0) {
		t.Error("Phi.Value changed under float32 storage")
	}
	for _, g := range phi.Grad {
		if g != 7 {
			t.Fatal("Phi.Grad written under float32 storage")
		}
	}

	// Two chunks before one Flush add up, in float32.
	clear(g32)
	run(w, x)
	run(w, x2)
	w.Flush()
	one := make([]float32, len(g32))
	copy(one, g32)
	clear(g32)
	w2 := h.NewWorker()
	run(w2, x2)
	w2.Flush()
	for i := range g32 {
		want := float64(float32(ref.grads[0][i])) + float64(g32[i])
		if d := math.Abs(float64(one[i]) - want); d > 1e-6*(math.Abs(want)+1) {
			t.Fatalf("two chunks: ∂Φ[%d] = %v, want %v", i, one[i], want)
		}
	}

	// The next chunk reads the float32 value as it is now: its results
	// are, bit for bit, those of float32 products on a float64 Φ equal to
	// it, also for a chunk whose backward pass comes after another chunk's
	// forward pass (so the worker's float32 copy of x is gone).
	for i := range v32 {
		v32[i] *= 1.5
	}
	clear(g32)
	wm := h.NewWorker()
	moved := run(wm, x)
	wm.Flush()
	dphi := slices.Clone(g32)
	blank := func() chunkRun {
		return chunkRun{pre: make([]float64, tokens*n), post: make([]float64, tokens*n),
			tape: make([]float64, tokens*tl), dx: make([]float64, len(x))}
	}
	a, b := blank(), blank()
	wi := h.NewWorker()
	wi.ForwardChunk(a.pre, a.post, a.tape, tl, x, tokens)
	wi.ForwardChunk(b.pre, b.post, b.tape, tl, x2, tokens)
	wi.BackwardChunk(a.dx, x, a.tape, tl, gp, gq, gr, tokens)
	wi.BackwardChunk(b.dx, x2, b.tape, tl, gp, gq, gr, tokens)
	if err := h.SetFloat32Storage(phi, nil, nil); err != nil { // Phi.Value = Φ widened
		t.Fatal(err)
	}
	want, want2 := runChunk(h, h.NewWorker(), x, gp, gq, gr, tokens), runChunk(h, h.NewWorker(), x2, gp, gq, gr, tokens)
	for i, p := range [][2][]float64{{moved.pre, want.pre}, {moved.post, want.post}, {moved.dx, want.dx},
		{a.pre, want.pre}, {a.dx, want.dx}, {b.pre, want2.pre}, {b.dx, want2.dx}} {
		if !bitsEqual(p[0], p[1]) {
			t.Errorf("changed Φ, result %d: float32 storage differs from float32 products on the same Φ", i)
		}
	}
	for i, g := range dphi {
		if g != float32(want.grads[0][i]) {
			t.Fatalf("changed Φ: float32 ∂Φ[%d] = %v, want %v", i, g, float32(want.grads[0][i]))
		}
	}
	if err := h.SetFloat32Storage(phi, v32, g32); err != nil {
		t.Fatal(err)
	}

	// Turning float32 products off detaches and widens Φ back.
	h.SetFloat32Products(false)
	if h.v32 != nil {
		t.Fatal("float32 products off left the storage attached")
	}
	for i, v := range phi.Value {
		if v != float64(v32[i]) {
			t.Fatalf("Phi.Value[%d] = %v after detaching, want %v", i, v, float64(v32[i]))
		}
	}
	// And nil slices detach too.
	h.SetFloat32Products(true)
	if err := h.SetFloat32Storage(phi, v32, g32); err != nil {
		t.Fatal(err)
	}
	v32[0] = 42
	if err := h.SetFloat32Storage(phi, nil, nil); err != nil || h.v32 != nil || phi.Value[0] != 42 {
		t.Errorf("detaching with nil slices: err %v, attached %v, Phi.Value[0] = %v", err, h.v32 != nil, phi.Value[0])
	}
}

// TestOverflowIsError checks that a token whose projection x·Φ overflows
// gets a NaN h_pre (which Layer reports as an error), in float64 and float32
// products: the sigmoids would otherwise turn the infinities into
// coefficients of 0, 1 or 2, a wrong finite answer (issue 19, point 1).
func TestOverflowIsError(t *testing.T) {
	for _, single := range []bool{false, true} {
		h, err := New(2, 3, 4, 0)
		if err != nil {
			t.Fatal(err)
		}
		h.SetFloat32Products(single)
		for i := range h.Phi.Value {
			h.Phi.Value[i] = 1e30
		}
		w := h.NewWorker()
		// 1e300·1e30 overflows float64; float32 products overflow earlier.
		x := []float64{1e300, 1e300, 1e300, 1, 2, 3}
		pre, post, raw, tape := make([]float64, 2), make([]float64, 2), make([]float64, 4), make([]float64, h.TapeLen())
		w.Forward(pre, post, raw, tape, x)
		if !math.IsNaN(pre[0]) {
			t.Errorf("float32 products %v: x·Φ overflows, h_pre = %v, want a NaN", single, pre)
		}
	}
}
