package hcgorgonia

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/hyperconn/hyperconn/hc"
)

var (
	_ G.SDOp = (*streamOp)(nil)
)

// Expand adds to the graph the n residual streams of the first sub-layer:
// n copies of each row of the embedding e (tokens×C), as a tokens×(n·C)
// node (hc.Expand). Its gradient is Reduce. The error wraps ErrDtype or
// ErrShape (e not a float64 matrix, n < 1).
func Expand(e *G.Node, n int) (*G.Node, error) {
	if err := checkStreamArg("Expand", e, n, 1); err != nil {
		return nil, err
	}
	return G.ApplyOp(&streamOp{expand: true, n: n, c: e.Shape()[1]}, e)
}

// Reduce adds to the graph the sum of the n streams of x (tokens×(n·C)),
// as a tokens×C node (hc.Reduce); the network's final norm is the
// caller's. Its gradient is Expand. The error wraps ErrDtype or ErrShape
// (x not a float64 matrix, n < 1, or x's width not a multiple of n).
func Reduce(x *G.Node, n int) (*G.Node, error) {
	if err := checkStreamArg("Reduce", x, n, n); err != nil {
		return nil, err
	}
	return G.ApplyOp(&streamOp{n: n, c: x.Shape()[1] / n}, x)
}

func checkStreamArg(name string, v *G.Node, n, div int) error {
	if v.Dtype() != float64T {
		return fmt.Errorf("hcgorgonia: %s: node is %v: %w", name, v.Dtype(), ErrDtype)
	}
	s := v.Shape()
	if n < 1 || s.Dims() != 2 || s[1] < 1 || s[1]%div != 0 {
		return fmt.Errorf("hcgorgonia: %s: shape %v with n=%d: %w", name, s, n, ErrShape)
	}
	return nil
}

// streamOp is Expand (expand true) or Reduce over n streams of width c.
type streamOp struct {
	opBase
	expand bool
	n, c   int
}

func (op *streamOp) Arity() int    { return 1 }
func (op *streamOp) Type() hm.Type { return hm.NewFnType(matType, matType) }

func (op *streamOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	t, err := ds[0].DimSize(0)
	if err != nil {
		return nil, err
	}
	if op.expand {
		return tensor.Shape{t, op.n * op.c}, nil
	}
	return tensor.Shape{t, op.c}, nil
}

func (op *streamOp) Do(vs ...G.Value) (G.Value, error) {
	in, err := float64s(vs[0], "stream input")
	if err != nil {
		return nil, err
	}
	w := op.c
	if !op.expand {
		w *= op.n
	}
	if len(in)%w != 0 {
		return nil, fmt.Errorf("hcgorgonia: %v: input has %d values, not a multiple of %d: %w", op, len(in), w, ErrShape)
	}
	tokens := len(in) / w
	if op.expand {
		out, data := newDense(tokens, op.n*op.c)
		hc.Expand(data, in, tokens, op.n, op.c)
		return out, nil
	}
	out, data := newDense(tokens, op.c)
	hc.Reduce(data, in, tokens, op.n, op.c)
	return out, nil
}

func (op *streamOp) DiffWRT(int) []bool { return []bool{true} }

func (op *streamOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	back, err := G.ApplyOp(&streamOp{expand: !op.expand, n: op.n, c: op.c}, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{back}, nil
}

func (op *streamOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op *streamOp) Hashcode() uint32      { return hashOf(op) }
func (op *streamOp) String() string {
	if op.expand {
		return fmt.Sprintf("HCExpand(n=%d, C=%d)", op.n, op.c)
	}
	return fmt.Sprintf("HCReduce(n=%d, C=%d)", op.n, op.c)
}
