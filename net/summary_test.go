package net

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// summaryOf returns the Summary fields as Diagnose measures them.
func summaryOf(d Diagnostics) Summary {
	s := Summary{ForwardAmax: d.Composite.Mean.ForwardAmax, BackwardAmax: d.Composite.Mean.BackwardAmax,
		SampledForwardAmax: d.Composite.Sampled.ForwardAmax, SampledBackwardAmax: d.Composite.Sampled.BackwardAmax}
	for _, l := range d.Layers {
		s.MaxDSDeviation = max(s.MaxDSDeviation, l.MaxDSDeviation)
	}
	return s
}

// TestSummarize checks that Summarize is Diagnose's values, bit for bit,
// for every mixer, away from the init (perturbed weights), where the gains
// of hc and the sum errors of mhc differ from 1 and 0.
func TestSummarize(t *testing.T) {
	for _, name := range MixerNames() {
		t.Run(name, func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(41, 0))
			cfg := gradCheckConfig(name)
			cfg.Depth = 5
			m, err := NewModel(cfg)
			if err != nil {
				t.Fatal(err)
			}
			mustPanicWith(t, ErrSequence, "Summarize before a batch", func() { m.Summarize(2) })
			perturb(m, rnd, 0.3)
			rows := 7
			x := randNormal(rnd, rows*m.Config().Inputs)
			if _, _, err := m.Forward(x, []int{0, 1, 2, 3, 4, 0, 1}); err != nil {
				t.Fatal(err)
			}
			for _, samples := range []int{0, 3, 100} {
				got, want := m.Summarize(samples), summaryOf(m.Diagnose(samples))
				if got != want {
					t.Errorf("samples %d: Summarize %+v, Diagnose %+v", samples, got, want)
				}
			}
			if s := m.Summarize(0); name == MixerHC && (s.ForwardAmax == 1 || s.MaxDSDeviation == 0) {
				t.Errorf("hc away from the init: %+v, want gains off 1", s)
			}
		})
	}
}

// BenchmarkSummaryCost times one training step and one Summarize of the
// depth command's default model (C = 32, n = 4, depth 32, batch 64,
// float32) and reports their ratio, "summary/step": the share of a step
// that a training-time Summary adds (the depth command's -diag-every k
// adds about ratio/k to a run).
func BenchmarkSummaryCost(b *testing.B) {
	for _, c := range []struct {
		mixer string
		n     int
	}{{MixerMHC, 4}, {MixerMHCExact, 4}, {MixerHC, 4}, {MixerSHC, 4}, {MixerMHC, 16}} {
		b.Run(fmt.Sprintf("%s/n=%d", c.mixer, c.n), func(b *testing.B) {
			m, err := NewModel(Config{Mixer: c.mixer, N: c.n, Width: 32, Depth: 32, Inputs: 784, Seed: 1, Float32: true})
			if err != nil {
				b.Fatal(err)
			}
			tr, err := NewTrainer(m, teacherData(3, 512, 784, 10), TrainConfig{Steps: 1 << 30})
			if err != nil {
				b.Fatal(err)
			}
			var step, sum time.Duration
			for b.Loop() {
				t0 := time.Now()
				if _, err := tr.Step(); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				m.Summarize(DefaultDiagSamples)
				step, sum = step+t1.Sub(t0), sum+time.Since(t1)
			}
			b.ReportMetric(float64(sum)/float64(step), "summary/step")
		})
	}
}
