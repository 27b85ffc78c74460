package mixertest

import (
	"errors"
	"math"
	"runtime"
	"slices"
	"testing"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/gemm"
)

// shapes checks the mixer's declared shapes and the Layer's length checks.
func (s *suite) shapes(t *testing.T) {
	m := s.mixer(t, 1)
	if n, c := m.Shape(); n != s.n || c != s.C {
		t.Fatalf("Shape() = (%d, %d), want (%d, %d)", n, c, s.n, s.C)
	}
	if tl := m.TapeLen(); tl < 0 {
		t.Errorf("TapeLen() = %d < 0", tl)
	}
	seen := map[string]bool{}
	for i, p := range m.Params() {
		switch {
		case p == nil:
			t.Fatalf("Params()[%d] is nil", i)
		case p.Name == "":
			t.Errorf("Params()[%d] has no name", i)
		case seen[p.Name]:
			t.Errorf("parameter name %q used twice", p.Name)
		case len(p.Value) == 0 || len(p.Grad) != len(p.Value):
			t.Errorf("%s: len(Value) = %d, len(Grad) = %d", p.Name, len(p.Value), len(p.Grad))
		case slices.ContainsFunc(p.Grad, func(v float64) bool { return v != 0 }):
			t.Errorf("%s: Grad is not zero after New", p.Name)
		}
		seen[p.Name] = true
	}

	const tokens = 3
	l := hc.NewLayer(m)
	fx := newFixture(s.rng("shapes"), s.n, s.C, tokens)
	if err := fx.step(l); err != nil {
		t.Fatalf("step: %v", err)
	}
	pre, post, res := l.Coefficients()
	if len(pre) != tokens*s.n || len(post) != tokens*s.n || len(res) != tokens*s.n*s.n {
		t.Errorf("Coefficients lengths %d, %d, %d; want %d, %d, %d",
			len(pre), len(post), len(res), tokens*s.n, tokens*s.n, tokens*s.n*s.n)
	}
	short := func(v []float64) []float64 { return v[:len(v)-1] }
	mustPanic(t, hc.ErrShape, "Pre with short x", func() { _ = l.Pre(fx.in, short(fx.x), tokens) })
	mustPanic(t, hc.ErrShape, "Pre with short dst", func() { _ = l.Pre(short(fx.in), fx.x, tokens) })
	mustPanic(t, hc.ErrShape, "Post with short f", func() { _ = l.Post(fx.out, short(fx.f)) })
	mustPanic(t, hc.ErrShape, "Post with short dst", func() { _ = l.Post(short(fx.out), fx.f) })
	mustPanic(t, hc.ErrShape, "PostBackward with short dout", func() { l.PostBackward(fx.dx, fx.df, short(fx.g)) })
	mustPanic(t, hc.ErrShape, "PreBackward with short din", func() {
		l.PostBackward(fx.dx, fx.df, fx.g)
		l.PreBackward(fx.dx, short(fx.din))
	})

	// An empty batch is valid and changes no gradient.
	before := grads(m)
	if err := l.Pre(nil, nil, 0); err != nil {
		t.Fatalf("Pre of 0 tokens: %v", err)
	}
	if err := l.Post(nil, nil); err != nil {
		t.Fatalf("Post of 0 tokens: %v", err)
	}
	l.PostBackward(nil, nil, nil)
	l.PreBackward(nil, nil)
	for i, g := range grads(m) {
		if !slices.Equal(g, before[i]) {
			t.Errorf("%s: an empty batch changed the gradient", m.Params()[i].Name)
		}
	}
}

