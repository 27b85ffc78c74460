package birkhoff

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/hyperconn/hyperconn/internal/logits"
)

// fixedFamilies are the logits of the ProjectFixed comparisons: the scales
// a mixer meets (σ = 1, 3, 5), its init, and ranges beyond MaxScalingRange
// (log domain).
func fixedFamilies() []logits.Family {
	return []logits.Family{gaussian(1), gaussian(3), gaussian(5), logits.NearIdentity(),
		logits.WideRange(100), logits.WideRange(2 * MaxScalingRange)}
}

// upstream returns a random upstream gradient with a few exact zeros of
// either sign, to which the backward's sums starting from +0 are sensitive:
// one time in eight it is all −0, whose gradient is −0 only if they do.
func upstream(rnd *rand.Rand, n int) []float64 {
	g := gaussian(1).Gen(rnd, n)
	if rnd.IntN(8) == 0 {
		for i := range g {
			g[i] = math.Copysign(0, -1)
		}
		return g
	}
	for i := range g {
		switch rnd.IntN(8) {
		case 0:
			g[i] = 0
		case 1:
			g[i] = math.Copysign(0, -1)
		}
	}
	if n > 1 {
		for i := 0; i < n; i++ { // a column of −0
			g[i*n+n-1] = math.Copysign(0, -1)
		}
	}
	return g
}

// sameBits reports whether a and b hold the same bits, −0 ≠ +0 and NaN = NaN.
func sameBits[F Float](a, b []F) bool {
	for i := range a {
		if math.Float64bits(float64(a[i])) != math.Float64bits(float64(b[i])) {
			return false
		}
	}
	return true
}

// TestProjectFixedBits checks that ProjectFixed and BackwardFixed compute
// the bits of Project and Backward, for many logits, several sweep counts
// and both element types, with the backward made after all the forwards.
func TestProjectFixedBits(t *testing.T) {
	testProjectFixedBits[float64](t)
	testProjectFixedBits[float32](t)
}

func testProjectFixedBits[F Float](t *testing.T) {
	const trials = 40
	rnd := rand.New(rand.NewPCG(31, 32))
	for n := 1; n <= 8; n++ {
		nn := n * n
		ref := NewWorkspace[F](n)
		fast := NewWorkspace[F](n)
		for _, sweeps := range []int{0, 1, 3} {
			opt := Options{Method: Fixed, Iterations: sweeps}
			rl := FixedRecordLen(n, sweeps)
			for _, fam := range fixedFamilies() {
				if n < fam.MinN {
					continue
				}
				name := fmt.Sprintf("F=%T/n=%d/sweeps=%d/%s", F(0), n, sweeps, fam.Name)
				z := make([]F, trials*nn)
				g := make([]F, trials*nn)
				rec := make([]float64, trials*rl)
				p := make([]F, trials*nn)
				for k := range trials {
					copy(z[k*nn:], toF[F](fam.Gen(rnd, n)))
					copy(g[k*nn:], toF[F](upstream(rnd, n)))
				}
				for k := range trials {
					st, err := fast.ProjectFixed(p[k*nn:(k+1)*nn], rec[k*rl:(k+1)*rl], z[k*nn:(k+1)*nn], sweeps)
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					want := make([]F, nn)
					wst, err := ref.Project(want, z[k*nn:(k+1)*nn], opt)
					if err != nil {
						t.Fatal(err)
					}
					if !sameBits(p[k*nn:(k+1)*nn], want) || st != wst {
						t.Fatalf("%s trial %d: ProjectFixed %v %+v, Project %v %+v", name, k, p[k*nn:(k+1)*nn], st, want, wst)
					}
				}
				// Backward in reverse order, interleaved with Project on the
				// reference workspace, which ProjectFixed must not disturb.
				for k := trials - 1; k >= 0; k-- {
					got := make([]F, nn)
					fast.BackwardFixed(got, g[k*nn:(k+1)*nn], rec[k*rl:(k+1)*rl])
					want := make([]F, nn)
					if _, err := ref.Project(want, z[k*nn:(k+1)*nn], opt); err != nil {
						t.Fatal(err)
					}
					ref.Backward(want, g[k*nn:(k+1)*nn])
					if !sameBits(got, want) {
						t.Fatalf("%s trial %d: BackwardFixed %v, Backward %v", name, k, got, want)
					}
				}
			}
		}
	}
}

