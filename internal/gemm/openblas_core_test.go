package gemm

import (
	"errors"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas"
)

func TestCoreType(t *testing.T) {
	for _, d := range []struct {
		name string
		f    features
		want string
	}{
		{"none", features{vendor: "GenuineIntel"}, ""},
		{"avx only", features{vendor: "GenuineIntel", avx: true}, ""},
		{"avx2 without fma", features{vendor: "GenuineIntel", avx: true, avx2: true}, ""},
		{"haswell", features{vendor: "GenuineIntel", avx: true, fma: true, avx2: true}, "Haswell"},
		{"zen", features{vendor: "AuthenticAMD", avx: true, fma: true, avx2: true}, "Zen"},
		{"other vendor avx2", features{vendor: "HygonGenuine", avx: true, fma: true, avx2: true}, "Haswell"},
		{"skylakex", features{vendor: "GenuineIntel", avx: true, fma: true, avx2: true, avx512: true}, "SkylakeX"},
		{"sapphire rapids", features{vendor: "GenuineIntel", avx: true, fma: true, avx2: true, avx512: true, avx512bf16: true}, "SkylakeX"},
		{"zen4", features{vendor: "AuthenticAMD", avx: true, fma: true, avx2: true, avx512: true, avx512bf16: true}, "SkylakeX"},
	} {
		if got := coreType(d.f); got != d.want {
			t.Errorf("%s: coreType = %q, want %q", d.name, got, d.want)
		}
	}
}

func TestDescribe(t *testing.T) {
	got := Describe()
	if strings.Contains(got, "\n") {
		t.Errorf("Describe is not one line: %q", got)
	}
	if !strings.HasPrefix(got, Current().String()+":") {
		t.Errorf("Describe = %q, want it to start with the backend %v", got, Current())
	}
	o := openBLASInfo{chosen: "Haswell", userCore: true, core: "Haswell", config: "OpenBLAS 0.3.21 DYNAMIC_ARCH Haswell"}
	if s := o.String(); !strings.Contains(s, "OPENBLAS_CORETYPE=Haswell set by the user") || !strings.Contains(s, "kernels Haswell") {
		t.Errorf("user's core type: %q", s)
	}
	o = openBLASInfo{chosen: "SkylakeX", core: "SkylakeX", config: "OpenBLAS 0.3.21"}
	if s := o.String(); !strings.Contains(s, "chosen by hyperconn from CPUID") {
		t.Errorf("chosen core type: %q", s)
	}
	o = openBLASInfo{core: "Prescott", config: "OpenBLAS 0.3.21"}
	if s := o.String(); !strings.Contains(s, "kernels Prescott (chosen by OpenBLAS)") {
		t.Errorf("OpenBLAS's choice: %q", s)
	}
}

func TestCheckGemm(t *testing.T) {
	type args struct {
		tA, tB                             blas.Transpose
		m, n, k, la, lda, lb, ldb, lc, ldc int
	}
	ok := []args{
		{blas.NoTrans, blas.NoTrans, 2, 3, 4, 8, 4, 12, 3, 6, 3},
		{blas.Trans, blas.NoTrans, 2, 3, 4, 8, 2, 12, 3, 6, 3},
		{blas.NoTrans, blas.Trans, 2, 3, 4, 8, 4, 12, 4, 6, 3},
		{blas.ConjTrans, blas.ConjTrans, 2, 3, 4, 8, 2, 12, 4, 6, 3}, // every slice exactly as long as needed
		{blas.NoTrans, blas.NoTrans, 2, 3, 4, 9, 5, 15, 4, 8, 5},     // padded rows
		{blas.NoTrans, blas.NoTrans, 2, 3, 0, 0, 1, 0, 3, 6, 3},      // k = 0: A and B empty
	}
	for i, a := range ok {
		if empty := checkGemm(a.tA, a.tB, a.m, a.n, a.k, a.la, a.lda, a.lb, a.ldb, a.lc, a.ldc); empty {
			t.Errorf("case %d: reported empty", i)
		}
	}
	if !checkGemm(blas.NoTrans, blas.NoTrans, 0, 3, 4, 0, 4, 12, 3, 0, 3) {
		t.Error("m = 0 not reported empty")
	}
	bad := []args{
		{'X', blas.NoTrans, 2, 3, 4, 8, 4, 12, 3, 6, 3},
		{blas.NoTrans, 'X', 2, 3, 4, 8, 4, 12, 3, 6, 3},
		{blas.NoTrans, blas.NoTrans, -1, 3, 4, 8, 4, 12, 3, 6, 3},
		{blas.NoTrans, blas.NoTrans, 2, 3, -4, 8, 4, 12, 3, 6, 3},
		{blas.NoTrans, blas.NoTrans, 2, 3, 4, 7, 4, 12, 3, 6, 3}, // A short
		{blas.NoTrans, blas.NoTrans, 2, 3, 4, 8, 3, 12, 3, 6, 3}, // lda < k
		{blas.Trans, blas.NoTrans, 2, 3, 4, 8, 1, 12, 3, 6, 3},   // lda < m
		{blas.NoTrans, blas.NoTrans, 2, 3, 4, 8, 4, 11, 3, 6, 3}, // B short
		{blas.NoTrans, blas.Trans, 2, 3, 4, 8, 4, 12, 3, 6, 3},   // ldb < k
		{blas.NoTrans, blas.NoTrans, 2, 3, 4, 8, 4, 12, 3, 5, 3}, // C short
		{blas.NoTrans, blas.NoTrans, 2, 3, 4, 8, 4, 12, 3, 6, 2}, // ldc < n
		{blas.NoTrans, blas.NoTrans, 2, 0, 4, 8, 4, 0, 0, 0, 0},  // ld 0
	}
	for i, a := range bad {
		func() {
			defer func() {
				if r := recover(); r == nil || !errors.Is(r.(error), ErrArgs) {
					t.Errorf("bad case %d: recovered %v, want ErrArgs", i, r)
				}
			}()
			checkGemm(a.tA, a.tB, a.m, a.n, a.k, a.la, a.lda, a.lb, a.ldb, a.lc, a.ldc)
		}()
	}
}
