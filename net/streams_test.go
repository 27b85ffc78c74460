package net

import (
	"math"
	"math/rand/v2"
	"testing"
)

// utilisationTol bounds the error of the eigenvalue-based measures on the
// exact cases below (sums of a few thousand products and one symmetric
// eigendecomposition).
const utilisationTol = 1e-12

func TestStreamUtilisation(t *testing.T) {
	rnd := rand.New(rand.NewPCG(21, 22))
	const rows, n, c = 200, 4, 16
	base := randSlice(rnd, rows*c, 1)

	// n copies of one signal: one stream's worth of information.
	x := make([]float64, rows*n*c)
	for r := range rows {
		for i := range n {
			copy(x[(r*n+i)*c:], base[r*c:(r+1)*c])
		}
	}
	u := StreamUtilisation(x, rows, n, c)
	if math.Abs(u.Effective-1) > utilisationTol || math.Abs(u.Dominant-1) > utilisationTol {
		t.Errorf("identical streams: effective %v dominant %v, want 1 and 1", u.Effective, u.Dominant)
	}
	for i, s := range u.Variance {
		if math.Abs(s-0.25) > utilisationTol {
			t.Errorf("identical streams: variance share %d = %v, want 1/4", i, s)
		}
	}

	// Two signals, each copied on two streams: a rank-2 covariance whose
	// effective rank has a closed form (twoSignalEffective), at most 2.
	for r := range rows {
		for e := range c {
			a := base[r*c+e]
			sign := 1.0
			if e%2 == 1 {
				sign = -1
			}
			x[(r*n+0)*c+e], x[(r*n+1)*c+e] = a, a
			x[(r*n+2)*c+e], x[(r*n+3)*c+e] = sign, sign
		}
	}
	u = StreamUtilisation(x, rows, n, c)
	want := twoSignalEffective(x, rows, n, c)
	if math.Abs(u.Effective-want) > 1e-9 || !(u.Effective > 1.5 && u.Effective <= 2+utilisationTol) {
		t.Errorf("two signals: effective %v, want %v (in (1.5, 2])", u.Effective, want)
	}

	// Independent noise on every stream: close to n streams.
	x = randSlice(rnd, rows*n*c, 1)
	u = StreamUtilisation(x, rows, n, c)
	if !(u.Effective > 3.9 && u.Effective <= n+utilisationTol && u.Dominant < 0.3) {
		t.Errorf("independent streams: effective %v dominant %v, want ≈ 4 and ≈ 1/4", u.Effective, u.Dominant)
	}

	// Constant streams and empty batches measure nothing.
	for i := range x {
		x[i] = 3
	}
	if u := StreamUtilisation(x, rows, n, c); u.Effective != 0 || u.Dominant != 0 {
		t.Errorf("constant streams: %+v, want zeros", u)
	}
	if u := StreamUtilisation(nil, 0, n, c); u.Effective != 0 || len(u.Variance) != n {
		t.Errorf("empty batch: %+v", u)
	}
	mustPanicWith(t, ErrShape, "short x", func() { StreamUtilisation(x[1:], rows, n, c) })
}

// twoSignalEffective computes the effective rank of a covariance built
// from two signals, each copied on two streams, in closed form: with
// variances va, vb and covariance cab of the two signals, the 4×4
// covariance [[A, A, C, C], …] has the eigenvalues of 2·[[va, cab],
// [cab, vb]] and two zeros.
func twoSignalEffective(x []float64, rows, n, c int) float64 {
	var ma, mb float64
	k := float64(rows * c)
	for r := range rows {
		for e := range c {
			ma += x[(r*n+0)*c+e] / k
			mb += x[(r*n+2)*c+e] / k
		}
	}
	var va, vb, cab float64
	for r := range rows {
		for e := range c {
			a, b := x[(r*n+0)*c+e]-ma, x[(r*n+2)*c+e]-mb
			va += a * a / k
			vb += b * b / k
			cab += a * b / k
		}
	}
	tr := va + vb
	d := math.Sqrt((va-vb)*(va-vb) + 4*cab*cab)
	l1, l2 := (tr+d)/2/tr, (tr-d)/2/tr
	h := 0.0
	for _, p := range []float64{l1, l2} {
		if p > 0 {
			h -= p * math.Log(p)
		}
	}
	return math.Exp(h)
}
