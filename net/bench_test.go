package net

import (
	"testing"
)

// BenchmarkStep times one training step (batch gather, forward, backward,
// clipping, AdamW) of the overhead configuration: depth 32,
// C = 128, h = 4, batch 64, n = 4, for every mixer; the residual baseline
// has n = 1. The ratio mixer/residual is acceptance line 4 of issue 4.
func BenchmarkStep(b *testing.B) {
	data := teacherData(1, 640, ImageSize, Classes)
	for _, name := range MixerNames() {
		b.Run("mixer="+name, func(b *testing.B) {
			m, err := NewModel(Config{Mixer: name, N: 4, Width: 128, Depth: 32, Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			tr, err := NewTrainer(m, data, TrainConfig{Steps: 1 << 30, Batch: 64, LR: 1e-4, Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := tr.Step(); err != nil { // warm up the buffers
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tr.Step(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
