package net

import (
	"encoding/binary"
	"fmt"
)

// batcherStateVersion is the first byte of a marshalled Batcher.
const batcherStateVersion = 1

// MarshalBinary implements encoding.BinaryMarshaler: it records the
// Batcher's generator state, its current permutation and position, so that
// UnmarshalBinary resumes the exact sequence of batches. The layout is a
// version byte, then little-endian uint64s: n, batch, pos, epoch, the n
// permutation entries, the length of the PCG state and the state itself.
func (b *Batcher) MarshalBinary() ([]byte, error) {
	pcg, err := b.src.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("net: batcher: %w", err)
	}
	out := make([]byte, 1, 1+8*(5+len(b.perm))+len(pcg))
	out[0] = batcherStateVersion
	for _, v := range []int{len(b.perm), b.batch, b.pos, b.epoch} {
		out = binary.LittleEndian.AppendUint64(out, uint64(v))
	}
	for _, v := range b.perm {
		out = binary.LittleEndian.AppendUint64(out, uint64(v))
	}
	out = binary.LittleEndian.AppendUint64(out, uint64(len(pcg)))
	return append(out, pcg...), nil
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler for a Batcher made
// by NewBatcher over the same number of examples with the same batch size.
// A state that is malformed, or whose sizes differ, gives an error wrapping
// ErrState and leaves b unchanged.
func (b *Batcher) UnmarshalBinary(data []byte) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("net: batcher state: "+format+": %w", append(args, ErrState)...)
	}
	if len(data) < 1+8*4 || data[0] != batcherStateVersion {
		return bad("%d bytes, version %v", len(data), data[:min(1, len(data))])
	}
	rd := data[1:]
	next := func() uint64 {
		v := binary.LittleEndian.Uint64(rd)
		rd = rd[8:]
		return v
	}
	n, batch, pos, epoch := next(), next(), next(), next()
	switch {
	case n != uint64(len(b.perm)) || batch != uint64(b.batch):
		return bad("%d examples in batches of %d, want %d in batches of %d", n, batch, len(b.perm), b.batch)
	case pos > n || epoch > 1<<62 || (epoch == 0 && pos != n):
		return bad("position %d of %d, epoch %d", pos, n, epoch)
	case uint64(len(rd)) < 8*(n+1):
		return bad("truncated permutation")
	}
	perm := make([]int, n)
	seen := make([]bool, n)
	for i := range perm {
		v := next()
		if epoch == 0 { // before the first Next the permutation is unset
			continue
		}
		if v >= n || seen[v] {
			return bad("entry %d of the permutation is %d", i, v)
		}
		seen[v] = true
		perm[i] = int(v)
	}
	k := next()
	if k != uint64(len(rd)) {
		return bad("generator state of %d bytes, %d left", k, len(rd))
	}
	src := *b.src
	if err := src.UnmarshalBinary(rd); err != nil {
		return bad("generator: %v", err)
	}
	*b.src = src
	copy(b.perm, perm)
	b.pos, b.epoch = int(pos), int(epoch)
	return nil
}