// determinism checks that results repeat bit for bit, whatever GOMAXPROCS.
func (s *suite) determinism(t *testing.T) {
	const tokens = 37 // more tokens than chunks, not a multiple of any
	base := s.mixer(t, 1)
	if s.Perturb != nil {
		s.Perturb(base, s.rng("determinism"))
	}
	run := func(procs, chunks int) (out, dx []float64, g [][]float64) {
		m := s.mixer(t, 1)
		copyParams(m, base)
		l := hc.NewLayer(m)
		if chunks > 0 {
			l.SetChunks(chunks)
		}
		fx := newFixture(s.rng("determinism data"), s.n, s.C, tokens)
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		if err := fx.step(l); err != nil {
			t.Fatalf("step: %v", err)
		}
		return fx.out, fx.dx, grads(m)
	}
	out0, dx0, g0 := run(1, 0)
	for _, procs := range []int{1, 2, 4} {
		out, dx, g := run(procs, 0)
		bitEqual(t, "output", procs, out0, out)
		bitEqual(t, "dx", procs, dx0, dx)
		for i := range g {
			bitEqual(t, "gradient of "+base.Params()[i].Name, procs, g0[i], g[i])
		}
	}
	// Another chunk count changes only the order in which parameter
	// gradients of different tokens are summed — and, on OpenBLAS, the
	// rounding of a token's own results: a chunked mixer's coefficient
	// head is one product per chunk, and OpenBLAS computes a row with a
	// micro-kernel that depends on its position in the product (gonum's
	// does not). There a token's results must agree to chunkTol.
	for _, chunks := range []int{1, 16} {
		out, dx, g := run(4, chunks)
		if gemm.Current() == gemm.OpenBLAS {
			for _, v := range [...]struct {
				name string
				a, b []float64
			}{{"output", out0, out}, {"dx", dx0, dx}} {
				if e := relErr(v.a, v.b, 0); e > chunkTol {
					t.Errorf("chunks=%d on OpenBLAS: %s differs by %.3g relative", chunks, v.name, e)
				}
			}
		} else {
			bitEqual(t, "output (chunks)", chunks, out0, out)
			bitEqual(t, "dx (chunks)", chunks, dx0, dx)
		}
		for i := range g {
			if e := relErr(g0[i], g[i], 0); e > chunkTol {
				t.Errorf("chunks=%d: gradient of %s differs by %.3g relative", chunks, base.Params()[i].Name, e)
			}
		}
	}
}

// swap checks that H_res = P permutes the streams exactly.
func (s *suite) swap(t *testing.T) {
	if s.Permute == nil {
		t.Logf("%s: no Permute hook: H_res cannot equal a permutation matrix exactly; exact stream swap not checked", s.Name)
		return
	}
	n := s.n
	rnd := s.rng("swap")
	ident := make([]int, n)
	rev := make([]int, n)
	shift := make([]int, n)
	for i := range n {
		ident[i], rev[i], shift[i] = i, n-1-i, (i+1)%n
	}
	const tokens = 5
	checked := 0
	for _, perm := range [][]int{ident, rev, shift, rnd.Perm(n)} {
		m := s.mixer(t, 1)
		if !s.Permute(m, perm) {
			t.Logf("%s: Permute cannot reach P = %v exactly; not checked", s.Name, perm)
			continue
		}
		checked++
		l := hc.NewLayer(m)
		fx := newFixture(rnd, n, s.C, tokens)
		if err := l.Pre(fx.in, fx.x, tokens); err != nil {
			t.Fatalf("Pre: %v", err)
		}
		_, _, res := l.Coefficients()
		for tok := range tokens {
			for i := range n {
				for j := range n {
					want := 0.0
					if j == perm[i] {
						want = 1
					}
					if got := res[(tok*n+i)*n+j]; got != want {
						t.Fatalf("perm %v token %d: H_res[%d][%d] = %v, want %v", perm, tok, i, j, got, want)
					}
				}
			}
		}
		if err := l.Post(fx.out, make([]float64, tokens*s.C)); err != nil {
			t.Fatalf("Post: %v", err)
		}
		for tok := range tokens {
			for i := range n {
				got := fx.out[(tok*n+i)*s.C : (tok*n+i+1)*s.C]
				want := fx.x[(tok*n+perm[i])*s.C : (tok*n+perm[i]+1)*s.C]
				if !bitsEqual(got, want) {
					t.Fatalf("perm %v token %d: output stream %d = %v, want input stream %d = %v",
						perm, tok, i, got, perm[i], want)
				}
			}
		}
	}
	if checked == 0 {
		t.Logf("%s: no permutation was reachable; exact stream swap not checked", s.Name)
	}
}

