package net

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
)

// ErrCheckpoint is wrapped by the errors returned for a checkpoint file
// that is not one, has an unknown version, is truncated or corrupt, or does
// not fit the data it is resumed on.
var ErrCheckpoint = errors.New("net: bad checkpoint")

// Checkpoint format identification.
const (
	checkpointMagic   = "HCNETCK\x00"
	CheckpointVersion = 1 // the format version Save writes and Load reads
)

// checkpointHeader is the JSON header of a checkpoint.
type checkpointHeader struct {
	Model  Config          `json:"model"`
	Train  TrainConfig     `json:"train"`
	Step   int             `json:"step"`
	Params []checkpointPar `json:"params"`
	// Params32 lists the float32 parameters of a Config.Float32 model.
	Params32 []checkpointPar `json:"params32,omitempty"`
}

type checkpointPar struct {
	Name string `json:"name"`
	Len  int    `json:"len"`
}

// Save writes the trainer's state to path: the model and training
// configurations, every parameter, the AdamW moments and step count, and
// the Batcher's generator state and position, so that Resume continues the
// run exactly. The file is
//
//	magic "HCNETCK\0" | version uint32 | header length uint32 | JSON header
//	| batcher state length uint64 | batcher state
//	| float64 values of every parameter, then AdamW's m, then v
//	| float32 values of every float32 parameter, then their m, then v
//	  (a Config.Float32 model only)
//	| SHA-256 of everything before it
//
// with little-endian integers and floats. It is written to a temporary
// file in path's directory, synced and renamed over path, so an
// interrupted Save leaves either the old file or the new one, never a
// mixture.
func (t *Trainer) Save(path string) error {
	m := t.model
	hdr := checkpointHeader{Model: m.cfg, Train: t.cfg, Step: t.opt.Steps()}
	for i, p := range m.params {
		hdr.Params = append(hdr.Params, checkpointPar{Name: m.names[i], Len: len(p.Value)})
	}
	if m.f32 != nil {
		for i, p := range m.f32.arena.params {
			hdr.Params32 = append(hdr.Params32, checkpointPar{Name: m.f32.arena.names[i], Len: len(p.Value)})
		}
	}
	js, err := json.Marshal(hdr)
	if err != nil {
		return fmt.Errorf("net: save: %w", err)
	}
	bs, err := t.batcher.MarshalBinary()
	if err != nil {
		return fmt.Errorf("net: save: %w", err)
	}
	mom1, mom2, _ := t.opt.State()
	return writeAtomic(path, func(w io.Writer) error {
		var head []byte
		head = append(head, checkpointMagic...)
		head = binary.LittleEndian.AppendUint32(head, CheckpointVersion)
		head = binary.LittleEndian.AppendUint32(head, uint32(len(js)))
		head = append(head, js...)
		head = binary.LittleEndian.AppendUint64(head, uint64(len(bs)))
		head = append(head, bs...)
		if _, err := w.Write(head); err != nil {
			return err
		}
		for _, p := range m.params {
			if err := writeFloats(w, p.Value); err != nil {
				return err
			}
		}
		if err := writeFloats(w, mom1); err != nil {
			return err
		}
		if err := writeFloats(w, mom2); err != nil {
			return err
		}
		if t.opt32 == nil {
			return nil
		}
		for _, s := range [][]float32{m.f32.arena.value, t.opt32.m, t.opt32.v} {
			if err := writeFloats32(w, s); err != nil {
				return err
			}
		}
		return nil
	})
}

// writeFloats32 writes s little-endian.
func writeFloats32(w io.Writer, s []float32) error {
	var buf [4 * 512]byte
	for len(s) > 0 {
		k := min(len(s), 512)
		for i, v := range s[:k] {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
		}
		if _, err := w.Write(buf[:4*k]); err != nil {
			return err
		}
		s = s[k:]
	}
	return nil
}

