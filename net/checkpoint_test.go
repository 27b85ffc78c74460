package net

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestResumeExact trains 2k steps straight, and k steps, saves, resumes
// into a fresh Trainer and Model from the file alone and trains k more:
// the final weights must be bit-for-bit those of the straight run, for
// every mixer. k = 9 with 90 examples in batches of 16 puts the save in
// the middle of the second epoch, so the batcher's permutation, position
// and generator state all matter.
func TestResumeExact(t *testing.T) {
	const k = 9
	for _, name := range MixerNames() {
		t.Run(name, func(t *testing.T) {
			tc := TrainConfig{Steps: 2 * k, Batch: 16, LR: 4e-3, MinLR: 1e-4, Warmup: 3, WeightDecay: 0.05, Seed: 7}
			straight := smallRun(t, name, tc)
			if res, err := straight.Run(context.Background(), nil); err != nil || res.Outcome != Completed {
				t.Fatalf("%+v %v", res, err)
			}

			first := smallRun(t, name, tc)
			path := stepAndSave(t, first, k, "run.ckpt")
			data := first.data
			resumed, err := Resume(path, data)
			if err != nil {
				t.Fatal(err)
			}
			if resumed.Steps() != k || resumed.Config() != first.Config() || resumed.Model().Config() != first.Model().Config() {
				t.Fatalf("resumed at step %d with %+v", resumed.Steps(), resumed.Config())
			}
			res, err := resumed.Run(context.Background(), nil)
			if err != nil || res.Outcome != Completed || res.Steps != 2*k {
				t.Fatalf("%+v %v", res, err)
			}
			if !sameBits(weights(straight.Model()), weights(resumed.Model())) {
				t.Error("resumed weights differ from the straight run")
			}
			m1, v1, s1 := straight.opt.State()
			m2, v2, s2 := resumed.opt.State()
			if !sameBits(m1, m2) || !sameBits(v1, v2) || s1 != s2 {
				t.Error("resumed optimiser state differs from the straight run")
			}
			sl, rl := straight.Log()[k:], resumed.Log()
			for i := range rl {
				if sl[i] != rl[i] {
					t.Fatalf("log %d: straight %+v, resumed %+v", i, sl[i], rl[i])
				}
			}

			model, err := LoadModel(path)
			if err != nil || !sameBits(weights(model), weights(first.Model())) {
				t.Errorf("LoadModel: %v", err)
			}
		})
	}
}

