package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// depthDoc is the document of results.json (and of -json).
type depthDoc struct {
	Command     string `json:"command"`
	Orientation string `json:"orientation"`
	// Complete is false when the sweep was interrupted: Records then holds
	// the finished experiments only.
	Complete bool `json:"complete"`
	// A -shard run is marked as such (see shard.go): Records then hold the
	// shard's experiments only.
	shardMark
	// Config echoes the flags; Training the settings that are not flags.
	Config   depthConfig   `json:"config"`
	Training depthTraining `json:"training"`
	Records  []depthRecord `json:"records"`
}

// depthTraining are the fixed training settings of every experiment.
type depthTraining struct {
	Hidden      int     `json:"hidden"`
	Warmup      string  `json:"warmup"`
	MinLR       string  `json:"min_lr"`
	WeightDecay float64 `json:"weight_decay"`
	ClipNorm    float64 `json:"clip_norm"`
	DiagBatch   int     `json:"diag_batch"`
	DiagSamples int     `json:"diag_samples"`
	LossWindow  int     `json:"final_loss_window"`
	TrainImages int     `json:"train_images"` // training images (-subset resolved)
	TestImages  int     `json:"test_images"`  // test images scored
	TrainedOn   string  `json:"trained_on"`
	DiagnosedOn string  `json:"diagnosed_on"`
}

const depthOrientation = "row i of H_res builds output stream i; forward Amax = max_i |sum_j M_ij| (row sums), " +
	"backward Amax = max_j |sum_i M_ij| (column sums); composite M = H_L···H_1 of the token-averaged H_res"

// depthDocument assembles the results document of the finished runs, in
// report order; complete says whether they are all of cfg's experiments
// (of its shard, with -shard).
func depthDocument(cfg *depthConfig, runs []*depthRun, complete bool) *depthDoc {
	doc := &depthDoc{Command: "depth", Orientation: depthOrientation, Complete: complete && !cfg.shard.part(),
		shardMark: cfg.shard.mark(complete), Config: *cfg, Records: []depthRecord{},
		Training: depthTraining{
			Hidden:      depthHidden,
			Warmup:      fmt.Sprintf("steps/%d", depthWarmupFrac),
			MinLR:       fmt.Sprintf("lr/%d", depthMinLRFrac),
			WeightDecay: depthWeightDecay,
			ClipNorm:    1,
			DiagBatch:   depthDiagBatch,
			DiagSamples: depthDiagSamples,
			LossWindow:  depthLossWindow,
			TrainImages: cfg.trainImages,
			TestImages:  cfg.testImages,
			TrainedOn:   "MNIST training images (the first -subset), batches drawn by a Batcher seeded with -seed",
			DiagnosedOn: fmt.Sprintf("the first %d test images, after training", depthDiagBatch),
		}}
	for _, r := range runs {
		doc.Records = append(doc.Records, r.Record)
	}
	return doc
}

func marshalIndent(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// writeDepthResults writes results.csv and then results.json into dir,
// each atomically.
func writeDepthResults(dir string, doc *depthDoc) error {
	return writeResultFiles(dir, doc, recordColumns, doc.Records)
}

// writeDepthTable prints the summary table of doc's records.
func writeDepthTable(w io.Writer, doc *depthDoc) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mixer\tL\tn\toutcome\ttrain loss\ttest acc\tfwd Amax\tbwd Amax\tσ_min\t‖M−J‖₂\teff rank\tmax DS dev\tmax |σ₁−1|\tmax ‖g‖ after wu\tspike ×\ttime s\t")
	for i := range doc.Records {
		r := &doc.Records[i]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.1f\t\n", r.Mixer, r.Depth, r.N,
			r.Outcome, cell(r.FinalTrainLoss, "%.4f"), cell(r.TestAccuracy, "%.4f"), cell(r.ForwardAmax, "%.4g"),
			cell(r.BackwardAmax, "%.4g"), cell(r.SigmaMin, "%.3g"), cell(r.DistJ, "%.3g"), cell(r.EffectiveRank, "%.3g"),
			cell(r.MaxDSDeviation, "%.2e"), cell(r.MaxSphereError, "%.2e"), cell(r.MaxGradNormAfterWarmup, "%.3g"),
			cell(r.GradSpikeFactor, "%.3g"), float64(r.WallSeconds))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return writeTrimmed(w, buf.String())
}

// cell formats x, or "-" if it was not measured.
func cell(x num, format string) string {
	if x.String() == "" {
		return "-"
	}
	return fmt.Sprintf(format, float64(x))
}
