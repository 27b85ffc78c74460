package mixertest_test

import (
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/mixertest"
)

// mutant wraps static HC and breaks one thing, chosen by kind.
type mutant struct {
	hc.Mixer
	kind string
}

func (m mutant) NewWorker() hc.Worker {
	return &mutantWorker{Worker: m.Mixer.NewWorker(), kind: m.kind}
}

type mutantWorker struct {
	hc.Worker
	kind string
}

var (
	sink  []float64
	calls atomic.Int64
)

func (w *mutantWorker) Forward(pre, post, res, tape, x []float64) error {
	err := w.Worker.Forward(pre, post, res, tape, x)
	n := len(pre)
	switch w.kind {
	case "alloc":
		sink = make([]float64, 8)
	case "nondeterministic":
		post[0] += 1e-9 * float64(calls.Add(1)%7)
	case "transpose":
		for i := range n {
			for j := range i {
				res[i*n+j], res[j*n+i] = res[j*n+i], res[i*n+j]
			}
		}
	case "inexact":
		post[0] += 1e-12
	}
	return err
}

func (w *mutantWorker) Backward(dx, x, tape, dpre, dpost, dres []float64) {
	if w.kind == "grad" {
		dpre[0] *= 1.01
	}
	w.Worker.Backward(dx, x, tape, dpre, dpost, dres)
}

func (w *mutantWorker) Flush() {
	if w.kind != "dropgrad" {
		w.Worker.Flush()
	}
}

const mutantEnv = "MIXERTEST_MUTANT"

// TestSuiteCatches runs the suite on mutants of static HC, each in a child
// process (a failing suite fails its test), and checks that the control
// passes and that each mutant fails the check meant to catch it. In the
// child it runs the suite on the mutant named by $MIXERTEST_MUTANT.
func TestSuiteCatches(t *testing.T) {
	if kind := os.Getenv(mutantEnv); kind != "" {
		newMutant := func(n, c, layer int) (hc.Mixer, error) {
			m, err := hc.New(hc.Config{N: n, C: c, Layer: layer})
			return mutant{Mixer: m, kind: kind}, err
		}
		mixertest.Run(t, mixertest.Case{
			Name: "mutant",
			New:  newMutant,
			Ns:   []int{3},
			Permute: func(m hc.Mixer, perm []int) bool {
				ar := hc.Lookup(m, "A_r").Value
				clear(ar)
				for i, j := range perm {
					ar[j*3+i] = 1
				}
				return true
			},
			Plain: newMutant,
		})
		return
	}
	for kind, check := range map[string]string{
		"none":             "",
		"grad":             "finite-differences",
		"alloc":            "allocs",
		"nondeterministic": "determinism",
		"transpose":        "swap",
		"inexact":          "plain",
		"dropgrad":         "gradients",
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSuiteCatches$", "-test.v")
		cmd.Env = append(os.Environ(), mutantEnv+"="+kind)
		out, err := cmd.CombinedOutput()
		switch {
		case check == "" && err != nil:
			t.Errorf("control run failed: %v\n%s", err, out)
		case check != "" && err == nil:
			t.Errorf("mutant %q passed the suite", kind)
		case check != "" && !strings.Contains(string(out), "--- FAIL: TestSuiteCatches/mutant/n=3/"+check):
			t.Errorf("mutant %q did not fail the %q check:\n%s", kind, check, out)
		}
	}
}
