package hcgorgonia

import (
	"errors"
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The ops of a Layer. Forward: pre (x, θ…) → in, post (x, f, in) → out.
// Backward: postBack (∂out) → packed [∂x | ∂f], preBack (∂in) → packed
// [∂x | ∂θ_1 | … | ∂θ_m]; piece ops cut the packed vectors into the
// gradients of each input. gorgonia ops return one value, hence the packing.

var (
	vecType = G.TensorType{Dims: 1, Of: float64T}
	matType = G.TensorType{Dims: 2, Of: float64T}
)

// Compile-time checks: the forward ops are differentiable symbolically.
var (
	_ G.SDOp = (*preOp)(nil)
	_ G.SDOp = (*postOp)(nil)
	_ G.Op   = (*postBackOp)(nil)
	_ G.Op   = (*preBackOp)(nil)
	_ G.Op   = (*pieceOp)(nil)
)

// errSecondOrder is returned by SymDiff of the gradient ops.
var errSecondOrder = errors.New("hcgorgonia: second-order gradients are not supported")

// opBase holds the methods every op of this package shares.
type opBase struct{}

func (opBase) ReturnsPtr() bool     { return false }
func (opBase) CallsExtern() bool    { return false }
func (opBase) OverwritesInput() int { return -1 }

func hashOf(w interface{ WriteHash(hash.Hash) }) uint32 {
	h := fnv.New32a()
	w.WriteHash(h)
	return h.Sum32()
}

// float64s returns the data of a float64 dense tensor value.
func float64s(v G.Value, what string) ([]float64, error) {
	d, ok := v.(*tensor.Dense)
	if !ok || d.Dtype() != float64T {
		return nil, fmt.Errorf("hcgorgonia: %s is %T, want a float64 *tensor.Dense: %w", what, v, ErrDtype)
	}
	return d.Float64s(), nil
}

// newDense returns a zeroed float64 tensor of the given shape and its data.
func newDense(shape ...int) (*tensor.Dense, []float64) {
	d := tensor.New(tensor.Of(float64T), tensor.WithShape(shape...))
	return d, d.Float64s()
}

// rowsOf returns the number of tokens in data of len k with rows of w.
func (l *Layer) rowsOf(k, w int, what string) (int, error) {
	if k%w != 0 {
		return 0, fmt.Errorf("hcgorgonia: layer %q: %s has %d values, not a multiple of %d: %w", l.name, what, k, w, ErrShape)
	}
	return k / w, nil
}

// preOp computes the branch input h_pre·X: inputs x, θ_1…θ_m.
type preOp struct {
	opBase
	l *Layer
}

func (op *preOp) Arity() int { return 1 + len(op.l.params) }

func (op *preOp) Type() hm.Type {
	ts := make([]hm.Type, 0, len(op.l.params)+2)
	ts = append(ts, matType)
	for range op.l.params {
		ts = append(ts, vecType)
	}
	return hm.NewFnType(append(ts, matType)...)
}

func (op *preOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	t, err := ds[0].DimSize(0)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{t, op.l.c}, nil
}

func (op *preOp) Do(vs ...G.Value) (G.Value, error) {
	l := op.l
	x, err := float64s(vs[0], "streams")
	if err != nil {
		return nil, err
	}
	tokens, err := l.rowsOf(len(x), l.n*l.c, "streams")
	if err != nil {
		return nil, err
	}
	// Parameter values: the node values share p.Value unless the caller
	// rebound a node; then copy the node's value into the mixer.
	for k, p := range l.mixer.Params() {
		v, err := float64s(vs[1+k], "parameter "+p.Name)
		if err != nil {
			return nil, err
		}
		if len(v) != len(p.Value) {
			return nil, fmt.Errorf("hcgorgonia: layer %q: parameter %q has %d values, want %d: %w",
				l.name, p.Name, len(v), len(p.Value), ErrShape)
		}
		if len(v) > 0 && &v[0] != &p.Value[0] {
			copy(p.Value, v)
		}
	}
	out, data := newDense(tokens, l.c)
	if err := l.layer.Pre(data, x, tokens); err != nil {
		return nil, fmt.Errorf("hcgorgonia: layer %q: %w", l.name, err)
	}
	l.postRan, l.postBackRan = false, false
	return out, nil
}

func (op *preOp) DiffWRT(inputs int) []bool {
	d := make([]bool, inputs)
	for i := range d {
		d[i] = true
	}
	return d
}

func (op *preOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	l := op.l
	back, err := G.ApplyOp(&preBackOp{l: l}, grad)
	if err != nil {
		return nil, err
	}
	grads := make(G.Nodes, len(inputs))
	off := 0
	for i, in := range inputs {
		shape := in.Shape().Clone()
		if grads[i], err = G.ApplyOp(&pieceOp{l: l, kind: "pre", off: off, shape: shape}, back); err != nil {
			return nil, err
		}
		off += shape.TotalSize()
	}
	return grads, nil
}

func (op *preOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "hcgorgonia.pre#%d", op.l.id) }
func (op *preOp) Hashcode() uint32      { return hashOf(op) }
func (op *preOp) String() string        { return fmt.Sprintf("HCPre[%s]", op.l.name) }

