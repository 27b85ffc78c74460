// Package allocsite tells, for allocation tests of code that runs on
// several goroutines, which allocations the code asked for. A
// process-wide count (runtime.MemStats, or testing.AllocsPerRun, which
// also forces GOMAXPROCS to 1) sees the runtime's own bookkeeping too: a
// goroutine that blocks on a channel or a WaitGroup may need a new sudog
// until the runtime's caches have filled, a new OS thread its m. Read takes
// the allocation sites from the memory profile; Ours keeps those that are
// not such bookkeeping.
//
// Set runtime.MemProfileRate = 1 before the allocations of interest (and
// before the first Read) so that every allocation is sampled.
package allocsite

import (
	"runtime"
	"sort"
	"strings"
)

// Site is an allocation stack, one function per line (innermost first),
// and the number of objects allocated there.
type Site struct {
	Stack   string
	Objects int64
}

// Read returns the objects allocated so far per allocation stack, from a
// memory profile brought up to date by two collections.
func Read() map[string]int64 {
	runtime.GC()
	runtime.GC()
	var recs []runtime.MemProfileRecord
	n, _ := runtime.MemProfile(nil, true)
	for {
		recs = make([]runtime.MemProfileRecord, n+50)
		var ok bool
		if n, ok = runtime.MemProfile(recs, true); ok {
			recs = recs[:n]
			break
		}
	}
	sites := map[string]int64{}
	for _, r := range recs {
		var sb strings.Builder
		frames := runtime.CallersFrames(r.Stack())
		for {
			f, more := frames.Next()
			sb.WriteString(f.Function + "\n")
			if !more {
				break
			}
		}
		sites[sb.String()] += r.AllocObjects
	}
	return sites
}

// Ours returns the sites that allocated between the readings before and
// after and that are not the runtime's bookkeeping (see Internal) or
// Read's own, most objects first.
func Ours(before, after map[string]int64) []Site {
	var out []Site
	for stack, n := range after {
		if d := n - before[stack]; d > 0 && !Internal(stack) && !strings.Contains(stack, "internal/allocsite.Read\n") {
			out = append(out, Site{Stack: stack, Objects: d})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Objects > out[j].Objects })
	return out
}

// Internal reports whether an allocation stack is the runtime's own
// bookkeeping (a sudog for a blocked goroutine, a type-assertion cache, a
// timer heap, an m) rather than an allocation the code asked for: after the
// allocation primitives (mallocgc, newobject, makeslice, growslice, map
// growth, interface boxing, string building) comes another runtime
// function, not the caller.
func Internal(stack string) bool {
	primitive := func(f string) bool {
		for _, p := range []string{"runtime.mallocgc", "runtime.newobject", "runtime.newarray", "runtime.makeslice",
			"runtime.growslice", "runtime.makemap", "runtime.makechan", "runtime.convT", "runtime.mapassign",
			"runtime.rawstring", "runtime.concatstring", "runtime.slicebytetostring", "internal/runtime/maps."} {
			if strings.HasPrefix(f, p) {
				return true
			}
		}
		return false
	}
	for _, f := range strings.Split(strings.TrimSpace(stack), "\n") {
		if !primitive(f) {
			return strings.HasPrefix(f, "runtime.")
		}
	}
	return true
}
