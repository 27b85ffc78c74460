package net

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/mhclite"
)

// allocated returns the bytes f allocates (runtime.MemStats.TotalAlloc).
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// maxN is the largest n NewMixer accepts for a mixer name.
func maxN(name string) int {
	switch name {
	case MixerResidual:
		return 1
	case MixerMHCLite:
		return mhclite.MaxN
	}
	return hc.MaxN
}

// TestNumParams checks NumParams against the models NewModel builds, for
// every mixer, in float64 and float32.
func TestNumParams(t *testing.T) {
	for _, name := range MixerNames() {
		for _, n := range []int{1, 2, 3, 4, 8} {
			for _, f32 := range []bool{false, true} {
				if n > maxN(name) {
					continue
				}
				cfg := Config{Mixer: name, N: n, Width: 5, Depth: 2, Hidden: 3, Inputs: 7, Classes: 3, Float32: f32}
				m, err := NewModel(cfg)
				if err != nil {
					t.Fatal(err)
				}
				if k, err := NumParams(cfg); err != nil || k != m.NumParams() {
					t.Errorf("%s n = %d float32 %v: NumParams = %d, %v; the model holds %d", name, n, f32, k, err, m.NumParams())
				}
			}
		}
	}
}

// TestNewModelTooLarge checks that a model above MaxParams is refused
// before it is built, with an error naming the memory it would need.
// Before the bound, width 1<<20 grew to 6.4 GB before dying.
func TestNewModelTooLarge(t *testing.T) {
	for _, cfg := range []Config{
		{Mixer: MixerMHC, N: 4, Width: 1 << 20, Depth: 1},
		{Mixer: MixerResidual, Width: 4096, Depth: 4096},
		{Mixer: MixerMHCLite, N: 8, Width: 512, Depth: 1},
		{Mixer: MixerSHC, N: 1_000_000, Width: 1, Depth: 1},
		{Mixer: MixerHC, N: 4, Width: 64, Depth: 1, Hidden: 1 << 40},
	} {
		var err error
		bytes := allocated(func() { _, err = NewModel(cfg) })
		if !errors.Is(err, hc.ErrTooLarge) || !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: error %v, want hc.ErrTooLarge and ErrConfig", cfg, err)
			continue
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "net: ") || !strings.Contains(msg, "would need") {
			t.Errorf("%+v: error %q does not say what it would need", cfg, msg)
		}
		if bytes > 1<<20 {
			t.Errorf("%+v: refusing allocated %d bytes", cfg, bytes)
		}
	}
}

