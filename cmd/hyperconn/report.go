package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/hyperconn/hyperconn/birkhoff"
	"github.com/hyperconn/hyperconn/internal/logits"
	"github.com/hyperconn/hyperconn/spectral"
)

// family is an input family of the report under its flag name.
type family struct {
	slug string
	logits.Family
}

// families are the input families of the report, in report order. The
// index of a family seeds its draws, so selecting a subset does not change
// the draws of the others. The first defaultFamilies are the default
// selection; the rest complete the exactness families of the birkhoff tests
// (σ = 10, s = 40, a logit range of 1000) and are selected by name or "all".
var families = []family{
	{"gauss1", logits.Gaussian(1)},
	{"gauss3", logits.Gaussian(3)},
	{"gauss5", logits.Gaussian(5)},
	{"near-identity", logits.NearIdentity()},
	{"no-matching", logits.NoMatching(30)},
	{"gauss10", logits.Gaussian(10)},
	{"no-matching40", logits.NoMatching(40)},
	{"range1000", logits.WideRange(1000)},
}

// defaultFamilies is how many of families the report runs by default.
const defaultFamilies = 5

func familySlugs() []string {
	var s []string
	for _, f := range families {
		s = append(s, f.slug)
	}
	return s
}

// Element types of the report.
const (
	dtype32 = "float32"
	dtype64 = "float64"
)

var dtypeNames = []string{dtype32, dtype64}

// dtypeName returns dtype32 for a float32 run and dtype64 otherwise, the
// dtype field of the depth and lm records.
func dtypeName(f32 bool) string {
	if f32 {
		return dtype32
	}
	return dtype64
}

// timingBudget is the wall time of one timed round (see timeLoop).
const timingBudget = time.Millisecond

// exactConfig is the parsed configuration of "hyperconn exact".
type exactConfig struct {
	Sizes    []int    `json:"n"`
	Trials   int      `json:"trials"`
	Depth    int      `json:"depth"`
	Seed     uint64   `json:"seed"`
	DTypes   []string `json:"dtypes"`
	Methods  []string `json:"methods"`
	Families []string `json:"families"`
	Timing   bool     `json:"timing"`
	// driftN is the n whose per-layer composite Amax is recorded for the
	// drift plot; 0 records none.
	driftN int
}

// exactRow is one row of the exactness report: one method at one n, element
// type and input family. The JSON names are stable.
type exactRow struct {
	// Method is one of fixed20, tolerance, exact, mhclite, shc-structural,
	// shc-normalised.
	Method string `json:"method"`
	// Measure names what the deviation fields hold: "ds" (the doubly
	// stochastic deviation max |row or column sum − 1| of birkhoff.Deviation)
	// for the Sinkhorn methods and mhclite, "sphere" (the sphere error
	// max(|row or column sum − 1|, |‖H‖₂ − 1|)) for the two sHC methods.
	Measure string `json:"measure"`
	N       int    `json:"n"`
	// DType is float32 or float64: the element type of logits and H.
	DType string `json:"dtype"`
	// Family is the input family's flag name (gauss1, gauss3, gauss5,
	// near-identity, no-matching) and FamilyName its description.
	Family     string `json:"family"`
	FamilyName string `json:"family_name"`
	// Trials is the number of independent draws behind the deviation fields.
	Trials int `json:"trials"`
	// MaxDeviation and MedianDeviation are the largest and the median
	// deviation (see Measure) over the trials.
	MaxDeviation    float64 `json:"max_deviation"`
	MedianDeviation float64 `json:"median_deviation"`
	// MaxNormError is the largest |‖H‖₂ − 1| over the trials (a doubly
	// stochastic matrix has ‖H‖₂ = 1 too).
	MaxNormError float64 `json:"max_norm_error"`
	// MaxIterations is the most Sinkhorn sweeps plus Newton steps of one
	// projection; 0 for the methods that do not iterate.
	MaxIterations int `json:"max_iterations"`
	// Depth is the number of independent draws multiplied into the
	// composite M = H_L···H_1 (computed in float64).
	Depth int `json:"depth"`
	// ForwardAmax is max_i |Σ_j M_ij| (the forward gain, row sums) and
	// BackwardAmax max_j |Σ_i M_ij| (the backward gain, column sums) of the
	// composite, SPEC §6. Row i of every H builds output stream i.
	ForwardAmax  float64 `json:"forward_amax"`
	BackwardAmax float64 `json:"backward_amax"`
	// NsForward and NsForwardBackward are the wall-clock nanoseconds of one
	// projection, and of one projection plus its backward with a random
	// upstream gradient; 0 when timing is off.
	NsForward         float64 `json:"ns_forward"`
	NsForwardBackward float64 `json:"ns_forward_backward"`
}

// driftCurve is the composite Amax of the running product H_l···H_1 after
// each layer l = 1..depth, for one row.
type driftCurve struct {
	Method, DType, Family string
	N                     int
	Forward, Backward     []float64
}

