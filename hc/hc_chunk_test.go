package hc_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/hyperconn/hyperconn/hc"
)

// chunkTol bounds the difference between a chunk's results and those of
// the same tokens one at a time: both evaluate the same sums, and only the
// BLAS's blocking (and the order in which the tokens' parameter gradients
// are added) differs, a few ulps of values of order 1 to 10.
const chunkTol = 1e-13

// TestChunkMatchesTokens checks that ForwardChunk and BackwardChunk over a
// 7-token chunk give the outputs, tape, ∂L/∂x and every parameter gradient
// of Forward and Backward token by token, with random parameters away from
// the init and random upstream gradients.
func TestChunkMatchesTokens(t *testing.T) {
	const (
		tokens = 7
		c      = 5
	)
	rnd := rand.New(rand.NewPCG(21, 22))
	normal := func(size int) []float64 {
		s := make([]float64, size)
		for i := range s {
			s[i] = rnd.NormFloat64()
		}
		return s
	}
	for _, n := range []int{1, 3, 4} {
		for _, noTanh := range []bool{false, true} {
			m, err := hc.New(hc.Config{N: n, C: c, Layer: 1, Dynamic: true, NoTanh: noTanh})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range m.Params() {
				for i := range p.Value {
					p.Value[i] += 0.5 * rnd.NormFloat64()
				}
			}
			nn, tl := n*n, m.TapeLen()
			x := normal(tokens * n * c)
			dpre, dpost, dres := normal(tokens*n), normal(tokens*n), normal(tokens*nn)
			dx0 := normal(tokens * n * c)
			type result struct {
				pre, post, res, tape, dx []float64
				grads                    [][]float64
			}
			run := func(chunked bool) result {
				r := result{pre: make([]float64, tokens*n), post: make([]float64, tokens*n),
					res: make([]float64, tokens*nn), tape: make([]float64, tokens*tl),
					dx: append([]float64(nil), dx0...)}
				hc.ZeroGrad(m)
				w := m.NewWorker()
				cw, ok := w.(hc.ChunkWorker)
				if !ok {
					t.Fatal("dynamic HC's worker is not a ChunkWorker")
				}
				if chunked {
					if err := cw.ForwardChunk(r.pre, r.post, r.res, r.tape, x, tokens); err != nil {
						t.Fatal(err)
					}
					cw.BackwardChunk(r.dx, x, r.tape, dpre, dpost, dres, tokens)
				} else {
					for k := range tokens {
						err := w.Forward(r.pre[k*n:(k+1)*n], r.post[k*n:(k+1)*n], r.res[k*nn:(k+1)*nn],
							r.tape[k*tl:(k+1)*tl], x[k*n*c:(k+1)*n*c])
						if err != nil {
							t.Fatal(err)
						}
					}
					for k := range tokens {
						w.Backward(r.dx[k*n*c:(k+1)*n*c], x[k*n*c:(k+1)*n*c], r.tape[k*tl:(k+1)*tl],
							dpre[k*n:(k+1)*n], dpost[k*n:(k+1)*n], dres[k*nn:(k+1)*nn])
					}
				}
				w.Flush()
				for _, p := range m.Params() {
					r.grads = append(r.grads, append([]float64(nil), p.Grad...))
				}
				return r
			}
			want, got := run(false), run(true)
			check := func(what string, a, b []float64) {
				for i := range a {
					if d := math.Abs(a[i] - b[i]); !(d <= chunkTol) {
						t.Errorf("n=%d noTanh=%v: %s[%d]: chunk %v, tokens %v", n, noTanh, what, i, b[i], a[i])
						return
					}
				}
			}
			check("h_pre", want.pre, got.pre)
			check("h_post", want.post, got.post)
			check("H_res", want.res, got.res)
			check("tape", want.tape, got.tape)
			check("dx", want.dx, got.dx)
			for i, p := range m.Params() {
				check("gradient of "+p.Name, want.grads[i], got.grads[i])
			}
		}
	}
}

// TestChunkAllocs checks that a worker reuses its scratch: after a first
// chunk of the largest size, chunks of any size up to it allocate nothing.
func TestChunkAllocs(t *testing.T) {
	const (
		n      = 4
		c      = 16
		tokens = 9
	)
	m, _ := hc.New(hc.PaperConfig(n, c, 0))
	nn, tl := n*n, m.TapeLen()
	pre, post, res := make([]float64, tokens*n), make([]float64, tokens*n), make([]float64, tokens*nn)
	tape, x, dx := make([]float64, tokens*tl), make([]float64, tokens*n*c), make([]float64, tokens*n*c)
	for i := range x {
		x[i] = float64(i%7) - 3
	}
	cw := m.NewWorker().(hc.ChunkWorker)
	step := func(k int) {
		if err := cw.ForwardChunk(pre, post, res, tape, x, k); err != nil {
			t.Fatal(err)
		}
		cw.BackwardChunk(dx, x, tape, pre, post, res, k)
		cw.Flush()
	}
	step(tokens)
	if a := testing.AllocsPerRun(10, func() { step(tokens); step(3); step(1) }); a != 0 {
		t.Errorf("%v allocations per run, want 0", a)
	}
}
