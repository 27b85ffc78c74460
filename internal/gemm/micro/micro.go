package micro

import "errors"

// ErrTile is the panic value of Tile for operands too short for the tile
// they are to hold.
var ErrTile = errors.New("micro: operand too short for the tile")

// asmFunc is an assembly micro-kernel (see the .s files): pointers to the
// first element of each operand, strides in elements, load ≠ 0 to read C.
type asmFunc[F float32 | float64] func(k int, a *F, aStep int, b *F, bStep int, c *F, ldc int, alpha, beta F, load int)

// Kernel is one micro-kernel: a tile size and the routine that computes a
// tile.
type Kernel[F float32 | float64] struct {
	// Name is "avx512", "avx2" or "go".
	Name string
	// MR and NR are the tile's rows and columns.
	MR, NR int
	// fn is the assembly routine; nil runs Twin.
	fn asmFunc[F]
	// rows is the assembly routine of TileRows, or nil.
	rows asmFunc[F]
}

// Rows reports whether TileRows runs on this kernel: the assembly kernels
// that have a row-major variant for A (avx512), and the twins.
func (kd *Kernel[F]) Rows() bool { return kd.rows != nil || kd.fn == nil }

// Pair is a micro-kernel per element type, from one instruction set.
type Pair struct {
	F32 *Kernel[float32]
	F64 *Kernel[float64]
}

// MaxMR and MaxNR bound every kernel's tile.
const (
	MaxMR = 12
	MaxNR = 32
)

// Go is the pair of pure-Go twins, with the avx2 kernels' tiles.
var Go = Pair{
	F32: &Kernel[float32]{Name: "go", MR: 6, NR: 16},
	F64: &Kernel[float64]{Name: "go", MR: 6, NR: 8},
}

// Tile computes one MR×NR tile of C:
//
//	c[i·ldc+j] = alpha·Σ_{p<k} a[p·aStep+i]·b[p·bStep+j]  (+ beta·c[i·ldc+j] if load)
//
// for i < MR, j < NR, with k ≥ 1. Entries of c outside the tile are not
// touched. It panics with ErrTile if a, b or c is too short for the tile.
// It does not allocate.
func (kd *Kernel[F]) Tile(k int, a []F, aStep int, b []F, bStep int, c []F, ldc int, alpha, beta F, load bool) {
	if k < 1 || aStep < kd.MR && k > 1 || bStep < kd.NR && k > 1 || ldc < kd.NR ||
		len(a) < (k-1)*aStep+kd.MR || len(b) < (k-1)*bStep+kd.NR || len(c) < (kd.MR-1)*ldc+kd.NR {
		panic(ErrTile)
	}
	if kd.fn == nil {
		Twin(kd.MR, kd.NR, k, a, aStep, b, bStep, c, ldc, alpha, beta, load)
		return
	}
	l := 0
	if load {
		l = 1
	}
	kd.fn(k, &a[0], aStep, &b[0], bStep, &c[0], ldc, alpha, beta, l)
}

// TileRows is Tile with A read in its row-major layout: step p reads
// a[i·lda+p] for i < MR (column p of MR rows of A, lda apart), so that
// op(A) = A needs no packing. It panics with ErrTile if the operands are
// too short or Rows() is false.
func (kd *Kernel[F]) TileRows(k int, a []F, lda int, b []F, bStep int, c []F, ldc int, alpha, beta F, load bool) {
	if !kd.Rows() || k < 1 || lda < k || bStep < kd.NR && k > 1 || ldc < kd.NR ||
		len(a) < (kd.MR-1)*lda+k || len(b) < (k-1)*bStep+kd.NR || len(c) < (kd.MR-1)*ldc+kd.NR {
		panic(ErrTile)
	}
	if kd.rows == nil {
		twin(kd.MR, kd.NR, k, a, lda, 1, b, bStep, c, ldc, alpha, beta, load)
		return
	}
	l := 0
	if load {
		l = 1
	}
	kd.rows(k, &a[0], lda, &b[0], bStep, &c[0], ldc, alpha, beta, l)
}

// Twin is the micro-kernels' pure-Go twin: the tile Tile computes, for
// any mr ≤ MaxMR and nr ≤ MaxNR, with separate multiplies and adds (the
// assembly fuses them, so the two differ by rounding only). The operands
// must be long enough (see Tile).
func Twin[F float32 | float64](mr, nr, k int, a []F, aStep int, b []F, bStep int, c []F, ldc int, alpha, beta F, load bool) {
	twin(mr, nr, k, a, 1, aStep, b, bStep, c, ldc, alpha, beta, load)
}

// twin is Twin with A's element (i, p) at a[i·aRow+p·aStep].
func twin[F float32 | float64](mr, nr, k int, a []F, aRow, aStep int, b []F, bStep int, c []F, ldc int, alpha, beta F, load bool) {
	var acc [MaxMR * MaxNR]F
	for p := range k {
		bp := b[p*bStep : p*bStep+nr]
		for i := range mr {
			ai := a[i*aRow+p*aStep]
			row := acc[i*nr : i*nr+nr]
			for j, bj := range bp {
				row[j] += ai * bj
			}
		}
	}
	for i := range mr {
		row, ci := acc[i*nr:i*nr+nr], c[i*ldc:i*ldc+nr]
		for j, v := range row {
			if load {
				ci[j] = alpha*v + beta*ci[j]
			} else {
				ci[j] = alpha * v
			}
		}
	}
}
