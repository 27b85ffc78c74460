package f64

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// rowTol bounds the difference between a row kernel and the plain
// sequential loop it reorders: dot products of at most 70 terms of order 1
// differ by a few ulps of their magnitude.
const rowTol = 1e-13

// sameBits reports whether a and b agree bit for bit (any NaN equals any NaN).
func sameBits(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(u, v float64) bool {
		return math.Float64bits(u) == math.Float64bits(v) || math.IsNaN(u) && math.IsNaN(v)
	})
}

// rowData returns m×c random rows and a c-row, with specials (±0, ±Inf,
// NaN, huge, subnormal) mixed in when special is true.
func rowData(rnd *rand.Rand, m, c int, special bool) (w, x []float64) {
	specials := []float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1), 1e300, -1e-310}
	draw := func(k int) []float64 {
		s := make([]float64, k)
		for i := range s {
			s[i] = rnd.NormFloat64()
			if special && rnd.IntN(16) == 0 {
				s[i] = specials[rnd.IntN(len(specials))]
			}
		}
		return s
	}
	return draw(m * c), draw(c)
}

// TestRowTwins checks SqDots, Ger and AddCombination (the assembly where
// HasAVX) against their pure-Go twins bit for bit, for every width up to
// 70 and a few more, every row count up to 15, with and without special
// values.
func TestRowTwins(t *testing.T) {
	t.Logf("HasAVX = %v", HasAVX)
	rnd := rand.New(rand.NewPCG(5, 6))
	for _, c := range append(seq(71), 128, 129, 131, 259) {
		for m := range 16 {
			for _, special := range []bool{false, true} {
				w, x := rowData(rnd, m, c, special)
				a, _ := rowData(rnd, 1, m, special)
				where := fmt.Sprintf("C=%d m=%d special=%v", c, m, special)

				d1, d2 := make([]float64, m), make([]float64, m)
				s1, s2 := SqDots(d1, x, w), SqDotsGo(d2, x, w)
				if !sameBits([]float64{s1}, []float64{s2}) || !sameBits(d1, d2) {
					t.Fatalf("SqDots %s: %v %v, twin %v %v", where, s1, d1, s2, d2)
				}

				for _, rows := range []int{1, 2, 5} {
					if m == 0 {
						break
					}
					xs, _ := rowData(rnd, rows, c, special)
					as, _ := rowData(rnd, rows, m, special)
					g1, g2 := slices.Clone(w), slices.Clone(w)
					Ger(g1, as, xs, rows)
					GerGo(g2, as, xs, rows)
					if !sameBits(g1, g2) {
						t.Fatalf("Ger %s rows=%d: differs from its twin", where, rows)
					}
				}

				dst, _ := rowData(rnd, 1, c, special)
				b := rnd.NormFloat64()
				e1, e2 := slices.Clone(dst), slices.Clone(dst)
				AddCombination(e1, b, x, a, w)
				AddCombinationGo(e2, b, x, a, w)
				if !sameBits(e1, e2) {
					t.Fatalf("AddCombination %s: differs from its twin", where)
				}
			}
		}
	}
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// TestRowFormulas checks the kernels against plain sequential loops (to
// rowTol: the dot products are summed in another order) and the exact
// cases: integer data sums exactly in any order.
func TestRowFormulas(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 8))
	for _, c := range []int{1, 3, 4, 5, 17, 64, 70} {
		for _, m := range []int{0, 1, 6, 7, 13} {
			w, x := rowData(rnd, m, c, false)
			a, _ := rowData(rnd, 1, m, false)
			d := make([]float64, m)
			sq := SqDots(d, x, w)
			var want float64
			for _, v := range x {
				want += v * v
			}
			if math.Abs(sq-want) > rowTol*want {
				t.Errorf("C=%d m=%d: x·x = %v, want %v", c, m, sq, want)
			}
			for j := range m {
				var want float64
				for k, v := range x {
					want += v * w[j*c+k]
				}
				if math.Abs(d[j]-want) > rowTol {
					t.Errorf("C=%d m=%d: x·w_%d = %v, want %v", c, m, j, d[j], want)
				}
			}
			if m > 0 {
				x2, _ := rowData(rnd, 1, c, false)
				a2, _ := rowData(rnd, 1, m, false)
				g := slices.Clone(w)
				Ger(g, append(slices.Clone(a), a2...), append(slices.Clone(x), x2...), 2)
				for j := range m {
					for k := range c {
						want := w[j*c+k] + float64(a[j]*x[k])
						want += float64(a2[j] * x2[k])
						if g[j*c+k] != want {
							t.Fatalf("C=%d m=%d: Ger[%d,%d] = %v, want %v", c, m, j, k, g[j*c+k], want)
						}
					}
				}
			}
			dst, _ := rowData(rnd, 1, c, false)
			e := slices.Clone(dst)
			b := rnd.NormFloat64()
			AddCombination(e, b, x, a, w)
			for k := range c {
				want := dst[k] + float64(b*x[k])
				for j := range m {
					want += float64(a[j] * w[j*c+k])
				}
				if e[k] != want {
					t.Fatalf("C=%d m=%d: AddCombination[%d] = %v, want %v", c, m, k, e[k], want)
				}
			}
		}
	}
	// Small integers: every order gives the exact sums.
	x, w := []float64{1, 2, 3, 4, 5, 6}, []float64{1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, 1}
	d := make([]float64, 2)
	if sq := SqDots(d, x, w); sq != 91 || d[0] != 21 || d[1] != 12 {
		t.Errorf("SqDots of 1…6: %v, %v; want 91, [21 12]", sq, d)
	}
}

