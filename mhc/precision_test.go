package mhc_test

import (
	"math/rand/v2"
	"testing"

	"github.com/hyperconn/hyperconn/birkhoff"
	"github.com/hyperconn/hyperconn/internal/mixertest"
	"github.com/hyperconn/hyperconn/mhc"
)

// TestFloat32Products checks hc.Float32Products's contract (see
// mixertest.CheckFloat32) for both projections, far from the init: float32
// products change the coefficients and gradients by less than
// mixertest.Float32Tol, and the Exact projection stays doubly stochastic to
// mixertest.DefaultTol.
func TestFloat32Products(t *testing.T) {
	const c, tokens = 32, 40 // two chunks of a Layer
	for _, exact := range []bool{false, true} {
		for _, n := range []int{1, 2, 3, 4} {
			m, err := mhc.New(mhc.PaperConfig(n, c, 1))
			if exact {
				m, err = mhc.New(mhc.ExactConfig(n, c, 1))
			}
			if err != nil {
				t.Fatal(err)
			}
			rnd := rand.New(rand.NewPCG(17, uint64(n)))
			far(m, rnd)
			guarantee := birkhoff.Deviation[float64]
			if !exact {
				guarantee = nil // 20 Sinkhorn sweeps leave a real error far from the init
			}
			gap := mixertest.CheckFloat32(t, m, rnd, tokens, guarantee, mixertest.DefaultTol)
			t.Logf("exact=%v n=%d: largest relative gap to float64 products %.3g", exact, n, gap)
		}
	}
}
