package mhclite_test

import (
	"math/rand/v2"
	"testing"

	"github.com/hyperconn/hyperconn/internal/mixertest"
	"github.com/hyperconn/hyperconn/mhclite"
)

// TestChunkMatchesTokens checks hc.ChunkWorker's contract (see
// mixertest.CheckChunk) far from the init, so that every token has its own
// H_res.
func TestChunkMatchesTokens(t *testing.T) {
	const c, tokens = 5, 7
	for _, n := range []int{1, 2, 3, 4} {
		m, err := mhclite.New(mhclite.PaperConfig(n, c, 1))
		if err != nil {
			t.Fatal(err)
		}
		rnd := rand.New(rand.NewPCG(13, uint64(n)))
		far(m, rnd)
		t.Logf("n=%d: largest relative gap %.3g", n, mixertest.CheckChunk(t, m, rnd, tokens))
	}
}
