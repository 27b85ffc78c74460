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
	"slices"
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
	// payload: its parameter count is the one NewModel checks (NumParams),
	// and each value takes at least bytesPerWeight bytes.
	mc := ck.hdr.Model
	k, err := NumParams(mc)
	if err != nil {
		return nil, bad("model config: %v", err)
	}
	if uint64(k) > uint64(len(rd))/bytesPerWeight(mc) {
		return nil, bad("model config %+v holds %d parameter values, more than a payload of %d bytes can (%d bytes each)",
			mc, k, len(rd), bytesPerWeight(mc))
	}
	model, err := NewModel(mc)
	if err != nil {
		return nil, bad("model config: %v", err)
	}
	s64, s32, err := layout(ck.hdr, model)
	if err != nil {
		return nil, bad("%v", err)
	}
	if want := 3*8*values(s64) + 3*4*values(s32); uint64(len(rd)) != want {
		return nil, bad("payload of %d bytes, want %d", len(rd), want)
	}
	// Destinations: the model's float64 values (flat, in params order) and
	// moments, and the float32 arena's values and moments.
	total := 0
	for _, p := range model.params {
		total += len(p.Value)
	}
	val := make([]float64, total)
	ck.m, ck.v = make([]float64, total), make([]float64, total)
	var val32 []float32
	if model.f32 != nil {
		val32 = model.f32.arena.value
		ck.m32, ck.v32 = make([]float32, len(val32)), make([]float32, len(val32))
	}
	dst64 := [3][]float64{val, ck.m, ck.v}
	dst32 := [3][]float32{val32, ck.m32, ck.v32}
	rd = readSlots(rd, s64, 8, func(b []byte) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(b)) }, dst64, dst32)
	readSlots(rd, s32, 4, func(b []byte) float64 { return float64(math.Float32frombits(binary.LittleEndian.Uint32(b))) }, dst64, dst32)
	off := 0
	for i, p := range model.params {
		copy(p.Value, val[off:])
		off += len(p.Value)
		for j, v := range p.Value {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, bad("%s[%d] = %v", model.names[i], j, v)
			}
		}
	}
	if model.f32 != nil {
		a := &model.f32.arena
		for i, p := range a.params {
			for j, v := range p.Value {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return nil, bad("%s[%d] = %v", a.names[i], j, v)
				}
			}
		}
	}
	ck.model = model
	return ck, nil
}

// slot is where one tensor of a checkpoint's payload goes: n values from
// offset off of the model's float64 parameters (flat, in Params order, and
// their AdamW moments) or, if f32, of its float32 arena.
type slot struct {
	off, n int
	f32    bool
}

// layout matches the tensors a checkpoint's header lists, in payload order
// (the float64 ones, then the float32 ones), with the model's by name: each
// model tensor must be stored exactly once, with its length, in either
// precision, and is converted to its own. A float32 checkpoint written
// before the coefficient heads' Φ moved into the float32 arena
// (hc.Float32Storage) stores Φ and its moments in float64; they are
// rounded to float32, as a fresh float32 model rounds its initial weights.
// A header whose model is float64 but which lists float32 tensors
// contradicts itself and is refused.
func layout(hdr checkpointHeader, model *Model) (s64, s32 []slot, err error) {
	where := map[string]slot{}
	off := 0
	for i, p := range model.params {
		where[model.names[i]] = slot{off: off, n: len(p.Value)}
		off += len(p.Value)
	}
	if model.f32 != nil {
		a := &model.f32.arena
		off = 0
		for i, p := range a.params {
			where[a.names[i]] = slot{off: off, n: len(p.Value), f32: true}
			off += len(p.Value)
		}
	} else if len(hdr.Params32) != 0 {
		return nil, nil, errors.New("float32 parameters in a float64 model")
	}
	want := len(where)
	seen := map[string]bool{}
	match := func(list []checkpointPar, kind string) ([]slot, error) {
		var out []slot
		for i, c := range list {
			s, ok := where[c.Name]
			switch {
			case seen[c.Name]:
				return nil, fmt.Errorf("%s parameter %d, %q, is stored twice", kind, i, c.Name)
			case !ok:
				return nil, fmt.Errorf("%s parameter %d is %q, which the model does not have", kind, i, c.Name)
			case c.Len != s.n:
				return nil, fmt.Errorf("%s parameter %q has %d values, the model's %d", kind, c.Name, c.Len, s.n)
			}
			delete(where, c.Name)
			seen[c.Name] = true
			out = append(out, s)
		}
		return out, nil
	}
	if s64, err = match(hdr.Params, "float64"); err != nil {
		return nil, nil, err
	}
	if s32, err = match(hdr.Params32, "float32"); err != nil {
		return nil, nil, err
	}
	if len(where) != 0 {
		missing := make([]string, 0, len(where))
		for name := range where {
			missing = append(missing, name)
		}
		slices.Sort(missing)
		return nil, nil, fmt.Errorf("%d of the model's %d parameters are missing, e.g. %q", len(where), want, missing[0])
	}
	return s64, s32, nil
}

// values is the number of values the slots hold.
func values(slots []slot) uint64 {
	var n uint64
	for _, s := range slots {
		n += uint64(s.n)
	}
	return n
}

// readSlots reads from rd one section of the payload — the values, then
// the first and then the second moments of the tensors in slots, each
// value width bytes decoded by get — into the model's float64 (dst64) or
// float32 (dst32) values and moments, rounding to float32 where the model
// holds a tensor in float32 (a float32 value read through float64 is
// unchanged), and returns the rest of rd.
func readSlots(rd []byte, slots []slot, width int, get func([]byte) float64, dst64 [3][]float64, dst32 [3][]float32) []byte {
	for k := range 3 {
		for _, s := range slots {
			for i := range s.n {
				v := get(rd[width*i:])
				if s.f32 {
					dst32[k][s.off+i] = float32(v)
				} else {
					dst64[k][s.off+i] = v
				}
			}
			rd = rd[width*s.n:]
		}
	}
	return rd
}

// bytesPerWeight is the least one parameter value takes in a checkpoint's
// payload: a value and two moments, in float64, or in float32 for a
// Float32 model (whose mixer parameters but Φ stay float64).
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
// data of another size) or ErrConfig. Tensors are matched to the model by
// name, and one stored in the other precision is converted: a float32
// checkpoint written before the coefficient heads' Φ moved into the
// float32 arena (hc.Float32Storage) resumes with Φ and its moments rounded
// to float32.
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
		if err := t.opt32.setState(ck.m32, ck.v32, ck.hdr.Step); err != nil {
			return nil, fmt.Errorf("net: resume %s: %w: %w", path, ErrCheckpoint, err)
		}
	}
	return t, nil
}
