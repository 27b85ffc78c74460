package net

import "github.com/hyperconn/hyperconn/internal/f32"

// arena32 holds every Param32 of a model in two flat slices, so that the
// optimiser, the gradient norm and zeroing run over contiguous memory,
// split across threads by index.
type arena32 struct {
	value, grad []float32
	params      []*Param32
	names       []string
}

// add appends a float32 copy of p (rounded to nearest) to the arena under
// the given checkpoint-style name. The arena's slices must have room: see
// reserve.
func (a *arena32) add(name string, p *Param) *Param32 {
	lo, k := len(a.value), len(p.Value)
	a.value = a.value[:lo+k]
	a.grad = a.grad[:lo+k]
	q := &Param32{Name: p.Name, Value: a.value[lo : lo+k : lo+k], Grad: a.grad[lo : lo+k : lo+k], NoDecay: p.NoDecay}
	for i, v := range p.Value {
		q.Value[i] = float32(v)
	}
	a.params = append(a.params, q)
	a.names = append(a.names, name)
	return q
}

// to32 rounds src into dst (at least as long).
func to32(dst []float32, src []float64) { f32.From64(dst[:len(src)], src) }

// to64 widens src into dst (at least as long); exact.
func to64(dst []float64, src []float32) { f32.To64(dst[:len(src)], src) }
