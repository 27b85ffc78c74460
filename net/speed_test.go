package net

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas"

	"github.com/hyperconn/hyperconn/internal/gemm"
)

// linearShape is one Linear of a model: its In and Out.
type linearShape struct{ in, out int }

// linearShapes lists the model's Linears in step order: embed, each
// block's up and down, head.
func linearShapes(cfg Config) []linearShape {
	c, hid := cfg.Width, cfg.Hidden*cfg.Width
	s := []linearShape{{cfg.Inputs, c}}
	for range cfg.Depth {
		s = append(s, linearShape{c, hid}, linearShape{hid, c})
	}
	return append(s, linearShape{c, cfg.Classes})
}

// gemmOnly returns a function that issues exactly the products of the
// Linears in one training step of a model of configuration cfg on rows
// examples — per Linear the forward product, the weight gradient and
// (except the embedding) the input gradient, with the same shapes,
// transposes, element type and backend — on random data, and nothing else.
// Its time is the GEMM roofline of the step. The mixers' own coefficient
// products (the mHC family's heads) are not included: they count as mixer
// work.
func gemmOnly(cfg Config, rows int) func() {
	rnd := rand.New(rand.NewPCG(9, 9))
	type bufs struct {
		x, w, y, dy, dw, dx       []float64
		x32, w32, y32, dy32, dw32 []float32
		dx32                      []float32
	}
	shapes := linearShapes(cfg)
	bs := make([]bufs, len(shapes))
	randv := func(k int) []float64 { return randNormal(rnd, k) }
	for i, s := range shapes {
		b := &bs[i]
		if cfg.Float32 {
			b.x32, b.w32, b.y32 = f32s(randv(rows*s.in)), f32s(randv(s.in*s.out)), make([]float32, rows*s.out)
			b.dy32, b.dw32, b.dx32 = f32s(randv(rows*s.out)), make([]float32, s.in*s.out), make([]float32, rows*s.in)
		} else {
			b.x, b.w, b.y = randv(rows*s.in), randv(s.in*s.out), make([]float64, rows*s.out)
			b.dy, b.dw, b.dx = randv(rows*s.out), make([]float64, s.in*s.out), make([]float64, rows*s.in)
		}
	}
	return func() {
		for i, s := range shapes { // forward
			b := &bs[i]
			if cfg.Float32 {
				gemm.Mul32(blas.NoTrans, blas.NoTrans, rows, s.out, s.in, 1, b.x32, s.in, b.w32, s.out, 1, b.y32, s.out)
			} else {
				gemm.Mul(blas.NoTrans, blas.NoTrans, rows, s.out, s.in, 1, b.x, s.in, b.w, s.out, 1, b.y, s.out)
			}
		}
		for i := len(shapes) - 1; i >= 0; i-- { // backward
			s, b := shapes[i], &bs[i]
			if cfg.Float32 {
				gemm.Mul32(blas.Trans, blas.NoTrans, s.in, s.out, rows, 1, b.x32, s.in, b.dy32, s.out, 1, b.dw32, s.out)
				if i > 0 {
					gemm.Mul32(blas.NoTrans, blas.Trans, rows, s.in, s.out, 1, b.dy32, s.out, b.w32, s.out, 0, b.dx32, s.in)
				}
			} else {
				gemm.Mul(blas.Trans, blas.NoTrans, s.in, s.out, rows, 1, b.x, s.in, b.dy, s.out, 1, b.dw, s.out)
				if i > 0 {
					gemm.Mul(blas.NoTrans, blas.Trans, rows, s.in, s.out, 1, b.dy, s.out, b.w, s.out, 0, b.dx, s.in)
				}
			}
		}
	}
}

