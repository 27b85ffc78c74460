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
)

// runPool calls work(ctx, i) for each i of order on k goroutines, in that
// order. The first error cancels the context the others see and is
// returned; once ctx is cancelled no further work starts.
func runPool(ctx context.Context, k int, order []int, work func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     = make(chan int)
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range min(k, len(order)) {
		wg.Go(func() {
			for i := range next {
				if ctx.Err() != nil {
					continue
				}
				if err := work(ctx, i); err != nil {
					mu.Lock()
					firstErr = cmp.Or(firstErr, err)
					mu.Unlock()
					cancel()
				}
			}
		})
	}
	for _, i := range order {
		if ctx.Err() != nil {
			break
		}
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	return firstErr
}

// progress reports a sweep on stderr: a progress bar over all training
// steps when stderr is a terminal, otherwise a line per finished experiment
// and a status line every statusEvery (a progress bar would redraw itself
// into a log file). Experiments are known by their index i into the
// sweep's jobs.
type progress struct {
	w       io.Writer
	command string             // "depth" or "lm": the lines start "hyperconn <command>: "
	label   func(i int) string // names experiment i in the status line
	steps   func(i int) int    // training steps of experiment i
	total   int                // experiments of the sweep
	bar     *progressbar.ProgressBar
	start0  time.Time
	mu      sync.Mutex
	done    int
	running map[int]int // job index → steps done
	quit    chan struct{}
	wg      sync.WaitGroup
}

// newProgress returns the progress of the experiments order of a sweep of
// command, drawn as a bar if terminal, else with a status line every
// statusEvery (0: none).
func newProgress(command string, terminal bool, statusEvery time.Duration, w io.Writer, order []int,
	steps func(i int) int, label func(i int) string) *progress {
	p := &progress{w: w, command: command, label: label, steps: steps, total: len(order), start0: time.Now(),
		running: map[int]int{}, quit: make(chan struct{})}
	if len(order) == 0 {
		return p
	}
	if terminal {
		total := 0
		for _, i := range order {
			total += steps(i)
		}
		p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(p.describe()), progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true), progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionFullWidth())
		return p
	}
	fmt.Fprintf(w, "hyperconn %s: %d experiments\n", command, len(order))
	if statusEvery > 0 {
		p.wg.Go(func() {
			t := time.NewTicker(statusEvery)
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
	return fmt.Sprintf("%s: %d/%d done", p.command, p.done, p.total)
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

// stop records that job i ended: finished (and saved) with the summary
// line, or stopped before it finished (finished false).
func (p *progress) stop(i int, finished bool, summary string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	steps := p.running[i]
	delete(p.running, i)
	if !finished {
		return
	}
	p.done++
	if p.bar != nil {
		// Steps a diverged run did not take still count as done.
		p.bar.Add(p.steps(i) - steps)
		p.bar.Describe(p.describe())
		return
	}
	fmt.Fprintf(p.w, "hyperconn %s: [%d/%d] %s\n", p.command, p.done, p.total, summary)
}

// fail records that job i failed with err (its run, if any, not saved).
func (p *progress) fail(i int, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.running, i)
	if p.bar == nil {
		fmt.Fprintf(p.w, "hyperconn %s: %v\n", p.command, err)
	}
}

// status prints the plain status line.
func (p *progress) status() {
	p.mu.Lock()
	defer p.mu.Unlock()
	var run []string
	for _, i := range slices.Sorted(maps.Keys(p.running)) {
		run = append(run, fmt.Sprintf("%s step %d/%d", p.label(i), p.running[i], p.steps(i)))
	}
	fmt.Fprintf(p.w, "hyperconn %s: %d/%d finished after %s; running: %s\n", p.command, p.done, p.total,
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
