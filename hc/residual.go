package hc

// residual is the plain residual connection as a Mixer.
type residual struct{ c int }

// Residual returns the plain residual connection x + F(x) as a Mixer: one
// stream (n = 1) of width c, h_pre = h_post = H_res = 1, no parameters, an
// empty tape. A Layer over it computes exactly x + F(x), bit for bit: the
// baseline every hyper-connection is compared with. It panics with ErrShape
// if c < 1.
func Residual(c int) Mixer {
	if c < 1 {
		shapePanic("Residual: C=%d", c)
	}
	return residual{c: c}
}

var (
	_ Mixer  = residual{}
	_ Worker = residualWorker{}
)

// Shape implements Mixer: one stream of width C.
func (r residual) Shape() (n, c int) { return 1, r.c }

// Params implements Mixer: there are none.
func (residual) Params() []*Param { return nil }

// TapeLen implements Mixer: nothing is recorded.
func (residual) TapeLen() int { return 0 }

// NewWorker implements Mixer.
func (residual) NewWorker() Worker { return residualWorker{} }

type residualWorker struct{}

// Forward implements Worker: every coefficient is 1.
func (residualWorker) Forward(pre, post, res, _, _ []float64) error {
	pre[0], post[0], res[0] = 1, 1, 1
	return nil
}

// Backward implements Worker: constant coefficients pass no gradient.
func (residualWorker) Backward(_, _, _, _, _, _ []float64) {}

// Flush implements Worker: there is nothing to flush.
func (residualWorker) Flush() {}