// TestCheckpointHeaderBound (issue 15, point 2): a checkpoint whose header
// announces more parameters than its payload holds is refused, for every
// mixer at its largest n, with a huge or a just-too-large model, before
// anything proportional to the header is allocated: LoadModel and Resume
// allocate at most twice the file's size plus headerSlack while refusing.
// The case of the issue — mhclite, n = 8, width 32, depth 1, ≈ 10⁷ values,
// in a 7 kB file — allocated ≈ 160 MB with the hand-kept bound.
func TestCheckpointHeaderBound(t *testing.T) {
	// headerSlack covers the header's JSON decoding and the error's
	// formatting (measured below 40 kB).
	const headerSlack = 256 << 10
	data := teacherData(2, 90, 10, 4)
	tr := smallRun(t, MixerMHC, TrainConfig{Steps: 1})
	b, err := os.ReadFile(stepAndSave(t, tr, 0, "small.ckpt"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range MixerNames() {
		n := maxN(name)
		for _, sz := range []struct {
			width, depth int
			f32          bool
		}{{1 << 20, 1 << 20, false}, {1, 1 << 16, true}, {32, 1, false}, {8, 3, true}} {
			if name == MixerResidual && sz.width < 32 {
				sz.width = 32
			}
			edit := func(h *checkpointHeader) {
				h.Model.Mixer, h.Model.N, h.Model.Width, h.Model.Depth = name, n, sz.width, sz.depth
				h.Model.Float32 = sz.f32
			}
			file := rewriteHeader(t, b, edit, nil)
			p := filepath.Join(dir, fmt.Sprintf("%s-%d-%d.ckpt", name, sz.width, sz.depth))
			if err := os.WriteFile(p, file, 0o600); err != nil {
				t.Fatal(err)
			}
			limit := 2*uint64(len(file)) + headerSlack
			for _, load := range []struct {
				what string
				f    func() error
			}{
				{"LoadModel", func() error { _, err := LoadModel(p); return err }},
				{"Resume", func() error { _, err := Resume(p, data); return err }},
			} {
				var err error
				bytes := allocated(func() { err = load.f() })
				what := fmt.Sprintf("%s n = %d width %d depth %d: %s", name, n, sz.width, sz.depth, load.what)
				if !errors.Is(err, ErrCheckpoint) {
					t.Errorf("%s: error %v, want ErrCheckpoint", what, err)
				}
				if bytes > limit {
					t.Errorf("%s: refusing a %d-byte file allocated %d bytes, above %d", what, len(file), bytes, limit)
				}
				if testing.Verbose() && load.what == "LoadModel" {
					t.Logf("%s: %d-byte file, %d bytes allocated: %v", what, len(file), bytes, err)
				}
			}
		}
	}
}

// TestFootprint checks that Footprint bounds what training really
// allocates, and stays within a small factor of it.
func TestFootprint(t *testing.T) {
	data := teacherData(2, 200, 30, 4)
	for _, name := range MixerNames() {
		cfg := Config{Mixer: name, N: 4, Width: 48, Depth: 3, Inputs: 30, Classes: 4, Seed: 1}
		est, err := Footprint(cfg, 64)
		if err != nil {
			t.Fatal(err)
		}
		var tr *Trainer
		bytes := allocated(func() {
			m, err := NewModel(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if tr, err = NewTrainer(m, data, TrainConfig{Steps: 2, Batch: 64}); err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if _, err := tr.Step(); err != nil {
					t.Fatal(err)
				}
			}
		})
		if float64(bytes) > est || est > 8*float64(bytes) {
			t.Errorf("%s: Footprint %.3g bytes, training allocated %d", name, est, bytes)
		}
		if testing.Verbose() {
			t.Logf("%s: Footprint %.3g bytes, two steps allocated %d (ratio %.2f)", name, est, bytes, est/float64(bytes))
		}
	}
}

// FuzzNewModel checks, for any configuration, that NewModel either refuses
// it or builds a model of exactly NumParams values within MaxParams,
// allocating no more than 16 bytes per value (value and gradient; 24 for a
// Float32 model, whose float32 arena adds a rounded copy and its gradient)
// plus fuzzSlack.
func FuzzNewModel(f *testing.F) {
	// fuzzSlack covers the model's structs, names and per-block workspace
	// headers: a few kB per block at the depths below.
	const fuzzSlack = 4 << 20
	f.Add("mhc", 4, 8, 2, 0, 0, false)
	f.Add("mhclite", 8, 32, 1, 0, 0, false)
	f.Add("residual", 1, 1<<20, 1, 0, 0, true)
	f.Add("shc", 1_000_000, 1, 1, 0, 0, false)
	f.Add("hc", 64, 4096, 64, 0, 0, true)
	f.Add("hc-static", 3, 5, 7, 1<<40, 3, false)
	f.Fuzz(func(t *testing.T, mixer string, n, width, depth, hidden, inputs int, f32 bool) {
		if depth > 4096 {
			return // each block allocates a few hundred bytes of headers: bounded by MaxParams, but slow
		}
		cfg := Config{Mixer: mixer, N: n, Width: width, Depth: depth, Hidden: hidden, Inputs: inputs, Float32: f32}
		k, kerr := NumParams(cfg)
		if kerr == nil && k > 1<<22 {
			// Accepted but large: only the bound is checked (building
			// would take seconds and gigabytes per input).
			if k > MaxParams {
				t.Errorf("%+v: NumParams accepted %d values", cfg, k)
			}
			return
		}
		var (
			m   *Model
			err error
		)
		bytes := allocated(func() { m, err = NewModel(cfg) })
		if err != nil {
			if kerr == nil {
				t.Errorf("%+v: NewModel refused (%v), NumParams gave %d", cfg, err, k)
			}
			if bytes > 1<<20 {
				t.Errorf("%+v: refusing allocated %d bytes", cfg, bytes)
			}
			return
		}
		if kerr != nil || k != m.NumParams() || k > MaxParams {
			t.Fatalf("%+v: NumParams %d, %v; model %d", cfg, k, kerr, m.NumParams())
		}
		per := uint64(16)
		if f32 {
			per = 24
		}
		if limit := per*uint64(k) + fuzzSlack; bytes > limit {
			t.Errorf("%+v: %d values, %d bytes allocated, above %d", cfg, k, bytes, limit)
		}
	})
}