// postOp computes H_res·X + h_postᵀ·f: inputs x, f and the branch input
// (for ordering only).
type postOp struct {
	opBase
	l *Layer
}

func (op *postOp) Arity() int    { return 3 }
func (op *postOp) Type() hm.Type { return hm.NewFnType(matType, matType, matType, matType) }

func (op *postOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	t, err := ds[0].DimSize(0)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{t, op.l.n * op.l.c}, nil
}

func (op *postOp) Do(vs ...G.Value) (G.Value, error) {
	l := op.l
	f, err := float64s(vs[1], "branch output")
	if err != nil {
		return nil, err
	}
	tokens := l.layer.Tokens()
	if len(f) != tokens*l.c {
		return nil, fmt.Errorf("hcgorgonia: layer %q: branch output has %d values, want %d×%d: %w",
			l.name, len(f), tokens, l.c, ErrShape)
	}
	out, data := newDense(tokens, l.n*l.c)
	if err := l.layer.Post(data, f); err != nil {
		return nil, fmt.Errorf("hcgorgonia: layer %q: %w", l.name, err)
	}
	l.postRan = true
	return out, nil
}

func (op *postOp) DiffWRT(inputs int) []bool { return []bool{true, true, true} }

func (op *postOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	l := op.l
	back, err := G.ApplyOp(&postBackOp{l: l}, grad)
	if err != nil {
		return nil, err
	}
	xs, fs := inputs[0].Shape().Clone(), inputs[1].Shape().Clone()
	dx, err := G.ApplyOp(&pieceOp{l: l, kind: "post", off: 0, shape: xs}, back)
	if err != nil {
		return nil, err
	}
	df, err := G.ApplyOp(&pieceOp{l: l, kind: "post", off: xs.TotalSize(), shape: fs}, back)
	if err != nil {
		return nil, err
	}
	// The branch input only orders the ops: its gradient is zero, but it
	// depends on back, so Pre's backward runs after Post's.
	din, err := G.ApplyOp(&pieceOp{l: l, kind: "post", zero: true, shape: inputs[2].Shape().Clone()}, back)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, df, din}, nil
}

func (op *postOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "hcgorgonia.post#%d", op.l.id) }
func (op *postOp) Hashcode() uint32      { return hashOf(op) }
func (op *postOp) String() string        { return fmt.Sprintf("HCPost[%s]", op.l.name) }

// postBackOp runs hc.Layer.PostBackward: ∂out → [∂x = H_resᵀ·∂out | ∂f = h_post·∂out].
type postBackOp struct {
	opBase
	l *Layer
}

func (op *postBackOp) Arity() int    { return 1 }
func (op *postBackOp) Type() hm.Type { return hm.NewFnType(matType, vecType) }

func (op *postBackOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	t, err := ds[0].DimSize(0)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{t * (op.l.n + 1) * op.l.c}, nil
}

func (op *postBackOp) Do(vs ...G.Value) (G.Value, error) {
	l := op.l
	dout, err := float64s(vs[0], "output gradient")
	if err != nil {
		return nil, err
	}
	tokens := l.layer.Tokens()
	nc := tokens * l.n * l.c
	if len(dout) != nc || !l.postRan {
		return nil, fmt.Errorf("hcgorgonia: layer %q: Post gradient with %d values after a forward pass of %d tokens: %w",
			l.name, len(dout), tokens, ErrShape)
	}
	out, data := newDense(nc + tokens*l.c)
	l.layer.PostBackward(data[:nc], data[nc:], dout)
	l.postBackRan = true
	return out, nil
}

