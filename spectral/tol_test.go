package spectral

// Tolerances of the tests, in one place. Each states why it is what it is.
const (
	// gonumRelTol bounds |Norm − σ₁(gonum)|/σ₁: both are backward stable SVDs
	// in float64, so they agree to a small multiple of the unit roundoff times
	// the size; 1e-12 is the brief's contract and leaves two orders of slack.
	gonumRelTol = 1e-12
	// valuesAbsTol bounds |σᵢ − σᵢ(gonum)|/σ₁ for every i: a backward stable
	// SVD has absolute error O(ε·σ₁) on every singular value, small ones
	// included.
	valuesAbsTol = 1e-12
	// vectorTol bounds ‖A·vᵢ − σᵢuᵢ‖∞/σ₁ and the orthonormality residuals of
	// the singular vectors, which are O(n·ε) for one-sided Jacobi.
	vectorTol = 1e-13

	// sphereTol64 is the float64 bound on |H·1 − 1|, |1ᵀH − 1ᵀ| and
	// |‖H‖₂ − 1| for the sHC construction, the brief's contract: each is a
	// sum of at most n ≤ 16 products of O(1) terms, about 1e-15.
	sphereTol64 = 1e-14
	// sphereTol32 is the same bound for float32 output: rounding each entry of
	// H to float32 moves a sum of ≤ 16 entries of total magnitude ≤ √16 by
	// at most 4·2⁻²⁴ ≈ 2.4e-7; the brief asks for 1e-6.
	sphereTol32 = 1e-6
	// productTol bounds the sums and the norm of a product of 64 sHC matrices:
	// 64 factors each contribute at most sphereTol64 of relative error.
	productTol = 64 * sphereTol64
	// spectrumTol bounds the difference between the singular values of H and
	// the set {1} ∪ {|σᵢ|}: two Jacobi SVDs' worth of O(nε) error.
	spectrumTol = 1e-13
	// orthTol bounds max|UᵀU − I| for a float64 Cayley transform, including
	// after Newton–Schulz refinement: m ≤ 15 products of O(1) terms.
	orthTol = 1e-14
	// orthTol32 is the same bound after rounding U to float32 (unit roundoff
	// 6e-8, times m ≤ 15 terms).
	orthTol32 = 2e-6

	// gradTol is the relative agreement required between an analytic gradient
	// and central finite differences, the brief's contract. Central
	// differences with gonum's default step have error O(h²) + O(ε/h), about
	// 1e-9 for these smooth O(1) maps.
	gradTol = 1e-6
	// grad32Tol bounds the relative difference between a float32 and a
	// float64 backward pass on the same inputs: float32 carries 7 digits and
	// each pass compounds a few roundings.
	grad32Tol = 1e-4

	// powerSlack is the relative amount by which a power-iteration estimate
	// may exceed the exact σ₁: in exact arithmetic it never does, and the
	// rounding in two matrix–vector products and two norms is a few ε.
	powerSlack = 1e-14
	// warmTol is the relative error of a warm-started power iteration after
	// burn-in on a slowly drifting matrix: the drift per call (1e-4 relative)
	// is damped by (σ₂/σ₁)² ≤ 0.25 per step, so the lag is ~1e-9 of σ₁.
	warmTol = 1e-6

	// radiusTol bounds |‖r·A/σ₁‖₂ − |r||/|r|: one exact σ₁ divided by
	// another, a few ε.
	radiusTol = 1e-14
	// specTol is the tolerance for numbers quoted from SPEC with six
	// significant digits.
	specTol = 5e-7
)