// writeFloats writes s little-endian.
func writeFloats(w io.Writer, s []float64) error {
	var buf [8 * 512]byte
	for len(s) > 0 {
		k := min(len(s), 512)
		for i, v := range s[:k] {
			binary.LittleEndian.PutUint64(buf[8*i:], math.Float64bits(v))
		}
		if _, err := w.Write(buf[:8*k]); err != nil {
			return err
		}
		s = s[k:]
	}
	return nil
}

// writeAtomic writes body, followed by its SHA-256, to a temporary file
// beside path, syncs it and renames it to path.
func writeAtomic(path string, body func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("net: save: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
			err = fmt.Errorf("net: save %s: %w", path, err)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<16)
	h := sha256.New()
	if err = body(io.MultiWriter(bw, h)); err != nil {
		return err
	}
	if _, err = bw.Write(h.Sum(nil)); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	// Make the rename durable; not every platform can sync a directory.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// checkpoint is a parsed checkpoint file.
type checkpoint struct {
	hdr     checkpointHeader
	batcher []byte
	model   *Model
	m, v    []float64
	m32     []float32 // AdamW moments of a Float32 model's float32 parameters
	v32     []float32
}

// readCheckpoint reads, verifies and parses the checkpoint at path and
// rebuilds its model.
func readCheckpoint(path string) (*checkpoint, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("net: load: %w: %w", ErrCheckpoint, err)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("net: load %s: "+format+": %w", append([]any{path}, append(args, ErrCheckpoint)...)...)
	}
	const fixed = len(checkpointMagic) + 4 + 4
	if len(data) < len(checkpointMagic) || string(data[:len(checkpointMagic)]) != checkpointMagic {
		return nil, bad("not a hyperconn net checkpoint (bad magic)")
	}
	if len(data) < fixed+sha256.Size {
		return nil, bad("truncated: %d bytes", len(data))
	}
	if v := binary.LittleEndian.Uint32(data[len(checkpointMagic):]); v != CheckpointVersion {
		return nil, bad("format version %d, this build reads version %d", v, CheckpointVersion)
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return nil, bad("SHA-256 checksum mismatch: the file is truncated or corrupt")
	}
	rd := body[fixed:]
	hl := int(binary.LittleEndian.Uint32(body[fixed-4:]))
	if hl > len(rd) {
		return nil, bad("header of %d bytes in %d", hl, len(rd))
	}
	ck := &checkpoint{}
	dec := json.NewDecoder(bytes.NewReader(rd[:hl]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ck.hdr); err != nil {
		return nil, bad("header: %v", err)
	}
	rd = rd[hl:]
	if len(rd) < 8 {
		return nil, bad("no batcher state")
	}
	bl := binary.LittleEndian.Uint64(rd)
	rd = rd[8:]
	if bl > uint64(len(rd)) {
		return nil, bad("batcher state of %d bytes in %d", bl, len(rd))
	}
	ck.batcher, rd = rd[:bl], rd[bl:]

	// Refuse, before allocating, a header whose model could not fit the
	// payload: the Linears alone hold Inputs·C + L·2h·C² weights.
	mc := ck.hdr.Model
	const maxDim = 1 << 20
	for _, v := range []int{mc.Inputs, mc.Width, mc.Depth, mc.Hidden, mc.Classes, mc.N} {
		if v > maxDim {
			return nil, bad("model config %+v out of range", mc)
		}
	}
	if est := uint64(max(mc.Inputs, 0)*max(mc.Width, 0)) + uint64(max(mc.Depth, 0))*2*uint64(max(mc.Hidden, 0))*uint64(max(mc.Width, 0))*uint64(max(mc.Width, 0)); est > uint64(len(rd))/bytesPerWeight(mc) {
		return nil, bad("model config %+v does not fit a payload of %d bytes", mc, len(rd))
	}
	model, err := NewModel(mc)
	if err != nil {
		return nil, bad("model config: %v", err)
	}
	if len(ck.hdr.Params) != len(model.params) {
		return nil, bad("%d parameters, the model has %d", len(ck.hdr.Params), len(model.params))
	}
	var total, total32 int // float64 and float32 parameter values
	for _, p := range model.params {
		total += len(p.Value)
	}
	if model.f32 != nil {
		total32 = len(model.f32.arena.value)
		a := model.f32.arena
		if len(ck.hdr.Params32) != len(a.params) {
			return nil, bad("%d float32 parameters, the model has %d", len(ck.hdr.Params32), len(a.params))
		}
		for i, p := range a.params {
			if got := ck.hdr.Params32[i]; got.Name != a.names[i] || got.Len != len(p.Value) {
				return nil, bad("float32 parameter %d is %q (%d values), want %q (%d)", i, got.Name, got.Len, a.names[i], len(p.Value))
			}
		}
	} else if len(ck.hdr.Params32) != 0 {
		return nil, bad("float32 parameters in a float64 model")
	}
	if want := uint64(3*total)*8 + uint64(3*total32)*4; uint64(len(rd)) != want {
		return nil, bad("payload of %d bytes, want %d", len(rd), want)
	}
	for i, p := range model.params {
		if got := ck.hdr.Params[i]; got.Name != model.names[i] || got.Len != len(p.Value) {
			return nil, bad("parameter %d is %q (%d values), want %q (%d)", i, got.Name, got.Len, model.names[i], len(p.Value))
		}
	}
	next := func(dst []float64) {
		for i := range dst {
			dst[i] = math.Float64frombits(binary.LittleEndian.Uint64(rd))
			rd = rd[8:]
		}
	}
	for i, p := range model.params {
		next(p.Value)
		for j, v := range p.Value {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, bad("%s[%d] = %v", model.names[i], j, v)
			}
		}
	}
	ck.m, ck.v = make([]float64, total), make([]float64, total)
	next(ck.m)
	next(ck.v)
	if total32 > 0 {
		next32 := func(dst []float32) {
			for i := range dst {
				dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(rd))
				rd = rd[4:]
			}
		}
		a := &model.f32.arena
		next32(a.value)
		for j, v := range a.value {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, bad("float32 parameter value %d = %v", j, v)
			}
		}
		ck.m32, ck.v32 = make([]float32, total32), make([]float32, total32)
		next32(ck.m32)
		next32(ck.v32)
	}
	ck.model = model
	return ck, nil
}

