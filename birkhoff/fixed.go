package birkhoff

import "fmt"

// The record of ProjectFixed, FixedRecordLen(n, t) = 1 + n² + 2·t·n values:
//
//	rec[0]            0 in the scaling domain, 1 in the log domain
//	rec[1 : 1+n²]     the kernel K = exp(Z − column max) (scaling domain),
//	                  or the logits Z (log domain)
//	rec[1+n²+2sn : …] sweep s: the n column factors 1/colsum, then the n row
//	                  factors 1/rowsum (scaling domain; zero in the log domain)
//
// Iterate 2s+1 is iterate 2s times the column factors of sweep s, iterate
// 2s+2 that times its row factors: the very multiplications of the forward,
// so BackwardFixed rebuilds the iterates bit for bit without a division or
// an exponential.
const (
	recScaling = 0
	recLog     = 1
)

// FixedRecordLen returns the length of the record that ProjectFixed writes
// for an n×n matrix and the given number of Fixed sweeps (0 means
// DefaultIterations): 1 + n² + 2·sweeps·n. It panics with ErrShape if n < 1
// or sweeps < 0.
func FixedRecordLen(n, sweeps int) int {
	if n < 1 || sweeps < 0 {
		panic(ErrShape)
	}
	if sweeps == 0 {
		sweeps = DefaultIterations
	}
	return 1 + n*n + 2*sweeps*n
}

// ProjectFixed is Project with Options{Method: Fixed, Iterations: sweeps}
// for callers that project many matrices first and differentiate them later,
// such as a mixer with one H_res per token. It writes the projection of the
// n×n logits into dst, bit for bit the result and Stats of Workspace.Project,
// and into rec, of length FixedRecordLen(n, sweeps), what BackwardFixed needs:
// the kernel and the 2·sweeps normalisation factors. Nothing is recomputed
// in the backward, and at n = 4 both directions are straight-line code; the
// per-token cost is in BenchmarkFixedRecord.
//
// Logits spanning more than MaxScalingRange are projected in the log domain
// exactly as by Project; their record holds the logits, and BackwardFixed
// recomputes the sweeps for them.
//
// Errors are those of Project: a NaN or infinite logit, or a range above
// 1e150, wraps ErrNonFinite, a negative sweeps wraps ErrMethod; dst and rec
// are then left untouched. Mismatched lengths panic with ErrShape. dst may be
// logits. ProjectFixed does not allocate once the workspace has served a
// projection of as many sweeps.
//
// ProjectFixed and BackwardFixed do not change what Backward differentiates,
// except in the log domain, after which Backward panics until the next
// Project.
func (w *Workspace[F]) ProjectFixed(dst []F, rec []float64, logits []F, sweeps int) (Stats, error) {
	n := w.n
	checkSquare(len(logits), n)
	checkSquare(len(dst), n)
	if sweeps < 0 {
		return Stats{}, fmt.Errorf("%w: negative Iterations %d", ErrMethod, sweeps)
	}
	if len(rec) != FixedRecordLen(n, sweeps) {
		panic(ErrShape)
	}
	if sweeps == 0 {
		sweeps = DefaultIterations
	}
	lo, hi, err := scan(logits, n)
	if err != nil {
		return Stats{}, err
	}
	tol := floor[F]()
	if hi-lo > MaxScalingRange {
		w.fixedLog(rec, logits, sweeps)
		for i, v := range w.p {
			dst[i] = F(v)
		}
		dev := Deviation(dst, n)
		comps := support(dst, n, supportTol(dev), w.uf)
		return Stats{Iterations: sweeps, Deviation: dev, Converged: dev <= tol, Components: comps}, nil
	}
	var dev float64
	if d, ok := any(dst).([]float64); ok && n == 4 {
		var z [16]float64
		for i, v := range logits[:16] {
			z[i] = float64(v)
		}
		dev = fixed4((*[16]float64)(d), rec, &z)
	} else {
		nn := n * n
		for i, v := range logits {
			w.z[i] = float64(v)
		}
		cur := w.fixedScaling(rec)
		_ = cur[nn-1]
		for i := range dst {
			dst[i] = F(cur[i])
		}
		dev = Deviation(dst, n)
	}
	comps := support(dst, n, supportTol(dev), w.uf)
	return Stats{Iterations: sweeps, Deviation: dev, Converged: dev <= tol, Components: comps}, nil
}