// TestCheckpointCorrupt refuses truncated, altered and foreign files with
// ErrCheckpoint, and Save leaves no temporary file behind.
func TestCheckpointCorrupt(t *testing.T) {
	tr := smallRun(t, MixerMHC, TrainConfig{Steps: 3})
	if _, err := tr.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "a.ckpt")
	if err := tr.Save(path); err != nil {
		t.Fatal(err)
	}
	if err := tr.Save(path); err != nil { // overwrite in place
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Fatalf("directory holds %v (%v), want only a.ckpt", entries, err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.ckpt")
	try := func(what string, b []byte) {
		t.Helper()
		if err := os.WriteFile(bad, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadModel(bad); !errors.Is(err, ErrCheckpoint) {
			t.Errorf("%s: %v, want ErrCheckpoint", what, err)
		}
		if _, err := Resume(bad, tr.data); !errors.Is(err, ErrCheckpoint) {
			t.Errorf("%s: Resume: %v, want ErrCheckpoint", what, err)
		}
	}
	for _, n := range []int{0, 5, 16, 100, len(good) / 2, len(good) - 1} {
		try("truncated", good[:n])
	}
	for _, off := range []int{3, 9, 20, 200, len(good) / 2, len(good) - 40, len(good) - 1} {
		b := append([]byte(nil), good...)
		b[off] ^= 0x10
		try("flipped byte", b)
	}
	try("trailing garbage", append(append([]byte(nil), good...), 0))
	if _, err := LoadModel(filepath.Join(dir, "missing.ckpt")); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("missing file: %v", err)
	}
	// A data set of another size does not fit the saved batcher.
	if _, err := Resume(path, tr.data.Subset(50)); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("resume on other data: %v", err)
	}
	// Saving into a missing directory fails and writes nothing.
	if err := tr.Save(filepath.Join(dir, "no", "x.ckpt")); err == nil {
		t.Error("save into a missing directory succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("directory holds %d entries, want a.ckpt and bad.ckpt", len(entries))
	}
}

// TestBatcherState round-trips a Batcher through MarshalBinary mid-epoch
// and before its first batch.
func TestBatcherState(t *testing.T) {
	for _, pre := range []int{0, 1, 4} {
		a := NewBatcher(10, 3, 5)
		for range pre {
			a.Next()
		}
		s, err := a.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		b := NewBatcher(10, 3, 99)
		if err := b.UnmarshalBinary(s); err != nil {
			t.Fatal(err)
		}
		for i := range 12 {
			x, y := a.Next(), b.Next()
			if len(x) != len(y) || a.Epoch() != b.Epoch() {
				t.Fatalf("after %d: batch %d differs", pre, i)
			}
			for j := range x {
				if x[j] != y[j] {
					t.Fatalf("after %d: batch %d: %v vs %v", pre, i, x, y)
				}
			}
		}
		if err := NewBatcher(11, 3, 1).UnmarshalBinary(s); !errors.Is(err, ErrState) {
			t.Errorf("other size: %v", err)
		}
		if err := b.UnmarshalBinary(s[:len(s)-3]); !errors.Is(err, ErrState) {
			t.Errorf("truncated: %v", err)
		}
	}
}

// FuzzLoadModel feeds arbitrary bytes to LoadModel: it must return a model
// or an error wrapping ErrCheckpoint, never panic.
func FuzzLoadModel(f *testing.F) {
	tr := smallRun(f, MixerMHC, TrainConfig{Steps: 1})
	path := filepath.Join(f.TempDir(), "seed.ckpt")
	if err := tr.Save(path); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/3])
	for _, old := range []bool{false, true} {
		_, b := float32Checkpoint(f, old)
		f.Add(b)
	}
	f.Add([]byte(checkpointMagic))
	f.Add([]byte{})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "f.ckpt")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		m, err := LoadModel(p)
		if (m == nil) == (err == nil) || (err != nil && !errors.Is(err, ErrCheckpoint)) {
			t.Fatalf("model %v, error %v", m != nil, err)
		}
	})
}

