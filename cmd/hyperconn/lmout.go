package main

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"text/tabwriter"

	"github.com/hyperconn/hyperconn/net"
)

// lmDoc is the document of results.json (and of -json) of "hyperconn lm".
type lmDoc struct {
	Command     string `json:"command"`
	Orientation string `json:"orientation"`
	// Complete is false when the sweep was interrupted: Records then holds
	// the finished experiments only.
	Complete bool `json:"complete"`
	// A -shard run is marked as such (see shard.go): Records then hold the
	// shard's experiments only.
	shardMark
	// Config echoes the flags; Training the settings that are not flags;
	// Baselines the text's entropies.
	Config    lmConfig    `json:"config"`
	Training  lmTraining  `json:"training"`
	Baselines lmBaselines `json:"baselines"`
	Records   []lmRecord  `json:"records"`
}

// lmTraining are the fixed training settings of every experiment.
type lmTraining struct {
	Hidden      int     `json:"hidden"`
	MinLR       string  `json:"min_lr"`
	WeightDecay float64 `json:"weight_decay"`
	ClipNorm    float64 `json:"clip_norm"`
	LossWindow  int     `json:"final_loss_window"`
	DiagSamples int     `json:"diag_samples"`
	TrainedOn   string  `json:"trained_on"`
	ValidatedOn string  `json:"validated_on"`
}

// lmBaselines are what a character-level model is judged against: the
// validation split's unigram entropy H1 and bigram (conditional) entropy
// H2 (net.Corpus.Entropy), in nats and bits per character.
type lmBaselines struct {
	Text         string  `json:"text"`
	Vocab        int     `json:"vocab"`
	TrainChars   int     `json:"train_chars"`
	ValidChars   int     `json:"valid_chars"`
	UnigramNats  float64 `json:"unigram_nats"`
	UnigramBits  float64 `json:"unigram_bits"`
	BigramNats   float64 `json:"bigram_nats"`
	BigramBits   float64 `json:"bigram_bits"`
	UniformNats  float64 `json:"uniform_nats"` // ln(vocab): the loss of a model that knows nothing
	MeasuredOver string  `json:"measured_over"`
}

// newLMBaselines returns the baselines of corpus, whose entropies are h1
// and h2 nats per character.
func newLMBaselines(corpus *net.Corpus, h1, h2 float64) lmBaselines {
	return lmBaselines{Text: corpus.Name, Vocab: len(corpus.Vocab), TrainChars: len(corpus.Train),
		ValidChars: len(corpus.Valid), UnigramNats: h1, UnigramBits: h1 / math.Ln2, BigramNats: h2,
		BigramBits: h2 / math.Ln2, UniformNats: math.Log(float64(len(corpus.Vocab))),
		MeasuredOver: "the whole validation split, with its own empirical frequencies"}
}

const lmOrientation = "losses in nats per character (byte); bits = nats / ln 2; " +
	"row i of H_res builds output stream i; forward Amax = max_i |sum_j M_ij| (row sums), " +
	"backward Amax = max_j |sum_i M_ij| (column sums)"

// lmDocument assembles the results document of the finished runs, in
// report order; complete says whether they are all of cfg's experiments
// (of its shard, with -shard).
func lmDocument(cfg *lmConfig, base lmBaselines, runs []*lmRun, complete bool) *lmDoc {
	doc := &lmDoc{Command: "lm", Orientation: lmOrientation, Complete: complete && !cfg.shard.part(),
		shardMark: cfg.shard.mark(complete), Config: *cfg, Baselines: base,
		Records: []lmRecord{},
		Training: lmTraining{
			Hidden:      lmHidden,
			MinLR:       fmt.Sprintf("lr/%d", lmMinLRFrac),
			WeightDecay: lmWeightDecay,
			ClipNorm:    lmClipNorm,
			LossWindow:  lmLossWindow,
			DiagSamples: lmDiagSamples,
			TrainedOn:   "windows of seq+1 characters drawn uniformly from the training split (the text's first part) by PCG(seed, 1)",
			ValidatedOn: "the first eval-tokens characters of the validation split (the text's end), whole windows of seq",
		}}
	for _, r := range runs {
		doc.Records = append(doc.Records, r.Record)
	}
	return doc
}

// writeLMTable prints the baselines and the summary table of doc's
// records. The last column compares each final validation loss with the
// bigram entropy H2.
func writeLMTable(w io.Writer, doc *lmDoc) error {
	b := &doc.Baselines
	fmt.Fprintf(w, "text %s: %d characters (%d train, %d validation), vocabulary %d\n", b.Text,
		b.TrainChars+b.ValidChars, b.TrainChars, b.ValidChars, b.Vocab)
	fmt.Fprintf(w, "baselines on the validation split: unigram entropy H1 = %.4f nats (%.4f bits), bigram entropy H2 = %.4f nats (%.4f bits) per character; uniform ln V = %.4f nats\n",
		b.UnigramNats, b.UnigramBits, b.BigramNats, b.BigramBits, b.UniformNats)
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mixer\tL\tn\tlr\tseed\toutcome\ttrain loss\tvalid nats\tvalid bits\tbest valid\tvs H2\t"+
		"fwd gain\tmax fwd\tbwd gain\tmax bwd\tmax layer fwd\tid dist\teff streams\tdominant\tmax DS dev\t"+
		"max ‖g‖ after wu\tspike ×\ttok/s\ttime s\t")
	for i := range doc.Records {
		r := &doc.Records[i]
		vs := "above H2"
		switch {
		case r.Diverged:
			vs = fmt.Sprintf("diverged at %d", r.DivergedStep)
		case r.FinalValidLoss.String() == "":
			vs = "-"
		case r.BelowBigram:
			vs = "below H2"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t", r.Mixer, r.Depth, r.N,
			strconv.FormatFloat(r.LR, 'g', -1, 64), r.Seed, r.Outcome, cell(r.FinalTrainLoss, "%.4f"),
			cell(r.FinalValidLoss, "%.4f"), cell(r.FinalValidBits, "%.4f"), cell(r.BestValidLoss, "%.4f"), vs)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t", cell(r.FinalForwardAmax, "%.4g"),
			cell(r.MaxForwardAmax, "%.4g"), cell(r.FinalBackwardAmax, "%.4g"), cell(r.MaxBackwardAmax, "%.4g"),
			cell(r.MaxLayerForwardAmax, "%.4g"), cell(r.IdentityDist, "%.3g"), cell(r.EffectiveStreams, "%.3g"),
			cell(r.DominantShare, "%.3g"), cell(r.MaxDSDeviation, "%.2e"))
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f\t\n", cell(r.MaxGradNormAfterWarmup, "%.3g"), cell(r.GradSpikeFactor, "%.3g"),
			cell(r.TokensPerSecond, "%.0f"), float64(r.WallSeconds))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return writeTrimmed(w, buf.String())
}
