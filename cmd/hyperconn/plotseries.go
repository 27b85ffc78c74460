package main

import "math"

// stepPoints returns the points (s, v[s−1]) of the per-step values v,
// leaving out those that are not finite.
func stepPoints(v []num) (x, y []float64) {
	x, y = make([]float64, 0, len(v)), make([]float64, 0, len(v))
	for i, e := range v {
		if f := float64(e); !math.IsNaN(f) && !math.IsInf(f, 0) {
			x = append(x, float64(i+1))
			y = append(y, f)
		}
	}
	return x, y
}

// trailingMean returns the mean of each value of y and the window−1 before
// it (fewer at the start).
func trailingMean(y []float64, window int) []float64 {
	out := make([]float64, len(y))
	var sum float64
	for i, v := range y {
		sum += v
		if i >= window {
			sum -= y[i-window]
		}
		out[i] = sum / float64(min(i+1, window))
	}
	return out
}
