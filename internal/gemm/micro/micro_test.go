package micro

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Rounding bounds: two computations of alpha·Σ_p a_p·b_p + beta·c in
// different orders, fused or not, differ by at most 2·(k+2)·u·(|alpha|·
// Σ|a_p·b_p| + |beta·c|), u the unit roundoff of the element type; slack
// covers alpha's separate rounding.
const (
	u64   = 0x1p-53
	u32   = 0x1p-24
	slack = 2
)

// TestTile compares each assembly kernel with its twin on random operands
// with packed and padded steps, into a C with padded rows, with and without
// loading C.
func TestTile(t *testing.T) {
	rnd := rand.New(rand.NewPCG(8, 9))
	pairs := append(Available(), Go)
	for _, p := range pairs {
		for _, k := range []int{1, 2, 3, 17, 256} {
			for _, pad := range []int{0, 5} {
				for _, load := range []bool{false, true} {
					t.Run(fmt.Sprintf("%s/k=%d/pad=%d/load=%v", p.F32.Name, k, pad, load), func(t *testing.T) {
						tileCase(t, rnd, p.F64, k, pad, load, u64)
						tileCase(t, rnd, p.F32, k, pad, load, u32)
					})
				}
			}
		}
	}
}

// tileCase runs kd and the twin on the same random operands, steps padded
// by pad elements, and checks the tile against the twin within the bound
// and the rest of c unchanged.
func tileCase[F float32 | float64](t *testing.T, rnd *rand.Rand, kd *Kernel[F], k, pad int, load bool, u float64) {
	t.Helper()
	mr, nr := kd.MR, kd.NR
	as, bs, ldc := mr+pad, nr+2*pad, nr+3+pad
	randv := func(l int) []F {
		v := make([]F, l)
		for i := range v {
			v[i] = F(rnd.NormFloat64())
		}
		return v
	}
	a, b, c := randv((k-1)*as+mr), randv((k-1)*bs+nr), randv(mr*ldc)
	const alpha, beta = 0.75, -1.25
	want := append([]F(nil), c...)
	Twin(mr, nr, k, a, as, b, bs, want, ldc, alpha, beta, load)
	got := append([]F(nil), c...)
	kd.Tile(k, a, as, b, bs, got, ldc, alpha, beta, load)
	for i := range mr {
		for j := range ldc {
			g, w := float64(got[i*ldc+j]), float64(want[i*ldc+j])
			if j >= nr {
				if g != float64(c[i*ldc+j]) {
					t.Fatalf("%s: entry (%d,%d) outside the tile written", kd.Name, i, j)
				}
				continue
			}
			var s float64
			for p := range k {
				s += math.Abs(float64(a[p*as+i]) * float64(b[p*bs+j]))
			}
			bc := 0.0
			if load {
				bc = math.Abs(beta * float64(c[i*ldc+j]))
			}
			tol := 2 * slack * float64(k+2) * u * (alpha*s + bc)
			if math.Abs(g-w) > tol {
				t.Fatalf("%s: (%d,%d) = %v, twin %v (bound %.3g)", kd.Name, i, j, g, w, tol)
			}
		}
	}
}

// TestTileRows compares TileRows (A row-major, lda apart) on every kernel
// that has it with the twin reading the same layout, and with Tile on the
// same A packed.
func TestTileRows(t *testing.T) {
	rnd := rand.New(rand.NewPCG(10, 11))
	for _, p := range append(Available(), Go) {
		if !p.F32.Rows() {
			continue
		}
		for _, k := range []int{1, 2, 17, 256} {
			for _, load := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/k=%d/load=%v", p.F32.Name, k, load), func(t *testing.T) {
					rowsCase(t, rnd, p.F64, k, load, u64)
					rowsCase(t, rnd, p.F32, k, load, u32)
				})
			}
		}
	}
}

// rowsCase runs kd.TileRows on a row-major A with padded rows, against
// the twin on A packed (Twin's layout) within the rounding bound.
func rowsCase[F float32 | float64](t *testing.T, rnd *rand.Rand, kd *Kernel[F], k int, load bool, u float64) {
	t.Helper()
	mr, nr := kd.MR, kd.NR
	lda, ldc := k+3, nr+2
	randv := func(l int) []F {
		v := make([]F, l)
		for i := range v {
			v[i] = F(rnd.NormFloat64())
		}
		return v
	}
	a, b, c := randv((mr-1)*lda+k), randv(k*nr), randv(mr*ldc)
	packed := make([]F, k*mr)
	for i := range mr {
		for p := range k {
			packed[p*mr+i] = a[i*lda+p]
		}
	}
	const alpha, beta = -0.5, 2
	want := append([]F(nil), c...)
	Twin(mr, nr, k, packed, mr, b, nr, want, ldc, alpha, beta, load)
	got := append([]F(nil), c...)
	kd.TileRows(k, a, lda, b, nr, got, ldc, alpha, beta, load)
	for i := range mr {
		for j := range ldc {
			g, w := float64(got[i*ldc+j]), float64(want[i*ldc+j])
			if j >= nr {
				if g != float64(c[i*ldc+j]) {
					t.Fatalf("%s: entry (%d,%d) outside the tile written", kd.Name, i, j)
				}
				continue
			}
			var s float64
			for p := range k {
				s += math.Abs(float64(a[i*lda+p]) * float64(b[p*nr+j]))
			}
			bc := 0.0
			if load {
				bc = math.Abs(beta * float64(c[i*ldc+j]))
			}
			tol := 2 * slack * float64(k+2) * u * (-alpha*s + bc)
			if math.Abs(g-w) > tol {
				t.Fatalf("%s rows: (%d,%d) = %v, twin %v (bound %.3g)", kd.Name, i, j, g, w, tol)
			}
		}
	}
}

