package mhc_test

import (
	"math/rand/v2"
	"testing"

	"github.com/hyperconn/hyperconn/internal/mixertest"
)

// TestChunkMatchesTokens checks hc.ChunkWorker's contract (see
// mixertest.CheckChunk) for both projections, far from the init so that
// every token has its own H_res.
func TestChunkMatchesTokens(t *testing.T) {
	const c, tokens = 5, 7
	for _, exact := range []bool{false, true} {
		for _, n := range []int{1, 2, 3, 4} {
			m, err := newMHC(exact)(n, c, 1)
			if err != nil {
				t.Fatal(err)
			}
			rnd := rand.New(rand.NewPCG(13, uint64(n)))
			perturb(m, rnd)
			far(m, rnd)
			t.Logf("exact=%v n=%d: largest relative gap %.3g", exact, n, mixertest.CheckChunk(t, m, rnd, tokens))
		}
	}
}
