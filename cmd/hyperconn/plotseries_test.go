package main

import (
	"math"
	"slices"
	"testing"
)

func TestStepPoints(t *testing.T) {
	x, y := stepPoints([]num{2, nan, num(math.Inf(1)), 0.5})
	if !slices.Equal(x, []float64{1, 4}) || !slices.Equal(y, []float64{2, 0.5}) {
		t.Errorf("stepPoints = %v, %v; want steps 1 and 4 (the finite values)", x, y)
	}
}

func TestTrailingMean(t *testing.T) {
	got := trailingMean([]float64{1, 3, 5, 7, 9}, 3)
	// (1)/1, (1+3)/2, (1+3+5)/3, (3+5+7)/3, (5+7+9)/3
	if want := []float64{1, 2, 3, 5, 7}; !slices.Equal(got, want) {
		t.Errorf("trailingMean = %v, want %v", got, want)
	}
	if got := trailingMean(nil, 3); len(got) != 0 {
		t.Errorf("trailingMean(nil) = %v", got)
	}
}
