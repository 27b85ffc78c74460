package gemm

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/blas"
)

// Shape is one call of Mul or Mul32 as it was made: the transposes, the
// dimensions, the scalars and the element type (not the operands).
type Shape struct {
	TransA, TransB blas.Transpose
	M, N, K        int
	Alpha, Beta    float64
	Float32        bool
}

// recorder holds the shapes recorded while on.
type recorder struct {
	on     atomic.Bool
	mu     sync.Mutex
	shapes []Shape
}

// rec is the package's recorder (see Record).
var rec recorder

// add records s.
func (r *recorder) add(s Shape) {
	r.mu.Lock()
	r.shapes = append(r.shapes, s)
	r.mu.Unlock()
}

// Record starts (on) or stops recording the Shape of every Mul and Mul32
// call, from any goroutine. Stopping returns the shapes recorded since the
// start, in call order (the order of concurrent calls is the order they
// reached the recorder), and forgets them. It is meant for benchmarks that
// time a computation's products alone (see Replay): recording allocates,
// and off it costs one atomic load per call.
func Record(on bool) []Shape {
	if on {
		rec.mu.Lock()
		rec.shapes = nil
		rec.mu.Unlock()
		rec.on.Store(true)
		return nil
	}
	rec.on.Store(false)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	s := rec.shapes
	rec.shapes = nil
	return s
}

// Replay returns a function that makes, in order, one product of every
// shape in shapes — same transposes, dimensions, scalars and element type —
// on operands of its own (tightly packed, filled once with values drawn
// from seed), through Mul and Mul32 on the current backend and thread
// count. Its time is the time of those products alone. Replay allocates the
// operands; the function it returns does not allocate.
func Replay(shapes []Shape, seed uint64) func() {
	rnd := rand.New(rand.NewPCG(seed, seed))
	fill64 := func(k int) []float64 {
		s := make([]float64, k)
		for i := range s {
			s[i] = rnd.NormFloat64()
		}
		return s
	}
	fill32 := func(k int) []float32 {
		s := make([]float32, k)
		for i := range s {
			s[i] = float32(rnd.NormFloat64())
		}
		return s
	}
	type operands struct {
		s             Shape
		lda, ldb      int
		a, b, c       []float64
		a32, b32, c32 []float32
	}
	ops := make([]operands, len(shapes))
	for i, s := range shapes {
		o := &ops[i]
		o.s = s
		// op(A) is M×K and op(B) K×N; stored A is K×M when transposed.
		ra, ca := s.M, s.K
		if s.TransA != blas.NoTrans {
			ra, ca = s.K, s.M
		}
		rb, cb := s.K, s.N
		if s.TransB != blas.NoTrans {
			rb, cb = s.N, s.K
		}
		o.lda, o.ldb = max(ca, 1), max(cb, 1)
		if s.Float32 {
			o.a32, o.b32, o.c32 = fill32(ra*ca), fill32(rb*cb), fill32(s.M*s.N)
		} else {
			o.a, o.b, o.c = fill64(ra*ca), fill64(rb*cb), fill64(s.M*s.N)
		}
	}
	return func() {
		for i := range ops {
			o := &ops[i]
			s := o.s
			if s.Float32 {
				Mul32(s.TransA, s.TransB, s.M, s.N, s.K, float32(s.Alpha), o.a32, o.lda, o.b32, o.ldb, float32(s.Beta), o.c32, max(s.N, 1))
			} else {
				Mul(s.TransA, s.TransB, s.M, s.N, s.K, s.Alpha, o.a, o.lda, o.b, o.ldb, s.Beta, o.c, max(s.N, 1))
			}
		}
	}
}
