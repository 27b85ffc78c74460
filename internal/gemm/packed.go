package gemm

import (
	"sync"

	"gonum.org/v1/gonum/blas"

	"github.com/hyperconn/hyperconn/internal/gemm/micro"
)

// pure is the micro-kernel pair of the default backend: the fastest
// assembly pair the processor runs, or none (nil fields), in which case
// the default backend multiplies with gonum's kernels (tiled64, tiled32).
var pure = func() micro.Pair {
	if ps := micro.Available(); len(ps) > 0 {
		return ps[0]
	}
	return micro.Pair{}
}()

// Kernel names the kernels of the default backend (Gonum, the pure-Go
// one) on this processor: "avx512" or "avx2" for the package's own packed
// micro-kernels (package micro: fused multiply-adds on 512- or 256-bit
// vectors), "gonum" for gonum's kernels, which run where the processor
// lacks FMA, in binaries built with -tags purego, and on other
// architectures.
func Kernel() string {
	if pure.F32 == nil {
		return "gonum"
	}
	return pure.F32.Name
}

// Blocking of the packed path. A block of op(B), blockK rows by blockN
// columns, is packed once into column panels NR wide (blockK·blockN
// elements: 512 KiB in float32, 1 MiB in float64, kept in the 2 MiB
// level-2 cache); then, for every MR rows of C, the matching MR×blockK
// micro-panel of op(A) is packed (12 KiB at most in float32, kept in the
// level-1 cache) and multiplied with each panel of the block. A product
// with k > blockK accumulates its blocks into C (beta applies to the
// first).
const (
	blockK = 256
	blockN = 512
)

// workspace holds one goroutine's packing buffers: a micro-panel of A, a
// block of B and one tile of C for the ragged edges.
type workspace[F float32 | float64] struct {
	a, b, t []F
}

// spares is a free list of workspaces. A Mul takes one for its duration
// and gives it back. The first call that finds the list empty fills it up
// to Threads() workspaces, one per goroutine a parallel product or Parts
// can run, so that which goroutine happens to take a part first never
// makes a later call allocate; the list grows further only for more
// concurrent calls than that (goroutines of the caller's own multiplying
// at once), and then no call allocates. Unlike a sync.Pool, the garbage
// collector never empties it.
type spares[F float32 | float64] struct {
	mu   sync.Mutex
	free []*workspace[F]
	made int
}

var (
	spares32 spares[float32]
	spares64 spares[float64]
)

// get returns a free workspace, allocating if none is free.
func (s *spares[F]) get() *workspace[F] {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.free) == 0 {
		for range max(1, Threads()-s.made) {
			if s.free == nil {
				s.free = make([]*workspace[F], 0, 16)
			}
			s.free = append(s.free, newWorkspace[F]())
			s.made++
		}
	}
	w := s.free[len(s.free)-1]
	s.free = s.free[:len(s.free)-1]
	return w
}

// newWorkspace allocates the buffers of the largest kernel tile.
func newWorkspace[F float32 | float64]() *workspace[F] {
	return &workspace[F]{
		a: make([]F, blockK*micro.MaxMR),
		b: make([]F, blockK*blockN),
		t: make([]F, micro.MaxMR*micro.MaxNR),
	}
}

// put returns w to the free list.
func (s *spares[F]) put(w *workspace[F]) {
	s.mu.Lock()
	s.free = append(s.free, w)
	s.mu.Unlock()
}

// packed computes C = alpha·op(A)·op(B) + beta·C with micro-kernel kd,
// packing A and B into a workspace from sp where they are not already in
// the kernel's layout (see direct). m, n, k ≥ 1 and the operands have been
// checked (checkGemm). With alpha = 0 it only scales C by beta, as gonum
// does (A and B are not read).
func packed[F float32 | float64](kd *micro.Kernel[F], sp *spares[F], tA, tB blas.Transpose, m, n, k int, alpha F, a []F, lda int, b []F, ldb int, beta F, c []F, ldc int) {
	if alpha == 0 {
		scale(beta, m, n, c, ldc)
		return
	}
	w := sp.get()
	mr, nr := kd.MR, kd.NR
	directA, directB := direct(tA, tB, m, n, k, lda, ldb)
	rowsA := tA == blas.NoTrans && kd.Rows() && min(n, blockN) <= rowsPanels*nr
	for jc := 0; jc < n; jc += blockN {
		nb := min(blockN, n-jc)
		for pc := 0; pc < k; pc += blockK {
			kb := min(blockK, k-pc)
			bet := beta
			if pc > 0 {
				bet = 1
			}
			if !directB {
				packB(w.b, tB, b, ldb, pc, jc, kb, nb, nr)
			} else if nb%nr != 0 {
				// Only the ragged last panel is packed, at its place.
				last := nb - nb%nr
				packB(w.b[last*kb:], tB, b, ldb, pc, jc+last, kb, nb-last, nr)
			}
			for ir := 0; ir < m; ir += mr {
				mb := min(mr, m-ir)
				ap, as := w.a, mr
				rows := rowsA && mb == mr
				switch {
				case rows:
					ap, as = a[ir*lda+pc:], lda
				case directA && mb == mr:
					ap, as = a[pc*lda+ir:], lda
				default:
					packA(w.a, tA, a, lda, ir, pc, mb, kb, mr)
				}
				for jr := 0; jr < nb; jr += nr {
					nj := min(nr, nb-jr)
					bp, bs := w.b[jr*kb:], nr
					if directB && nj == nr {
						bp, bs = b[pc*ldb+jc+jr:], ldb
					}
					ci := ir*ldc + jc + jr
					ct, ldt, al, be := c[ci:], ldc, alpha, bet
					if mb < mr || nj < nr {
						ct, ldt, al, be = w.t, nr, 1, 0
					}
					if rows {
						kd.TileRows(kb, ap, as, bp, bs, ct, ldt, al, be, be != 0)
					} else {
						kd.Tile(kb, ap, as, bp, bs, ct, ldt, al, be, be != 0)
					}
					if mb < mr || nj < nr {
						edge(mb, nj, w.t, nr, alpha, bet, c[ci:], ldc)
					}
				}
			}
		}
	}
	sp.put(w)
}

