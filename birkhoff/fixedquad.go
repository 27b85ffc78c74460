package birkhoff

// ProjectFixed4 and BackwardFixed4 run four n = 4 projections at once: the
// four matrices are held as a structure of arrays, a[4e+l] being element e
// (row-major) of matrix l, so that one AVX2 instruction does the same
// operation on the four matrices, lane l for matrix l. Lane-wise IEEE
// multiplies, adds, subtracts and divides in the order of sweeps4Go and
// unroll4Go give the bits of the per-matrix code; TestFixedQuadBits and
// TestFixedQuadTwins check it.

// ProjectFixed4 is ProjectFixed on four matrices: matrix l has the logits
// logits[l], and its projection goes to dst[l] and its record to rec[l]. The
// results, Stats, records and errors are those of four ProjectFixed calls in
// order, l = 0 … 3; at n = 4 in float64, when all four logits are finite and
// within MaxScalingRange, the four are projected together, about four times
// faster than one by one.
//
// It returns the Stats of the projected matrices and how many were
// projected: 4, or on an error the index of the matrix whose logits or
// sweeps are invalid. That matrix and those after it are left untouched.
// It does not allocate once the workspace has served a projection of as
// many sweeps.
func (w *Workspace[F]) ProjectFixed4(dst [4][]F, rec [4][]float64, logits [4][]F, sweeps int) ([4]Stats, int, error) {
	var st [4]Stats
	if w.n == 4 && sweeps >= 0 {
		if d, ok := any(dst).([4][]float64); ok && quadInputs(d, rec, logits, sweeps) {
			z := any(logits).([4][]float64)
			projectQuad(&st, d, rec, z, sweeps)
			return st, 4, nil
		}
	}
	for l := range 4 {
		s, err := w.ProjectFixed(dst[l], rec[l], logits[l], sweeps)
		if err != nil {
			return st, l, err
		}
		st[l] = s
	}
	return st, 4, nil
}

// quadInputs reports whether four n = 4 projections may run together:
// lengths right, logits finite and within the scaling domain.
func quadInputs[F Float](dst [4][]float64, rec [4][]float64, logits [4][]F, sweeps int) bool {
	rl := FixedRecordLen(4, sweeps)
	for l := range 4 {
		if len(dst[l]) != 16 || len(rec[l]) != rl || len(logits[l]) != 16 {
			return false
		}
		lo, hi, err := scan(logits[l], 4)
		if err != nil || hi-lo > MaxScalingRange {
			return false
		}
	}
	return true
}

// projectQuad is the batched body of ProjectFixed4.
func projectQuad(st *[4]Stats, dst, rec, logits [4][]float64, sweeps int) {
	if sweeps == 0 {
		sweeps = DefaultIterations
	}
	var a [64]float64
	var f [4][]float64
	for l := range 4 {
		var k [16]float64
		kernel4(&k, (*[16]float64)(logits[l]))
		r := rec[l]
		r[0] = recScaling
		copy(r[1:17], k[:])
		for e, v := range k {
			a[4*e+l] = v
		}
		f[l] = r[17:]
	}
	sweepsQuad(&a, &f)
	tol := floor[float64]()
	for l := range 4 {
		p := (*[16]float64)(dst[l])
		for e := range p {
			p[e] = a[4*e+l]
		}
		dev := deviation4(p)
		var uf [16]int
		comps := support(p[:], 4, supportTol(dev), uf[:])
		st[l] = Stats{Iterations: sweeps, Deviation: dev, Converged: dev <= tol, Components: comps}
	}
}

