package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

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
	ctx, cancel := context.WithCancel(env.ctx)
	defer cancel()
	prog := newProgress(env, stderr, jobs, order)
	defer prog.close()

	var (
		work     = make(chan int)
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range min(cfg.Jobs, len(order)) {
		wg.Go(func() {
			for i := range work {
				if ctx.Err() != nil {
					continue
				}
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
					mu.Lock()
					firstErr = cmp.Or(firstErr, err)
					mu.Unlock()
					cancel()
					prog.fail(i, err)
					continue
				}
				prog.stop(i, r)
				if r == nil {
					continue
				}
				if env.afterRun != nil {
					env.afterRun(r.Record)
				}
			}
		})
	}
	for _, i := range order {
		if ctx.Err() != nil {
			break
		}
		select {
		case work <- i:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	return firstErr
}

// progress reports the sweep on stderr: a progress bar over all training
// steps when stderr is a terminal, otherwise a line per finished experiment
// and a status line every env.statusEvery (a progress bar would redraw
// itself into a log file).
type progress struct {
	w       io.Writer
	jobs    []depthJob
	total   int // experiments of the sweep
	bar     *progressbar.ProgressBar
	start0  time.Time
	mu      sync.Mutex
	done    int
	running map[int]int // job index → steps done
	quit    chan struct{}
	wg      sync.WaitGroup
}

func newProgress(env depthEnv, w io.Writer, jobs []depthJob, order []int) *progress {
	p := &progress{w: w, jobs: jobs, total: len(order), start0: time.Now(), running: map[int]int{},
		quit: make(chan struct{})}
	if len(order) == 0 {
		return p
	}
	if env.terminal {
		steps := 0
		for _, i := range order {
			steps += jobs[i].key.Steps
		}
		p.bar = progressbar.NewOptions(steps, progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(p.describe()), progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true), progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionFullWidth())
		return p
	}
	fmt.Fprintf(w, "hyperconn depth: %d experiments\n", len(order))
	if env.statusEvery > 0 {
		p.wg.Go(func() {
			t := time.NewTicker(env.statusEvery)
			defer t.Stop()
			for {
				select {
				case <-p.quit:
					return
				case <-t.C:
					p.status()
				}
			}
		})
	}
	return p
}

// describe returns the bar's description; p.mu must be held or unshared.
func (p *progress) describe() string {
	return fmt.Sprintf("depth: %d/%d done", p.done, p.total)
}

// start records that job i began.
func (p *progress) start(i int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running[i] = 0
}

// step records that job i finished training step s.
func (p *progress) step(i, s int) {
	p.mu.Lock()
	p.running[i] = s
	p.mu.Unlock()
	if p.bar != nil {
		p.bar.Add(1)
	}
}

// stop records that job i ended with the run r (nil: stopped or failed).
func (p *progress) stop(i int, r *depthRun) {
	p.mu.Lock()
	defer p.mu.Unlock()
	steps := p.running[i]
	delete(p.running, i)
	if r == nil {
		return
	}
	p.done++
	if p.bar != nil {
		// Steps a diverged run did not take still count as done.
		p.bar.Add(p.jobs[i].key.Steps - steps)
		p.bar.Describe(p.describe())
		return
	}
	rec := &r.Record
	fmt.Fprintf(p.w, "hyperconn depth: [%d/%d] %s L=%d %s in %.1fs: train loss %.4g, test accuracy %.4g, composite forward Amax %.4g\n",
		p.done, p.total, rec.Mixer, rec.Depth, rec.Outcome, float64(rec.WallSeconds), float64(rec.FinalTrainLoss),
		float64(rec.TestAccuracy), float64(rec.ForwardAmax))
}

// fail records that job i failed with err (its run, if any, not saved).
func (p *progress) fail(i int, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.running, i)
	if p.bar == nil {
		fmt.Fprintf(p.w, "hyperconn depth: %v\n", err)
	}
}

// status prints the plain status line.
func (p *progress) status() {
	p.mu.Lock()
	defer p.mu.Unlock()
	var run []string
	for _, i := range slices.Sorted(maps.Keys(p.running)) {
		k := p.jobs[i].key
		run = append(run, fmt.Sprintf("%s L=%d step %d/%d", k.Mixer, k.Depth, p.running[i], k.Steps))
	}
	fmt.Fprintf(p.w, "hyperconn depth: %d/%d finished after %s; running: %s\n", p.done, p.total,
		time.Since(p.start0).Round(time.Second), strings.Join(run, ", "))
}

// close stops the status lines and ends the bar's line.
func (p *progress) close() {
	close(p.quit)
	p.wg.Wait()
	if p.bar != nil {
		p.bar.Exit()
		fmt.Fprintln(p.w)
	}
}
