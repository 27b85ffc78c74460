package main

import (
	"fmt"

	"github.com/hyperconn/hyperconn/hc"

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

// lmParams returns the number of parameter values of the LM that
// net.NewLM builds with these settings (LM.NumParams): the embeddings, per
// block the two sub-layers' mixers and norm gains, the attention's Linears
// C → 3C and C → C and the MLP's C → hC → C, the final norm and the head.
// The mixer's count is net.NumParams's (each mixer package's own count
// function): the difference between a one-block MLP with the mixer and
// one without. Errors are those of net.NumParams for the mixer (an unknown
// mixer, an n it refuses, a mixer too large to build).
func lmParams(mixer string, n, width, seq, depth, vocab int) (float64, error) {
	mlp := func(m string, n int) (int, error) {
		// Hidden 1 keeps the stand-in MLP small: only its mixer matters.
		return net.NumParams(net.Config{Mixer: m, N: n, Width: width, Depth: 1, Hidden: 1, Inputs: 1, Classes: 2})
	}
	with, err := mlp(mixer, n)
	if err != nil {
		return 0, err
	}
	without, err := mlp(net.MixerResidual, 1)
	if err != nil {
		return 0, err
	}
	mix, c, h := float64(with-without), float64(width), float64(lmHidden)*float64(width)
	linear := func(in, out float64) float64 { return in*out + out }
	block := 2*(mix+c) + linear(c, 3*c) + linear(c, c) + linear(c, h) + linear(h, c)
	return float64(vocab)*c + float64(seq)*c + float64(depth)*block + c + linear(c, float64(vocab)), nil
}

// checkLMMemory returns a usage error if a model of the sweep on a text of
// vocab distinct bytes holds more than net.MaxParams parameter values or
// cannot be built, or if the -jobs experiments that run at once could need
// more than maxDepthMemory (the bound of "hyperconn depth"), naming the
// size.
func checkLMMemory(cfg *lmConfig, vocab int) error {
	var need []float64
	for _, m := range cfg.Mixers {
		n := cfg.N
		if m == net.MixerResidual {
			n = 1
		}
		for _, d := range cfg.Depths {
			where := fmt.Sprintf("%s at depth %d, width %d, n = %d", m, d, cfg.Width, n)
			k, err := lmParams(m, n, cfg.Width, cfg.Seq, d, vocab)
			if err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			if k > net.MaxParams {
				return fmt.Errorf("%s: %.4g parameter values would need %s with their gradients and AdamW moments, above the bound of %d values",
					where, k, hc.FormatBytes(32*k), net.MaxParams)
			}
			b, err := lmFootprint(m, n, cfg.Width, cfg.Heads, cfg.Seq, cfg.Batch, d)
			if err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			for range len(cfg.LRs) * len(cfg.Seeds) {
				need = append(need, b)
			}
		}
	}
	return checkConcurrent(need, cfg.Jobs, "-depths, -width, -seq or -batch")
}
