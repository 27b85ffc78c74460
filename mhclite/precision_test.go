package mhclite_test

import (
	"math/rand/v2"
	"testing"

	"github.com/hyperconn/hyperconn/birkhoff"
	"github.com/hyperconn/hyperconn/internal/mixertest"
	"github.com/hyperconn/hyperconn/mhclite"
)

// TestFloat32Products checks hc.Float32Products's contract (see
// mixertest.CheckFloat32) far from the init: float32 products change the
// coefficients and gradients by less than mixertest.Float32Tol, and H_res
// stays doubly stochastic to mixertest.DefaultTol.
func TestFloat32Products(t *testing.T) {
	const c, tokens = 32, 40 // two chunks of a Layer
	for _, n := range []int{1, 2, 3, 4} {
		m, err := mhclite.New(mhclite.PaperConfig(n, c, 1))
		if err != nil {
			t.Fatal(err)
		}
		rnd := rand.New(rand.NewPCG(17, uint64(n)))
		far(m, rnd)
		gap := mixertest.CheckFloat32(t, m, rnd, tokens, birkhoff.Deviation[float64], mixertest.DefaultTol)
		t.Logf("n=%d: largest relative gap to float64 products %.3g", n, gap)
	}
}