// rowsPanels is the most panels of B (NR columns each) for which op(A) = A
// is read in place, row-major (Kernel.TileRows), instead of packed: the
// fewer the panels, the fewer times a packed micro-panel of A is reused,
// and with one panel (n ≤ NR) packing A cost more than the tile.
const rowsPanels = 4

// directSpan is the largest span, in elements, of a block of A or B that
// the kernels read in place rather than packed: past it the rows of the
// block lie on more pages than the processor's first-level TLB maps, and
// packing them once costs less than the misses of reading them for every
// tile.
const directSpan = 1 << 15

// direct reports whether the kernels read op(A) = Aᵀ (its columns are
// rows of A, MR consecutive values per step) and op(B) = B (NR consecutive
// values per step) in place instead of packing them.
func direct(tA, tB blas.Transpose, m, n, k, lda, ldb int) (a, b bool) {
	kb := min(k, blockK)
	return tA != blas.NoTrans && kb*lda <= directSpan, tB == blas.NoTrans && kb*ldb <= directSpan
}

// edge writes the top-left mb×nj corner of the tile t (row stride nr) to
// C: alpha·t + beta·C, C not read when beta = 0.
func edge[F float32 | float64](mb, nj int, t []F, nr int, alpha, beta F, c []F, ldc int) {
	for i := range mb {
		ti, ci := t[i*nr:i*nr+nj], c[i*ldc:i*ldc+nj]
		if beta == 0 {
			for j, v := range ti {
				ci[j] = alpha * v
			}
			continue
		}
		for j, v := range ti {
			ci[j] = alpha*v + beta*ci[j]
		}
	}
}

// packA copies rows [ir, ir+mb) and columns [pc, pc+kb) of op(A) into ap
// as a micro-panel: kb steps of mr values, the column of op(A) at each
// step, rows beyond mb zero.
func packA[F float32 | float64](ap []F, tA blas.Transpose, a []F, lda, ir, pc, mb, kb, mr int) {
	ap = ap[:kb*mr]
	if tA == blas.NoTrans {
		// Four rows at a time: four read streams, four adjacent writes.
		i := 0
		for ; i+4 <= mb; i += 4 {
			r0 := a[(ir+i)*lda+pc : (ir+i)*lda+pc+kb]
			r1 := a[(ir+i+1)*lda+pc:][:len(r0)]
			r2 := a[(ir+i+2)*lda+pc:][:len(r0)]
			r3 := a[(ir+i+3)*lda+pc:][:len(r0)]
			for p, v := range r0 {
				d := ap[p*mr+i:][:4]
				d[0], d[1], d[2], d[3] = v, r1[p], r2[p], r3[p]
			}
		}
		for ; i < mb; i++ {
			row := a[(ir+i)*lda+pc : (ir+i)*lda+pc+kb]
			for p, v := range row {
				ap[p*mr+i] = v
			}
		}
	} else {
		for p := range kb {
			copy(ap[p*mr:p*mr+mb], a[(pc+p)*lda+ir:(pc+p)*lda+ir+mb])
		}
	}
	if mb < mr {
		for p := range kb {
			clear(ap[p*mr+mb : p*mr+mr])
		}
	}
}

// packB copies rows [pc, pc+kb) and columns [jc, jc+nb) of op(B) into bp
// as panels of nr columns: panel q (columns jc+q·nr…) holds kb steps of nr
// values, the row of op(B) at each step, at bp[q·nr·kb:]; columns beyond
// nb are zero.
func packB[F float32 | float64](bp []F, tB blas.Transpose, b []F, ldb, pc, jc, kb, nb, nr int) {
	for jr := 0; jr < nb; jr += nr {
		nj := min(nr, nb-jr)
		panel := bp[jr*kb : jr*kb+kb*nr]
		if tB == blas.NoTrans {
			for p := range kb {
				src := b[(pc+p)*ldb+jc+jr : (pc+p)*ldb+jc+jr+nj]
				dst := panel[p*nr : p*nr+nr]
				copy(dst, src)
				if nj < nr {
					clear(dst[nj:])
				}
			}
			continue
		}
		// Four columns of op(B) (rows of B) at a time, as in packA.
		j := 0
		for ; j+4 <= nj; j += 4 {
			r0 := b[(jc+jr+j)*ldb+pc : (jc+jr+j)*ldb+pc+kb]
			r1 := b[(jc+jr+j+1)*ldb+pc:][:len(r0)]
			r2 := b[(jc+jr+j+2)*ldb+pc:][:len(r0)]
			r3 := b[(jc+jr+j+3)*ldb+pc:][:len(r0)]
			for p, v := range r0 {
				d := panel[p*nr+j:][:4]
				d[0], d[1], d[2], d[3] = v, r1[p], r2[p], r3[p]
			}
		}
		for ; j < nj; j++ {
			src := b[(jc+jr+j)*ldb+pc : (jc+jr+j)*ldb+pc+kb]
			for p, v := range src {
				panel[p*nr+j] = v
			}
		}
		if nj < nr {
			for p := range kb {
				clear(panel[p*nr+nj : p*nr+nr])
			}
		}
	}
}
