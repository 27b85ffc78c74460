package birkhoff

import "math"

// supportFloor is the least threshold below which an entry of a projection
// is treated as outside its support: far above the smallest entries a
// converged float64 projection resolves against rounding in the implicit
// system (≈ n·2⁻⁵²), and small enough that ignoring entries this size moves
// the implicit gradient by a relative 1e-10 at most for n ≤ 16.
const supportFloor = 1e-12

// supportTol is the threshold at which entries of a projection with max
// marginal error dev count as zero: an entry no larger than the marginal
// error is not resolved by the result, and no smaller than supportFloor.
func supportTol(dev float64) float64 { return math.Max(dev, supportFloor) }

// support labels the connected components of the support of the n×n
// row-major p: the bipartite graph on n rows and n columns with an edge
// (i, j) where p_ij > tol. It returns the number of components. On return
// uf[n+j] is the label (the root node, in [0, 2n)) of column j's component
// and uf[2n+r] the number of columns labelled r; uf has length 4n.
func support[F Float](p []F, n int, tol float64, uf []int) int {
	parent, size := uf[:2*n], uf[2*n:4*n]
	// The common case, every entry in the support (a projection of finite
	// logits that nothing underflowed in), costs n² comparisons.
	full := true
	for _, v := range p[:n*n] {
		if !(float64(v) > tol) {
			full = false
			break
		}
	}
	if full {
		for v := range parent {
			parent[v] = 0
		}
		size[0] = n
		return 1
	}
	for v := range parent {
		parent[v] = v
		size[v] = 0
	}
	comps := 2 * n
	for i := 0; i < n; i++ {
		for j, v := range p[i*n : i*n+n] {
			if !(float64(v) > tol) {
				continue
			}
			a, b := root(parent, i), root(parent, n+j)
			if a != b {
				parent[a] = b
				comps--
			}
		}
	}
	for v := range parent {
		parent[v] = root(parent, v)
	}
	for j := 0; j < n; j++ {
		size[parent[n+j]]++
	}
	return comps
}

// root returns the root of v in the union-find forest parent, halving the
// path on the way.
func root(parent []int, v int) int {
	for parent[v] != v {
		parent[v] = parent[parent[v]]
		v = parent[v]
	}
	return v
}
