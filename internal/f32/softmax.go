package f32

// ExpSum replaces every x[i] by Exp(x[i] − shift) (each difference rounded
// to float32, then Exp's polynomial) and returns the sum of the results,
// accumulated in float64 in the fixed order of SumSquares (term i into
// partial sum i mod Lanes, combined by the same tree), so that the sum
// depends only on x, not on the processor. It is the exponential pass of a
// softmax over a row shifted by its maximum, where every x[i] − shift is
// ≤ 0 (Exp's domain; terms below −87 become 0).
func ExpSum(x []float32, shift float32) float64 {
	var s [Lanes]float64
	n := 0
	if HasAVX2 {
		n = len(x) &^ (Lanes - 1)
		if n > 0 {
			expSumAVX2(x[:n], shift, &geluTab, &s)
		}
	}
	expSumGo(x[n:], shift, n, &s)
	return combine(&s)
}

// ExpSumGo is the pure-Go twin of ExpSum.
func ExpSumGo(x []float32, shift float32) float64 {
	var s [Lanes]float64
	expSumGo(x, shift, 0, &s)
	return combine(&s)
}

// expSumGo is ExpSum's loop over x, whose first element is element off of
// the whole slice (for the partial sums' order).
func expSumGo(x []float32, shift float32, off int, s *[Lanes]float64) {
	for i, v := range x {
		e := Exp(v - shift)
		x[i] = e
		s[(off+i)%Lanes] += float64(e)
	}
}