// TestTileExact checks one tile against values computed by hand: with
// a = 1, 2, … down the steps and b = 1 everywhere, every entry of row i
// is alpha·Σ_p (p·MR + i + 1), and beta = 0 overwrites NaN.
func TestTileExact(t *testing.T) {
	for _, p := range append(Available(), Go) {
		kd := p.F64
		const k = 3
		a, b, c := make([]float64, k*kd.MR), make([]float64, k*kd.NR), make([]float64, kd.MR*kd.NR)
		for i := range a {
			a[i] = float64(i + 1)
		}
		for i := range b {
			b[i] = 1
		}
		for i := range c {
			c[i] = math.NaN()
		}
		kd.Tile(k, a, kd.MR, b, kd.NR, c, kd.NR, 2, 0, false)
		for i := range kd.MR {
			want := 2 * float64(3*i+3+3*kd.MR) // Σ_p (p·MR+i+1) over p = 0, 1, 2
			for j := range kd.NR {
				if c[i*kd.NR+j] != want {
					t.Fatalf("%s: c(%d,%d) = %v, want %v", kd.Name, i, j, c[i*kd.NR+j], want)
				}
			}
		}
	}
}

// TestTilePanics checks that operands too short for the tile panic with
// ErrTile before anything is written.
func TestTilePanics(t *testing.T) {
	for _, p := range append(Available(), Go) {
		kd := p.F32
		a, b, c := make([]float32, 2*kd.MR), make([]float32, 2*kd.NR), make([]float32, kd.MR*kd.NR)
		for name, call := range map[string]func(){
			"short a": func() { kd.Tile(2, a[:2*kd.MR-1], kd.MR, b, kd.NR, c, kd.NR, 1, 0, false) },
			"short b": func() { kd.Tile(2, a, kd.MR, b[:2*kd.NR-1], kd.NR, c, kd.NR, 1, 0, false) },
			"short c": func() { kd.Tile(2, a, kd.MR, b, kd.NR, c[:len(c)-1], kd.NR, 1, 0, false) },
			"ldc":     func() { kd.Tile(2, a, kd.MR, b, kd.NR, c, kd.NR-1, 1, 0, false) },
			"k = 0":   func() { kd.Tile(0, a, kd.MR, b, kd.NR, c, kd.NR, 1, 0, false) },
			"aStep":   func() { kd.Tile(2, a, kd.MR-1, b, kd.NR, c, kd.NR, 1, 0, false) },
			"rows a":  func() { kd.TileRows(3, a, 3, b[:kd.NR], 0, c, kd.NR, 1, 0, false) },
		} {
			func() {
				defer func() {
					if r := recover(); r != ErrTile {
						t.Errorf("%s %s: panic %v, want ErrTile", kd.Name, name, r)
					}
				}()
				call()
			}()
		}
	}
}

// TestTileAllocs checks that Tile does not allocate.
func TestTileAllocs(t *testing.T) {
	for _, p := range append(Available(), Go) {
		kd := p.F32
		a, b, c := make([]float32, 8*kd.MR), make([]float32, 8*kd.NR), make([]float32, kd.MR*kd.NR)
		if n := testing.AllocsPerRun(10, func() { kd.Tile(8, a, kd.MR, b, kd.NR, c, kd.NR, 1, 1, true) }); n != 0 {
			t.Errorf("%s: %v allocs, want 0", kd.Name, n)
		}
	}
}

// BenchmarkTile times one kernel on packed operands at k = 256 and reports
// GFLOP/s: the kernels' ceiling on this machine.
func BenchmarkTile(b *testing.B) {
	for _, p := range append(Available(), Go) {
		const k = 256
		b.Run(p.F32.Name+"/f32", func(b *testing.B) {
			kd := p.F32
			a, bb, c := make([]float32, k*kd.MR), make([]float32, k*kd.NR), make([]float32, kd.MR*kd.NR)
			for b.Loop() {
				kd.Tile(k, a, kd.MR, bb, kd.NR, c, kd.NR, 1, 0, false)
			}
			b.ReportMetric(2*float64(kd.MR*kd.NR*k)*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "GFLOP/s")
		})
		b.Run(p.F64.Name+"/f64", func(b *testing.B) {
			kd := p.F64
			a, bb, c := make([]float64, k*kd.MR), make([]float64, k*kd.NR), make([]float64, kd.MR*kd.NR)
			for b.Loop() {
				kd.Tile(k, a, kd.MR, bb, kd.NR, c, kd.NR, 1, 0, false)
			}
			b.ReportMetric(2*float64(kd.MR*kd.NR*k)*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "GFLOP/s")
		})
	}
}