// draws holds the logits of one family and n: trials matrices for the
// deviation and depth matrices for the composite, in float64.
type draws struct {
	trials, chain [][]float64
	grad          []float64 // the upstream gradient of the timed backward
}

func makeDraws(cfg *exactConfig, famIndex, n int) draws {
	rnd := rand.New(rand.NewPCG(cfg.Seed, uint64(famIndex)<<32|uint64(n)))
	var d draws
	for range cfg.Trials {
		d.trials = append(d.trials, families[famIndex].Gen(rnd, n))
	}
	for range cfg.Depth {
		d.chain = append(d.chain, families[famIndex].Gen(rnd, n))
	}
	g := rand.New(rand.NewPCG(cfg.Seed, 1<<62|uint64(n)))
	d.grad = make([]float64, n*n)
	for i := range d.grad {
		d.grad[i] = g.NormFloat64()
	}
	return d
}

// job is one row of the report to compute.
type job struct {
	method, dtype string
	fam, n        int // index into families, size
	d             *draws
}

// jobs lists the rows of cfg in report order (method, dtype, family, n),
// skipping n above a method's limit and below a family's minimum, and
// generates the draws each (family, n) shares across methods and dtypes.
func jobs(cfg *exactConfig) []job {
	cache := map[[2]int]*draws{}
	var js []job
	for _, m := range cfg.Methods {
		for _, dt := range cfg.DTypes {
			for fi, fam := range families {
				if !slices.Contains(cfg.Families, fam.slug) {
					continue
				}
				for _, n := range cfg.Sizes {
					if n < fam.MinN || !supportsN(m, n) {
						continue
					}
					d, ok := cache[[2]int{fi, n}]
					if !ok {
						dd := makeDraws(cfg, fi, n)
						d = &dd
						cache[[2]int{fi, n}] = d
					}
					js = append(js, job{method: m, dtype: dt, fam: fi, n: n, d: d})
				}
			}
		}
	}
	return js
}

// exactReport computes the rows of cfg (see jobs) and, for the rows at
// n = cfg.driftN, the per-layer composite curves. The accuracy of the rows
// is computed on every core at once; the timings afterwards, one row at a
// time, so that they do not compete with each other.
func exactReport(cfg *exactConfig) ([]exactRow, []driftCurve, error) {
	js := jobs(cfg)
	rows := make([]exactRow, len(js))
	curves := make([]driftCurve, len(js))
	errs := make([]error, len(js))
	next := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				j := js[i]
				wantDrift := j.n == cfg.driftN
				if j.dtype == dtype32 {
					rows[i], curves[i], errs[i] = accuracy[float32](j.method, j.n, j.d, wantDrift)
				} else {
					rows[i], curves[i], errs[i] = accuracy[float64](j.method, j.n, j.d, wantDrift)
				}
			}
		}()
	}
	for i := range js {
		next <- i
	}
	close(next)
	wg.Wait()

	var drift []driftCurve
	for i, j := range js {
		if errs[i] != nil {
			return nil, nil, fmt.Errorf("%s %s n=%d %s: %w", j.method, j.dtype, j.n, families[j.fam].slug, errs[i])
		}
		fam := families[j.fam]
		rows[i].DType, rows[i].Family, rows[i].FamilyName = j.dtype, fam.slug, fam.Name
		if j.n == cfg.driftN {
			curves[i].DType, curves[i].Family = j.dtype, fam.slug
			drift = append(drift, curves[i])
		}
		if !cfg.Timing {
			continue
		}
		var err error
		if j.dtype == dtype32 {
			err = timing[float32](&rows[i], j.d)
		} else {
			err = timing[float64](&rows[i], j.d)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s %s n=%d %s: %w", j.method, j.dtype, j.n, fam.slug, err)
		}
	}
	return rows, drift, nil
}

// convert rounds src into dst.
func convert[F birkhoff.Float](dst []F, src []float64) []F {
	for i, v := range src {
		dst[i] = F(v)
	}
	return dst
}

