package plotting

import (
	"math"
	"strconv"

	"gonum.org/v1/plot"
)

// logTicks marks a logarithmic axis. Every power of ten in the range is
// ticked and labelled (1e-15 rather than 0.0000…1), every k-th when there
// are more than eight. When the range spans three decades or less, 2 and 5
// times each power are labelled too and the other multiples ticked without
// a label; a range so narrow that it holds fewer than two of those labels
// labels every multiple 1…9 of a power of ten, and one that holds fewer
// than two of those falls back to gonum's default ticks.
type logTicks struct{}

// Ticks returns the ticks of [lo, hi].
func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	e0, e1 := int(math.Ceil(math.Log10(lo)-1e-9)), int(math.Floor(math.Log10(hi)+1e-9))
	if math.Log10(hi/lo) > 3+1e-9 {
		step := (e1-e0)/8 + 1
		var ts []plot.Tick
		for e := e0; e <= e1; e++ {
			t := plot.Tick{Value: math.Pow(10, float64(e))}
			if (e-e0)%step == 0 {
				t.Label = tickLabel(1, e)
			}
			ts = append(ts, t)
		}
		return ts
	}
	for _, labelled := range []func(m int) bool{
		func(m int) bool { return m == 1 || m == 2 || m == 5 },
		func(int) bool { return true },
	} {
		var ts []plot.Tick
		labels := 0
		for e := e0 - 1; e <= e1; e++ {
			for m := 1; m <= 9; m++ {
				v := float64(m) * math.Pow(10, float64(e))
				if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
					continue
				}
				t := plot.Tick{Value: v}
				if labelled(m) {
					t.Label = tickLabel(m, e)
					labels++
				}
				ts = append(ts, t)
			}
		}
		if labels >= 2 {
			return ts
		}
	}
	// gonum's labels round to too few digits for so narrow a range (3.2
	// twice): six significant digits tell the ticks apart (Lines keeps
	// log ranges at least 0.1% wide).
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = strconv.FormatFloat(ts[i].Value, 'g', 6, 64)
		}
	}
	return ts
}

// tickLabel formats m·10^e: plainly for small exponents, as 2e-15 otherwise.
func tickLabel(m, e int) string {
	if e >= -2 && e <= 3 {
		return strconv.FormatFloat(float64(m)*math.Pow(10, float64(e)), 'f', max(0, -e), 64)
	}
	return strconv.Itoa(m) + "e" + strconv.Itoa(e)
}

// intTicks marks an axis of integers (layers, depths, steps): major ticks
// at the multiples of a step of 1, 2 or 5 times a power of ten, the
// smallest that gives at most eight of them, labelled as integers; minor
// ticks between them when the step allows.
type intTicks struct{}

// Ticks returns the ticks of [lo, hi].
func (intTicks) Ticks(lo, hi float64) []plot.Tick {
	span := hi - lo
	step := 1.0
	for p := 1.0; span/step > 8; p *= 10 {
		for _, m := range []float64{1, 2, 5} {
			if step = m * p; span/step <= 8 {
				break
			}
		}
	}
	minor := step / 5
	if step/2 >= 1 && math.Mod(step, 2) == 0 {
		minor = step / 2
	}
	if minor < 1 {
		minor = 0
	}
	var ts []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi; v += step {
		ts = append(ts, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', 0, 64)})
	}
	if minor > 0 {
		for v := math.Ceil(lo/minor) * minor; v <= hi; v += minor {
			if math.Mod(v, step) != 0 {
				ts = append(ts, plot.Tick{Value: v})
			}
		}
	}
	if len(ts) == 0 { // a range inside one unit: its ends, rounded
		ts = append(ts, plot.Tick{Value: math.Round(lo), Label: strconv.FormatFloat(math.Round(lo), 'f', 0, 64)})
	}
	return ts
}
