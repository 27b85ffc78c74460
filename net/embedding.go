package net

// embedding is the input layer of the LM, generic over its element type:
// token r of a batch of sequences of seq tokens becomes
//
//	e_r = E[x_r] + P[r mod seq],
//
// the row of the token table E (Vocab×C) plus the row of the position
// table P (seq×C) of its place in its sequence. Token values are checked
// by the caller (LM.Forward).
type embedding[F Float] struct {
	c, seq   int
	tok, pos *Tensor[F]
}

// forward writes e_r into row r of dst (len(x)·C values).
func (e *embedding[F]) forward(dst []F, x []byte) {
	c := e.c
	if len(dst) != len(x)*c {
		panic(ErrShape)
	}
	for r, tok := range x {
		t, p := e.tok.Value[int(tok)*c:int(tok+1)*c], e.pos.Value[(r%e.seq)*c:(r%e.seq+1)*c]
		d := dst[r*c : (r+1)*c]
		for j := range d {
			d[j] = t[j] + p[j]
		}
	}
}

// backward adds row r of dy to the gradients of E's row x_r and of P's row
// r mod seq, rows in order (stale gradients are cleared first).
func (e *embedding[F]) backward(dy []F, x []byte) {
	c := e.c
	if len(dy) != len(x)*c {
		panic(ErrShape)
	}
	e.tok.settle()
	e.pos.settle()
	for r, tok := range x {
		g := dy[r*c : (r+1)*c]
		addTo(e.tok.Grad[int(tok)*c:int(tok+1)*c], g)
		addTo(e.pos.Grad[(r%e.seq)*c:(r%e.seq+1)*c], g)
	}
}