// accuracy computes the accuracy fields of one row: the deviations over
// d.trials and the composite of d.chain (with its per-layer curve if
// wantDrift).
func accuracy[F birkhoff.Float](method string, n int, d *draws, wantDrift bool) (exactRow, driftCurve, error) {
	r := exactRow{Method: method, Measure: measureOf(method), N: n, Trials: len(d.trials), Depth: len(d.chain)}
	c := driftCurve{Method: method, N: n}
	p, err := newProjector[F](method, n)
	if err != nil {
		return r, c, err
	}
	h := make([]F, n*n)
	// A deterministic family (no-matching) repeats one matrix; projecting
	// it once is enough and saves Tolerance's 10⁴ sweeps per copy.
	fwd := memo[F]{p: p, z: make([]F, n*n), h: make([]F, n*n)}
	z := make([]F, n*n)
	devs := make([]float64, len(d.trials))
	for t, zd := range d.trials {
		it, err := fwd.forward(h, convert(z, zd))
		if err != nil {
			return r, c, err
		}
		dev := birkhoff.Deviation(h, n)
		nerr := math.Abs(spectral.Norm(h, n, n) - 1)
		switch r.Measure {
		case measureSphere:
			dev = math.Max(dev, nerr)
		case measureOrth:
			dev = orthogonality(h, n)
		}
		devs[t] = dev
		r.MaxNormError = math.Max(r.MaxNormError, nerr)
		r.MaxIterations = max(r.MaxIterations, it)
	}
	r.MaxDeviation = slices.Max(devs)
	r.MedianDeviation = median(devs)

	comp := identity(n)
	next := make([]float64, n*n)
	for _, zd := range d.chain {
		if _, err := fwd.forward(h, convert(z, zd)); err != nil {
			return r, c, err
		}
		mulTo(next, h, comp, n)
		comp, next = next, comp
		if wantDrift {
			c.Forward = append(c.Forward, forwardAmax(comp, n))
			c.Backward = append(c.Backward, backwardAmax(comp, n))
		}
	}
	r.ForwardAmax, r.BackwardAmax = forwardAmax(comp, n), backwardAmax(comp, n)
	return r, c, nil
}

// timing fills in the nanoseconds per projection of r, forward and forward
// plus backward, cycling through the trial draws; the upstream gradient of
// the backward is the random d.grad.
func timing[F birkhoff.Float](r *exactRow, d *draws) error {
	n := r.N
	p, err := newProjector[F](r.Method, n)
	if err != nil {
		return err
	}
	zs := make([][]F, len(d.trials))
	for t, zd := range d.trials {
		zs[t] = convert(make([]F, n*n), zd)
	}
	h, dz := make([]F, n*n), make([]F, n*n)
	g := convert(make([]F, n*n), d.grad)
	r.NsForward, err = timeLoop(func(i int) error {
		_, err := p.forward(h, zs[i%len(zs)])
		return err
	})
	if err != nil {
		return err
	}
	r.NsForwardBackward, err = timeLoop(func(i int) error {
		if _, err := p.forward(h, zs[i%len(zs)]); err != nil {
			return err
		}
		return p.backward(dz, g)
	})
	return err
}

// memo remembers the last successful forward of p: a call with the same
// logits copies the stored result.
type memo[F birkhoff.Float] struct {
	p     projector[F]
	z, h  []F
	it    int
	valid bool
}

func (m *memo[F]) forward(dst, z []F) (int, error) {
	if m.valid && slices.Equal(z, m.z) {
		copy(dst, m.h)
		return m.it, nil
	}
	it, err := m.p.forward(dst, z)
	if err != nil {
		m.valid = false
		return it, err
	}
	copy(m.z, z)
	copy(m.h, dst)
	m.it, m.valid = it, true
	return it, nil
}

// timingRounds is the number of timed rounds per measurement; the fastest
// is reported, which discards most of the noise of a shared machine.
const timingRounds = 3

// timeLoop calls f(0), f(1), … in chunks of doubling size until
// timingBudget has passed, timingRounds times, and returns the smallest mean
// nanoseconds per call of a round.
func timeLoop(f func(i int) error) (float64, error) {
	best := math.Inf(1)
	reps := 0
	for range timingRounds {
		start, calls := time.Now(), 0
		for chunk := 1; ; chunk *= 2 {
			for range chunk {
				if err := f(reps); err != nil {
					return 0, err
				}
				reps++
				calls++
			}
			if el := time.Since(start); el >= timingBudget {
				best = math.Min(best, float64(el.Nanoseconds())/float64(calls))
				break
			}
		}
	}
	return best, nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func identity(n int) []float64 {
	m := make([]float64, n*n)
	for i := range n {
		m[i*n+i] = 1
	}
	return m
}

// mulTo writes dst = H·M for n×n row-major H (element type F) and M.
func mulTo[F birkhoff.Float](dst []float64, h []F, m []float64, n int) {
	clear(dst)
	for i := range n {
		row := dst[i*n : i*n+n]
		for k := range n {
			hik := float64(h[i*n+k])
			for j, v := range m[k*n : k*n+n] {
				row[j] += hik * v
			}
		}
	}
}

// forwardAmax is max_i |Σ_j M_ij|: the largest forward (row-sum) gain.
func forwardAmax(m []float64, n int) float64 {
	var a float64
	for i := range n {
		var s float64
		for _, v := range m[i*n : i*n+n] {
			s += v
		}
		a = math.Max(a, math.Abs(s))
	}
	return a
}

// backwardAmax is max_j |Σ_i M_ij|: the largest backward (column-sum) gain.
func backwardAmax(m []float64, n int) float64 {
	var a float64
	for j := range n {
		var s float64
		for i := range n {
			s += m[i*n+j]
		}
		a = math.Max(a, math.Abs(s))
	}
	return a
}
