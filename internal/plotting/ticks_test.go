package plotting

import (
	"math"
	"slices"
	"testing"

	"gonum.org/v1/plot"
)

// labels returns the labels of the labelled ticks, in order of value.
func labels(ts []plot.Tick) []string {
	ts = slices.Clone(ts)
	slices.SortFunc(ts, func(a, b plot.Tick) int {
		switch {
		case a.Value < b.Value:
			return -1
		case a.Value > b.Value:
			return 1
		}
		return 0
	})
	var out []string
	for _, t := range ts {
		if t.Label != "" {
			out = append(out, t.Label)
		}
	}
	return out
}

func TestLogTicks(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		want   []string
	}{
		// A loss axis: labels below 1, where the old ticks had none.
		{0.15, 2.5, []string{"0.2", "0.5", "1", "2"}},
		{0.03, 2.4, []string{"0.05", "0.1", "0.2", "0.5", "1", "2"}},
		// Inside one decade with one 1-2-5 value: every multiple.
		{0.31, 0.75, []string{"0.4", "0.5", "0.6", "0.7"}},
		// Between two multiples: gonum's ticks, labelled apart.
		{3.07, 3.2, []string{"3.08", "3.12", "3.16", "3.2"}},
		// Three decades: still 1-2-5.
		{1, 1000, []string{"1", "2", "5", "10", "20", "50", "100", "200", "500", "1000"}},
		// Wide: decades, every one up to eight of them.
		{1e-16, 1e-10, []string{"1e-16", "1e-15", "1e-14", "1e-13", "1e-12", "1e-11", "1e-10"}},
		// 19 decades: every third.
		{1e-17, 10, []string{"1e-17", "1e-14", "1e-11", "1e-8", "1e-5", "0.01", "10"}},
	} {
		if got := labels(logTicks{}.Ticks(c.lo, c.hi)); !slices.Equal(got, c.want) {
			t.Errorf("[%g, %g]: labels %v, want %v", c.lo, c.hi, got, c.want)
		}
	}
}

func TestIntTicks(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		want   []string
	}{
		{1, 4, []string{"1", "2", "3", "4"}},
		{1, 8, []string{"1", "2", "3", "4", "5", "6", "7", "8"}},
		{1, 32, []string{"5", "10", "15", "20", "25", "30"}},
		{1, 128, []string{"20", "40", "60", "80", "100", "120"}},
		{0, 500, []string{"0", "100", "200", "300", "400", "500"}},
		{8, 32, []string{"10", "15", "20", "25", "30"}},
	} {
		ts := intTicks{}.Ticks(c.lo, c.hi)
		if got := labels(ts); !slices.Equal(got, c.want) {
			t.Errorf("[%g, %g]: labels %v, want %v", c.lo, c.hi, got, c.want)
		}
		for _, tk := range ts {
			if tk.Value != math.Trunc(tk.Value) {
				t.Errorf("[%g, %g]: tick at %g, not an integer", c.lo, c.hi, tk.Value)
			}
		}
	}
}
