package hcgorgonia

import (
	"errors"
	"fmt"
	"sync/atomic"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/hyperconn/hyperconn/hc"
)

var (
	// ErrShape is wrapped by the errors returned when a node's shape does
	// not match the mixer's n and C (the streams must be tokens×(n·C), the
	// branch tokens×C), or a value bound at run time has the wrong length.
	// It signals a programming error; it is returned rather than panicked
	// because gorgonia's graph builders return errors (use gorgonia.Must
	// to panic) and because a panic inside TapeMachine.RunAll would kill
	// the program from a goroutine the caller cannot recover on.
	ErrShape = errors.New("hcgorgonia: dimension mismatch")

	// ErrDtype is wrapped by the errors returned when a node is not
	// float64: the library computes in float64 only.
	ErrDtype = errors.New("hcgorgonia: element type is not float64")

	// ErrSequence is wrapped by the errors returned when a Layer is used
	// out of order: Pre twice, Post before Pre, Post with streams other
	// than those given to Pre. A Layer is one sub-layer of one graph.
	ErrSequence = errors.New("hcgorgonia: layer used out of order")

	// ErrName is wrapped by the error NewLayer returns when a parameter
	// node name it would create is already taken in the graph. gorgonia
	// identifies input nodes by name, so two parameters with one name
	// would silently become one node.
	ErrName = errors.New("hcgorgonia: node name already in graph")
)

// float64T is the only element type the ops accept.
var float64T = tensor.Float64

// layerIDs numbers Layers so that the ops of distinct Layers never hash
// alike (gorgonia merges nodes whose op and children hash alike).
var layerIDs atomic.Uint64

// Layer is one hyper-connected sub-layer in a gorgonia graph: an hc.Layer
// whose mixer parameters are input nodes of the graph and whose two halves,
// Pre (the branch input h_pre·X) and Post (H_res·X + h_postᵀ·f), are one op
// each. Their forward passes run hc.Layer.Pre and Post; their gradient ops
// run hc.Layer.PostBackward and PreBackward. The branch between them is
// whatever gorgonia sub-graph the caller builds.
//
// A Layer belongs to one graph and is used once in it: one Pre, one Post.
// The tape machine that runs the graph must run it from one goroutine at a
// time (the hc.Layer holds the batch between the forward and backward ops).
type Layer struct {
	id     uint64
	name   string
	g      *G.ExprGraph
	layer  *hc.Layer
	mixer  hc.Mixer
	n, c   int
	params G.Nodes
	sizes  []int // len of each parameter

	x, in *G.Node // set by Pre
	post  bool    // Post was built

	// run state, reset by every forward pre op
	postRan, postBackRan bool
	zeros, scratch       []float64 // tokens×C zeros, tokens×n×C scratch
}

// NewLayer returns a Layer of graph g that mixes with m. Each parameter p
// of m becomes a float64 vector input node named name+"."+p.Name whose
// value is backed by p.Value itself, so a gorgonia solver that updates the
// nodes in place (all of gorgonia's do) updates the mixer too, and the
// mixer's own changes show in the graph. The mixer must not be shared with
// another Layer or used natively while the graph runs.
//
// The error wraps ErrName if a node of g already has one of those names
// (give every Layer of a graph its own name).
func NewLayer(g *G.ExprGraph, m hc.Mixer, name string) (*Layer, error) {
	n, c := m.Shape()
	l := &Layer{
		id:    layerIDs.Add(1),
		name:  name,
		g:     g,
		layer: hc.NewLayer(m),
		mixer: m,
		n:     n,
		c:     c,
	}
	for _, p := range m.Params() {
		pn := name + "." + p.Name
		if len(g.ByName(pn)) > 0 {
			return nil, fmt.Errorf("hcgorgonia: layer %q: parameter %q: %w", name, pn, ErrName)
		}
		v := tensor.New(tensor.WithShape(len(p.Value)), tensor.WithBacking(p.Value))
		node := G.NewVector(g, float64T, G.WithShape(len(p.Value)), G.WithName(pn), G.WithValue(v))
		l.params = append(l.params, node)
		l.sizes = append(l.sizes, len(p.Value))
	}
	return l, nil
}

// Mixer returns the mixer of l.
func (l *Layer) Mixer() hc.Mixer { return l.mixer }

// HCLayer returns the hc.Layer that runs l's ops: after a forward run, its
// Coefficients and MeanResTo describe the last batch.
func (l *Layer) HCLayer() *hc.Layer { return l.layer }

// Params returns the parameter nodes, in the order of the mixer's Params.
// Pass them to gorgonia.Grad, to gorgonia.BindDualValues and, as
// gorgonia.NodesToValueGrads, to a solver. The slice is l's own.
func (l *Layer) Params() G.Nodes { return l.params }

