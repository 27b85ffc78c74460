package birkhoff

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchInputs are the logit families of the speed comparison: the mixer's
// reference init (0 on the diagonal, −8 off it, SPEC §3.2) and N(0,1).
func benchInputs(n int) map[string][]float64 {
	init := make([]float64, n*n)
	for i := range init {
		if i%(n+1) != 0 {
			init[i] = -8
		}
	}
	return map[string][]float64{
		"init":   init,
		"normal": gaussian(1).Gen(rand.New(rand.NewPCG(17, 18)), n),
	}
}

// BenchmarkProject times one forward projection plus its backward
// (unrolled for Fixed, implicit for Exact and Tolerance), the cost a mixer
// pays per token and training step.
func BenchmarkProject(b *testing.B) {
	for _, mode := range []Method{Fixed, Tolerance, Exact} {
		for _, n := range []int{4, 8, 16} {
			for _, in := range []string{"init", "normal"} {
				b.Run(fmt.Sprintf("mode=%v/n=%d/in=%s", mode, n, in), func(b *testing.B) {
					z := benchInputs(n)[in]
					g := gaussian(1).Gen(rand.New(rand.NewPCG(19, 20)), n)
					w := NewWorkspace[float64](n)
					p := make([]float64, n*n)
					dz := make([]float64, n*n)
					opt := Options{Method: mode}
					var st Stats
					for b.Loop() {
						st, _ = w.Project(p, z, opt)
						w.Backward(dz, g)
					}
					b.ReportMetric(float64(st.Iterations), "iters")
					b.ReportMetric(st.Deviation, "deviation")
				})
			}
		}
	}
}

// BenchmarkForward times the forward projection alone.
func BenchmarkForward(b *testing.B) {
	for _, mode := range []Method{Fixed, Exact} {
		for _, n := range []int{4, 16} {
			b.Run(fmt.Sprintf("mode=%v/n=%d", mode, n), func(b *testing.B) {
				z := benchInputs(n)["normal"]
				w := NewWorkspace[float64](n)
				p := make([]float64, n*n)
				for b.Loop() {
					_, _ = w.Project(p, z, Options{Method: mode})
				}
			})
		}
	}
}
