package birkhoff

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// quadCase is four matrices' logits, records and upstream gradients.
type quadCase struct {
	z, g, p, dz [4][]float64
	rec         [4][]float64
}

func newQuadCase(rnd *rand.Rand, sweeps int, logDomain bool) *quadCase {
	fams := fixedFamilies()
	q := new(quadCase)
	for l := range 4 {
		f := fams[rnd.IntN(5)] // scaling domain
		if logDomain && l == 2 {
			f = fams[5]
		}
		q.z[l], q.g[l] = f.Gen(rnd, 4), upstream(rnd, 4)
		q.p[l], q.dz[l] = make([]float64, 16), make([]float64, 16)
		q.rec[l] = make([]float64, FixedRecordLen(4, sweeps))
	}
	return q
}

// TestFixedQuadBits checks ProjectFixed4 and BackwardFixed4 against four
// ProjectFixed and BackwardFixed calls bit for bit, with the AVX2 kernels
// and their twins, in the scaling domain and with a matrix in the log
// domain (which takes the per-matrix path).
func TestFixedQuadBits(t *testing.T) {
	rnd := rand.New(rand.NewPCG(51, 52))
	for _, avx := range []bool{useAVX2, false} {
		func() {
			defer func(old bool) { useAVX2 = old }(useAVX2)
			useAVX2 = avx
			for _, sweeps := range []int{0, 1, 2, 7} {
				for trial := 0; trial < 60; trial++ {
					q := newQuadCase(rnd, sweeps, trial%10 == 9)
					w, ref := NewWorkspace[float64](4), NewWorkspace[float64](4)
					st, k, err := w.ProjectFixed4(q.p, q.rec, q.z, sweeps)
					if err != nil || k != 4 {
						t.Fatalf("ProjectFixed4: %d, %v", k, err)
					}
					for l := range 4 {
						p, rec := make([]float64, 16), make([]float64, len(q.rec[l]))
						wst, err := ref.ProjectFixed(p, rec, q.z[l], sweeps)
						if err != nil || wst != st[l] || !sameBits(p, q.p[l]) || !sameBits(rec, q.rec[l]) {
							t.Fatalf("avx=%v sweeps=%d matrix %d: ProjectFixed4 %v %+v, ProjectFixed %v %+v %v",
								avx, sweeps, l, q.p[l], st[l], p, wst, err)
						}
					}
					dst := q.dz
					if trial%2 == 1 {
						dst = q.g // in place
					}
					var want [4][]float64
					for l := range 4 {
						want[l] = make([]float64, 16)
						ref.BackwardFixed(want[l], q.g[l], q.rec[l])
					}
					w.BackwardFixed4(dst, q.g, q.rec)
					for l := range 4 {
						if !sameBits(dst[l], want[l]) {
							t.Fatalf("avx=%v sweeps=%d matrix %d: BackwardFixed4 %v, BackwardFixed %v", avx, sweeps, l, dst[l], want[l])
						}
					}
				}
			}
		}()
	}
}

// TestFixedQuadOther checks the per-matrix fallback of ProjectFixed4 and
// BackwardFixed4 at n ≠ 4 and in float32, and the error of a bad matrix.
func TestFixedQuadOther(t *testing.T) {
	rnd := rand.New(rand.NewPCG(53, 54))
	for _, n := range []int{3, 5} {
		w, ref := NewWorkspace[float64](n), NewWorkspace[float64](n)
		var z, p, g, rec [4][]float64
		for l := range 4 {
			z[l], g[l], p[l] = gaussian(2).Gen(rnd, n), upstream(rnd, n), make([]float64, n*n)
			rec[l] = make([]float64, FixedRecordLen(n, 0))
		}
		if _, _, err := w.ProjectFixed4(p, rec, z, 0); err != nil {
			t.Fatal(err)
		}
		w.BackwardFixed4(p, g, rec)
		for l := range 4 {
			want := make([]float64, n*n)
			r := make([]float64, len(rec[l]))
			if _, err := ref.ProjectFixed(want, r, z[l], 0); err != nil {
				t.Fatal(err)
			}
			ref.BackwardFixed(want, g[l], r)
			if !sameBits(p[l], want) {
				t.Fatalf("n=%d matrix %d: %v, want %v", n, l, p[l], want)
			}
		}
	}
	w32 := NewWorkspace[float32](4)
	var z32, p32 [4][]float32
	var rec [4][]float64
	for l := range 4 {
		z32[l], p32[l] = make([]float32, 16), make([]float32, 16)
		for i := range z32[l] {
			z32[l][i] = float32(rnd.NormFloat64())
		}
		rec[l] = make([]float64, FixedRecordLen(4, 0))
	}
	if _, k, err := w32.ProjectFixed4(p32, rec, z32, 0); err != nil || k != 4 {
		t.Fatal(k, err)
	}
	w32.BackwardFixed4(p32, p32, rec)

	q := newQuadCase(rnd, 0, false)
	q.z[2][5] = math.NaN()
	const sentinel = 12345
	for _, s := range [][]float64{q.p[2], q.p[3], q.rec[2], q.rec[3]} {
		for i := range s {
			s[i] = sentinel
		}
	}
	w := NewWorkspace[float64](4)
	if _, k, err := w.ProjectFixed4(q.p, q.rec, q.z, 0); k != 2 || !errors.Is(err, ErrNonFinite) {
		t.Fatalf("NaN in matrix 2: %d, %v", k, err)
	}
	for _, s := range [][]float64{q.p[2], q.p[3], q.rec[2], q.rec[3]} {
		for _, v := range s {
			if v != sentinel {
				t.Fatal("matrix after the error touched")
			}
		}
	}
	if _, k, err := w.ProjectFixed4(q.p, q.rec, q.z, -1); k != 0 || !errors.Is(err, ErrMethod) {
		t.Fatalf("negative sweeps: %d, %v", k, err)
	}
}