// TestProjectFixedKeepsBackward: in the scaling domain, ProjectFixed and
// BackwardFixed leave what Backward differentiates alone.
func TestProjectFixedKeepsBackward(t *testing.T) {
	rnd := rand.New(rand.NewPCG(33, 34))
	for _, n := range []int{3, 4} {
		for _, opt := range []Options{{}, {Method: Exact}} {
			w := NewWorkspace[float64](n)
			z, z2, g := gaussian(2).Gen(rnd, n), gaussian(2).Gen(rnd, n), upstream(rnd, n)
			p := make([]float64, n*n)
			if _, err := w.Project(p, z, opt); err != nil {
				t.Fatal(err)
			}
			want := make([]float64, n*n)
			w.Backward(want, g)
			rec := make([]float64, FixedRecordLen(n, 0))
			if _, err := w.ProjectFixed(p, rec, z2, 0); err != nil {
				t.Fatal(err)
			}
			w.BackwardFixed(p, g, rec)
			got := make([]float64, n*n)
			w.Backward(got, g)
			if !sameBits(got, want) {
				t.Errorf("n=%d %v: Backward after ProjectFixed %v, before %v", n, opt.Method, got, want)
			}
		}
	}
}

func TestProjectFixedErrors(t *testing.T) {
	const n = 4
	w := NewWorkspace[float64](n)
	rec := make([]float64, FixedRecordLen(n, 0))
	dst := make([]float64, n*n)
	for i := range dst {
		dst[i] = 7
	}
	for i := range rec {
		rec[i] = 7
	}
	untouched := func(name string) {
		t.Helper()
		for _, s := range [][]float64{dst, rec} {
			for _, v := range s {
				if v != 7 {
					t.Fatalf("%s: destination written on error", name)
				}
			}
		}
	}
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		z := make([]float64, n*n)
		z[5] = bad
		if _, err := w.ProjectFixed(dst, rec, z, 0); !errors.Is(err, ErrNonFinite) {
			t.Errorf("logit %v: error %v, want ErrNonFinite", bad, err)
		}
		untouched(fmt.Sprint(bad))
	}
	z := make([]float64, n*n)
	z[0], z[1] = -1e200, 1e200
	if _, err := w.ProjectFixed(dst, rec, z, 0); !errors.Is(err, ErrNonFinite) {
		t.Errorf("range 2e200: error %v, want ErrNonFinite", err)
	}
	untouched("range")
	if _, err := w.ProjectFixed(dst, rec, make([]float64, n*n), -1); !errors.Is(err, ErrMethod) {
		t.Errorf("sweeps −1: error %v, want ErrMethod", err)
	}
	untouched("sweeps")

	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if r := recover(); r != ErrShape {
				t.Errorf("%s: recovered %v, want ErrShape", name, r)
			}
		}()
		f()
	}
	zero := make([]float64, n*n)
	mustPanic("short record", func() { _, _ = w.ProjectFixed(dst, rec[1:], zero, 0) })
	mustPanic("record of other sweeps", func() { _, _ = w.ProjectFixed(dst, rec, zero, 3) })
	mustPanic("short dst", func() { _, _ = w.ProjectFixed(dst[1:], rec, zero, 0) })
	mustPanic("backward short record", func() { w.BackwardFixed(dst, zero, rec[:17]) })
	mustPanic("backward odd record", func() { w.BackwardFixed(dst, zero, rec[1:]) })
	bad := make([]float64, len(rec))
	bad[0] = 2
	mustPanic("backward foreign record", func() { w.BackwardFixed(dst, zero, bad) })
	mustPanic("FixedRecordLen n = 0", func() { FixedRecordLen(0, 0) })
	mustPanic("FixedRecordLen sweeps < 0", func() { FixedRecordLen(4, -1) })
}

func TestProjectFixedAllocs(t *testing.T) {
	rnd := rand.New(rand.NewPCG(35, 36))
	for _, n := range []int{4, 5} {
		for _, fam := range []logits.Family{gaussian(2), logits.WideRange(2 * MaxScalingRange)} {
			w := NewWorkspace[float64](n)
			z, g := fam.Gen(rnd, n), gaussian(1).Gen(rnd, n)
			p, dz := make([]float64, n*n), make([]float64, n*n)
			rec := make([]float64, FixedRecordLen(n, 0))
			if _, err := w.ProjectFixed(p, rec, z, 0); err != nil {
				t.Fatal(err)
			}
			w.BackwardFixed(dz, g, rec)
			allocs := testing.AllocsPerRun(20, func() {
				_, _ = w.ProjectFixed(p, rec, z, 0)
				w.BackwardFixed(dz, g, rec)
			})
			if allocs != 0 {
				t.Errorf("n=%d %s: %v allocs per ProjectFixed+BackwardFixed, want 0", n, fam.Name, allocs)
			}
		}
	}
}

