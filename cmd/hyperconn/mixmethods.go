package main

import (
	"fmt"

	"github.com/hyperconn/hyperconn/birkhoff"
	"github.com/hyperconn/hyperconn/kromhc"
	"github.com/hyperconn/hyperconn/mhc"
	"github.com/hyperconn/hyperconn/orthohc"
	"github.com/hyperconn/hyperconn/spectral"
)

// kron is KromHC's map as a function of an n×n logit matrix Z: factor k of
// size f (kromhc.DefaultFactors(n)) reads the f×f block of Z on the streams
// whose other digits are 0, Z_k[a][b] = Z[a·s_k][b·s_k] with s_k the
// factor's stride, maps it like mhclite (lite: a softmax over the f!
// permutations of their summed logits), and H = U_1 ⊗ U_2 ⊗ …. The other
// entries of Z are unused (zero gradient).
type kron[F birkhoff.Float] struct {
	n        int
	size     []int // factor sizes
	stride   []int
	lites    []*lite[F]
	z, u, g  [][]F // per factor: its logits, U_k, ∂L/∂U_k
	dz       [][]F // per factor: ∂L/∂Z_k
	pre, suf []float64
}

func newKron[F birkhoff.Float](n int) (*kron[F], error) {
	fs, err := kromhc.DefaultFactors(n)
	if err != nil {
		return nil, fmt.Errorf("hyperconn: %w", err)
	}
	k := &kron[F]{n: n, size: fs, stride: make([]int, len(fs)), pre: make([]float64, len(fs)+1), suf: make([]float64, len(fs)+1)}
	s := 1
	for q := len(fs) - 1; q >= 0; q-- {
		k.stride[q] = s
		s *= fs[q]
	}
	for _, f := range fs {
		l, err := newLite[F](f)
		if err != nil {
			return nil, err
		}
		k.lites = append(k.lites, l)
		k.z, k.u = append(k.z, make([]F, f*f)), append(k.u, make([]F, f*f))
		k.g, k.dz = append(k.g, make([]F, f*f)), append(k.dz, make([]F, f*f))
	}
	return k, nil
}

// entry returns the index of factor q's entry (a_q, b_q) for H's (i, j).
func (k *kron[F]) entry(q, i, j int) int {
	f, s := k.size[q], k.stride[q]
	return (i/s%f)*f + j/s%f
}

func (k *kron[F]) forward(dst, z []F) (int, error) {
	n := k.n
	for q, f := range k.size {
		s := k.stride[q]
		for a := range f {
			for b := range f {
				k.z[q][a*f+b] = z[a*s*n+b*s]
			}
		}
		if _, err := k.lites[q].forward(k.u[q], k.z[q]); err != nil {
			return 0, err
		}
	}
	for i := range n {
		for j := range n {
			p := 1.0
			for q := range k.size {
				p *= float64(k.u[q][k.entry(q, i, j)])
			}
			dst[i*n+j] = F(p)
		}
	}
	return 0, nil
}

func (k *kron[F]) backward(dz, g []F) error {
	n, nf := k.n, len(k.size)
	for q := range k.g {
		clear(k.g[q])
	}
	for i := range n {
		for j := range n {
			k.pre[0], k.suf[nf] = 1, 1
			for q := range nf {
				k.pre[q+1] = k.pre[q] * float64(k.u[q][k.entry(q, i, j)])
			}
			for q := nf - 1; q >= 0; q-- {
				k.suf[q] = k.suf[q+1] * float64(k.u[q][k.entry(q, i, j)])
			}
			for q := range nf {
				k.g[q][k.entry(q, i, j)] += F(float64(g[i*n+j]) * k.pre[q] * k.suf[q+1])
			}
		}
	}
	clear(dz)
	for q, f := range k.size {
		if err := k.lites[q].backward(k.dz[q], k.g[q]); err != nil {
			return err
		}
		s := k.stride[q]
		for a := range f {
			for b := range f {
				dz[a*s*n+b*s] += k.dz[q][a*f+b]
			}
		}
	}
	return nil
}

// ortho is orthohc's map: H = Cayley(skew(z)), z the strict upper triangle
// of Z in row-major order (spectral.Skew's); the rest of Z is unused.
type ortho[F birkhoff.Float] struct {
	n      int
	cay    *spectral.Cayley[F]
	z, dzs []F
}

func newOrtho[F birkhoff.Float](n int) *ortho[F] {
	k := spectral.SkewLen(n)
	return &ortho[F]{n: n, cay: spectral.NewCayley[F](n), z: make([]F, k), dzs: make([]F, k)}
}

func (o *ortho[F]) forward(dst, z []F) (int, error) {
	k := 0
	for i := range o.n {
		for j := i + 1; j < o.n; j++ {
			o.z[k] = z[i*o.n+j]
			k++
		}
	}
	_, err := o.cay.Transform(dst, o.z)
	return 0, err
}

func (o *ortho[F]) backward(dz, g []F) error {
	if _, err := o.cay.Backward(o.dzs, g); err != nil {
		return err
	}
	clear(dz)
	k := 0
	for i := range o.n {
		for j := i + 1; j < o.n; j++ {
			dz[i*o.n+j] = o.dzs[k]
			k++
		}
	}
	return nil
}

// production is mhc.Production (DeepSeek-V4's map: softmax + ε, then 20
// rounds of normalisations with ε in every denominator) in float64, its
// input and output converted from and to F.
type production[F birkhoff.Float] struct {
	p           *mhc.Production
	z, h, g, dz []float64
}

func newProduction[F birkhoff.Float](n int) *production[F] {
	return &production[F]{p: mhc.NewProduction(n, 0, 0), z: make([]float64, n*n), h: make([]float64, n*n),
		g: make([]float64, n*n), dz: make([]float64, n*n)}
}

func (p *production[F]) forward(dst, z []F) (int, error) {
	for i, v := range z {
		p.z[i] = float64(v)
	}
	if _, err := p.p.Forward(p.h, p.z); err != nil {
		return 0, err
	}
	convert(dst, p.h)
	return 0, nil
}

func (p *production[F]) backward(dz, g []F) error {
	for i, v := range g {
		p.g[i] = float64(v)
	}
	p.p.Backward(p.dz, p.g)
	convert(dz, p.dz)
	return nil
}

// orthogonality is orthohc.Orthogonality of h, converted to float64.
func orthogonality[F birkhoff.Float](h []F, n int) float64 {
	h64 := make([]float64, len(h))
	for i, v := range h {
		h64[i] = float64(v)
	}
	return orthohc.Orthogonality(h64, n)
}