// TestFixedQuadTwins checks the four-matrix kernels against their pure-Go
// twins bit for bit.
func TestFixedQuadTwins(t *testing.T) {
	t.Logf("useAVX2 = %v", useAVX2)
	rnd := rand.New(rand.NewPCG(55, 56))
	for _, sweeps := range []int{1, 2, 20} {
		for trial := 0; trial < 100; trial++ {
			q := newQuadCase(rnd, sweeps, false)
			var a, b [64]float64
			var fa, fb [4][]float64
			for l := range 4 {
				var k [16]float64
				kernel4(&k, (*[16]float64)(q.z[l]))
				for e, v := range k {
					a[4*e+l] = v
				}
				q.rec[l][0] = recScaling
				copy(q.rec[l][1:17], k[:])
				fa[l], fb[l] = q.rec[l][17:], make([]float64, 8*sweeps)
			}
			b = a
			sweepsQuad(&a, &fa)
			sweepsQuadGo(&b, &fb)
			if a != b {
				t.Fatalf("sweeps=%d: sweepsQuad %v, sweepsQuadGo %v", sweeps, a, b)
			}
			for l := range 4 {
				if !sameBits(fa[l], fb[l]) {
					t.Fatalf("sweeps=%d: factors %v, want %v", sweeps, fa[l], fb[l])
				}
			}
			for l := range 4 {
				for e, v := range q.g[l] {
					a[4*e+l] = v
				}
			}
			b = a
			hist := make([]float64, 64*(2*sweeps+1))
			unrollQuad(&a, &q.rec, hist)
			unrollQuadGo(&b, &q.rec, hist)
			if !sameBits(a[:], b[:]) {
				t.Fatalf("sweeps=%d: unrollQuad %v, unrollQuadGo %v", sweeps, a, b)
			}
		}
	}
}

func TestFixedQuadAllocs(t *testing.T) {
	rnd := rand.New(rand.NewPCG(57, 58))
	for _, logDomain := range []bool{false, true} {
		q := newQuadCase(rnd, 0, logDomain)
		w := NewWorkspace[float64](4)
		if _, _, err := w.ProjectFixed4(q.p, q.rec, q.z, 0); err != nil {
			t.Fatal(err)
		}
		w.BackwardFixed4(q.dz, q.g, q.rec)
		allocs := testing.AllocsPerRun(20, func() {
			_, _, _ = w.ProjectFixed4(q.p, q.rec, q.z, 0)
			w.BackwardFixed4(q.dz, q.g, q.rec)
		})
		if allocs != 0 {
			t.Errorf("log domain %v: %v allocs per ProjectFixed4+BackwardFixed4, want 0", logDomain, allocs)
		}
	}
}

// BenchmarkFixedQuad times four n = 4 Fixed-20 projections and their
// gradients, at the mHC init and at N(0,1) logits: mode=single is four
// ProjectFixed and BackwardFixed calls, mode=quad ProjectFixed4 and
// BackwardFixed4; dir= separates the forward and the backward. ns/op is for
// four matrices.
func BenchmarkFixedQuad(b *testing.B) {
	for _, in := range []string{"init", "normal"} {
		q := newQuadCase(rand.New(rand.NewPCG(59, 60)), 0, false)
		for l := range 4 {
			q.z[l] = benchInputs(4)[in]
			q.z[l][l] += 0.25 // four different matrices
		}
		w := NewWorkspace[float64](4)
		for _, dir := range []string{"fwd", "bwd"} {
			b.Run(fmt.Sprintf("mode=single/dir=%s/in=%s", dir, in), func(b *testing.B) {
				for l := range 4 {
					_, _ = w.ProjectFixed(q.p[l], q.rec[l], q.z[l], 0)
				}
				for b.Loop() {
					for l := range 4 {
						if dir == "fwd" {
							_, _ = w.ProjectFixed(q.p[l], q.rec[l], q.z[l], 0)
						} else {
							w.BackwardFixed(q.dz[l], q.g[l], q.rec[l])
						}
					}
				}
			})
			b.Run(fmt.Sprintf("mode=quad/dir=%s/in=%s", dir, in), func(b *testing.B) {
				_, _, _ = w.ProjectFixed4(q.p, q.rec, q.z, 0)
				for b.Loop() {
					if dir == "fwd" {
						_, _, _ = w.ProjectFixed4(q.p, q.rec, q.z, 0)
					} else {
						w.BackwardFixed4(q.dz, q.g, q.rec)
					}
				}
			})
		}
	}
}