// TestResumeFloat32 is TestResumeExact for a Config.Float32 model: the
// float32 weights and their AdamW moments survive Save and Resume bit for
// bit (they once did not: only the float64 mixer parameters were stored).
func TestResumeFloat32(t *testing.T) {
	const k = 6
	tc := TrainConfig{Steps: 2 * k, Batch: 16, LR: 4e-3, MinLR: 1e-4, Warmup: 3, WeightDecay: 0.05, Seed: 7}
	run := func() *Trainer {
		cfg := Config{Mixer: MixerMHC, N: 4, Width: 8, Depth: 3, Hidden: 2, Inputs: 10, Classes: 4, Seed: 1, Float32: true}
		m, err := NewModel(cfg)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := NewTrainer(m, teacherData(2, 90, 10, 4), tc)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	values32 := func(m *Model) []float32 {
		var w []float32
		for _, p := range m.Params32() {
			w = append(w, p.Value...)
		}
		return w
	}
	straight := run()
	if res, err := straight.Run(context.Background(), nil); err != nil || res.Outcome != Completed {
		t.Fatalf("%+v %v", res, err)
	}
	first := run()
	path := stepAndSave(t, first, k, "run32.ckpt")
	loaded, err := LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(values32(loaded), values32(first.Model())) || !sameBits(weights(loaded), weights(first.Model())) {
		t.Fatal("LoadModel lost weights of a float32 model")
	}
	resumed, err := Resume(path, first.data)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := resumed.Run(context.Background(), nil); err != nil || res.Steps != 2*k {
		t.Fatalf("%+v %v", res, err)
	}
	if !slices.Equal(values32(straight.Model()), values32(resumed.Model())) || !sameBits(weights(straight.Model()), weights(resumed.Model())) {
		t.Error("resumed float32 run differs from the straight run")
	}
}

// stored is one tensor of a trainer's state by name: value and AdamW
// moments, widened to float64, and whether the model holds it in float32.
type stored struct {
	val [3][]float64
	f32 bool
}

// state returns every tensor of t's state by name.
func state(t *Trainer) map[string]stored {
	out := map[string]stored{}
	m1, m2, _ := t.opt.State()
	off := 0
	for i, p := range t.model.params {
		k := len(p.Value)
		out[t.model.names[i]] = stored{val: [3][]float64{slices.Clone(p.Value), slices.Clone(m1[off : off+k]), slices.Clone(m2[off : off+k])}}
		off += k
	}
	if t.opt32 == nil {
		return out
	}
	a := &t.model.f32.arena
	widen := func(s []float32) []float64 {
		w := make([]float64, len(s))
		for i, v := range s {
			w[i] = float64(v)
		}
		return w
	}
	off = 0
	for i, p := range a.params {
		k := len(p.Value)
		out[a.names[i]] = stored{val: [3][]float64{widen(p.Value), widen(t.opt32.m[off : off+k]), widen(t.opt32.v[off : off+k])}, f32: true}
		off += k
	}
	return out
}

// sameAfterConversion checks that got holds the tensors of want, by name,
// each bit for bit as stored in want or, where got holds in float32 what
// want held in float64, rounded to float32; it returns how many tensors
// changed precision.
func sameAfterConversion(t *testing.T, want, got map[string]stored) (converted int) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d tensors, want %d", len(got), len(want))
	}
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Fatalf("%q missing", name)
		}
		if g.f32 != w.f32 {
			converted++
		}
		for j := range 3 {
			for i, v := range w.val[j] {
				if g.f32 && !w.f32 {
					v = float64(float32(v))
				}
				if math.Float64bits(g.val[j][i]) != math.Float64bits(v) {
					t.Fatalf("%s (value, m, v: %d) [%d] = %v, want %v", name, j, i, g.val[j][i], v)
				}
			}
		}
	}
	return converted
}

// TestResumeFloat32Layouts checks that checkpoints are matched to the model
// by name, in either precision: a float32 checkpoint written before the
// heads' Φ moved into the float32 arena (storeMixersFloat32 off: Φ and its
// moments stored in float64) resumes with them rounded to float32, and one
// written now resumes in a model keeping Φ in float64, widened exactly;
// every other tensor comes back bit for bit, and the resumed run ends
// within 1% of k steps' largest AdamW moves of the uninterrupted one.
func TestResumeFloat32Layouts(t *testing.T) {
	defer func() { storeMixersFloat32 = true }()
	const k = 6
	tc := TrainConfig{Steps: 2 * k, Batch: 16, LR: 4e-3, MinLR: 1e-4, Warmup: 3, WeightDecay: 0.05, Seed: 7}
	cfg := Config{Mixer: MixerMHC, N: 4, Width: 8, Depth: 3, Hidden: 2, Inputs: 10, Classes: 4, Seed: 1, Float32: true}
	data := teacherData(2, 90, 10, 4)
	for _, saveNew := range []bool{false, true} {
		storeMixersFloat32 = saveNew
		m, err := NewModel(cfg)
		if err != nil {
			t.Fatal(err)
		}
		first, err := NewTrainer(m, data, tc)
		if err != nil {
			t.Fatal(err)
		}
		path := stepAndSave(t, first, k, "run32.ckpt")
		storeMixersFloat32 = !saveNew
		resumed, err := Resume(path, data)
		if err != nil {
			t.Fatalf("saved with float32 Φ %v: %v", saveNew, err)
		}
		want, got := state(first), state(resumed)
		if converted := sameAfterConversion(t, want, got); converted != cfg.Depth {
			t.Fatalf("%d of %d tensors changed precision, want the %d heads' Φ", converted, len(want), cfg.Depth)
		}
		for _, tr := range []*Trainer{first, resumed} {
			if res, err := tr.Run(context.Background(), nil); err != nil || res.Steps != 2*k {
				t.Fatalf("%+v %v", res, err)
			}
		}
		want, got = state(first), state(resumed)
		var diff, scale float64
		for name, w := range want {
			for i, v := range w.val[0] {
				diff = math.Max(diff, math.Abs(got[name].val[0][i]-v))
				scale = math.Max(scale, math.Abs(v))
			}
		}
		// AdamW moves a weight by up to about LR per step; the two runs
		// differ only by Φ's rounding, so they end far closer than that.
		if bound := k * tc.LR / 100; diff > bound {
			t.Errorf("saved with float32 Φ %v: resumed run ends %.3g from the straight one, want ≤ %.3g", saveNew, diff, bound)
		}
		t.Logf("saved with float32 Φ %v: after %d more steps the runs differ by %.3g (scale %.3g)", saveNew, k, diff, scale)
	}
}

