package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/hyperconn/hyperconn/birkhoff"
	"github.com/hyperconn/hyperconn/internal/plotting"
)

const exactSynopsis = `usage: hyperconn exact [flags]

The exactness report. For each method × n × element type × input family it
projects -trials random logit matrices Z and reports the max and median
deviation of H from its manifold, the forward and backward Amax of the
product of -depth independent H, and the nanoseconds per projection
(forward, and forward plus backward).

methods:
  fixed20         birkhoff Fixed: the mHC paper's 20 Sinkhorn sweeps
  tolerance       birkhoff Tolerance at the default tolerance
  exact           birkhoff Exact (Newton on the semi-dual)
  mhclite         softmax over all n! permutations of s_k = Σ_i Z[i,p_k(i)],
                  mixed by birkhoff.Mix (n ≤ 8)
  shc-structural  spectral.Sphere with z_U = tanh(upper B), z_V = tanh(lower B),
                  σ = tanh(diag B), B the top-left (n−1)×(n−1) block of Z
  shc-normalised  spectral.Normalizer: H = Z/σ₁(Z)
  kromhc          KromHC: U_1 ⊗ U_2 ⊗ … over n's prime factors (n with no
                  prime factor > 8), factor k mapped as mhclite from the
                  block of Z on the streams whose other digits are 0
  orthohc         Cayley transform of skew(strict upper triangle of Z)
  deepseek-v4     DeepSeek-V4's production map (mhc.Production): column
                  softmax + ε, then 20 rounds of normalisation, ε = 1e-6
families: gauss1, gauss3, gauss5 (N(0,σ²)), near-identity (8I+N(0,1)),
  no-matching (s = 30, n ≥ 3); and, by name or "all": gauss10, no-matching40
  (s = 40), range1000 (logits spread over [−1000, 0]: the log domain)
Deviation: max |row or column sum − 1| (ds) for the first four methods,
kromhc and deepseek-v4; the sphere error max(|row or column sum − 1|,
|‖H‖₂ − 1|) for the sHC ones; ‖HᵀH − I‖₂ (orth) for orthohc.
`

// exactJSON is the document printed by -json and written to results.json.
type exactJSON struct {
	Command     string      `json:"command"`
	Orientation string      `json:"orientation"`
	Config      exactConfig `json:"config"`
	Rows        []exactRow  `json:"rows"`
}

const orientation = "row i of H builds output stream i; forward Amax = max_i |sum_j M_ij| (row sums), " +
	"backward Amax = max_j |sum_i M_ij| (column sums), M = H_depth···H_1"

