package net

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/blas"

	"github.com/hyperconn/hyperconn/internal/gemm"
)

// Tolerance of OpenBLAS against the pure-Go products, per unit of
// (k+1)·max|a|·max|b|: each backend's sum of k products rounds by at most
// about k ulps of the largest term (float64 ulp 2.2e-16, float32 1.2e-7),
// and the two sum in different orders.
const (
	productTol64 = 2 * 2.2e-16
	productTol32 = 2 * 1.2e-7
)

// TestProductsMatchPureGo records every matrix product of a training step
// (the Linears' and the mixers' coefficient heads'), for every mixer, in
// float64 and float32, at the widths the benchmarks and the CLI use, and
// checks that OpenBLAS computes each shape — with its transposes, alpha and
// beta, one thread and two — as the pure-Go backend does, on random
// operands.
func TestProductsMatchPureGo(t *testing.T) {
	if !slices.Contains(gemm.Available(), gemm.OpenBLAS) {
		t.Skip("OpenBLAS not compiled in (build with -tags openblas)")
	}
	start, threads := gemm.Current(), gemm.Threads()
	defer func() {
		if err := gemm.Use(start); err != nil {
			t.Fatal(err)
		}
		gemm.SetThreads(threads)
	}()
	if err := gemm.Use(gemm.OpenBLAS); err != nil {
		t.Fatal(err)
	}
	seen := map[gemm.Shape]bool{}
	var shapes []gemm.Shape
	data := teacherData(1, 128, ImageSize, Classes)
	for _, width := range []int{64, 128, 256} {
		for _, f32 := range []bool{false, true} {
			for _, name := range MixerNames() {
				m, err := NewModel(Config{Mixer: name, N: 4, Width: width, Depth: 2, Seed: 1, Float32: f32})
				if err != nil {
					t.Fatal(err)
				}
				tr, err := NewTrainer(m, data, TrainConfig{Steps: 10, Batch: 64, LR: 1e-4, Seed: 1})
				if err != nil {
					t.Fatal(err)
				}
				gemm.Record(true)
				_, err = tr.Step()
				rec := gemm.Record(false)
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range rec {
					if !seen[s] {
						seen[s] = true
						shapes = append(shapes, s)
					}
				}
			}
		}
	}
	rnd := rand.New(rand.NewPCG(3, 4))
	for _, s := range shapes {
		for _, th := range []int{1, 2} {
			name := fmt.Sprintf("%+v/threads=%d", s, th)
			gemm.SetThreads(th)
			if s.Float32 {
				compareProducts32(t, name, rnd, s)
			} else {
				compareProducts64(t, name, rnd, s)
			}
		}
	}
	t.Logf("%d shapes compared", len(shapes))
}

// productOperands returns random operands of shape s (tightly packed) and
// the leading dimensions.
func productOperands(rnd *rand.Rand, s gemm.Shape) (a, b, c []float64, lda, ldb int) {
	ra, ca := s.M, s.K
	if s.TransA != blas.NoTrans {
		ra, ca = s.K, s.M
	}
	rb, cb := s.K, s.N
	if s.TransB != blas.NoTrans {
		rb, cb = s.N, s.K
	}
	return randNormal(rnd, ra*ca), randNormal(rnd, rb*cb), randNormal(rnd, s.M*s.N), max(ca, 1), max(cb, 1)
}

// maxAbs returns the largest |v|.
func maxAbs[F float32 | float64](v []F) float64 {
	var m float64
	for _, x := range v {
		m = max(m, math.Abs(float64(x)))
	}
	return m
}

func compareProducts64(t *testing.T, name string, rnd *rand.Rand, s gemm.Shape) {
	t.Helper()
	a, b, c, lda, ldb := productOperands(rnd, s)
	got, want := slices.Clone(c), slices.Clone(c)
	mustUse(t, gemm.OpenBLAS)
	gemm.Mul(s.TransA, s.TransB, s.M, s.N, s.K, s.Alpha, a, lda, b, ldb, s.Beta, got, s.N)
	mustUse(t, gemm.Gonum)
	gemm.Mul(s.TransA, s.TransB, s.M, s.N, s.K, s.Alpha, a, lda, b, ldb, s.Beta, want, s.N)
	mustUse(t, gemm.OpenBLAS)
	bound := productTol64 * float64(s.K+1) * (math.Abs(s.Alpha)*maxAbs(a)*maxAbs(b) + math.Abs(s.Beta)*maxAbs(c))
	for i := range got {
		if d := math.Abs(got[i] - want[i]); !(d <= bound) {
			t.Fatalf("%s: entry %d: openblas %v, gonum %v (|diff| %.3g > %.3g)", name, i, got[i], want[i], d, bound)
		}
	}
}

func compareProducts32(t *testing.T, name string, rnd *rand.Rand, s gemm.Shape) {
	t.Helper()
	a64, b64, c64, lda, ldb := productOperands(rnd, s)
	a, b, c := f32s(a64), f32s(b64), f32s(c64)
	got, want := slices.Clone(c), slices.Clone(c)
	mustUse(t, gemm.OpenBLAS)
	gemm.Mul32(s.TransA, s.TransB, s.M, s.N, s.K, float32(s.Alpha), a, lda, b, ldb, float32(s.Beta), got, s.N)
	mustUse(t, gemm.Gonum)
	gemm.Mul32(s.TransA, s.TransB, s.M, s.N, s.K, float32(s.Alpha), a, lda, b, ldb, float32(s.Beta), want, s.N)
	mustUse(t, gemm.OpenBLAS)
	bound := productTol32 * float64(s.K+1) * (math.Abs(s.Alpha)*maxAbs(a)*maxAbs(b) + math.Abs(s.Beta)*maxAbs(c))
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); !(d <= bound) {
			t.Fatalf("%s: entry %d: openblas %v, gonum %v (|diff| %.3g > %.3g)", name, i, got[i], want[i], d, bound)
		}
	}
}

// mustUse switches the backend or fails the test.
func mustUse(t *testing.T, b gemm.Backend) {
	t.Helper()
	if err := gemm.Use(b); err != nil {
		t.Fatal(err)
	}
}