// stepAndSave takes k steps of tr and saves it to a file of the given name
// in a fresh temporary directory, whose path it returns.
func stepAndSave(t testing.TB, tr *Trainer, k int, name string) string {
	t.Helper()
	for range k {
		if _, err := tr.Step(); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), name)
	if err := tr.Save(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// float32Checkpoint trains a small float32 mhc network two steps and
// returns it with its checkpoint's bytes, in the layout of builds before
// hc.Float32Storage (Φ among the float64 tensors) if old.
func float32Checkpoint(t testing.TB, old bool) (*Trainer, []byte) {
	t.Helper()
	defer func() { storeMixersFloat32 = true }()
	storeMixersFloat32 = !old
	m, err := NewModel(Config{Mixer: MixerMHC, N: 4, Width: 8, Depth: 3, Hidden: 2, Inputs: 10, Classes: 4, Seed: 1, Float32: true})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(m, teacherData(2, 90, 10, 4), TrainConfig{Steps: 4, Batch: 16, LR: 4e-3, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(stepAndSave(t, tr, 2, "f32.ckpt"))
	if err != nil {
		t.Fatal(err)
	}
	return tr, b
}

// parseHeader returns the JSON header of the checkpoint b, the offset at
// which it starts and its length.
func parseHeader(t *testing.T, b []byte) (hdr checkpointHeader, at, length int) {
	t.Helper()
	const fixed = len(checkpointMagic) + 4 + 4
	hl := int(binary.LittleEndian.Uint32(b[fixed-4:]))
	if err := json.Unmarshal(b[fixed:fixed+hl], &hdr); err != nil {
		t.Fatal(err)
	}
	return hdr, fixed, hl
}

// rewriteHeader returns the checkpoint b with its JSON header passed
// through edit and its checksum made valid again; payloadEdit, if not nil,
// may change the bytes after the header (the batcher state and payload).
func rewriteHeader(t *testing.T, b []byte, edit func(*checkpointHeader), payloadEdit func(hdr *checkpointHeader, rest []byte)) []byte {
	t.Helper()
	hdr, fixed, hl := parseHeader(t, b)
	rest := append([]byte(nil), b[fixed+hl:len(b)-sha256.Size]...)
	if payloadEdit != nil {
		payloadEdit(&hdr, rest)
	}
	if edit != nil {
		edit(&hdr)
	}
	js, err := json.Marshal(hdr)
	if err != nil {
		t.Fatal(err)
	}
	out := append([]byte(nil), b[:fixed-4]...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(js)))
	out = append(out, js...)
	out = append(out, rest...)
	sum := sha256.Sum256(out)
	return append(out, sum[:]...)
}

// TestCheckpointLayoutErrors checks that a checkpoint whose tensor list
// does not match its model — a tensor stored twice, of the wrong length,
// unknown or missing, float32 tensors in a float64 model — is refused with
// ErrCheckpoint and a message naming the problem, and that a float64
// moment of an old-layout file that does not fit in float32 is refused by
// Resume rather than trained on.
func TestCheckpointLayoutErrors(t *testing.T) {
	tr, good := float32Checkpoint(t, false)
	dir := t.TempDir()
	try := func(what string, b []byte, want string) {
		t.Helper()
		p := filepath.Join(dir, "bad.ckpt")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Resume(p, tr.data)
		if !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want ErrCheckpoint saying %q", what, err, want)
		}
	}
	// The unedited file passes through rewriteHeader intact.
	p := filepath.Join(dir, "same.ckpt")
	if err := os.WriteFile(p, rewriteHeader(t, good, nil, nil), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Resume(p, tr.data); err != nil {
		t.Fatalf("rewritten without edits: %v", err)
	}
	try("duplicate", rewriteHeader(t, good, func(h *checkpointHeader) { h.Params32[1].Name = h.Params32[0].Name }, nil), "stored twice")
	try("length", rewriteHeader(t, good, func(h *checkpointHeader) { h.Params32[2].Len++ }, nil), "769 values, the model's 768")
	try("unknown", rewriteHeader(t, good, func(h *checkpointHeader) { h.Params32[0].Name = "nope" }, nil), "does not have")
	try("missing", rewriteHeader(t, good, func(h *checkpointHeader) { h.Params32 = h.Params32[:len(h.Params32)-1] }, nil), "missing")
	// A float64 model's header listing float32 tensors: the file is
	// refused (by its size here, before the lists are read), and layout
	// itself refuses the lists.
	try("float64 model", rewriteHeader(t, good, func(h *checkpointHeader) { h.Model.Float32 = false }, nil), "")
	m64, err := NewModel(Config{Mixer: MixerMHC, N: 4, Width: 8, Depth: 3, Hidden: 2, Inputs: 10, Classes: 4, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	hdr, _, _ := parseHeader(t, good)
	if _, _, err := layout(hdr, m64); err == nil || !strings.Contains(err.Error(), "float32 parameters in a float64 model") {
		t.Errorf("layout of float32 lists on a float64 model: %v", err)
	}

	_, old := float32Checkpoint(t, true)
	// Set the second moment of the first Φ value, stored in float64, to
	// 1e300: finite in the file, infinite in float32.
	huge := rewriteHeader(t, old, nil, func(h *checkpointHeader, rest []byte) {
		bl := int(binary.LittleEndian.Uint64(rest))
		var total, at int
		for _, c := range h.Params {
			if strings.HasSuffix(c.Name, ".mixer.phi") && at == 0 {
				at = total
			}
			total += c.Len
		}
		off := 8 + bl + 8*(2*total+at)
		binary.LittleEndian.PutUint64(rest[off:], math.Float64bits(1e300))
	})
	try("moment beyond float32", huge, "invalid moments")
}

// TestResumeOldFloat32File resumes testdata/float32-before-storage.ckpt, a
// float32 mhc checkpoint written by commit a7d5f3c (before hc.Float32Storage:
// the heads' Φ and its moments among the float64 tensors), three steps into
// a six-step run on teacherData(2, 90, 10, 4). Read with that layout
// (storeMixersFloat32 off) every tensor comes back as stored; read now, Φ
// and its moments are those values rounded to float32 and all else is
// identical; both runs then finish.
func TestResumeOldFloat32File(t *testing.T) {
	defer func() { storeMixersFloat32 = true }()
	const path = "testdata/float32-before-storage.ckpt"
	data := teacherData(2, 90, 10, 4)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	phi := 0
	hdr, _, _ := parseHeader(t, b)
	for _, c := range hdr.Params {
		if strings.HasSuffix(c.Name, ".mixer.phi") {
			phi++
		}
	}
	var st [2]map[string]stored
	var runs [2]*Trainer
	for i, now := range []bool{false, true} {
		storeMixersFloat32 = now
		tr, err := Resume(path, data)
		if err != nil {
			t.Fatalf("layout now %v: %v", now, err)
		}
		st[i], runs[i] = state(tr), tr
	}
	if phi != 2 {
		t.Fatalf("the file lists %d float64 Φ tensors, want 2: not the old layout", phi)
	}
	if converted := sameAfterConversion(t, st[0], st[1]); converted != phi {
		t.Fatalf("%d tensors changed precision, want the %d Φ", converted, phi)
	}
	for _, tr := range runs {
		if res, err := tr.Run(context.Background(), nil); err != nil || res.Outcome != Completed || res.Steps != 6 {
			t.Fatalf("%+v %v", res, err)
		}
	}
}