func TestRowShapes(t *testing.T) {
	for name, f := range map[string]func(){
		"SqDots":         func() { SqDots(make([]float64, 2), make([]float64, 3), make([]float64, 5)) },
		"Ger":            func() { Ger(make([]float64, 5), make([]float64, 2), make([]float64, 3), 1) },
		"Ger rows":       func() { Ger(make([]float64, 6), make([]float64, 4), make([]float64, 7), 2) },
		"Ger 0 rows":     func() { Ger(nil, nil, nil, 0) },
		"AddCombination": func() { AddCombination(make([]float64, 3), 1, make([]float64, 2), nil, nil) },
		"AddCombination w": func() {
			AddCombination(make([]float64, 3), 1, make([]float64, 3), make([]float64, 2), make([]float64, 5))
		},
	} {
		func() {
			defer func() {
				if r := recover(); r != ErrShape {
					t.Errorf("%s: panic %v, want ErrShape", name, r)
				}
			}()
			f()
		}()
	}
}

func TestRowAllocs(t *testing.T) {
	w, x := rowData(rand.New(rand.NewPCG(1, 1)), 13, 128, false)
	d, a, dst := make([]float64, 13), make([]float64, 13), make([]float64, 128)
	if n := testing.AllocsPerRun(10, func() {
		SqDots(d, x, w)
		Ger(w, a, x, 1)
		AddCombination(dst, 1, x, a, w)
	}); n != 0 {
		t.Errorf("%v allocations per run, want 0", n)
	}
}

// BenchmarkRows times the row kernels and their twins at the shape of
// dynamic HC's rows in the depth-32 network: C = 128, six weight columns.
func BenchmarkRows(b *testing.B) {
	const c, m = 128, 6
	w, x := rowData(rand.New(rand.NewPCG(1, 1)), m, c, false)
	d, a, dst := make([]float64, m), make([]float64, m), make([]float64, c)
	for i := range a {
		a[i] = 1e-9
	}
	xs, as := make([]float64, 128*c), make([]float64, 128*m)
	for i := range as {
		as[i] = 1e-9
	}
	for _, impl := range []struct {
		name string
		asm  bool
		sq   func(d, x, w []float64) float64
		ger  func(w, a, x []float64, rows int)
		comb func(dst []float64, b float64, x, a, w []float64)
	}{{"asm", true, SqDots, Ger, AddCombination}, {"go", false, SqDotsGo, GerGo, AddCombinationGo}} {
		if impl.asm && !HasAVX {
			continue
		}
		b.Run("SqDots/impl="+impl.name, func(b *testing.B) {
			for b.Loop() {
				impl.sq(d, x, w)
			}
		})
		b.Run("Ger/rows=1/impl="+impl.name, func(b *testing.B) {
			for b.Loop() {
				impl.ger(w, a, x, 1)
			}
		})
		for _, rows := range []int{4, 128} {
			b.Run(fmt.Sprintf("Ger/rows=%d/impl=%s", rows, impl.name), func(b *testing.B) {
				for b.Loop() {
					for r := 0; r < 128; r += rows {
						impl.ger(w, as[r*m:(r+rows)*m], xs[r*c:(r+rows)*c], rows)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*128), "ns/row")
			})
		}
		b.Run("AddCombination/impl="+impl.name, func(b *testing.B) {
			for b.Loop() {
				impl.comb(dst, 1e-9, x, a, w)
			}
		})
	}
}
