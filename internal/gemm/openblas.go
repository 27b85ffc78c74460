//go:build openblas

package gemm

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stddef.h>
#include <stdlib.h>
#include <cpuid.h>

typedef void (*hc_sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
typedef void (*hc_dgemm_fn)(int, int, int, int, int, int, double, const double *, int, const double *, int, double, double *, int);
typedef void (*hc_set_threads_fn)(int);
typedef char *(*hc_string_fn)(void);

static hc_sgemm_fn hc_sgemm;
static hc_dgemm_fn hc_dgemm;
static hc_set_threads_fn hc_set_threads;
static hc_string_fn hc_corename, hc_config;

// hc_openblas_load opens the shared library and resolves the entry points
// the package calls. It returns NULL on success, else the reason.
static const char *hc_openblas_load(const char *name) {
	void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		return dlerror();
	}
	hc_sgemm = (hc_sgemm_fn)dlsym(h, "cblas_sgemm");
	hc_dgemm = (hc_dgemm_fn)dlsym(h, "cblas_dgemm");
	hc_set_threads = (hc_set_threads_fn)dlsym(h, "openblas_set_num_threads");
	hc_corename = (hc_string_fn)dlsym(h, "openblas_get_corename");
	hc_config = (hc_string_fn)dlsym(h, "openblas_get_config");
	if (!hc_sgemm || !hc_dgemm || !hc_set_threads || !hc_corename || !hc_config) {
		return "a BLAS entry point (cblas_sgemm, cblas_dgemm, openblas_set_num_threads, openblas_get_corename or openblas_get_config) is missing";
	}
	hc_set_threads(1);
	return NULL;
}

static const char *hc_openblas_corename(void) { return hc_corename(); }
static const char *hc_openblas_config(void) { return hc_config(); }

