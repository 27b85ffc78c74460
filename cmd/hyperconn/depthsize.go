package main

import (
	"fmt"
	"runtime"
	"slices"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/net"
)

// maxDepthMemory is the most memory the experiments of "hyperconn depth"
// may need at once (the -jobs largest of them, by net.Footprint): 8 GB.
// A sweep above it is refused as a usage error before anything is written.
const maxDepthMemory = 8e9

// mnistTrainImages is the size of the MNIST training set: no batch holds
// more rows.
const mnistTrainImages = 60000

// checkDepthMemory returns a usage error if a model of the sweep cannot be
// built (net.NumParams refuses it) or if the -jobs experiments that run
// at once could need more than maxDepthMemory, naming the size.
func checkDepthMemory(cfg *depthConfig) error {
	rows := min(max(cfg.Batch, depthEvalBatch, depthDiagBatch), mnistTrainImages)
	var need []float64
	for _, m := range cfg.Mixers {
		for _, d := range cfg.Depths {
			n := cfg.N
			if m == net.MixerResidual {
				n = 1
			}
			mc := net.Config{Mixer: m, N: n, Width: cfg.Width, Depth: d, Hidden: depthHidden, Float32: cfg.Float32}
			b, err := net.Footprint(mc, rows)
			if err != nil {
				return fmt.Errorf("%s at depth %d, width %d, n = %d: %w", m, d, cfg.Width, n, err)
			}
			need = append(need, b)
		}
	}
	return checkConcurrent(need, cfg.Jobs, "-depths, -width or -batch")
}

// checkConcurrent returns a usage error if the jobs largest of the
// experiments' memory needs (bytes) add up to more than maxDepthMemory,
// naming the size and, after -jobs, the flags that lower it (lower).
func checkConcurrent(need []float64, jobs int, lower string) error {
	need = slices.Clone(need)
	slices.Sort(need)
	slices.Reverse(need)
	var total float64
	for _, b := range need[:min(jobs, len(need))] {
		total += b
	}
	if total > maxDepthMemory {
		return fmt.Errorf("the %d largest experiments, run at once (-jobs %d), would need %s, above the bound of %s: lower -jobs, %s",
			min(jobs, len(need)), jobs, hc.FormatBytes(total), hc.FormatBytes(maxDepthMemory), lower)
	}
	return nil
}

// maxExactMemory bounds what "hyperconn exact" may hold: 2 GB.
const maxExactMemory = 2e9

// checkExactMemory returns a usage error if the draws of "hyperconn
// exact" would need more than maxExactMemory: every family and n keeps
// -trials + -depth matrices of n² float64 for the whole run, and each
// worker converts one family's trials to its element type.
func checkExactMemory(cfg *exactConfig) error {
	var all, biggest float64
	for _, n := range cfg.Sizes {
		nn := float64(n) * float64(n)
		all += float64(len(cfg.Families)) * (float64(cfg.Trials) + float64(cfg.Depth)) * nn * 8
		biggest = max(biggest, float64(cfg.Trials)*nn*8)
	}
	need := all + float64(runtime.GOMAXPROCS(0))*biggest
	if need > maxExactMemory {
		return fmt.Errorf("-trials %d and -depth %d with n up to %d would need %s for the draws, above the bound of %s",
			cfg.Trials, cfg.Depth, slices.Max(cfg.Sizes), hc.FormatBytes(need), hc.FormatBytes(maxExactMemory))
	}
	return nil
}
