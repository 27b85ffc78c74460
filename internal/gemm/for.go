package gemm

// Ranger is work over an index range [0, n) that may be cut into disjoint
// sub-ranges run concurrently: Range(lo, hi) must touch only what belongs
// to indices lo..hi−1.
type Ranger interface {
	Range(lo, hi int)
}

// Grain is the granularity of For: every range it hands out starts at a
// multiple of Grain, so a Ranger may keep one partial result per Grain
// block (a deterministic parallel sum) without two goroutines sharing one.
const Grain = 4096

// MinFor is the smallest n that For splits: below it the hand-off (a few
// microseconds) costs more than it saves for element-wise work.
const MinFor = 4 * Grain

// For calls r.Range over [0, n) cut into contiguous ranges that start at
// multiples of Grain, on the calling goroutine and up to Threads()−1 of
// Mul's helper goroutines, and returns when all are done. It runs serially,
// as one r.Range(0, n), when n < MinFor, when Threads() is 1, or when
// another call holds the helpers. It does not allocate if r is a pointer. It is meant for the
// element-wise work between products (activations, optimiser updates), on
// either backend.
func For(n int, r Ranger) {
	if n <= 0 {
		return
	}
	t := Threads()
	if t < 2 || n < MinFor || !pool.busy.TryLock() {
		r.Range(0, n)
		return
	}
	j := &pool.rj
	j.r, j.n, j.parts = r, n, 2*t
	j.next.Store(0)
	launch(j, t-1)
	j.r = nil
	pool.busy.Unlock()
}

// Parter is work cut into numbered parts that may run concurrently:
// Part(p) must touch only what belongs to part p.
type Parter interface {
	Part(p int)
}

// Parts calls r.Part(p) once for every p in [0, k), on the calling
// goroutine and up to Threads()−1 of Mul's helper goroutines, which take
// part numbers from a shared counter, and returns when all are done. It
// runs serially, in order, when k < 2, when Threads() is 1, or when another
// call holds the helpers (a Mul inside a part therefore runs serially). It
// does not allocate if r is a pointer. Which goroutine runs a part must not
// affect the results: the token-parallel mixers (hc.Layer) cut a batch
// into a fixed number of parts for this reason.
func Parts(k int, r Parter) {
	t := min(Threads(), k)
	if t < 2 || !pool.busy.TryLock() {
		for p := range k {
			r.Part(p)
		}
		return
	}
	j := &pool.pj
	j.r, j.parts = r, k
	j.next.Store(0)
	launch(j, t-1)
	j.r = nil
	pool.busy.Unlock()
}

// partJob is the state of one Parts call; the pool owns one.
type partJob struct {
	r     Parter
	parts int
	next  atomicInt
	team
}

func (j *partJob) work() {
	for {
		p := int(j.next.Add(1) - 1)
		if p >= j.parts {
			return
		}
		j.r.Part(p)
	}
}

// rangeJob is the state of one For call; the pool owns one.
type rangeJob struct {
	r        Ranger
	n, parts int
	next     atomicInt
	team
}

func (j *rangeJob) work() {
	for {
		p := int(j.next.Add(1) - 1)
		if p >= j.parts {
			return
		}
		lo, hi := splitGrain(j.n, j.parts, p, Grain)
		if lo < hi {
			j.r.Range(lo, hi)
		}
	}
}

// splitGrain returns part p of [0, total) cut into parts ranges that start
// at multiples of grain; trailing parts may be empty.
func splitGrain(total, parts, p, grain int) (lo, hi int) {
	step := (total + parts - 1) / parts
	step = (step + grain - 1) / grain * grain
	lo = min(p*step, total)
	hi = min(lo+step, total)
	return lo, hi
}