// BenchmarkFixedRecord times what a mixer pays per token and training step
// for Fixed-20 at the mHC init and at N(0,1) logits: mode=recompute is
// Project in the forward, then Project again and Backward in the backward
// (the workspace holds one matrix's sweeps); mode=record is ProjectFixed and
// BackwardFixed.
func BenchmarkFixedRecord(b *testing.B) {
	for _, n := range []int{4, 8} {
		for _, in := range []string{"init", "normal"} {
			z := benchInputs(n)[in]
			g := gaussian(1).Gen(rand.New(rand.NewPCG(19, 20)), n)
			p := make([]float64, n*n)
			dz := make([]float64, n*n)
			b.Run(fmt.Sprintf("mode=recompute/n=%d/in=%s", n, in), func(b *testing.B) {
				w := NewWorkspace[float64](n)
				for b.Loop() {
					_, _ = w.Project(p, z, Options{})
					_, _ = w.Project(dz, z, Options{})
					w.Backward(dz, g)
				}
			})
			b.Run(fmt.Sprintf("mode=record/n=%d/in=%s", n, in), func(b *testing.B) {
				w := NewWorkspace[float64](n)
				rec := make([]float64, FixedRecordLen(n, 0))
				for b.Loop() {
					_, _ = w.ProjectFixed(p, rec, z, 0)
					w.BackwardFixed(dz, g, rec)
				}
			})
		}
	}
}

// TestFixed4Twins checks the n = 4 kernels against their pure-Go twins bit
// for bit (on a CPU without AVX2, or with -tags purego, both sides are the
// twins).
func TestFixed4Twins(t *testing.T) {
	t.Logf("useAVX2 = %v", useAVX2)
	rnd := rand.New(rand.NewPCG(37, 38))
	for _, sweeps := range []int{1, 2, 20} {
		for _, fam := range fixedFamilies()[:5] {
			for trial := 0; trial < 50; trial++ {
				var z, a, b [16]float64
				copy(z[:], fam.Gen(rnd, 4))
				rl := FixedRecordLen(4, sweeps)
				ra, rb := make([]float64, rl), make([]float64, rl)
				hist := make([]float64, 16+32*sweeps)
				fixed4(&a, ra, &z)
				func() {
					defer func(old bool) { useAVX2 = old }(useAVX2)
					useAVX2 = false
					fixed4(&b, rb, &z)
				}()
				if !sameBits(a[:], b[:]) || !sameBits(ra, rb) {
					t.Fatalf("sweeps=%d %s: sweeps4 %v %v, sweeps4Go %v %v", sweeps, fam.Name, a, ra, b, rb)
				}
				var ga, gb [16]float64
				copy(ga[:], upstream(rnd, 4))
				gb = ga
				unroll4(&ga, ra, hist)
				unroll4Go(&gb, ra, hist)
				if !sameBits(ga[:], gb[:]) {
					t.Fatalf("sweeps=%d %s: unroll4 %v, unroll4Go %v", sweeps, fam.Name, ga, gb)
				}
			}
		}
	}
}

// FuzzProjectFixed drives ProjectFixed with FuzzProject's adversarial
// logits: it must return an error and leave dst and rec untouched, or
// return the bits of Project; BackwardFixed must then return those of
// Backward.
func FuzzProjectFixed(f *testing.F) {
	f.Add(uint8(3), uint8(2), 1.0, 0.0, 0.0, 0.0, uint64(1))
	f.Add(uint8(3), uint8(0), 5.0, 1e3, -1e3, 0.0, uint64(2))
	f.Fuzz(func(t *testing.T, nb, sb uint8, scale, a, b, c float64, seed uint64) {
		n := 1 + int(nb%8)
		sweeps := int(sb%5) - 1 // −1 is invalid
		rnd := rand.New(rand.NewPCG(seed, 99))
		z := make([]float64, n*n)
		for i := range z {
			z[i] = scale * rnd.NormFloat64()
		}
		z[0] = a
		z[len(z)/2] += b
		z[len(z)-1] = c
		const sentinel = 12345
		dst := make([]float64, n*n)
		rec := make([]float64, FixedRecordLen(n, max(sweeps, 0)))
		for _, s := range [][]float64{dst, rec} {
			for i := range s {
				s[i] = sentinel
			}
		}
		w := NewWorkspace[float64](n)
		st, err := w.ProjectFixed(dst, rec, z, sweeps)
		if err != nil {
			if !errors.Is(err, ErrNonFinite) && !errors.Is(err, ErrMethod) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			for _, s := range [][]float64{dst, rec} {
				for _, v := range s {
					if v != sentinel {
						t.Fatalf("destination touched on error %v", err)
					}
				}
			}
			return
		}
		if sweeps < 0 {
			t.Fatal("negative sweeps accepted")
		}
		ref := NewWorkspace[float64](n)
		want := make([]float64, n*n)
		wst, err := ref.Project(want, z, Options{Iterations: sweeps})
		if err != nil || wst != st || !sameBits(dst, want) {
			t.Fatalf("ProjectFixed %v %+v, Project %v %+v %v", dst, st, want, wst, err)
		}
		g := upstream(rnd, n)
		w.BackwardFixed(dst, g, rec)
		ref.Backward(want, g)
		if !sameBits(dst, want) {
			t.Fatalf("BackwardFixed %v, Backward %v", dst, want)
		}
	})
}
