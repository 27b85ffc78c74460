package main

import (
	"math"
	"testing"
)

func TestGradSpike(t *testing.T) {
	nums := func(v ...float64) []num {
		out := make([]num, len(v))
		for i, x := range v {
			out[i] = num(x)
		}
		return out
	}
	for _, c := range []struct {
		name        string
		g           []num
		warmup      int
		max, factor float64
	}{
		// The init's large norms (steps 1–2) are warmup and do not count:
		// the spike of step 6 does, over the median 1.5 of steps 3–8.
		{"spike after warmup", nums(9, 7, 1, 2, 1, 6, 2, 1), 2, 6, 4},
		// Odd count: median is the middle value.
		{"odd", nums(5, 1, 3, 2), 1, 3, 1.5},
		{"no warmup", nums(2, 2, 2), 0, 2, 1},
		{"warmup covers the run", nums(1, 2), 2, math.NaN(), math.NaN()},
		{"diverged before any step", nil, 0, math.NaN(), math.NaN()},
		{"vanished gradient", nums(1, 0, 0, 0), 1, 0, math.NaN()},
	} {
		m, f := gradSpike(c.g, c.warmup)
		same := func(a num, b float64) bool {
			return float64(a) == b || math.IsNaN(float64(a)) && math.IsNaN(b)
		}
		if !same(m, c.max) || !same(f, c.factor) {
			t.Errorf("%s: gradSpike = %v, %v; want %v, %v", c.name, m, f, c.max, c.factor)
		}
	}
}