func runExact(args []string, stdout, stderr io.Writer) int {
	fs := flagSet("exact")
	var (
		ns       = fs.String("n", "2-16", "matrix sizes: a comma-separated list of n and ranges a-b, 2 ≤ n ≤ 64")
		trials   = fs.Int("trials", 32, "independent draws per row for the deviations (≥ 1)")
		depth    = fs.Int("depth", 64, "independent draws multiplied into the composite (≥ 1)")
		seed     = fs.Uint64("seed", 1, "random seed")
		dtypes   = fs.String("dtypes", "float32,float64", "element types: float32, float64 or all")
		methods  = fs.String("methods", "all", "comma-separated methods (see above) or all")
		fams     = fs.String("families", strings.Join(familySlugs()[:defaultFamilies], ","), "comma-separated input families (see above) or all")
		timing   = fs.Bool("timing", true, "time forward and forward+backward (false: report 0, deterministic output)")
		asJSON   = fs.Bool("json", false, "print JSON instead of a table")
		out      = fs.String("out", "", "directory for results.json and the PNG+SVG plots (created if needed)")
		plotN    = fs.Int("plot-n", 0, "n of the drift plot; 0 means the largest selected n ≤ 8")
		cfg      exactConfig
		parseErr error
	)
	if st, done := parseFlags(fs, exactSynopsis, args, stdout, stderr); done {
		return st
	}
	cfg.Trials, cfg.Depth, cfg.Seed, cfg.Timing = *trials, *depth, *seed, *timing
	cfg.Sizes, parseErr = parseInts("n", *ns, 2, 64)
	check := func(err error) {
		if parseErr == nil {
			parseErr = err
		}
	}
	if *trials < 1 {
		check(fmt.Errorf("-trials %d: want at least 1", *trials))
	}
	if *depth < 1 {
		check(fmt.Errorf("-depth %d: want at least 1", *depth))
	}
	var err error
	cfg.DTypes, err = parseChoices("dtypes", *dtypes, dtypeNames)
	check(err)
	cfg.Methods, err = parseChoices("methods", *methods, methodNames)
	check(err)
	cfg.Families, err = parseChoices("families", *fams, familySlugs())
	check(err)
	if parseErr == nil && *out != "" {
		cfg.driftN, err = driftSize(cfg.Sizes, *plotN)
		check(err)
	}
	if parseErr == nil {
		check(checkExactMemory(&cfg))
	}
	if parseErr == nil && countRows(&cfg) == 0 {
		check(errors.New("the selection has no rows (mhclite needs n ≤ 8, kromhc n without a prime factor > 8, no-matching n ≥ 3)"))
	}
	if parseErr != nil {
		return usageError(fs, exactSynopsis, stderr, parseErr)
	}

	rows, curves, err := exactReport(&cfg)
	if err != nil {
		fmt.Fprintf(stderr, "hyperconn exact: %v\n", err)
		return exitFailure
	}
	doc := exactJSON{Command: "exact", Orientation: orientation, Config: cfg, Rows: rows}
	if *out != "" {
		if err := writeExactOutputs(*out, &doc, curves); err != nil {
			fmt.Fprintf(stderr, "hyperconn exact: %v\n", err)
			return exitFailure
		}
	}
	if *asJSON {
		b, err := marshalJSON(&doc)
		if err == nil {
			_, err = stdout.Write(b)
		}
		if err != nil {
			fmt.Fprintf(stderr, "hyperconn exact: %v\n", err)
			return exitFailure
		}
		return exitOK
	}
	if err := writeExactTable(stdout, rows, cfg.Timing); err != nil {
		fmt.Fprintf(stderr, "hyperconn exact: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// driftSize returns the n of the drift plot: want if it is among sizes,
// else (want = 0) the largest size ≤ birkhoff.MaxPermN, or the smallest size.
func driftSize(sizes []int, want int) (int, error) {
	if want != 0 {
		if !slices.Contains(sizes, want) {
			return 0, fmt.Errorf("-plot-n %d: not among the sizes of -n", want)
		}
		return want, nil
	}
	best := sizes[0]
	for _, n := range sizes {
		if n <= birkhoff.MaxPermN {
			best = n
		}
	}
	return best, nil
}

// countRows returns the number of rows cfg selects.
func countRows(cfg *exactConfig) int {
	k := 0
	for _, m := range cfg.Methods {
		for _, f := range families {
			if !slices.Contains(cfg.Families, f.slug) {
				continue
			}
			for _, n := range cfg.Sizes {
				if n >= f.MinN && supportsN(m, n) {
					k += len(cfg.DTypes)
				}
			}
		}
	}
	return k
}

func marshalJSON(doc *exactJSON) ([]byte, error) {
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// writeExactOutputs writes the plots and results.json into dir, each file
// atomically.
func writeExactOutputs(dir string, doc *exactJSON, curves []driftCurve) error {
	b, err := marshalJSON(doc)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := writeExactPlots(dir, doc, curves); err != nil {
		return err
	}
	return plotting.WriteFile(filepath.Join(dir, "results.json"), bytes.NewReader(b))
}

// writeExactTable prints the rows as an aligned table, then the worst max
// deviation and composite Amax of each method and element type.
func writeExactTable(w io.Writer, rows []exactRow, timing bool) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "method\tn\tdtype\tfamily\tmeasure\tmax dev\tmedian dev\tmax |‖H‖₂−1|\titers\tfwd Amax\tbwd Amax\t"
	if timing {
		head += "ns fwd\tns fwd+bwd\t"
	}
	fmt.Fprintln(tw, head)
	for i, r := range rows {
		if i > 0 && (r.Method != rows[i-1].Method || r.DType != rows[i-1].DType) {
			// An empty row with every cell keeps the columns aligned.
			fmt.Fprintln(tw, strings.Repeat("\t", strings.Count(head, "\t")))
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%.2e\t%.2e\t%.2e\t%d\t%.6g\t%.6g\t",
			r.Method, r.N, r.DType, r.Family, r.Measure, r.MaxDeviation, r.MedianDeviation,
			r.MaxNormError, r.MaxIterations, r.ForwardAmax, r.BackwardAmax)
		if timing {
			fmt.Fprintf(tw, "%.0f\t%.0f\t", r.NsForward, r.NsForwardBackward)
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(&buf, "\nworst over n and families (composite of depth %d):\n", rows[0].Depth)
	tw = tabwriter.NewWriter(&buf, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "method\tdtype\tmeasure\tmax dev\tfwd Amax\tbwd Amax\t")
	for i := 0; i < len(rows); {
		j := i
		worst := rows[i]
		for ; j < len(rows) && rows[j].Method == rows[i].Method && rows[j].DType == rows[i].DType; j++ {
			worst.MaxDeviation = math.Max(worst.MaxDeviation, rows[j].MaxDeviation)
			worst.ForwardAmax = math.Max(worst.ForwardAmax, rows[j].ForwardAmax)
			worst.BackwardAmax = math.Max(worst.BackwardAmax, rows[j].BackwardAmax)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2e\t%.6g\t%.6g\t\n", worst.Method, worst.DType, worst.Measure,
			worst.MaxDeviation, worst.ForwardAmax, worst.BackwardAmax)
		i = j
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return writeTrimmed(w, buf.String())
}
