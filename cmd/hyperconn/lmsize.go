package main

import (
	"fmt"

	"github.com/hyperconn/hyperconn/net"
)

// lmVocabBound is the largest vocabulary of a byte-level corpus: the size
// estimate does not wait for the text to be read.
const lmVocabBound = 256

// lmFootprint returns an upper estimate, in bytes, of what one experiment
// of key's mixer, n, width, heads, seq, batch and depth holds while it
// trains: net.Footprint of a residual MLP with the LM's 2L mixed
// sub-layers (each MLP branch, C → hC → C, holds at least the weights and
// activations of an attention branch, C → 3C plus C → C), whose input and
// output layers are as wide as the largest byte vocabulary, on batch·seq
// rows; plus the position embedding with its gradient and AdamW moments and
// each attention sub-layer's probabilities and their gradients (batch ·
// heads · seq² values each), all counted in float64, which covers a float32
// LM too (TestLMFootprintCovers: 1.6–2.4× what two training steps
// allocate). Errors are those of net.NumParams: a model that cannot be
// built.
func lmFootprint(mixer string, n, width, heads, seq, batch, depth int) (float64, error) {
	rows := batch * seq
	b, err := net.Footprint(net.Config{Mixer: mixer, N: n, Width: width, Depth: 2 * depth, Hidden: lmHidden,
		Inputs: lmVocabBound, Classes: lmVocabBound}, rows)
	if err != nil {
		return 0, err
	}
	pos := 4 * 8 * float64(seq) * float64(width)
	attn := float64(depth) * 2 * 8 * float64(batch) * float64(heads) * float64(seq) * float64(seq)
	return b + pos + attn, nil
}

// checkLMMemory returns a usage error if a model of the sweep cannot be
// built or if the -jobs experiments that run at once could need more than
// maxDepthMemory (the bound of "hyperconn depth"), naming the size.
func checkLMMemory(cfg *lmConfig) error {
	var need []float64
	for _, m := range cfg.Mixers {
		n := cfg.N
		if m == net.MixerResidual {
			n = 1
		}
		for _, d := range cfg.Depths {
			b, err := lmFootprint(m, n, cfg.Width, cfg.Heads, cfg.Seq, cfg.Batch, d)
			if err != nil {
				return fmt.Errorf("%s at depth %d, width %d, n = %d: %w", m, d, cfg.Width, n, err)
			}
			for range len(cfg.LRs) * len(cfg.Seeds) {
				need = append(need, b)
			}
		}
	}
	return checkConcurrent(need, cfg.Jobs, "-depths, -width, -seq or -batch")
}
