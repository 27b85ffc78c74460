package birkhoff_test

import (
	"fmt"

	"github.com/hyperconn/hyperconn/birkhoff"
)

// The permutations of {0, 1, 2} in lexicographic order, and back.
func ExamplePermutation() {
	p := make([]int, 3)
	for k := range birkhoff.Factorial(3) {
		birkhoff.Permutation(p, 3, k)
		fmt.Println(k, p, birkhoff.PermutationIndex(p))
	}
	// Output:
	// 0 [0 1 2] 0
	// 1 [0 2 1] 1
	// 2 [1 0 2] 2
	// 3 [1 2 0] 3
	// 4 [2 0 1] 4
	// 5 [2 1 0] 5
}

func ExamplePermutationIndex() {
	// [2 0 1] has Lehmer code (2, 0, 0): rank 2·2! + 0·1! + 0·0! = 4.
	fmt.Println(birkhoff.PermutationIndex([]int{2, 0, 1}))
	// Output:
	// 4
}

// An mHC-lite style residual matrix: half identity, the rest on the two
// cyclic shifts. Row i of permutation p holds its 1 in column p[i].
func ExampleMix() {
	ps, err := birkhoff.NewPerms(3)
	if err != nil {
		panic(err)
	}
	w := make([]float64, ps.Len())
	w[0] = 0.5 // [0 1 2], the identity
	w[3] = 0.3 // [1 2 0]
	w[4] = 0.2 // [2 0 1]
	h := make([]float64, 3*3)
	birkhoff.Mix(h, ps, w)
	for i := range 3 {
		fmt.Printf("%.1f\n", h[i*3:i*3+3])
	}
	fmt.Printf("deviation %.1g\n", birkhoff.Deviation(h, 3))

	// Output:
	// [0.5 0.3 0.2]
	// [0.2 0.5 0.3]
	// [0.3 0.2 0.5]
	// deviation 0
}

// Decompose recovers the mixture of ExampleMix: the supports of the three
// permutations are disjoint, so the decomposition is unique.
func ExampleDecompose() {
	h := []float64{
		0.5, 0.3, 0.2,
		0.2, 0.5, 0.3,
		0.3, 0.2, 0.5,
	}
	d, err := birkhoff.Decompose(h, 3, 0)
	if err != nil {
		panic(err)
	}
	for k, w := range d.Weights {
		fmt.Printf("%.2f %v\n", w, d.Perms[k])
	}
	fmt.Printf("residual %.0g\n", d.Residual)
	// Output:
	// 0.50 [0 1 2]
	// 0.30 [1 2 0]
	// 0.20 [2 0 1]
	// residual 0
}

// Round turns the output of a truncated Sinkhorn run, whose columns are
// off, into an exactly doubly stochastic matrix.
func ExampleRound() {
	m := []float64{
		0.7, 0.3,
		0.6, 0.4,
	}
	moved, err := birkhoff.Round(m, m, 2) // in place
	if err != nil {
		panic(err)
	}
	fmt.Printf("%.4f\nmoved %.2f\n", m, moved)
	fmt.Println("deviation below 1e-15:", birkhoff.Deviation(m, 2) < 1e-15)
	// Output:
	// [0.5385 0.4615 0.4615 0.5385]
	// moved 0.60
	// deviation below 1e-15: true
}