// Pre adds to the graph the branch input h_pre·X of every token of the
// streams x (tokens×(n·C), token t's stream i at columns i·C…(i+1)·C−1 of
// row t) and returns it (tokens×C). The error wraps ErrDtype, ErrShape, or
// ErrSequence if Pre was already called.
func (l *Layer) Pre(x *G.Node) (*G.Node, error) {
	if l.x != nil {
		return nil, fmt.Errorf("hcgorgonia: layer %q: Pre called twice: %w", l.name, ErrSequence)
	}
	if err := l.checkNode("streams", x, l.n*l.c); err != nil {
		return nil, err
	}
	in, err := G.ApplyOp(&preOp{l: l}, append(G.Nodes{x}, l.params...)...)
	if err != nil {
		return nil, fmt.Errorf("hcgorgonia: layer %q: Pre: %w", l.name, err)
	}
	l.x, l.in = x, in
	return in, nil
}

// Post adds to the graph the new streams H_res·X + h_postᵀ·f (tokens×(n·C))
// from the streams x given to Pre and the branch output f (tokens×C). The
// error wraps ErrDtype, ErrShape, or ErrSequence if Pre has not been called
// with x or Post was already called.
func (l *Layer) Post(x, f *G.Node) (*G.Node, error) {
	switch {
	case l.x == nil:
		return nil, fmt.Errorf("hcgorgonia: layer %q: Post before Pre: %w", l.name, ErrSequence)
	case x != l.x:
		return nil, fmt.Errorf("hcgorgonia: layer %q: Post on streams other than Pre's: %w", l.name, ErrSequence)
	case l.post:
		return nil, fmt.Errorf("hcgorgonia: layer %q: Post called twice: %w", l.name, ErrSequence)
	}
	if err := l.checkNode("branch output", f, l.c); err != nil {
		return nil, err
	}
	if f.Shape()[0] != x.Shape()[0] {
		return nil, fmt.Errorf("hcgorgonia: layer %q: branch output has %d rows, streams %d: %w",
			l.name, f.Shape()[0], x.Shape()[0], ErrShape)
	}
	// l.in is a third input only to order the ops: Post runs after Pre,
	// and its (zero) gradient for in makes Pre's backward wait for Post's.
	out, err := G.ApplyOp(&postOp{l: l}, x, f, l.in)
	if err != nil {
		return nil, fmt.Errorf("hcgorgonia: layer %q: Post: %w", l.name, err)
	}
	l.post = true
	return out, nil
}

// Apply adds the whole sub-layer to the graph: Pre, the branch built by
// branch from the branch input, then Post. It returns the new streams.
func (l *Layer) Apply(x *G.Node, branch func(in *G.Node) (*G.Node, error)) (*G.Node, error) {
	in, err := l.Pre(x)
	if err != nil {
		return nil, err
	}
	f, err := branch(in)
	if err != nil {
		return nil, fmt.Errorf("hcgorgonia: layer %q: branch: %w", l.name, err)
	}
	return l.Post(x, f)
}

// checkNode checks that v is a float64 matrix with cols columns.
func (l *Layer) checkNode(what string, v *G.Node, cols int) error {
	if v.Dtype() != float64T {
		return fmt.Errorf("hcgorgonia: layer %q: %s are %v: %w", l.name, what, v.Dtype(), ErrDtype)
	}
	if s := v.Shape(); s.Dims() != 2 || s[1] != cols {
		return fmt.Errorf("hcgorgonia: layer %q: %s have shape %v, want (tokens, %d) for n=%d C=%d: %w",
			l.name, what, s, cols, l.n, l.c, ErrShape)
	}
	return nil
}

// ensurePostBackward brings the hc.Layer to the state PreBackward needs
// when Post's output does not reach the cost (so Post's gradient op never
// ran): it then runs Post and PostBackward with zero arguments, which adds
// nothing to any gradient.
func (l *Layer) ensurePostBackward() {
	t := l.layer.Tokens()
	nc := t * l.n * l.c
	l.zeros = grow(l.zeros, nc)
	clear(l.zeros)
	l.scratch = grow(l.scratch, nc)
	if !l.postRan {
		if err := l.layer.Post(l.scratch, l.zeros[:t*l.c]); err != nil {
			panic(err) // zeros are finite
		}
		l.postRan = true
	}
	if !l.postBackRan {
		l.layer.PostBackward(l.scratch, l.zeros[:t*l.c], l.zeros)
		l.postBackRan = true
	}
}

// grow returns s resized to length n, reusing its storage when it can.
func grow(s []float64, n int) []float64 {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]float64, n)
}
