package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/hyperconn/hyperconn/internal/gemm"
	"github.com/hyperconn/hyperconn/net"
)

// lmCost is the relative cost of an experiment, to start the longest
// first (which balances the workers): depth × steps × the mixer's step
// cost relative to the plain residual's. Only the order of the runs
// depends on it, never a result.
func lmCost(k lmKey) int {
	w, ok := lmMixerCost[k.Mixer]
	if !ok {
		w = 200
	}
	return k.Depth * k.Steps * w
}

// lmMixerCost is each mixer's float32 training step in percent of the
// plain residual's at the default size (net's BenchmarkLMStep, C = 64,
// n = 4, one thread, Intel Xeon VM, rounded): mhc-v4 first, the residual
// last.
var lmMixerCost = map[string]int{
	net.MixerResidual: 100, net.MixerHC: 160, net.MixerHCStatic: 130, net.MixerMHC: 255, net.MixerMHCExact: 200,
	net.MixerMHCLite: 205, net.MixerSHC: 260, net.MixerIDHC: 160, net.MixerKromHC: 180, net.MixerOrthoHC: 185,
	net.MixerMHCV4: 405,
}

// lmSweep runs the experiments jobs[i] for i in pending on cfg.Jobs
// workers, the longest first, saves each finished run under cfg.out and
// then calls saved(i, run) (from the worker's goroutine). When env.ctx is
// cancelled the workers stop between two training steps; runs they had not
// finished are not saved. A failure (not a divergence, which is a result)
// stops the sweep the same way, and the first one is returned.
func lmSweep(env lmEnv, cfg *lmConfig, corpus *net.Corpus, jobs []lmKey, pending []int,
	saved func(i int, r *lmRun) error, stderr io.Writer) error {
	// Each run is single-threaded, whatever -jobs is: the runs do not
	// compete for cores, and a result does not depend on -jobs.
	defer gemm.SetThreads(gemm.SetThreads(1))
	order := slices.Clone(pending)
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(lmCost(jobs[b]), lmCost(jobs[a])) })
	_, h2 := corpus.Entropy()
	prog := newProgress("lm", env.terminal, env.statusEvery, stderr, order,
		func(i int) int { return jobs[i].Steps }, func(i int) string { return jobs[i].label() })
	defer prog.close()
	return runPool(env.ctx, cfg.Jobs, order, func(ctx context.Context, i int) error {
		key := jobs[i]
		prog.start(i)
		r, err := runLMExperiment(ctx, key, corpus, h2, func(step int) {
			prog.step(i, step)
			if env.afterStep != nil {
				env.afterStep(key, step)
			}
		})
		if err == nil && r != nil {
			if err = saveLMRun(cfg.out, r); err != nil {
				err = fmt.Errorf("saving its run: %w", err)
			} else {
				err = saved(i, r)
			}
		}
		if err != nil {
			err = fmt.Errorf("%s: %w", key.label(), err)
			prog.fail(i, err)
			return err
		}
		if r == nil {
			prog.stop(i, false, "")
			return nil
		}
		rec := &r.Record
		prog.stop(i, true, fmt.Sprintf("%s %s in %.1fs: train loss %.4g, validation loss %.4g nats",
			key.label(), rec.Outcome, float64(rec.WallSeconds), float64(rec.FinalTrainLoss), float64(rec.FinalValidLoss)))
		if env.afterRun != nil {
			env.afterRun(r.Record)
		}
		return nil
	})
}

// label names the experiment in messages: "mhc L=4 lr=0.01 seed=1".
func (k lmKey) label() string {
	return fmt.Sprintf("%s L=%d lr=%g seed=%d", k.Mixer, k.Depth, k.LR, k.Seed)
}
