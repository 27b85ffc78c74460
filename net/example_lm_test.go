package net_test

import (
	"context"
	"fmt"
	"math"

	"github.com/hyperconn/hyperconn/net"
)

// The entropy baselines of the shipped corpus: a character-level model
// has learned more than which byte follows which once its validation loss
// is below H2.
func ExampleCorpus_Entropy() {
	c, err := net.NewCorpus(net.OpticksName, net.Opticks(), 0.1)
	if err != nil {
		panic(err)
	}
	h1, h2 := c.Entropy()
	fmt.Printf("%d bytes of text, %d distinct, %d for validation\n", len(c.Train)+len(c.Valid), len(c.Vocab), len(c.Valid))
	fmt.Printf("unigram %.3f nats (%.3f bits), bigram %.3f nats (%.3f bits) per byte\n", h1, h1/math.Ln2, h2, h2/math.Ln2)
	// Output:
	// 567198 bytes of text, 93 distinct, 56720 for validation
	// unigram 3.104 nats (4.478 bits), bigram 2.354 nats (3.396 bits) per byte
}

// A small language model with mHC sub-layers, trained for a few steps on
// Opticks.
func ExampleLMTrainer() {
	c, err := net.NewCorpus(net.OpticksName, net.Opticks(), 0.1)
	if err != nil {
		panic(err)
	}
	m, err := net.NewLM(net.LMConfig{Mixer: net.MixerMHC, Vocab: len(c.Vocab), Seq: 32, Width: 16, Depth: 1, Seed: 1})
	if err != nil {
		panic(err)
	}
	tr, err := net.NewLMTrainer(m, c, net.LMTrainConfig{Steps: 20, Batch: 4, EvalTokens: 1024})
	if err != nil {
		panic(err)
	}
	res, err := tr.Run(context.Background(), nil)
	if err != nil {
		panic(err)
	}
	log, evals := tr.Log(), tr.Evals()
	fmt.Println(res.Outcome, res.Steps, "steps,", m.NumParams(), "parameters,", 2*m.Config().Depth, "mixers")
	fmt.Println("loss fell:", log[len(log)-1].Loss < log[0].Loss, "; validated after step", evals[0].Step)
	// Output:
	// completed 20 steps, 9971 parameters, 2 mixers
	// loss fell: true ; validated after step 20
}

// The same model in float32: the layers run at float32 (weights,
// activations, gradients and AdamW moments in one arena, listed by
// Params32), the mixers and residual streams stay float64 (Params), and
// training follows the float64 run closely.
func ExampleLMConfig_float32() {
	c, err := net.NewCorpus(net.OpticksName, net.Opticks(), 0.1)
	if err != nil {
		panic(err)
	}
	var final [2]float64
	for k, f32 := range []bool{false, true} {
		m, err := net.NewLM(net.LMConfig{Mixer: net.MixerMHC, Vocab: len(c.Vocab), Seq: 32, Width: 16, Depth: 1, Seed: 1, Float32: f32})
		if err != nil {
			panic(err)
		}
		tr, err := net.NewLMTrainer(m, c, net.LMTrainConfig{Steps: 20, Batch: 4, EvalTokens: 1024})
		if err != nil {
			panic(err)
		}
		if _, err := tr.Run(context.Background(), nil); err != nil {
			panic(err)
		}
		final[k] = tr.Evals()[0].Loss
		if f32 {
			fmt.Println(len(m.Params32()), "float32 tensors,", len(m.Params()), "float64 tensors,", m.NumParams(), "parameters")
		}
	}
	fmt.Printf("validation loss float64 %.3f, float32 %.3f\n", final[0], final[1])
	// Output:
	// 17 float32 tensors, 10 float64 tensors, 9971 parameters
	// validation loss float64 3.700, float32 3.700
}
