package f64

import "github.com/hyperconn/hyperconn/internal/cpu"

// The row kernels: the dot products of one row with several others, the
// rank-one update of a matrix and the addition of a combination of rows.
// They serve products too small for a BLAS to pay off, such as rows of C
// values against the few columns of a mixer's weights.
//
// A dot product x·y is summed in four interleaved partial sums: s_l adds
// x_k·y_k over the columns k ≡ l (mod 4) below len(x)&^3 in increasing k,
// starting from +0; the result is (s_0+s_2) + (s_1+s_3), to which the last
// len(x) mod 4 products are added in order of k. The AVX assembly keeps s_0
// … s_3 in the four lanes of one register; the pure-Go twins (the …Go
// functions) follow the same order, so the two agree bit for bit
// (TestRowTwins). The other kernels are element-wise, each element summed
// in the order its doc states. No kernel fuses a multiply-add.

// HasAVX reports whether SqDots, Ger and AddCombination run the AVX
// assembly. Tests may set it to false to force the pure-Go twins.
var HasAVX = cpu.AVX

// dotGroup is how many dot products one pass of the assembly computes.
const dotGroup = 7

// SqDots returns x·x and sets dst[j] = x·w_j for the len(dst) rows w_j of
// w (len(dst)×len(x), row-major), every dot product summed in the order of
// the package documentation. One pass over x computes x·x and six of the
// dot products. SqDots panics with ErrShape if len(w) ≠ len(dst)·len(x).
func SqDots(dst, x, w []float64) float64 {
	c, m := len(x), len(dst)
	if len(w) != m*c {
		panic(ErrShape)
	}
	if !HasAVX || c == 0 {
		return SqDotsGo(dst, x, w)
	}
	// The first pass takes x and up to six rows of w, the others seven rows
	// each; a short group repeats its last row and drops the extra results.
	var d [dotGroup]float64
	var p [dotGroup]*float64
	p[0] = &x[0]
	g := min(m, dotGroup-1)
	for i := 1; i < dotGroup; i++ {
		p[i] = &x[0]
		if g > 0 {
			p[i] = &w[min(i-1, g-1)*c]
		}
	}
	dots7AVX(&d, &x[0], &p, c)
	sq := d[0]
	for i := range g { // not copy: memmove costs more for a few values
		dst[i] = d[1+i]
	}
	for j := g; j < m; j += dotGroup {
		g := min(m-j, dotGroup)
		for i := range dotGroup {
			p[i] = &w[(j+min(i, g-1))*c]
		}
		dots7AVX(&d, &x[0], &p, c)
		for i := range g {
			dst[j+i] = d[i]
		}
	}
	return sq
}

// SqDotsGo is the pure-Go twin of SqDots.
func SqDotsGo(dst, x, w []float64) float64 {
	c, m := len(x), len(dst)
	if len(w) != m*c {
		panic(ErrShape)
	}
	for j := range dst {
		dst[j] = dotGo(x, w[j*c:(j+1)*c])
	}
	return dotGo(x, x)
}

// dotGo returns x·y in the order of the package documentation.
func dotGo(x, y []float64) float64 {
	y = y[:len(x)]
	c4 := len(x) &^ 3
	var s0, s1, s2, s3 float64
	for k := 0; k < c4; k += 4 {
		s0 += float64(x[k] * y[k])
		s1 += float64(x[k+1] * y[k+1])
		s2 += float64(x[k+2] * y[k+2])
		s3 += float64(x[k+3] * y[k+3])
	}
	s := (s0 + s2) + (s1 + s3)
	for k := c4; k < len(x); k++ {
		s += float64(x[k] * y[k])
	}
	return s
}

// Ger adds the outer products a_i·x_iᵀ of the rows a_i of a (rows×m) and
// x_i of x (rows×C) to w (m×C, row-major): row j of w gains a_0[j]·x_0,
// then a_1[j]·x_1, and so on, each product rounded and then added, so Ger
// over many rows equals Ger over each row in turn, bit for bit. It panics
// with ErrShape if rows < 1 or the lengths are not rows×m, rows×C and m×C.
func Ger(w, a, x []float64, rows int) {
	if rows < 1 || len(a)%rows != 0 || len(x)%rows != 0 {
		panic(ErrShape)
	}
	m, c := len(a)/rows, len(x)/rows
	if len(w) != m*c {
		panic(ErrShape)
	}
	if !HasAVX || c == 0 || m == 0 {
		GerGo(w, a, x, rows)
		return
	}
	for j := range m {
		addCombAVX(&w[j*c], 0, nil, &a[j], m, &x[0], rows, c)
	}
}

// GerGo is the pure-Go twin of Ger.
func GerGo(w, a, x []float64, rows int) {
	if rows < 1 || len(a)%rows != 0 || len(x)%rows != 0 {
		panic(ErrShape)
	}
	m, c := len(a)/rows, len(x)/rows
	if len(w) != m*c {
		panic(ErrShape)
	}
	for i := range rows {
		ai, xi := a[i*m:(i+1)*m], x[i*c:(i+1)*c]
		for j, aj := range ai {
			row := w[j*c : (j+1)*c]
			for k, v := range xi {
				row[k] += float64(aj * v)
			}
		}
	}
}

// AddCombination adds b·x + Σ_j a_j·w_j to dst, for the len(a) rows w_j of
// w (len(a)×len(dst), row-major). Each element is summed left to right,
// ((dst + b·x) + a_0·w_0) + a_1·w_1 + …, every product rounded on its own.
// It panics with ErrShape if len(x) ≠ len(dst) or len(w) ≠ len(a)·len(dst).
func AddCombination(dst []float64, b float64, x, a, w []float64) {
	c := len(dst)
	if len(x) != c || len(w) != len(a)*c {
		panic(ErrShape)
	}
	if !HasAVX || c == 0 {
		AddCombinationGo(dst, b, x, a, w)
		return
	}
	var pa, pw *float64
	if len(a) > 0 {
		pa, pw = &a[0], &w[0]
	}
	addCombAVX(&dst[0], b, &x[0], pa, 1, pw, len(a), c)
}

// AddCombinationGo is the pure-Go twin of AddCombination.
func AddCombinationGo(dst []float64, b float64, x, a, w []float64) {
	c := len(dst)
	if len(x) != c || len(w) != len(a)*c {
		panic(ErrShape)
	}
	for k, v := range x {
		dst[k] += float64(b * v)
	}
	for j, aj := range a {
		row := w[j*c : (j+1)*c]
		for k, v := range row {
			dst[k] += float64(aj * v)
		}
	}
}
