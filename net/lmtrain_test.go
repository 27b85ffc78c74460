package net

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// lmTestCorpus is a small text whose next byte is mostly determined by the
// two before it, so a working LM gets well below the bigram entropy
// quickly, while a broken one cannot.
func lmTestCorpus(t *testing.T) *Corpus {
	t.Helper()
	var sb strings.Builder
	words := []string{"light ", "colour ", "prism ", "ray ", "glass ", "refraction "}
	for i := range 1200 {
		sb.WriteString(words[(i*i+3*i)%len(words)])
	}
	c, err := NewCorpus("test", []byte(sb.String()), 0.2)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLMTrainerLearns(t *testing.T) {
	c := lmTestCorpus(t)
	_, h2 := c.Entropy()
	run := func() ([]LMStep, []LMEval) {
		m, err := NewLM(LMConfig{Mixer: MixerMHC, Vocab: len(c.Vocab), Seq: 16, Width: 16, Depth: 1, Seed: 5})
		if err != nil {
			t.Fatal(err)
		}
		tr, err := NewLMTrainer(m, c, LMTrainConfig{Steps: 150, Batch: 8, LR: 1e-2, Warmup: 10, EvalEvery: 50, Seed: 2})
		if err != nil {
			t.Fatal(err)
		}
		res, err := tr.Run(context.Background(), nil)
		if err != nil || res.Outcome != Completed || res.Steps != 150 {
			t.Fatalf("run: %+v, %v", res, err)
		}
		return tr.Log(), tr.Evals()
	}
	log, evals := run()
	if len(evals) != 3 || evals[0].Step != 50 || evals[2].Step != 150 {
		t.Fatalf("validations at %+v, want steps 50, 100, 150", evals)
	}
	last := evals[len(evals)-1].Loss
	t.Logf("first batch loss %.3f, validation %.3f / %.3f / %.3f, bigram entropy %.3f",
		log[0].Loss, evals[0].Loss, evals[1].Loss, last, h2)
	if !(last < h2) {
		t.Errorf("validation loss %.4f not below the bigram entropy %.4f", last, h2)
	}
	log2, evals2 := run()
	for i := range log {
		if log[i] != log2[i] {
			t.Fatalf("step %d differs between two runs: %+v vs %+v", i+1, log[i], log2[i])
		}
	}
	for i := range evals {
		if evals[i] != evals2[i] {
			t.Fatalf("validation %d differs between two runs", i)
		}
	}
}

func TestLMTrainerErrors(t *testing.T) {
	c := lmTestCorpus(t)
	m, err := NewLM(LMConfig{Vocab: len(c.Vocab), Seq: 8, Width: 8, Depth: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []LMTrainConfig{
		{}, {Steps: 1, Batch: -1}, {Steps: 1, LR: -1}, {Steps: 1, EvalEvery: -1}, {Steps: 1, EvalTokens: -3},
	} {
		if _, err := NewLMTrainer(m, c, cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v, want ErrConfig", cfg, err)
		}
	}
	small, err := NewLM(LMConfig{Vocab: 3, Seq: 8, Width: 8, Depth: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewLMTrainer(small, c, LMTrainConfig{Steps: 1}); !errors.Is(err, ErrConfig) {
		t.Errorf("vocabulary larger than the model's: %v", err)
	}
	long, err := NewLM(LMConfig{Vocab: len(c.Vocab), Seq: len(c.Valid), Width: 8, Depth: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewLMTrainer(long, c, LMTrainConfig{Steps: 1}); !errors.Is(err, ErrConfig) {
		t.Errorf("sequence as long as the validation split: %v", err)
	}
	// A MaxLoss below the initial loss is a divergence, reported as an
	// outcome, and the step applies no update.
	tr, err := NewLMTrainer(m, c, LMTrainConfig{Steps: 5, MaxLoss: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	res, err := tr.Run(context.Background(), nil)
	if err != nil || res.Outcome != Diverged || res.Steps != 0 {
		t.Fatalf("MaxLoss 0.1: %+v, %v; want Diverged after 0 steps", res, err)
	}
	if _, err := tr.Step(); !errors.Is(err, ErrDiverged) {
		t.Errorf("step after divergence: %v", err)
	}
}
