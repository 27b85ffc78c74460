package main

import (
	"math"

	"github.com/hyperconn/hyperconn/internal/plotting"
)

// stepPoints returns the points (s, v[s−1]) of the per-step values v,
// leaving out those that are not finite.
func stepPoints(v []num) (x, y []float64) {
	return finitePoints(nil, v)
}

// finitePoints returns the points (at[i], v[i]), or (i+1, v[i]) if at is
// nil, leaving out those whose value is not finite.
func finitePoints(at []float64, v []num) (x, y []float64) {
	x, y = make([]float64, 0, len(v)), make([]float64, 0, len(v))
	for i, e := range v {
		if f := float64(e); !math.IsNaN(f) && !math.IsInf(f, 0) {
			xi := float64(i + 1)
			if at != nil {
				xi = at[i]
			}
			x = append(x, xi)
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

// stepSeries returns the per-step values v (v[s−1] is step s's) of a run
// as a series named name, its last point marked with a cross if the run
// diverged.
func stepSeries(name string, diverged bool, v []num) plotting.Series {
	return pointSeries(name, diverged, nil, v)
}

// pointSeries returns the values v[i] at at[i] (see finitePoints) as a
// series named name, its last point marked with a cross if the run
// diverged.
func pointSeries(name string, diverged bool, at []float64, v []num) plotting.Series {
	s := plotting.Series{Name: name}
	s.X, s.Y = finitePoints(at, v)
	if diverged && len(s.X) > 0 {
		s.Crosses = []int{len(s.X) - 1}
	}
	return s
}

// smoothedSeries returns the per-step losses of a run (see stepSeries) as
// the faint underlying line of a series whose own line is their trailing
// mean over lossSmoothing steps.
func smoothedSeries(name string, diverged bool, loss []num) plotting.Series {
	s := stepSeries(name, diverged, loss)
	s.UnderX, s.UnderY = s.X, s.Y
	s.Y = trailingMean(s.Y, lossSmoothing)
	return s
}
