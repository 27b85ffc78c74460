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

// sweep runs the experiments jobs[i] for i in pending on cfg.Jobs workers,
// the deepest first (the longest first balances the workers), saves each
// finished run under cfg.out and then calls saved(i, run) (from the
// worker's goroutine). When env.ctx is cancelled the workers stop between
// two training steps; runs they had not finished are not saved. A failure
// (not a divergence, which is a result) — of an experiment, of saving its
// run or of saved — stops the sweep the same way, and the first one is
// returned.
func sweep(env depthEnv, cfg *depthConfig, train, test *net.Dataset, jobs []depthJob, pending []int,
	saved func(i int, r *depthRun) error, stderr io.Writer) error {
	// Each run is single-threaded, whatever -jobs is: the runs do not
	// compete for cores, and a result does not depend on -jobs (gemm's
	// rounding depends on its thread count; the mixers' does not).
	defer gemm.SetThreads(gemm.SetThreads(1))
	order := slices.Clone(pending)
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(jobs[b].key.Depth, jobs[a].key.Depth) })
	prog := newProgress("depth", env.terminal, env.statusEvery, stderr, order,
		func(i int) int { return jobs[i].key.Steps },
		func(i int) string { return fmt.Sprintf("%s L=%d", jobs[i].key.Mixer, jobs[i].key.Depth) })
	defer prog.close()
	return runPool(env.ctx, cfg.Jobs, order, func(ctx context.Context, i int) error {
		key := jobs[i].key
		prog.start(i)
		r, err := runExperiment(ctx, key, train, test, func(step int) {
			prog.step(i, step)
			if env.afterStep != nil {
				env.afterStep(key.Mixer, key.Depth, step)
			}
		})
		if err == nil && r != nil {
			if err = saveRun(cfg.out, r); err != nil {
				err = fmt.Errorf("saving its run: %w", err)
			} else {
				err = saved(i, r)
			}
		}
		if err != nil {
			err = fmt.Errorf("%s at depth %d: %w", key.Mixer, key.Depth, err)
			prog.fail(i, err)
			return err
		}
		if r == nil {
			prog.stop(i, false, "")
			return nil
		}
		rec := &r.Record
		prog.stop(i, true, fmt.Sprintf("%s L=%d %s in %.1fs: train loss %.4g, test accuracy %.4g, composite forward Amax %.4g",
			rec.Mixer, rec.Depth, rec.Outcome, float64(rec.WallSeconds), float64(rec.FinalTrainLoss),
			float64(rec.TestAccuracy), float64(rec.ForwardAmax)))
		if env.afterRun != nil {
			env.afterRun(r.Record)
		}
		return nil
	})
}
