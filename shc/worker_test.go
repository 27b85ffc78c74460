package shc_test

import (
	"math/rand/v2"
	"testing"

	"github.com/hyperconn/hyperconn/internal/mixertest"
	"github.com/hyperconn/hyperconn/shc"
)

// TestChunkMatchesTokens checks hc.ChunkWorker's contract (see
// mixertest.CheckChunk) in both forms, at a generic point so that every
// token has its own H_res.
func TestChunkMatchesTokens(t *testing.T) {
	const c, tokens = 5, 7
	for _, form := range []struct {
		name string
		cfg  func(n, c, layer int) shc.Config
	}{{"structural", shc.PaperConfig}, {"normalized", shc.NormalizedConfig}} {
		for _, n := range []int{1, 2, 3, 4} {
			m, err := shc.New(form.cfg(n, c, 1))
			if err != nil {
				t.Fatal(err)
			}
			rnd := rand.New(rand.NewPCG(13, uint64(n)))
			perturb(m, rnd)
			t.Logf("%s n=%d: largest relative gap %.3g", form.name, n, mixertest.CheckChunk(t, m, rnd, tokens))
		}
	}
}