// plain checks bit-exact equality with a plain residual network.
func (s *suite) plain(t *testing.T) {
	if s.Plain == nil {
		t.Logf("%s: no Plain hook: no setting reproduces a plain residual network; not checked", s.Name)
		return
	}
	const (
		layers = 4
		tokens = 5
	)
	n, c := s.n, s.C
	rnd := s.rng("plain")
	emb := normal(rnd, tokens*c, 1)
	x := make([]float64, tokens*n*c)
	hc.Expand(x, emb, tokens, n, c)
	h := slices.Clone(emb)
	in := make([]float64, tokens*c)
	f := make([]float64, tokens*c)
	for k := range layers {
		w := normal(rnd, c*c, 1/math.Sqrt(float64(c)))
		m, err := s.Plain(n, c, k)
		if err != nil {
			t.Fatalf("Plain(%d, %d, %d): %v", n, c, k, err)
		}
		l := hc.NewLayer(m)
		if err := l.Pre(in, x, tokens); err != nil {
			t.Fatalf("Pre: %v", err)
		}
		branch(f, in, w, c)
		if err := l.Post(x, f); err != nil { // in place
			t.Fatalf("Post: %v", err)
		}
		branch(f, h, w, c)
		for i := range h {
			h[i] += f[i]
		}
	}
	for tok := range tokens {
		for i := range n {
			got := x[(tok*n+i)*c : (tok*n+i+1)*c]
			if want := h[tok*c : (tok+1)*c]; !bitsEqual(got, want) {
				t.Fatalf("token %d stream %d after %d layers = %v, want the plain residual's %v", tok, i, layers, got, want)
			}
		}
	}
}

// gradients checks that every parameter entry receives a gradient.
func (s *suite) gradients(t *testing.T) {
	rnd := s.rng("gradients")
	zeros := func(m hc.Mixer) (names []string) {
		for _, p := range m.Params() {
			for k, g := range p.Grad {
				if g == 0 || math.IsNaN(g) || math.IsInf(g, 0) {
					names = append(names, p.Name+"["+itoa(k)+"]="+ftoa(g))
				}
			}
		}
		return names
	}
	step := func(m hc.Mixer) {
		fx := newFixture(rnd, s.n, s.C, 7)
		if err := fx.step(hc.NewLayer(m)); err != nil {
			t.Fatalf("step: %v", err)
		}
	}
	m := s.mixer(t, 1)
	step(m)
	bad := zeros(m)
	if s.Perturb == nil {
		if len(bad) > 0 {
			t.Errorf("zero or non-finite gradients at the default init: %v", head(bad))
		}
		return
	}
	t.Logf("%s: at the default init %d gradient entries are zero or non-finite: %v", s.Name, len(bad), head(bad))
	m = s.mixer(t, 1)
	s.Perturb(m, rnd)
	t.Logf("%s: Perturb applied, then every gradient entry must be non-zero", s.Name)
	step(m)
	if bad := zeros(m); len(bad) > 0 {
		t.Errorf("zero or non-finite gradients after Perturb: %v", head(bad))
	}
}

// nonfinite checks that NaN and ±Inf are reported, never written.
func (s *suite) nonfinite(t *testing.T) {
	const tokens = 4
	m := s.mixer(t, 1)
	l := hc.NewLayer(m)
	fx := newFixture(s.rng("nonfinite"), s.n, s.C, tokens)
	sentinel := func(v []float64) []float64 {
		for i := range v {
			v[i] = 42
		}
		return v
	}
	untouched := func(v []float64) bool {
		return !slices.ContainsFunc(v, func(e float64) bool { return e != 42 })
	}
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		for _, pos := range []int{0, len(fx.x) / 2, len(fx.x) - 1} {
			x := slices.Clone(fx.x)
			x[pos] = bad
			dst := sentinel(make([]float64, tokens*s.C))
			err := l.Pre(dst, x, tokens)
			if !errors.Is(err, hc.ErrNotFinite) {
				t.Errorf("Pre with x[%d] = %v: error %v, want one wrapping hc.ErrNotFinite", pos, bad, err)
			}
			if !untouched(dst) {
				t.Errorf("Pre with x[%d] = %v wrote into dst", pos, bad)
			}
		}
		if err := l.Pre(fx.in, fx.x, tokens); err != nil {
			t.Fatalf("Pre: %v", err)
		}
		f := slices.Clone(fx.in)
		f[len(f)-1] = bad
		dst := sentinel(make([]float64, tokens*s.n*s.C))
		if err := l.Post(dst, f); !errors.Is(err, hc.ErrNotFinite) {
			t.Errorf("Post with f = %v: error %v, want one wrapping hc.ErrNotFinite", bad, err)
		}
		if !untouched(dst) {
			t.Errorf("Post with f = %v wrote into dst", bad)
		}
	}
	for _, p := range m.Params() {
		old := p.Value[0]
		p.Value[0] = math.NaN()
		dst := sentinel(make([]float64, tokens*s.C))
		err := l.Pre(dst, fx.x, tokens)
		p.Value[0] = old
		if err == nil {
			t.Errorf("Pre with %s[0] = NaN returned no error", p.Name)
		}
		if !untouched(dst) {
			t.Errorf("Pre with %s[0] = NaN wrote into dst", p.Name)
		}
	}
}

