package gemm

// microFunc is an assembly micro-kernel (see micro_amd64.go).
type microFunc[F float32 | float64] func(k int, a, b, c *F, ldc int, alpha, beta F, load int)

// kernel is a micro-kernel and its tile: it computes MR×NR blocks of C
// from micro-panels packed by packA and packB. A nil micro runs the
// pure-Go twin, microGo.
type kernel[F float32 | float64] struct {
	name   string
	mr, nr int
	micro  microFunc[F]
}

// kernels is one micro-kernel per element type, from the same instruction
// set.
type kernels struct {
	f32 *kernel[float32]
	f64 *kernel[float64]
}

// maxMR and maxNR bound every kernel's tile (the packing buffers' sizes).
const (
	maxMR = 12
	maxNR = 32
)

// goKernels are the pure-Go twins, with the AVX2 kernels' tiles.
var goKernels = kernels{
	f32: &kernel[float32]{name: "go", mr: 6, nr: 16},
	f64: &kernel[float64]{name: "go", mr: 6, nr: 8},
}

// pure is the micro-kernel pair of the default backend: the fastest
// assembly pair the processor runs, or none (nil fields), in which case
// the default backend multiplies with gonum's kernels (tiled64, tiled32).
var pure = func() kernels {
	if ks := available(); len(ks) > 0 {
		return ks[0]
	}
	return kernels{}
}()

// Kernel names the kernels of the default (pure-Go, Gonum) backend on this
// processor: "avx512" or "avx2" for the package's own packed micro-kernels
// (fused multiply-adds on 512- or 256-bit vectors), "gonum" for gonum's
// kernels, which run where the processor lacks FMA and in binaries built
// with -tags purego or for other architectures.
func Kernel() string {
	if pure.f32 == nil {
		return "gonum"
	}
	return pure.f32.name
}

// run computes one MR×NR tile: c[i·ldc+j] = alpha·Σ_p a[p·MR+i]·b[p·NR+j],
// plus beta·c[i·ldc+j] if load. k ≥ 1.
func (kd *kernel[F]) run(k int, a, b, c []F, ldc int, alpha, beta F, load bool) {
	if kd.micro == nil {
		microGo(kd.mr, kd.nr, k, a, b, c, ldc, alpha, beta, load)
		return
	}
	l := 0
	if load {
		l = 1
	}
	kd.micro(k, &a[0], &b[0], &c[0], ldc, alpha, beta, l)
}

// microGo is the micro-kernels' pure-Go twin: the same tile from the same
// packed panels, with separate multiplies and adds (the assembly fuses
// them, so the two differ by rounding only).
func microGo[F float32 | float64](mr, nr, k int, a, b, c []F, ldc int, alpha, beta F, load bool) {
	var acc [maxMR * maxNR]F
	a, b = a[:k*mr], b[:k*nr]
	for p := range k {
		ap, bp := a[p*mr:p*mr+mr], b[p*nr:p*nr+nr]
		for i, ai := range ap {
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
