package mhclite

import (
	"sync"

	"github.com/hyperconn/hyperconn/birkhoff"
)

// permTables caches one permutation table per n: at n = 8 it holds 40320
// permutations, which every mixer of a deep stack shares. The tables are
// immutable once built.
var permTables [MaxN + 1]struct {
	once sync.Once
	p    *birkhoff.Perms
	err  error
}

// permsOf returns the shared table of n, 1 ≤ n ≤ MaxN.
func permsOf(n int) (*birkhoff.Perms, error) {
	e := &permTables[n]
	e.once.Do(func() { e.p, e.err = birkhoff.NewPerms(n) })
	return e.p, e.err
}
