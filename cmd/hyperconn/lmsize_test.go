package main

import (
	"runtime"
	"testing"

	"github.com/hyperconn/hyperconn/net"
)

// TestLMFootprint: the estimate covers a real model's parameters with
// their gradients and moments, and grows with the attention's batch·seq².
func TestLMFootprint(t *testing.T) {
	m, err := net.NewLM(net.LMConfig{Mixer: "mhc", N: 4, Vocab: 93, Seq: 64, Width: 64, Heads: 4, Depth: 4})
	if err != nil {
		t.Fatal(err)
	}
	b, err := lmFootprint("mhc", 4, 64, 4, 64, 16, 4)
	if err != nil {
		t.Fatal(err)
	}
	if params := 32 * float64(m.NumParams()); b < params {
		t.Errorf("estimate %g bytes below the %g of the parameters, gradients and moments alone", b, params)
	}
	longer, _ := lmFootprint("mhc", 4, 64, 4, 256, 16, 4)
	// 16 sequences × 4 heads × 4 blocks × (256² − 64²) probabilities and
	// their gradients, in float64.
	if attn := 16 * 4 * 4 * 2 * 8 * float64(256*256-64*64); longer-b < attn {
		t.Errorf("seq 64 → 256 adds %g bytes, less than the attention's %g", longer-b, attn)
	}
	if _, err := lmFootprint("nope", 4, 64, 4, 64, 16, 4); err == nil {
		t.Error("an unknown mixer has a footprint")
	}
}

// TestLMFootprintCovers: the estimate is above what building a model and
// its trainer and taking two training steps allocate.
func TestLMFootprintCovers(t *testing.T) {
	corpus, err := net.NewCorpus(net.OpticksName, net.Opticks(), lmDefaultValid)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		mixer   string
		float32 bool
	}{{"residual", false}, {"mhc", false}, {"mhclite", false}, {"hc", false}, {"residual", true}, {"mhc", true}, {"mhclite", true}} {
		mixer, n := tc.mixer, 4
		if mixer == "residual" {
			n = 1
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		m, err := net.NewLM(net.LMConfig{Mixer: mixer, N: n, Vocab: len(corpus.Vocab), Seq: 64, Width: 32, Heads: 4, Depth: 2, Float32: tc.float32})
		if err != nil {
			t.Fatal(err)
		}
		tr, err := net.NewLMTrainer(m, corpus, net.LMTrainConfig{Steps: 2, Batch: 8, EvalTokens: 512})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := tr.Step(); err != nil {
				t.Fatal(err)
			}
		}
		runtime.ReadMemStats(&after)
		got := float64(after.TotalAlloc - before.TotalAlloc)
		est, err := lmFootprint(mixer, n, 32, 4, 64, 8, 2)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s float32 %v: estimate %.3g bytes, two steps allocate %.3g (%.2f×)", mixer, tc.float32, est, got, est/got)
		if est < got {
			t.Errorf("%s: estimate %g bytes below the %g two steps allocate", mixer, est, got)
		}
	}
}

// TestLMParams: lmParams is LM.NumParams, for every mixer, in float64 and
// float32.
func TestLMParams(t *testing.T) {
	for _, mixer := range net.MixerNames() {
		for _, f32 := range []bool{false, true} {
			n := 4
			if mixer == net.MixerResidual {
				n = 1
			}
			m, err := net.NewLM(net.LMConfig{Mixer: mixer, N: n, Vocab: 37, Seq: 12, Width: 8, Heads: 2, Depth: 3, Float32: f32})
			if err != nil {
				t.Fatal(err)
			}
			got, err := lmParams(mixer, n, 8, 12, 3, 37)
			if err != nil {
				t.Fatal(err)
			}
			if got != float64(m.NumParams()) {
				t.Errorf("%s float32 %v: lmParams %v, NumParams %d", mixer, f32, got, m.NumParams())
			}
		}
	}
}
