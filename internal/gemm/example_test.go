package gemm_test

import (
	"fmt"

	"gonum.org/v1/gonum/blas"

	"github.com/hyperconn/hyperconn/internal/gemm"
)

func ExampleMul() {
	a := []float64{1, 2, 3, 4, 5, 6}    // 2×3
	b := []float64{7, 8, 9, 10, 11, 12} // 3×2
	c := make([]float64, 4)             // 2×2
	gemm.Mul(blas.NoTrans, blas.NoTrans, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2)
	fmt.Println(c)

	// Aᵀ·A through the transpose flag: A is read as 3×2.
	ata := make([]float64, 9)
	gemm.Mul(blas.Trans, blas.NoTrans, 3, 3, 2, 1, a, 3, a, 3, 0, ata, 3)
	fmt.Println(ata)
	// Output:
	// [58 64 139 154]
	// [17 22 27 22 29 36 27 36 45]
}

func ExampleSetThreads() {
	// One experiment per core: each run multiplies on its own thread.
	old := gemm.SetThreads(1)
	defer gemm.SetThreads(old)
	fmt.Println(gemm.Threads())
	// Output: 1
}
