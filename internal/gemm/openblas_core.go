package gemm

import (
	"errors"
	"fmt"

	"gonum.org/v1/gonum/blas"
)

// ErrArgs is the panic value of the OpenBLAS backend's products for
// arguments that do not describe a product inside the given slices (a
// negative dimension, a leading dimension below a row's length, a slice too
// short, an unknown transpose): OpenBLAS reads and writes through raw
// pointers, so they are checked before the call.
var ErrArgs = errors.New("gemm: product arguments out of range")

// The environment variables OpenBLAS reads when it loads.
const (
	coreTypeEnv = "OPENBLAS_CORETYPE"
	threadsEnv  = "OPENBLAS_NUM_THREADS"
)

// features are the processor's vector extensions that decide OpenBLAS's
// core type, each usable only if the operating system saves its registers.
type features struct {
	vendor     string // CPUID leaf 0, e.g. "GenuineIntel", "AuthenticAMD"
	avx, fma   bool
	avx2       bool
	avx512     bool // AVX-512 F, DQ, CD, BW and VL (Skylake-SP and later)
	avx512bf16 bool
}

// coreType returns the OPENBLAS_CORETYPE whose kernels fit a processor
// with features f, or "" to leave the choice to OpenBLAS. OpenBLAS's own
// detection reads the processor's family and model numbers and falls back
// to an old kernel for one it does not know: Debian's 0.3.21 picks Prescott
// (SSE3) on the Intel Xeon VM of the README, whose processor has AVX-512
// (BF16, AMX), and its single-precision product then runs at a fifth of
// what it does with SkylakeX. The extensions, not the model number, decide
// here:
//
//   - AVX-512 (F, DQ, CD, BW, VL): SkylakeX, also on processors that have
//     BF16 (Cooperlake's single- and double-precision products are
//     SkylakeX's kernels in 0.3.21);
//   - AVX2 and FMA: Zen on AMD processors, Haswell on others (the Zen
//     target runs Haswell's kernels with AMD's cache sizes);
//   - anything less: "", OpenBLAS's detection, whose fallbacks are then
//     what the processor can run.
//
// A core type set by the user in OPENBLAS_CORETYPE is never replaced.
func coreType(f features) string {
	switch {
	case f.avx512:
		return "SkylakeX"
	case f.avx2 && f.fma && f.vendor == "AuthenticAMD":
		return "Zen"
	case f.avx2 && f.fma:
		return "Haswell"
	}
	return ""
}

// openBLASInfo is what the OpenBLAS backend loaded.
type openBLASInfo struct {
	chosen   string // the core type asked for ("" if OpenBLAS chose)
	userCore bool   // chosen came from the user's OPENBLAS_CORETYPE
	core     string // openblas_get_corename: the kernels running
	config   string // openblas_get_config: version and build options
}

// loadErr is why OpenBLAS could not be opened, in a binary built with
// -tags openblas where it could not.
var loadErr error

// openBLAS is the OpenBLAS backend's state, set at start-up in binaries
// built with -tags openblas.
var openBLAS openBLASInfo

// String is the one-line description Describe gives.
func (o openBLASInfo) String() string {
	why := "chosen by OpenBLAS"
	switch {
	case o.userCore:
		why = fmt.Sprintf("%s=%s set by the user", coreTypeEnv, o.chosen)
	case o.chosen != "":
		why = "chosen by hyperconn from CPUID"
	}
	return fmt.Sprintf("openblas: %s, kernels %s (%s), one thread per call", o.config, o.core, why)
}

// Describe returns one line naming the BLAS the products run on: on
// OpenBLAS its version and build, the kernels it runs and who chose them
// (for example "openblas: OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH
// NO_AFFINITY SkylakeX MAX_THREADS=64, kernels SkylakeX (chosen by
// hyperconn from CPUID), one thread per call"); otherwise the backend's
// name, and, in a binary built with -tags openblas where the library could
// not be opened, why.
func Describe() string {
	if current == OpenBLAS {
		return openBLAS.String()
	}
	s := current.String() + ": pure Go"
	if loadErr != nil {
		s += fmt.Sprintf(" (OpenBLAS not used: %v)", loadErr)
	}
	return s
}

// checkGemm panics with ErrArgs unless the arguments describe a product
// C (m×n) = op(A)·op(B) inside slices of the given lengths, row-major, and
// reports whether the product is empty (m or n is 0: nothing to do).
func checkGemm(tA, tB blas.Transpose, m, n, k, la, lda, lb, ldb, lc, ldc int) bool {
	valid := func(t blas.Transpose) bool { return t == blas.NoTrans || t == blas.Trans || t == blas.ConjTrans }
	if !valid(tA) || !valid(tB) || m < 0 || n < 0 || k < 0 {
		panic(ErrArgs)
	}
	ar, ac := m, k
	if tA != blas.NoTrans {
		ar, ac = k, m
	}
	br, bc := k, n
	if tB != blas.NoTrans {
		br, bc = n, k
	}
	fits := func(l, rows, cols, ld int) bool {
		return ld >= max(1, cols) && (rows == 0 || cols == 0 || l >= (rows-1)*ld+cols)
	}
	if !fits(la, ar, ac, lda) || !fits(lb, br, bc, ldb) || !fits(lc, m, n, ldc) {
		panic(ErrArgs)
	}
	return m == 0 || n == 0
}