// bytesPerWeight is what one Linear weight takes in a checkpoint's payload:
// a value and two moments, in float64, or in float32 for a Float32 model.
func bytesPerWeight(mc Config) uint64 {
	if mc.Float32 {
		return 3 * 4
	}
	return 3 * 8
}

// LoadModel reads the model stored in a checkpoint written by
// Trainer.Save: its configuration and weights, ready for Evaluate or
// Diagnose. A file that is missing, not a checkpoint, of another version,
// truncated or corrupt gives an error wrapping ErrCheckpoint.
func LoadModel(path string) (*Model, error) {
	ck, err := readCheckpoint(path)
	if err != nil {
		return nil, err
	}
	return ck.model, nil
}

// Resume reads a checkpoint written by Trainer.Save and returns a Trainer
// that continues that run on train exactly where it stopped: same weights,
// optimiser moments, step count, schedule and batch sequence. train must
// be the data set of the saved run. Errors wrap ErrCheckpoint (bad file, or
// data of another size) or ErrConfig.
func Resume(path string, train *Dataset) (*Trainer, error) {
	ck, err := readCheckpoint(path)
	if err != nil {
		return nil, err
	}
	t, err := NewTrainer(ck.model, train, ck.hdr.Train)
	if err != nil {
		return nil, fmt.Errorf("net: resume %s: %w", path, err)
	}
	if err := t.opt.SetState(ck.m, ck.v, ck.hdr.Step); err != nil {
		return nil, fmt.Errorf("net: resume %s: %w: %w", path, ErrCheckpoint, err)
	}
	if err := t.batcher.UnmarshalBinary(ck.batcher); err != nil {
		return nil, fmt.Errorf("net: resume %s: %w: %w", path, ErrCheckpoint, err)
	}
	if t.opt32 != nil {
		copy(t.opt32.m, ck.m32)
		copy(t.opt32.v, ck.v32)
		t.opt32.step = ck.hdr.Step
	}
	return t, nil
}
