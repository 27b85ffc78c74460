package net

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/hyperconn/hyperconn/internal/gemm"
)

// lmBenchConfig is the model BenchmarkLMStep times at its default size
// (the Width is replaced by 256 for the second size), and lmBenchBatch its
// sequences per step: width 64, 4 blocks, sequences of 64 tokens, batch
// 16, n = 4, 4 heads, MLP expansion 4. They stand for the default of
// `hyperconn lm`, which sets them.
var (
	lmBenchConfig = LMConfig{N: 4, Seq: 64, Width: 64, Heads: 4, Depth: 4, Hidden: 4, Seed: 1}
	lmBenchBatch  = 16
)

// lmBenchTrainer returns a float32 LMTrainer of lmBenchConfig at width c
// with mixer name on c, one step taken (buffers warm).
func lmBenchTrainer(b *testing.B, corpus *Corpus, name string, c int) *LMTrainer {
	cfg := lmBenchConfig
	cfg.Mixer, cfg.Width, cfg.Vocab, cfg.Float32 = name, c, len(corpus.Vocab), true
	m, err := NewLM(cfg)
	if err != nil {
		b.Fatal(err)
	}
	tr, err := NewLMTrainer(m, corpus, LMTrainConfig{Steps: 1 << 30, Batch: lmBenchBatch, LR: 1e-4, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := tr.Step(); err != nil {
		b.Fatal(err)
	}
	return tr
}

// BenchmarkLMStep is issue 18's speed benchmark: one float32 training step
// of the LM (batch drawing, forward, backward, clipping, AdamW) at
// lmBenchConfig and at C = 256, for the plain residual and every mixer, on
// every backend compiled in (the pure-Go one is switched to at run time in
// an openblas binary, so that both are timed in one run), with 1 and 2
// threads. It reports "tokens/s" and, with one thread:
//
//   - "x-products": the step's time over that of all its matrix products
//     (the Linears', the attention's per-head products and the mixers'
//     coefficient heads'), recorded from one step with gemm.Record and
//     replayed alone with gemm.Replay after every step with the timer
//     stopped, as BenchmarkDepth32 does;
//   - "x-residual" (mixers only): the step's time over that of a plain
//     residual LM's step of the same size, run after every step of its own
//     with the timer stopped, so that both see the same machine state;
//   - on Linux, "cpu-x-products" and "cpu-x-residual": the same ratios of
//     the thread's CPU times (threadCPU), which leave out the time other
//     processes held the core.
//
// With two threads only x-residual is reported (by wall time).
//
//	go test -tags openblas -run '^$' -bench 'LMStep/backend=openblas/threads=1/' ./net
func BenchmarkLMStep(b *testing.B) {
	start, threads := gemm.Current(), gemm.Threads()
	defer func() {
		if err := gemm.Use(start); err != nil {
			b.Fatal(err)
		}
		gemm.SetThreads(threads)
	}()
	corpus, err := NewCorpus("opticks", Opticks(), 0.1)
	if err != nil {
		b.Fatal(err)
	}
	tokens := float64(lmBenchBatch * lmBenchConfig.Seq)
	for _, be := range gemm.Available() {
		for _, th := range []int{1, 2} {
			for _, c := range []int{lmBenchConfig.Width, 256} {
				prefix := fmt.Sprintf("backend=%v/threads=%d/C=%d/", be, th, c)
				for _, name := range MixerNames() {
					b.Run(prefix+"mixer="+name, func(b *testing.B) {
						if err := gemm.Use(be); err != nil {
							b.Fatal(err)
						}
						gemm.SetThreads(th)
						if th == 1 { // threadCPU reads this thread
							runtime.LockOSThread()
							defer runtime.UnlockOSThread()
						}
						tr := lmBenchTrainer(b, corpus, name, c)
						var ref *LMTrainer
						if name != MixerResidual {
							ref = lmBenchTrainer(b, corpus, MixerResidual, c)
						}
						gemm.Record(true)
						if _, err := tr.Step(); err != nil {
							b.Fatal(err)
						}
						products := gemm.Replay(gemm.Record(false), 9)
						products()
						var productTime, refTime, stepCPU, productCPU, refCPU time.Duration
						b.ReportAllocs()
						for b.Loop() {
							c0, _ := threadCPU()
							if _, err := tr.Step(); err != nil {
								b.Fatal(err)
							}
							b.StopTimer()
							c1, _ := threadCPU()
							stepCPU += c1 - c0
							if th == 1 {
								t0 := time.Now()
								products()
								productTime += time.Since(t0)
								c2, _ := threadCPU()
								productCPU += c2 - c1
								c1 = c2
							}
							if ref != nil {
								t0 := time.Now()
								if _, err := ref.Step(); err != nil {
									b.Fatal(err)
								}
								refTime += time.Since(t0)
								c2, _ := threadCPU()
								refCPU += c2 - c1
							}
							b.StartTimer()
						}
						b.ReportMetric(tokens*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
						if ref != nil {
							b.ReportMetric(float64(b.Elapsed())/float64(refTime), "x-residual")
						}
						if th != 1 {
							return
						}
						b.ReportMetric(float64(b.Elapsed())/float64(productTime), "x-products")
						if productCPU > 0 {
							b.ReportMetric(float64(stepCPU)/float64(productCPU), "cpu-x-products")
						}
						if ref != nil && refCPU > 0 {
							b.ReportMetric(float64(stepCPU)/float64(refCPU), "cpu-x-residual")
						}
					})
				}
			}
		}
	}
}
