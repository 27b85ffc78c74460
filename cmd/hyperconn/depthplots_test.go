package main

import (
	"math"
	"slices"
	"testing"
)

func TestLossSeries(t *testing.T) {
	r := &depthRun{Key: depthKey{Mixer: "hc"}}
	for i := range 25 {
		r.Loss = append(r.Loss, num(i+1)) // loss of step s is s
	}
	s := smoothedSeries(runName(r), r.Record.Diverged, r.Loss)
	if s.Name != "hc" || len(s.Crosses) != 0 {
		t.Errorf("name %q, crosses %v; want hc and none", s.Name, s.Crosses)
	}
	if len(s.UnderY) != 25 || s.UnderY[24] != 25 || s.UnderX[0] != 1 {
		t.Fatalf("underlying raw line %v at %v, want 1…25 at steps 1…25", s.UnderY, s.UnderX)
	}
	// The trailing mean over lossSmoothing = 10 steps: at step s ≥ 10 the
	// mean of s−9…s is s − 4.5; before, of 1…s.
	for i, y := range s.Y {
		st := float64(i + 1)
		want := (st + 1) / 2
		if st >= lossSmoothing {
			want = st - (lossSmoothing-1)/2.0
		}
		if math.Abs(y-want) > 1e-12 {
			t.Errorf("step %v: smoothed %v, want %v", st, y, want)
		}
	}
}

func TestStepSeriesDiverged(t *testing.T) {
	r := &depthRun{Key: depthKey{Mixer: "mhc"}, Record: depthRecord{Diverged: true, StepsRun: 3},
		GradNorm: []num{5, 2, 1}}
	s := stepSeries(runName(r), r.Record.Diverged, r.GradNorm)
	if s.Name != "mhc (diverged at step 4)" {
		t.Errorf("name %q", s.Name)
	}
	if !slices.Equal(s.X, []float64{1, 2, 3}) || !slices.Equal(s.Y, []float64{5, 2, 1}) || !slices.Equal(s.Crosses, []int{2}) {
		t.Errorf("series %v / %v crosses %v; want steps 1–3, norms 5, 2, 1, a cross at the last", s.X, s.Y, s.Crosses)
	}
	// Diverged before the first update: nothing to draw, nothing to mark.
	r.GradNorm, r.Record.StepsRun = nil, 0
	if s := stepSeries(runName(r), r.Record.Diverged, r.GradNorm); len(s.X) != 0 || len(s.Crosses) != 0 {
		t.Errorf("empty run: %v, crosses %v", s.X, s.Crosses)
	}
}