// far checks the case's guarantee per token and on a 64-layer composite.
func (s *suite) far(t *testing.T) {
	if s.Guarantee == nil {
		t.Logf("%s: no Guarantee hook: this case promises no per-token bound; guarantee checks not applicable", s.Name)
		return
	}
	const tokens = 16
	n := s.n
	rnd := s.rng("far")
	m := s.mixer(t, 1)
	l := hc.NewLayer(m)
	fx := newFixture(rnd, n, s.C, tokens)
	check := func(when string) []float64 {
		if err := l.Pre(fx.in, fx.x, tokens); err != nil {
			t.Fatalf("Pre %s: %v", when, err)
		}
		_, _, res := l.Coefficients()
		worst := 0.0
		for tok := range tokens {
			d := s.Guarantee(res[tok*n*n:(tok+1)*n*n], n)
			if !(d <= s.Tol) {
				t.Errorf("%s, token %d: guarantee deviation %.3g > %.3g", when, tok, d, s.Tol)
			}
			worst = max(worst, d)
		}
		t.Logf("%s: %s: worst per-token guarantee deviation %.3g (tolerance %.3g)", s.Name, when, worst, s.Tol)
		return slices.Clone(res)
	}
	res0 := check("at init")
	if s.Far == nil {
		t.Logf("%s: no Far hook: guarantee checked at init only", s.Name)
		return
	}
	s.Far(m, rnd)
	res1 := check("after Far")
	if moved := maxAbsDiff(res0, res1); n >= 2 && !(moved >= farMove) {
		t.Errorf("Far moved H_res by at most %.3g, want ≥ %.3g", moved, farMove)
	}

	const layers = 64
	prod := make([]float64, n*n)
	tmp := make([]float64, n*n)
	for i := range n {
		prod[i*n+i] = 1
	}
	in := make([]float64, s.C)
	for k := range layers {
		m := s.mixer(t, k)
		s.Far(m, rnd)
		l := hc.NewLayer(m)
		if err := l.Pre(in, normal(rnd, n*s.C, 1), 1); err != nil {
			t.Fatalf("layer %d: Pre: %v", k, err)
		}
		_, _, h := l.Coefficients()
		MulTo(tmp, h, prod, n)
		prod, tmp = tmp, prod
	}
	d := s.Guarantee(prod, n)
	if !(d <= s.CompositeTol) {
		t.Errorf("product of %d layers: guarantee deviation %.3g > %.3g", layers, d, s.CompositeTol)
	}
	t.Logf("%s: product of %d layers: guarantee deviation %.3g (tolerance %.3g)", s.Name, layers, d, s.CompositeTol)
}

// allocs checks that a steady-state training step allocates nothing.
func (s *suite) allocs(t *testing.T) {
	m := s.mixer(t, 1)
	l := hc.NewLayer(m)
	fx := newFixture(s.rng("allocs"), s.n, s.C, 16)
	if err := fx.step(l); err != nil { // warm up: buffers grow here
		t.Fatalf("step: %v", err)
	}
	var err error
	a := testing.AllocsPerRun(10, func() { err = fx.step(l) })
	if err != nil {
		t.Fatalf("step: %v", err)
	}
	if a != 0 {
		t.Errorf("a steady-state step allocates %v times, want 0", a)
	}
}

// mustPanic checks that f panics with an error wrapping want.
func mustPanic(t *testing.T, want error, what string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if err, ok := r.(error); !ok || !errors.Is(err, want) {
			t.Errorf("%s: panic value %v, want an error wrapping %v", what, r, want)
		}
	}()
	f()
}
