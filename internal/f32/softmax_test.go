package f32

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestExpSumTwins checks ExpSum (the assembly where HasAVX2) against its
// pure-Go twin bit for bit — results and sum — at every length, on rows of
// a softmax (shift the maximum; differences from 0 down to below −87) and
// with special values, and the twin against Exp element by element.
func TestExpSumTwins(t *testing.T) {
	rnd := rand.New(rand.NewPCG(41, 42))
	for _, k := range lengths {
		for _, specials := range []bool{false, true} {
			x := randSlice(rnd, k, specials)
			for i := range x {
				if !specials {
					// Terms e^x over 30 decades: their float64 sum
					// rounds, so that a change of summation order shows.
					x[i] = float32(-70 * rnd.Float64())
				}
			}
			shift := float32(0)
			for _, v := range x {
				shift = max(shift, v)
			}
			got, want := append([]float32(nil), x...), append([]float32(nil), x...)
			sg, sw := ExpSum(got, shift), ExpSumGo(want, shift)
			if i, ok := same(got, want); !ok {
				t.Fatalf("ExpSum k=%d specials=%v: element %d: %v, twin %v", k, specials, i, got[i], want[i])
			}
			if !same64(sg, sw) {
				t.Fatalf("ExpSum k=%d specials=%v: sum %v, twin %v", k, specials, sg, sw)
			}
			for i, v := range x {
				if e := Exp(v - shift); math.Float32bits(e) != math.Float32bits(want[i]) && !(e != e && want[i] != want[i]) {
					t.Fatalf("ExpSumGo k=%d: element %d: %v, Exp gives %v", k, i, want[i], e)
				}
			}
		}
	}
}

// TestExpSumAccuracy checks ExpSum's sum against math.Exp's in float64 on
// a softmax row of 1000 values.
func TestExpSumAccuracy(t *testing.T) {
	rnd := rand.New(rand.NewPCG(43, 44))
	x := make([]float32, 1000)
	var want float64
	for i := range x {
		x[i] = float32(-20 * rnd.Float64())
		want += math.Exp(float64(x[i]))
	}
	if got := ExpSum(x, 0); math.Abs(got-want)/want > expTol {
		t.Errorf("ExpSum = %v, math.Exp's sum %v: relative error %.3g, want ≤ %g", got, want, math.Abs(got-want)/want, expTol)
	}
}
