package shc_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/hyperconn/hyperconn/internal/mixertest"
	"github.com/hyperconn/hyperconn/shc"
	"github.com/hyperconn/hyperconn/spectral"
)

// TestFloat32Products checks hc.Float32Products's contract (see
// mixertest.CheckFloat32) in both forms, at a generic point and far from
// the init: float32 products change the coefficients and gradients by less
// than mixertest.Float32Tol, and H_res keeps its promise to guaranteeTol —
// on the sphere (sums and ‖H‖₂ equal to 1) in the structural form,
// ‖H‖₂ = 1 in the normalized form.
func TestFloat32Products(t *testing.T) {
	const c, tokens = 32, 40 // two chunks of a Layer
	unitNorm := func(h []float64, n int) float64 { return math.Abs(spectral.Norm(h, n, n) - 1) }
	for _, form := range []struct {
		name      string
		cfg       func(n, c, layer int) shc.Config
		guarantee func(h []float64, n int) float64
	}{{"structural", shc.PaperConfig, sphereGuarantee}, {"normalized", shc.NormalizedConfig, unitNorm}} {
		for _, start := range []string{"generic", "far"} {
			for _, n := range []int{1, 2, 3, 4} {
				m, err := shc.New(form.cfg(n, c, 1))
				if err != nil {
					t.Fatal(err)
				}
				rnd := rand.New(rand.NewPCG(17, uint64(n)))
				if start == "far" {
					far(m, rnd)
				} else {
					perturb(m, rnd)
				}
				gap := mixertest.CheckFloat32(t, m, rnd, tokens, form.guarantee, guaranteeTol)
				t.Logf("%s %s n=%d: largest relative gap to float64 products %.3g", form.name, start, n, gap)
			}
		}
	}
}