func (op *postBackOp) DiffWRT(inputs int) []bool { return make([]bool, inputs) }
func (op *postBackOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errSecondOrder
}
func (op *postBackOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "hcgorgonia.postback#%d", op.l.id) }
func (op *postBackOp) Hashcode() uint32      { return hashOf(op) }
func (op *postBackOp) String() string        { return fmt.Sprintf("HCPostBackward[%s]", op.l.name) }

// preBackOp runs hc.Layer.PreBackward: ∂in → [∂x | ∂θ_1 | … | ∂θ_m], where
// ∂x is h_preᵀ·∂in plus the coefficient path, and ∂θ includes what the
// coefficients received from Post's gradient.
type preBackOp struct {
	opBase
	l *Layer
}

func (op *preBackOp) Arity() int    { return 1 }
func (op *preBackOp) Type() hm.Type { return hm.NewFnType(matType, vecType) }

func (op *preBackOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	t, err := ds[0].DimSize(0)
	if err != nil {
		return nil, err
	}
	k := t * op.l.n * op.l.c
	for _, s := range op.l.sizes {
		k += s
	}
	return tensor.Shape{k}, nil
}

func (op *preBackOp) Do(vs ...G.Value) (G.Value, error) {
	l := op.l
	din, err := float64s(vs[0], "branch input gradient")
	if err != nil {
		return nil, err
	}
	tokens := l.layer.Tokens()
	if len(din) != tokens*l.c {
		return nil, fmt.Errorf("hcgorgonia: layer %q: branch input gradient has %d values, want %d×%d: %w",
			l.name, len(din), tokens, l.c, ErrShape)
	}
	l.ensurePostBackward()
	nc := tokens * l.n * l.c
	k := nc
	for _, s := range l.sizes {
		k += s
	}
	out, data := newDense(k)
	// The mixer's Grad is scratch here: the graph's gradients live in its
	// nodes (and their dual values), not in hc.Param.Grad.
	params := l.mixer.Params()
	for _, p := range params {
		clear(p.Grad)
	}
	l.layer.PreBackward(data[:nc], din)
	off := nc
	for _, p := range params {
		off += copy(data[off:], p.Grad)
	}
	return out, nil
}

func (op *preBackOp) DiffWRT(inputs int) []bool { return make([]bool, inputs) }
func (op *preBackOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errSecondOrder
}
func (op *preBackOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "hcgorgonia.preback#%d", op.l.id) }
func (op *preBackOp) Hashcode() uint32      { return hashOf(op) }
func (op *preBackOp) String() string        { return fmt.Sprintf("HCPreBackward[%s]", op.l.name) }

// pieceOp copies shape.TotalSize() values from offset off of a packed
// gradient into a tensor of the given shape, or gives zeros of that shape.
type pieceOp struct {
	opBase
	l     *Layer
	kind  string
	off   int
	zero  bool
	shape tensor.Shape
}

func (op *pieceOp) Arity() int { return 1 }
func (op *pieceOp) Type() hm.Type {
	return hm.NewFnType(vecType, G.TensorType{Dims: op.shape.Dims(), Of: float64T})
}
func (op *pieceOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape.Clone(), nil }

func (op *pieceOp) Do(vs ...G.Value) (G.Value, error) {
	out, data := newDense(op.shape...)
	if op.zero {
		return out, nil
	}
	src, err := float64s(vs[0], "packed gradient")
	if err != nil {
		return nil, err
	}
	if op.off+len(data) > len(src) {
		return nil, fmt.Errorf("hcgorgonia: layer %q: packed gradient has %d values, want ≥ %d: %w",
			op.l.name, len(src), op.off+len(data), ErrShape)
	}
	copy(data, src[op.off:])
	return out, nil
}

func (op *pieceOp) DiffWRT(inputs int) []bool { return make([]bool, inputs) }
func (op *pieceOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errSecondOrder
}
func (op *pieceOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "hcgorgonia.piece#%d:%s:%d:%v:%v", op.l.id, op.kind, op.off, op.zero, op.shape)
}
func (op *pieceOp) Hashcode() uint32 { return hashOf(op) }
func (op *pieceOp) String() string {
	if op.zero {
		return fmt.Sprintf("HCZeros[%s]%v", op.l.name, op.shape)
	}
	return fmt.Sprintf("HCPiece[%s %s@%d]%v", op.l.name, op.kind, op.off, op.shape)
}
