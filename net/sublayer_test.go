package net

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/hyperconn/hyperconn/internal/f32"
	"github.com/hyperconn/hyperconn/internal/gemm"
)

// sublayer32 is the plain residual sub-layer of issue 16 in float32, built
// from the network's own layers: y = x + down(gelu(up(x))), up C→4C and
// down 4C→C with biases, over a batch of tokens; step runs it forward and
// backward (weight and bias gradients overwritten, as after the trainer's
// zeroGrad, and the input gradient dy + ∂branch), with the calls of
// model32's blocks.
type sublayer32 struct {
	tokens, c         int
	arena             arena32
	up, down          *linear32
	gelu              gelu32
	x, y, dy, dx      []float32
	h, a, cdf, da, du []float32
}

func newSublayer32(rnd *rand.Rand, tokens, c int) *sublayer32 {
	h := 4 * c
	s := &sublayer32{tokens: tokens, c: c}
	total := 2*c*h + h + c
	s.arena = arena32{value: make([]float32, 0, total), grad: make([]float32, 0, total)}
	s.up = newLinear32(&s.arena, "", NewLinear("up", c, h, rnd))
	s.down = newLinear32(&s.arena, "", NewLinear("down", h, c, rnd))
	for _, b := range []*Param32{s.up.b, s.down.b} {
		for i := range b.Value {
			b.Value[i] = float32(0.1 * rnd.NormFloat64())
		}
	}
	s.x, s.dy = f32s(randNormal(rnd, tokens*c)), f32s(randNormal(rnd, tokens*c))
	s.y, s.dx, s.du = make([]float32, tokens*c), make([]float32, tokens*c), make([]float32, tokens*c)
	s.h, s.a, s.cdf, s.da = make([]float32, tokens*h), make([]float32, tokens*h), make([]float32, tokens*h), make([]float32, tokens*h)
	return s
}

// step is one forward and backward pass.
func (s *sublayer32) step() {
	for _, p := range s.arena.params {
		p.stale, p.ssOK = true, false
	}
	s.up.product(s.h, s.x, s.tokens)
	s.gelu.forwardBias(s.a, s.cdf, s.h, s.up.b.Value)
	s.down.forward(s.y, s.a, s.tokens)
	f32.Add(s.y, s.x)
	s.down.backward(s.da, s.dy, s.a, s.tokens)
	s.gelu.backwardBias(s.da, s.da, s.h, s.cdf, s.up.b)
	s.up.backwardW(s.du, s.da, s.x, s.tokens)
	copy(s.dx, s.dy)
	f32.Add(s.dx, s.du)
}

// BenchmarkSublayer times issue 16's plain residual sub-layer in float32
// (sublayer32: Linear–GELU–Linear with biases and the residual add,
// forward and backward) at C = 256 with 256 tokens and C = 512 with 1024
// tokens, on every backend compiled in, one thread. It reports
// "x-products": the step's time over that of its six products alone
// (recorded from one step with gemm.Record and replayed with gemm.Replay,
// run after every step with the timer stopped, so that both see the same
// machine state), and, on Linux, "cpu-x-products": the same ratio of the
// thread's CPU times (threadCPU), which leaves out the time other processes
// held the core.
//
//	go test -tags openblas -run '^$' -bench Sublayer -count 5 ./net
func BenchmarkSublayer(b *testing.B) {
	start, threads := gemm.Current(), gemm.Threads()
	defer func() {
		if err := gemm.Use(start); err != nil {
			b.Fatal(err)
		}
		gemm.SetThreads(threads)
	}()
	for _, be := range gemm.Available() {
		for _, d := range []struct{ c, tokens int }{{256, 256}, {512, 1024}} {
			b.Run(fmt.Sprintf("backend=%v/C=%d/tokens=%d", be, d.c, d.tokens), func(b *testing.B) {
				if err := gemm.Use(be); err != nil {
					b.Fatal(err)
				}
				gemm.SetThreads(1)
				runtime.LockOSThread() // threadCPU reads this thread
				defer runtime.UnlockOSThread()
				s := newSublayer32(rand.New(rand.NewPCG(1, 2)), d.tokens, d.c)
				s.step()
				gemm.Record(true)
				s.step()
				products := gemm.Replay(gemm.Record(false), 5)
				products()
				var productTime, stepCPU, productCPU time.Duration
				b.ReportAllocs()
				for b.Loop() {
					c0, cpuOK := threadCPU()
					s.step()
					c1, _ := threadCPU()
					b.StopTimer()
					t0 := time.Now()
					products()
					productTime += time.Since(t0)
					c2, _ := threadCPU()
					stepCPU, productCPU = stepCPU+c1-c0, productCPU+c2-c1
					b.StartTimer()
					if !cpuOK {
						stepCPU, productCPU = 0, 0
					}
				}
				b.ReportMetric(float64(b.Elapsed())/float64(productTime), "x-products")
				if productCPU > 0 {
					b.ReportMetric(float64(stepCPU)/float64(productCPU), "cpu-x-products")
				}
			})
		}
	}
}
