package net

import (
	"fmt"

	"github.com/hyperconn/hyperconn/hc"
)

// LMSummary is the training-time diagnostics of an LM for its last batch,
// over its 2L sub-layers in forward order (sub-layer l is block l/2's
// attention when l is even, its MLP when l is odd). The composite gains
// are those of Summary, over the sub-layers' token-averaged residual
// matrices H̄_l; the per-layer curves add what SPEC §6 and the papers plot
// against depth. Cost: O(2L·tokens·n² + (samples+1)·2L·n³) for the gains
// and O(tokens·n²·C) for the utilisation, no singular values.
type LMSummary struct {
	// ForwardAmax and BackwardAmax are the forward (max |row sum|) and
	// backward (max |column sum|) Amax of Π = H̄_2L···H̄_1.
	ForwardAmax  float64 `json:"forward_amax"`
	BackwardAmax float64 `json:"backward_amax"`
	// SampledForwardAmax and SampledBackwardAmax average the same gains of
	// the sampled tokens' own composites.
	SampledForwardAmax  float64 `json:"sampled_forward_amax"`
	SampledBackwardAmax float64 `json:"sampled_backward_amax"`
	// MaxDSDeviation is the largest DS deviation (max |row or column sum −
	// 1|) of any token's H_res in any sub-layer.
	MaxDSDeviation float64 `json:"max_ds_deviation"`
	// MaxForwardAmax and MaxBackwardAmax are the largest entries of
	// LayerForwardAmax and LayerBackwardAmax: the worst gain of any prefix
	// (suffix) of the residual path, which can exceed the whole
	// composite's when later layers cancel earlier ones.
	MaxForwardAmax  float64 `json:"max_forward_amax"`
	MaxBackwardAmax float64 `json:"max_backward_amax"`
	// LayerForwardAmax[l] is the forward Amax of the prefix composite
	// Π_f(l) = H̄_l···H̄_0 and LayerBackwardAmax[l] the backward Amax of
	// the suffix composite Π_b(l) = H̄_{2L−1}···H̄_l (0-based l).
	LayerForwardAmax  []float64 `json:"layer_forward_amax"`
	LayerBackwardAmax []float64 `json:"layer_backward_amax"`
	// LayerDSDeviation[l] is the largest DS deviation of any token's H_res
	// in sub-layer l.
	LayerDSDeviation []float64 `json:"layer_ds_deviation"`
	// LayerIdentityDist[l] is ‖H̄_l − I‖_F/√(n−1) (MatrixStats'
	// IdentityDist; 0 when n = 1): how far the sub-layer's mixing is from
	// the plain residual connection.
	LayerIdentityDist []float64 `json:"layer_identity_dist"`
	// IdentityDist is the mean of LayerIdentityDist.
	IdentityDist float64 `json:"identity_dist"`
	// Utilisation measures how many of the n streams carry the signal
	// after the last sub-layer (before the streams are reduced), over the
	// batch's tokens: see StreamUtilisation.
	Utilisation Utilisation `json:"utilisation"`
}

// LMSummaryRecord is an LMSummary taken after the update Step.
type LMSummaryRecord struct {
	Step int `json:"step"`
	LMSummary
}

// hcLayers returns the hc.Layer of every sub-layer, in forward order.
func (m *LM) hcLayers() []*hc.Layer {
	layers := make([]*hc.Layer, len(m.subs))
	for i := range m.subs {
		layers[i] = m.subs[i].layer
	}
	return layers
}

// lastStreams returns the residual streams after the last sub-layer of the
// last batch (rows·n·C, token r's stream i at (r·n + i)·C).
func (m *LM) lastStreams() []float64 { return m.w.streams[:m.rows*m.n*m.c] }

// Summarize returns the LMSummary of the last batch run through the model
// (by Forward, or the last batch of a validation), with the composites of
// samples tokens spread evenly over the batch (all tokens if samples ≤ 0 or
// larger than the batch). It allocates its result and panics with
// ErrSequence if no batch has run.
func (m *LM) Summarize(samples int) LMSummary {
	if m.rows == 0 {
		panic(fmt.Errorf("%w: LM.Summarize before a batch", ErrSequence))
	}
	var per layerGains
	s := summarize(m.hcLayers(), m.n, samples, &per)
	out := LMSummary{
		ForwardAmax: s.ForwardAmax, BackwardAmax: s.BackwardAmax,
		SampledForwardAmax: s.SampledForwardAmax, SampledBackwardAmax: s.SampledBackwardAmax,
		MaxDSDeviation:   s.MaxDSDeviation,
		LayerForwardAmax: per.forward, LayerBackwardAmax: per.backward,
		LayerDSDeviation: per.dsDev, LayerIdentityDist: per.identity,
		Utilisation: StreamUtilisation(m.lastStreams(), m.rows, m.n, m.c),
	}
	for l := range per.forward {
		out.MaxForwardAmax = max(out.MaxForwardAmax, per.forward[l])
		out.MaxBackwardAmax = max(out.MaxBackwardAmax, per.backward[l])
		out.IdentityDist += per.identity[l] / float64(len(per.identity))
	}
	return out
}