// BenchmarkDepth32 is issue 7's speed benchmark: one training step (batch
// gather, forward, backward, clipping, AdamW) of a depth-32 network, batch
// 64, n = 4, h = 4, at C = 128 and 256, for every mixer and the plain
// residual, on every backend compiled in (the pure-Go one is switched to at
// run time in an openblas binary, so that both are timed in one run), in
// float64 and float32, with 1 and 2 threads per product; and, beside each
// family, "gemm-only": the same Linear products alone (see gemmOnly).
// It reports tokens (examples) per second and, for each mixer, "x-gemm":
// the step's time over that of its Linear products alone (gemmOnly, run
// after every step with the timer stopped, so that both see the same
// machine state; the mixers' own products count as mixer work), and, with
// one thread, "in-products": the share of the step's time spent in matrix
// products of any kind (the Linears' and the mixers' coefficient heads'),
// read from gemm.Clock, and "x-products": the step's time over that of all
// its products (recorded from one step with gemm.Record and replayed alone
// with gemm.Replay, interleaved like gemm-only). x-products is the ratio
// issue 7 bounds: the step's time over the time of all its GEMMs alone.
// With one thread, on Linux, "cpu-x-gemm" and "cpu-x-products" are the same
// ratios of the thread's CPU times (threadCPU), which leave out the time
// other processes held the core.
// Select with -bench, e.g.
//
//	go test -tags openblas -run - -bench 'Depth32/backend=openblas/dtype=f32/threads=1/C=128' ./net
func BenchmarkDepth32(b *testing.B) {
	const batch = 64
	start, threads := gemm.Current(), gemm.Threads()
	defer func() {
		if err := gemm.Use(start); err != nil {
			b.Fatal(err)
		}
		gemm.SetThreads(threads)
	}()
	data := teacherData(1, 640, ImageSize, Classes)
	for _, be := range gemm.Available() {
		for _, f32 := range []bool{false, true} {
			dtype := map[bool]string{false: "f64", true: "f32"}[f32]
			for _, th := range []int{1, 2} {
				for _, c := range []int{128, 256} {
					prefix := fmt.Sprintf("backend=%v/dtype=%s/threads=%d/C=%d/", be, dtype, th, c)
					setup := func(b *testing.B) {
						if err := gemm.Use(be); err != nil {
							b.Fatal(err)
						}
						gemm.SetThreads(th)
					}
					b.Run(prefix+"gemm-only", func(b *testing.B) {
						setup(b)
						cfg, _ := Config{Width: c, Depth: 32, Float32: f32}.withDefaults()
						f := gemmOnly(cfg, batch)
						f()
						b.ReportAllocs()
						for b.Loop() {
							f()
						}
						b.ReportMetric(batch*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
					})
					for _, name := range MixerNames() {
						b.Run(prefix+"mixer="+name, func(b *testing.B) {
							setup(b)
							m, err := NewModel(Config{Mixer: name, N: 4, Width: c, Depth: 32, Seed: 1, Float32: f32})
							if err != nil {
								b.Fatal(err)
							}
							tr, err := NewTrainer(m, data, TrainConfig{Steps: 1 << 30, Batch: batch, LR: 1e-4, Seed: 1})
							if err != nil {
								b.Fatal(err)
							}
							if _, err := tr.Step(); err != nil { // warm up the buffers
								b.Fatal(err)
							}
							gemms := gemmOnly(m.cfg, batch)
							gemms()
							// Every product of one step (the Linears' and
							// the mixer's own), replayed alone.
							gemm.Record(true)
							if _, err := tr.Step(); err != nil {
								b.Fatal(err)
							}
							products := gemm.Replay(gemm.Record(false), 9)
							products()
							var gemmTime, productTime time.Duration
							// The same by the thread's CPU time (one thread).
							var stepCPU, gemmCPU, productCPU time.Duration
							if th == 1 {
								runtime.LockOSThread()
								defer runtime.UnlockOSThread()
							}
							clock0 := gemm.Clock(true)
							b.ReportAllocs()
							for b.Loop() {
								c0, _ := threadCPU()
								if _, err := tr.Step(); err != nil {
									b.Fatal(err)
								}
								gemm.Clock(false)
								// The step's GEMMs alone, interleaved and
								// untimed: the ratio holds even on a busy machine.
								b.StopTimer()
								c1, _ := threadCPU()
								t0 := time.Now()
								gemms()
								gemmTime += time.Since(t0)
								c2, _ := threadCPU()
								stepCPU, gemmCPU = stepCPU+c1-c0, gemmCPU+c2-c1
								if th == 1 {
									t0 = time.Now()
									products()
									productTime += time.Since(t0)
									c3, _ := threadCPU()
									productCPU += c3 - c2
								}
								gemm.Clock(true)
								b.StartTimer()
							}
							inSteps := gemm.Clock(false) - clock0
							b.ReportMetric(batch*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
							b.ReportMetric(float64(b.Elapsed())/float64(gemmTime), "x-gemm")
							if th == 1 { // one goroutine multiplies at a time
								b.ReportMetric(float64(inSteps)/float64(b.Elapsed()), "in-products")
								b.ReportMetric(float64(b.Elapsed())/float64(productTime), "x-products")
								if gemmCPU > 0 && productCPU > 0 {
									b.ReportMetric(float64(stepCPU)/float64(gemmCPU), "cpu-x-gemm")
									b.ReportMetric(float64(stepCPU)/float64(productCPU), "cpu-x-products")
								}
							}
						})
					}
				}
			}
		}
	}
}

// BenchmarkOptimizerFloor times, beside the Linear products of a depth-32
// float32 step (gemmOnly), the float32 AdamW update of the same network's
// parameters alone (adamW32.stepScaled over the whole arena, after the
// products, so that its data is as cold as in a step), one thread, on the
// current backend. It reports "adamw/gemm": the update's time over the
// products', by the thread's CPU time on Linux (else by wall time). The
// update streams 28 bytes per parameter (value, gradient, two moments read;
// value and moments written) and is bound by memory, so 1 + adamw/gemm is
// a floor under the residual step's x-gemm in BenchmarkDepth32.
//
//	go test -tags openblas -run '^$' -bench OptimizerFloor ./net
func BenchmarkOptimizerFloor(b *testing.B) {
	defer gemm.SetThreads(gemm.SetThreads(1))
	data := teacherData(1, 640, ImageSize, Classes)
	for _, c := range []int{128, 256} {
		b.Run(fmt.Sprintf("backend=%v/C=%d", gemm.Current(), c), func(b *testing.B) {
			runtime.LockOSThread() // threadCPU reads this thread
			defer runtime.UnlockOSThread()
			m, err := NewModel(Config{Mixer: MixerResidual, N: 4, Width: c, Depth: 32, Seed: 1, Float32: true})
			if err != nil {
				b.Fatal(err)
			}
			tr, err := NewTrainer(m, data, TrainConfig{Steps: 1 << 30, Batch: 64, LR: 1e-4, Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := tr.Step(); err != nil {
				b.Fatal(err)
			}
			gemms := gemmOnly(m.cfg, 64)
			gemms()
			var gemmT, adamT time.Duration
			clock := func() time.Duration {
				if t, ok := threadCPU(); ok {
					return t
				}
				return time.Duration(time.Now().UnixNano())
			}
			for b.Loop() {
				t0 := clock()
				gemms()
				t1 := clock()
				tr.opt32.stepScaled(1e-9, 1)
				t2 := clock()
				gemmT, adamT = gemmT+t1-t0, adamT+t2-t1
			}
			b.ReportMetric(float64(adamT)/float64(gemmT), "adamw/gemm")
			b.ReportMetric(float64(len(tr.opt32.a.value)), "params")
		})
	}
}