// Row-major CBLAS calls (CblasRowMajor = 101; the transposes are
// CblasNoTrans = 111 or CblasTrans = 112).
static void hc_openblas_sgemm(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc) {
	hc_sgemm(101, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

static void hc_openblas_dgemm(int ta, int tb, int m, int n, int k, double alpha, const double *a, int lda, const double *b, int ldb, double beta, double *c, int ldc) {
	hc_dgemm(101, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// hc_cpuid runs CPUID leaf, subleaf; it returns 0 if the leaf is beyond
// the processor's maximum.
static int hc_cpuid(unsigned leaf, unsigned sub, unsigned *r) {
	return __get_cpuid_count(leaf, sub, &r[0], &r[1], &r[2], &r[3]);
}

// hc_xcr0 reads XCR0; the caller checks OSXSAVE first.
static unsigned long long hc_xcr0(void) {
	unsigned lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((unsigned long long)hi << 32) | lo;
}
*/
import "C"

import (
	"fmt"
	"os"
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/gonum"
)

// libOpenBLAS is the shared library opened at start-up: Debian's
// libopenblas-dev provides it (through update-alternatives). Tests change
// it to check a failed load.
var libOpenBLAS = "libopenblas.so.0"

// haveOpenBLAS reports whether OpenBLAS was loaded at start-up.
var haveOpenBLAS bool

// A binary built with -tags openblas opens OpenBLAS at start-up and starts
// on it. The library is opened with dlopen rather than linked, so that its
// core type (the kernels it runs) can be chosen first: OpenBLAS reads
// OPENBLAS_CORETYPE once, when it loads, and Debian's build falls back to
// old kernels on processors it does not know (see coreType). OpenBLAS
// itself runs single-threaded: Mul splits a product across its own helper
// goroutines (see SetThreads), which, unlike OpenBLAS's worker threads, do
// not spin after a call and take no core from the element-wise work between
// products.
func init() {
	openBLAS = loadOpenBLAS(os.LookupEnv, os.Setenv, os.Unsetenv)
	if !haveOpenBLAS {
		return
	}
	useOpenBLAS()
	current = OpenBLAS
}

// loadOpenBLAS sets the environment OpenBLAS reads at load time, opens the
// library, puts the environment back as it was, and returns what was
// loaded. It sets haveOpenBLAS, or loadErr. A variable set to the empty
// string counts as unset (OpenBLAS ignores it too) and is restored empty.
func loadOpenBLAS(lookup func(string) (string, bool), set func(string, string) error, unset func(string) error) openBLASInfo {
	var info openBLASInfo
	core, _ := lookup(coreTypeEnv)
	info.userCore = core != ""
	vars := map[string]string{} // what to set for the load
	if !info.userCore {
		if info.chosen = coreType(readFeatures()); info.chosen != "" {
			vars[coreTypeEnv] = info.chosen
		}
	}
	if n, _ := lookup(threadsEnv); n == "" {
		// One thread from the start: OpenBLAS does not start (and
		// spin) its worker threads.
		vars[threadsEnv] = "1"
	}
	prior := map[string]*string{}
	for k, v := range vars {
		if old, ok := lookup(k); ok {
			prior[k] = &old
		}
		set(k, v)
	}
	defer func() {
		for k := range vars {
			if old := prior[k]; old != nil {
				set(k, *old)
			} else {
				unset(k)
			}
		}
	}()
	name := C.CString(libOpenBLAS)
	reason := C.hc_openblas_load(name)
	C.free(unsafe.Pointer(name))
	if reason != nil {
		loadErr = fmt.Errorf("gemm: opening %s: %s: %w", libOpenBLAS, C.GoString(reason), ErrBackend)
		return info
	}
	haveOpenBLAS = true
	info.core = C.GoString(C.hc_openblas_corename())
	info.config = C.GoString(C.hc_openblas_config())
	if info.userCore {
		info.chosen = core
	}
	return info
}

// readFeatures reads the processor's vector extensions with CPUID and
// XGETBV: an extension counts only if the operating system saves its
// registers.
func readFeatures() features {
	var r [4]C.uint
	var f features
	if C.hc_cpuid(0, 0, &r[0]) == 0 {
		return f
	}
	f.vendor = string(unsafe.Slice((*byte)(unsafe.Pointer(&r[1])), 4)) +
		string(unsafe.Slice((*byte)(unsafe.Pointer(&r[3])), 4)) +
		string(unsafe.Slice((*byte)(unsafe.Pointer(&r[2])), 4))
	if C.hc_cpuid(1, 0, &r[0]) == 0 {
		return f
	}
	const osxsave, avx, fma = 1 << 27, 1 << 28, 1 << 12
	ecx1 := uint32(r[2])
	if ecx1&osxsave == 0 {
		return f
	}
	xcr0 := uint64(C.hc_xcr0())
	ymm := xcr0&0x6 == 0x6          // SSE and AVX state
	zmm := ymm && xcr0&0xe0 == 0xe0 // opmask, ZMM0–15 upper halves, ZMM16–31
	f.avx = ymm && ecx1&avx != 0
	f.fma = f.avx && ecx1&fma != 0
	if C.hc_cpuid(7, 0, &r[0]) == 0 {
		return f
	}
	ebx7 := uint32(r[1])
	const avx2, avx512f, avx512dq, avx512cd, avx512bw, avx512vl = 1 << 5, 1 << 16, 1 << 17, 1 << 28, 1 << 30, 1 << 31
	const skylakeX = avx512f | avx512dq | avx512cd | avx512bw | avx512vl
	f.avx2 = f.avx && ebx7&avx2 != 0
	f.avx512 = zmm && ebx7&skylakeX == skylakeX
	if C.hc_cpuid(7, 1, &r[0]) != 0 {
		const avx512bf16 = 1 << 5 // leaf 7 subleaf 1, EAX
		f.avx512bf16 = f.avx512 && uint32(r[0])&avx512bf16 != 0
	}
	return f
}

// useOpenBLAS installs OpenBLAS as gonum's blas64 and blas32 (so gonum's
// mat too) for the matrix product; the other BLAS routines stay gonum's.
func useOpenBLAS() {
	blas64.Use(openBLASImpl{})
	blas32.Use(openBLASImpl{})
}

// openBLASImpl is gonum's BLAS with Dgemm and Sgemm replaced by OpenBLAS's.
type openBLASImpl struct{ gonum.Implementation }

// Dgemm is cblas_dgemm in row-major order (see dgemm).
func (openBLASImpl) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Sgemm is cblas_sgemm in row-major order (see sgemm).
func (openBLASImpl) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// cblasTrans is CBLAS's code of a transpose.
func cblasTrans(t blas.Transpose) C.int {
	if t == blas.NoTrans {
		return 111
	}
	return 112
}

// dgemm and sgemm are the OpenBLAS kernels: one single-threaded call, after
// the checks of checkGemm (OpenBLAS gets raw pointers); with k = 0 they
// scale C by beta without calling OpenBLAS.
func dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if checkGemm(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc) {
		return
	}
	if k == 0 {
		scale(beta, m, n, c, ldc)
		return
	}
	C.hc_openblas_dgemm(cblasTrans(tA), cblasTrans(tB), C.int(m), C.int(n), C.int(k),
		C.double(alpha), (*C.double)(unsafe.Pointer(&a[0])), C.int(lda),
		(*C.double)(unsafe.Pointer(&b[0])), C.int(ldb),
		C.double(beta), (*C.double)(unsafe.Pointer(&c[0])), C.int(ldc))
}

func sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if checkGemm(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc) {
		return
	}
	if k == 0 {
		scale(beta, m, n, c, ldc)
		return
	}
	C.hc_openblas_sgemm(cblasTrans(tA), cblasTrans(tB), C.int(m), C.int(n), C.int(k),
		C.float(alpha), (*C.float)(unsafe.Pointer(&a[0])), C.int(lda),
		(*C.float)(unsafe.Pointer(&b[0])), C.int(ldb),
		C.float(beta), (*C.float)(unsafe.Pointer(&c[0])), C.int(ldc))
}
