package birkhoff

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// MaxPermN is the largest n for which NewPerms builds a table. The table of
// all permutations of {0, …, n−1} holds n·n! integers, and a mixture over it
// has n! weights: 8! = 40320 permutations (about 2.9 MB of tables), while
// 9! = 362880 would cost 29 MB and as many weights per token.
const MaxPermN = 8

var (
	// ErrPermSize is wrapped by the error NewPerms returns for n < 1 or
	// n > MaxPermN.
	ErrPermSize = errors.New("birkhoff: unsupported permutation size")
	// ErrIndex is the panic value for a permutation index outside [0, n!),
	// or for an n whose factorial does not fit in an int.
	ErrIndex = errors.New("birkhoff: permutation index out of range")
	// ErrPermutation is the panic value for a slice that is not a
	// permutation of {0, …, len−1}.
	ErrPermutation = errors.New("birkhoff: not a permutation")
)

// maxFactN is the largest n with n! representable in an int: 20 on 64-bit
// platforms (20! ≈ 2.4e18), 12 on 32-bit ones (12! ≈ 4.8e8).
var maxFactN = map[int]int{32: 12, 64: 20}[bits.UintSize]

// Factorial returns n! = 1·2·…·n, with 0! = 1. It panics with ErrIndex if
// n < 0 or n! overflows an int (n > 20 on 64-bit platforms).
func Factorial(n int) int {
	if n < 0 || n > maxFactN {
		panic(ErrIndex)
	}
	f := 1
	for i := 2; i <= n; i++ {
		f *= i
	}
	return f
}

// Permutation writes into dst the permutation of {0, …, n−1} whose rank in
// lexicographic order is index, and returns dst. Index 0 is the identity
// [0 1 … n−1] and index n!−1 is the reversal [n−1 … 1 0].
//
// The rank is decoded through the Lehmer code: index = Σ_i c_i·(n−1−i)!,
// where c_i counts the entries after position i that are smaller than p[i].
// The cost is O(n²).
//
// If dst is nil a new slice is allocated. Permutation panics with ErrShape
// if dst is not nil and len(dst) != n, or n < 1, and with ErrIndex if index
// is outside [0, n!).
func Permutation(dst []int, n, index int) []int {
	if n < 1 {
		panic(ErrShape)
	}
	if dst == nil {
		dst = make([]int, n)
	}
	if len(dst) != n {
		panic(ErrShape)
	}
	if index < 0 || index >= Factorial(n) {
		panic(ErrIndex)
	}
	// Write the Lehmer digits into dst, then replace each digit by the
	// digit-th smallest value not yet used (a bit set of used values).
	rem := index
	for i := 0; i < n; i++ {
		f := Factorial(n - 1 - i)
		dst[i] = rem / f
		rem %= f
	}
	var used uint64 // n ≤ 20, so one word suffices
	for i, c := range dst {
		v := 0
		for {
			if used&(1<<v) == 0 {
				if c == 0 {
					break
				}
				c--
			}
			v++
		}
		used |= 1 << v
		dst[i] = v
	}
	return dst
}

// PermutationIndex returns the lexicographic rank of the permutation p of
// {0, …, len(p)−1}: the inverse of Permutation, so that
// PermutationIndex(Permutation(nil, n, k)) == k. The cost is O(n²).
//
// It panics with ErrPermutation if p is empty or is not a permutation, and
// with ErrIndex if len(p)! overflows an int.
func PermutationIndex(p []int) int {
	n := len(p)
	if n == 0 {
		panic(ErrPermutation)
	}
	if n > maxFactN {
		panic(ErrIndex)
	}
	var seen uint64
	for _, v := range p {
		if v < 0 || v >= n || seen&(1<<v) != 0 {
			panic(ErrPermutation)
		}
		seen |= 1 << v
	}
	index := 0
	for i := 0; i < n; i++ {
		c := 0
		for _, v := range p[i+1:] {
			if v < p[i] {
				c++
			}
		}
		index = index*(n-i) + c
	}
	return index
}

// Perms is the table of all n! permutations of {0, …, n−1} in lexicographic
// order, for loops that visit every permutation (Mix, MixBackward). The
// permutation with index k is At(k), equal to Permutation(nil, n, k).
//
// As a matrix, permutation p is P with P[i, p[i]] = 1 and zeros elsewhere:
// row i holds its 1 in column p[i], so (P·x)[i] = x[p[i]] — output stream i
// reads input stream p[i]. The identity has index 0.
//
// A Perms is immutable after NewPerms and safe for concurrent use.
type Perms struct {
	n     int
	count int
	table []int   // count×n, row k is permutation k
	flat  []uint8 // count×n, flat[k·n+i] = i·n + p_k(i), the row-major offset of P_k's 1 in row i
}