// BackwardFixed writes into dst the gradient ∂L/∂logits of the projection
// recorded in rec by ProjectFixed, given g = ∂L/∂P; dst and g are n×n and may
// be the same slice. It is bit for bit Workspace.Backward after the same
// projection by Project (the unrolled gradient of Fixed). Any number of
// projections may be made between ProjectFixed and BackwardFixed, with this
// workspace or another of the same n. It panics with ErrShape on mismatched
// lengths or a record not made by ProjectFixed. It does not allocate once
// the workspace has served a projection of as many sweeps.
func (w *Workspace[F]) BackwardFixed(dst, g []F, rec []float64) {
	n := w.n
	nn := n * n
	checkSquare(len(dst), n)
	checkSquare(len(g), n)
	steps := 0
	if r := len(rec) - 1 - nn; r >= 2*n && r%(2*n) == 0 {
		steps = r / n
	}
	if steps == 0 || (rec[0] != recScaling && rec[0] != recLog) {
		panic(ErrShape)
	}
	if rec[0] == recLog {
		copy(w.z, rec[1:1+nn])
		w.method = Fixed
		w.log = true
		w.fixed(steps / 2)
		w.sweeps = 0 // Backward must not differentiate this recomputation
		for i, v := range g {
			w.g[i] = float64(v)
		}
		unroll(w.g, w.hist, steps, n, w.c)
		for i, v := range w.g {
			dst[i] = F(v)
		}
		return
	}
	hist := w.scratch(steps)
	if n == 4 {
		var gr [16]float64
		for i, v := range g[:16] {
			gr[i] = float64(v)
		}
		unroll4(&gr, rec, hist)
		for i, v := range gr {
			dst[i] = F(v)
		}
		return
	}
	copy(hist[:nn], rec[1:1+nn])
	f := rec[1+nn:]
	for s := 0; s < steps; s++ {
		src, next := hist[s*nn:(s+1)*nn], hist[(s+1)*nn:(s+2)*nn]
		for i := 0; i < n; i++ {
			row, out := src[i*n:i*n+n], next[i*n:i*n+n]
			for j, v := range row {
				if s%2 == 0 {
					out[j] = v * f[j]
				} else {
					out[j] = v * f[i]
				}
			}
		}
		f = f[n:]
	}
	for i, v := range g {
		w.g[i] = float64(v)
	}
	unroll(w.g, hist, steps, n, w.c)
	for i, v := range w.g {
		dst[i] = F(v)
	}
}

// scratch returns room for steps+1 iterates. It is separate from the
// iterates Backward differentiates.
func (w *Workspace[F]) scratch(steps int) []float64 {
	need := (steps + 1) * w.n * w.n
	if cap(w.fhist) < need {
		w.fhist = make([]float64, need)
	}
	return w.fhist[:need]
}

// fixedLog projects in the log domain as Project does and records the
// logits for BackwardFixed, which recomputes the sweeps.
func (w *Workspace[F]) fixedLog(rec []float64, logits []F, sweeps int) {
	nn := w.n * w.n
	for i, v := range logits {
		w.z[i] = float64(v)
	}
	w.method = Fixed
	w.log = true
	w.fixed(sweeps)
	w.sweeps = 0 // the history is that of ProjectFixed: see its doc
	rec[0] = recLog
	copy(rec[1:1+nn], w.z)
	clear(rec[1+nn:])
}

// fixedScaling runs the sweeps of fixed in the scaling domain on the logits
// in w.z, recording the kernel and the factors into rec, and returns the
// result (in w.fhist). Its floating-point operations are those of fixed. It
// overwrites w.z, w.k and w.c, which Backward does not read.
func (w *Workspace[F]) fixedScaling(rec []float64) []float64 {
	n := w.n
	nn := n * n
	w.log = false // read by shift only; Backward does not use it
	w.shift(true)
	rec[0] = recScaling
	copy(rec[1:1+nn], w.k)
	cur := w.scratch(0)
	copy(cur, w.k)
	f := rec[1+nn:]
	for len(f) >= 2*n {
		normalize(cur, cur, f[:n], n, true)     // columns, factors recorded
		normalize(cur, cur, f[n:2*n], n, false) // rows, likewise
		f = f[2*n:]
	}
	return cur
}