// BackwardFixed4 is BackwardFixed on four matrices: it writes into dst[l]
// the gradient of the projection recorded in rec[l] given g[l], bit for bit
// as four BackwardFixed calls; dst[l] and g[l] may be the same slice. At
// n = 4 in float64, when the four records are of the scaling domain and of
// the same number of sweeps, the four are differentiated together. It panics
// as BackwardFixed does and does not allocate once the workspace has served
// a projection of as many sweeps.
func (w *Workspace[F]) BackwardFixed4(dst, g [4][]F, rec [4][]float64) {
	if w.n == 4 {
		d, ok := any(dst).([4][]float64)
		if ok && quadRecords(dst, g, rec) {
			w.backwardQuad(d, any(g).([4][]float64), rec)
			return
		}
	}
	for l := range 4 {
		w.BackwardFixed(dst[l], g[l], rec[l])
	}
}

// quadRecords reports whether four n = 4 gradients may be taken together.
func quadRecords[F Float](dst, g [4][]F, rec [4][]float64) bool {
	rl := len(rec[0])
	if rl < 17+8 || (rl-17)%8 != 0 {
		return false
	}
	for l := range 4 {
		if len(rec[l]) != rl || rec[l][0] != recScaling || len(dst[l]) != 16 || len(g[l]) != 16 {
			return false
		}
	}
	return true
}

// backwardQuad is the batched body of BackwardFixed4.
func (w *Workspace[F]) backwardQuad(dst, g, rec [4][]float64) {
	t := (len(rec[0]) - 17) / 8
	need := 64 * (2*t + 1)
	if cap(w.qhist) < need {
		w.qhist = make([]float64, need)
	}
	var a [64]float64
	for l := range 4 {
		for e, v := range (*[16]float64)(g[l]) {
			a[4*e+l] = v
		}
	}
	unrollQuad(&a, &rec, w.qhist[:need])
	for l := range 4 {
		d := (*[16]float64)(dst[l])
		for e := range d {
			d[e] = a[4*e+l]
		}
	}
}

// sweepsQuad runs sweeps4 on the four matrices of a, writing matrix l's
// factors into f[l]; the f[l] have the same length, a multiple of 8.
func sweepsQuad(a *[64]float64, f *[4][]float64) {
	if useAVX2 {
		if t := len(f[0]) / 8; t > 0 {
			p := [4]*float64{&f[0][0], &f[1][0], &f[2][0], &f[3][0]}
			for l := range 4 {
				_ = f[l][8*t-1]
			}
			sweepsQuadAVX2(a, &p, t)
		}
		return
	}
	sweepsQuadGo(a, f)
}

// sweepsQuadGo is the pure-Go twin of sweepsQuadAVX2: sweeps4Go lane by lane.
func sweepsQuadGo(a *[64]float64, f *[4][]float64) {
	for l := range 4 {
		var p [16]float64
		for e := range p {
			p[e] = a[4*e+l]
		}
		sweeps4Go(&p, f[l])
		for e, v := range p {
			a[4*e+l] = v
		}
	}
}

// unrollQuad runs unroll4 on the four gradients of g (structure of arrays)
// with the records rec[l] (of the scaling domain, all of the same length
// 17 + 8t, t ≥ 1), using hist (64·(2t+1) values) as scratch.
func unrollQuad(g *[64]float64, rec *[4][]float64, hist []float64) {
	t := (len(rec[0]) - 17) / 8
	if useAVX2 {
		k := [4]*float64{&rec[0][1], &rec[1][1], &rec[2][1], &rec[3][1]}
		for l := range 4 {
			_ = rec[l][16+8*t]
		}
		_ = hist[64*(2*t+1)-1]
		unrollQuadAVX2(g, &k, &hist[0], t)
		return
	}
	unrollQuadGo(g, rec, hist)
}

// unrollQuadGo is the pure-Go twin of unrollQuadAVX2: unroll4Go lane by
// lane.
func unrollQuadGo(g *[64]float64, rec *[4][]float64, hist []float64) {
	for l := range 4 {
		var p [16]float64
		for e := range p {
			p[e] = g[4*e+l]
		}
		unroll4Go(&p, rec[l], hist)
		for e, v := range p {
			g[4*e+l] = v
		}
	}
}
