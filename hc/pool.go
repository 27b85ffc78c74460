package hc

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// chunkRunner is work cut into numbered chunks that may run concurrently.
type chunkRunner interface {
	runChunk(k int)
}

// splitter runs the chunks of one call: the caller and up to GOMAXPROCS−1
// pool goroutines take chunk numbers from a shared counter until none is left.
// Which goroutine runs a chunk never affects the results, because chunks
// write disjoint memory and each chunk runs start to finish on one goroutine.
// A splitter serves one call at a time; it lives inside its Layer so that a
// call allocates nothing.
type splitter struct {
	r      chunkRunner
	chunks int
	next   atomic.Int64
	wg     sync.WaitGroup
}

// pool is a process-wide set of goroutines that help splitters. It grows to
// the largest GOMAXPROCS−1 seen and never shrinks; idle goroutines block on
// the channel and cost no CPU.
var pool struct {
	mu    sync.Mutex
	size  int
	tasks chan *splitter
}

func poolWorker(tasks <-chan *splitter) {
	for s := range tasks {
		s.work()
		s.wg.Done()
	}
}

// ensurePool makes sure at least n pool goroutines exist.
func ensurePool(n int) chan *splitter {
	pool.mu.Lock()
	defer pool.mu.Unlock()
	if pool.tasks == nil {
		pool.tasks = make(chan *splitter, 256)
	}
	for ; pool.size < n; pool.size++ {
		go poolWorker(pool.tasks)
	}
	return pool.tasks
}

// work runs chunks until none is left.
func (s *splitter) work() {
	for {
		k := int(s.next.Add(1) - 1)
		if k >= s.chunks {
			return
		}
		s.r.runChunk(k)
	}
}

// run calls r.runChunk(k) once for every k in [0, chunks), concurrently when
// GOMAXPROCS > 1, and returns when all are done.
func (s *splitter) run(r chunkRunner, chunks int) {
	helpers := min(runtime.GOMAXPROCS(0), chunks) - 1
	if helpers <= 0 {
		for k := range chunks {
			r.runChunk(k)
		}
		return
	}
	s.r, s.chunks = r, chunks
	s.next.Store(0)
	tasks := ensurePool(helpers)
	s.wg.Add(helpers)
	for range helpers {
		tasks <- s
	}
	s.work()
	s.wg.Wait()
	s.r = nil
}