// NewPerms returns the table of all permutations of {0, …, n−1}. It returns
// an error wrapping ErrPermSize if n < 1 or n > MaxPermN: the table grows as
// n·n! (8! = 40320 permutations, 9! = 362880).
func NewPerms(n int) (*Perms, error) {
	if n < 1 || n > MaxPermN {
		return nil, fmt.Errorf("%w: n = %d is outside [1, %d]: the table holds n! permutations "+
			"(8! = 40320, 9! = 362880) and a mixture needs n! weights", ErrPermSize, n, MaxPermN)
	}
	count := Factorial(n)
	table := make([]int, count*n)
	p := table[:n]
	for i := range p {
		p[i] = i
	}
	for k := 1; k < count; k++ {
		next := table[k*n : k*n+n]
		copy(next, table[(k-1)*n:k*n])
		nextPermutation(next)
	}
	flat := make([]uint8, len(table))
	for k, j := range table {
		flat[k] = uint8(k%n*n + j) // < MaxPermN² = 64
	}
	return &Perms{n: n, count: count, table: table, flat: flat}, nil
}

// nextPermutation advances p to its lexicographic successor in place. The
// caller guarantees p is not the last permutation.
func nextPermutation(p []int) {
	i := len(p) - 2
	for p[i] > p[i+1] {
		i--
	}
	j := len(p) - 1
	for p[j] < p[i] {
		j--
	}
	p[i], p[j] = p[j], p[i]
	for l, r := i+1, len(p)-1; l < r; l, r = l+1, r-1 {
		p[l], p[r] = p[r], p[l]
	}
}

// N returns n, the size of each permutation.
func (p *Perms) N() int { return p.n }

// Len returns the number of permutations, n!.
func (p *Perms) Len() int { return p.count }

// At returns permutation k, 0 ≤ k < Len(). The slice shares the table's
// storage and must not be modified. At panics with ErrIndex if k is out of
// range.
func (p *Perms) At(k int) []int {
	if k < 0 || k >= p.count {
		panic(ErrIndex)
	}
	return p.table[k*p.n : k*p.n+p.n : k*p.n+p.n]
}

// Mix writes into dst the n×n row-major mixture H = Σ_k w[k]·P_k over all
// permutations of p, where P_k has its 1 of row i in column p.At(k)[i]:
// H[i, j] is the total weight of the permutations that send i to j.
//
// If w is nonnegative and sums to 1 (a softmax, say), H is doubly
// stochastic to the rounding of the sum. Every entry is accumulated in
// float64, whatever F is, by Neumaier's compensated summation: each entry
// adds (n−1)! weights, and near a mixer's init those are all equal, so a
// plain sum would round the same way at every step, a bias of up to
// (n−1)!·ulp/2 (≈ 4e-14 at n = 8) that jumps whenever w moves, noise that a
// finite-difference check sees. The compensated sum is correct to about one
// rounding. Mix does not check w: a NaN weight yields NaN entries. The cost
// is O(n·n!) and Mix does not allocate.
//
// Mix panics with ErrShape if len(dst) != n*n or len(w) != p.Len().
func Mix[F Float](dst []F, p *Perms, w []F) {
	n := p.n
	if len(dst) != n*n || len(w) != p.count {
		panic(ErrShape)
	}
	var acc, comp [MaxPermN * MaxPermN]float64
	for k, wk := range w {
		x := float64(wk)
		for _, o := range p.flat[k*n : k*n+n] {
			o &= MaxPermN*MaxPermN - 1 // the mask drops the bounds checks
			s := acc[o]
			sum := s + x
			if math.Abs(s) >= math.Abs(x) {
				comp[o] += (s - sum) + x
			} else {
				comp[o] += (x - sum) + s
			}
			acc[o] = sum
		}
	}
	for i := range dst {
		dst[i] = F(acc[i] + comp[i])
	}
}

// MixBackward writes into dw the gradient of a loss L with respect to the
// weights of Mix, given g = ∂L/∂H (n×n row-major): dw[k] = ⟨G, P_k⟩ =
// Σ_i G[i, p.At(k)[i]]. It overwrites dw; it does not accumulate. MixBackward
// is the adjoint of Mix: ⟨Mix(w), G⟩ = ⟨w, dw⟩. The cost is O(n·n!) and it
// does not allocate.
//
// MixBackward panics with ErrShape if len(dw) != p.Len() or len(g) != n*n.
func MixBackward[F Float](dw []F, p *Perms, g []F) {
	n := p.n
	if len(dw) != p.count || len(g) != n*n {
		panic(ErrShape)
	}
	var gg [MaxPermN * MaxPermN]float64
	for i, v := range g {
		gg[i] = float64(v)
	}
	for k := range dw {
		var s float64
		for _, o := range p.flat[k*n : k*n+n] {
			s += gg[o&(MaxPermN*MaxPermN-1)]
		}
		dw[k] = F(s)
	}
}
