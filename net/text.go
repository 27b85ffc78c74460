package net

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"unicode/utf8"
)

// opticks is Newton's Opticks (4th edition, 1730), the Project Gutenberg
// text that every Go distribution ships as
// $GOROOT/src/testdata/Isaac.Newton-Opticks.txt (567,198 bytes, public
// domain). A copy lives in this module so a built binary needs nothing else.
//
//go:embed corpus/Isaac.Newton-Opticks.txt
var opticks []byte

// OpticksName is the name under which Opticks reports the embedded corpus.
const OpticksName = "Isaac.Newton-Opticks.txt"

// Opticks returns a copy of the embedded text of Newton's Opticks, the
// default corpus of the language model.
func Opticks() []byte { return append([]byte(nil), opticks...) }

// ErrText is wrapped by the errors NewCorpus and LoadText return for a text
// that cannot train a byte-level language model: empty, binary, too short
// for its split, or too large.
var ErrText = errors.New("net: unusable text")

// Limits of NewCorpus and LoadText.
const (
	// MaxTextBytes bounds the file LoadText reads (and the text NewCorpus
	// takes): 1 GiB, far above any corpus a laptop trains on, far below a
	// size that would exhaust this machine's memory in the model's buffers.
	MaxTextBytes = 1 << 30

	// MinSplitBytes is the fewest bytes each side of the split must hold:
	// below it the validation loss and the entropy baselines are noise.
	MinSplitBytes = 64

	// minTextShare is the least share of a text's bytes that must be
	// printable or white space (counted by valid UTF-8 runes) for it to
	// count as text: a binary file fails it by a wide margin, a text with
	// a few stray control bytes passes.
	minTextShare = 0.95
)

// Corpus is a text prepared for a byte-level language model: its
// vocabulary (the distinct bytes of the whole text, ascending; a token is
// an index into Vocab) and the text as tokens, split by position — the
// first part trains, the rest validates, so no sentence is in both.
type Corpus struct {
	Name  string // where the text came from (a file name, or OpticksName)
	Vocab []byte // the distinct bytes, ascending; token t stands for Vocab[t]
	Train []byte // tokens of the training split
	Valid []byte // tokens of the validation split
}

// NewCorpus tokenises text byte by byte and splits it by position: the
// last validFrac of its bytes (0 < validFrac < 1) validate, the rest train.
// It returns an error wrapping ErrText if the text is empty, larger than
// MaxTextBytes, not text (a NUL byte, or under 95% printable and white-space
// characters), or too short to leave MinSplitBytes on each side, and one
// wrapping ErrConfig if validFrac is not in (0, 1). text is not retained.
func NewCorpus(name string, text []byte, validFrac float64) (*Corpus, error) {
	if !(validFrac > 0 && validFrac < 1) {
		return nil, fmt.Errorf("%w: validation fraction %v is not in (0, 1)", ErrConfig, validFrac)
	}
	if err := checkText(name, text); err != nil {
		return nil, err
	}
	nv := int(math.Round(validFrac * float64(len(text))))
	nt := len(text) - nv
	if nt < MinSplitBytes || nv < MinSplitBytes {
		return nil, fmt.Errorf("%w: %s: %d bytes split %d/%d (train/validation); each side needs at least %d",
			ErrText, name, len(text), nt, nv, MinSplitBytes)
	}
	var seen [256]bool
	for _, b := range text {
		seen[b] = true
	}
	var id [256]byte
	c := &Corpus{Name: name}
	for b, ok := range seen {
		if ok {
			id[b] = byte(len(c.Vocab))
			c.Vocab = append(c.Vocab, byte(b))
		}
	}
	tokens := make([]byte, len(text))
	for i, b := range text {
		tokens[i] = id[b]
	}
	c.Train, c.Valid = tokens[:nt:nt], tokens[nt:]
	return c, nil
}

// checkText returns an error wrapping ErrText for a text NewCorpus refuses.
func checkText(name string, text []byte) error {
	switch {
	case len(text) == 0:
		return fmt.Errorf("%w: %s is empty", ErrText, name)
	case len(text) > MaxTextBytes:
		return fmt.Errorf("%w: %s holds %d bytes, more than the %d this tool reads", ErrText, name, len(text), MaxTextBytes)
	}
	textual := 0
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRune(text[i:])
		if r == 0 {
			return fmt.Errorf("%w: %s is binary (a NUL byte at offset %d)", ErrText, name, i)
		}
		if r != utf8.RuneError && (r >= ' ' && r != 0x7f || r == '\n' || r == '\t' || r == '\r' || r == '\f') {
			textual += size
		}
		i += size
	}
	if share := float64(textual) / float64(len(text)); share < minTextShare {
		return fmt.Errorf("%w: %s is not text (only %.1f%% of its bytes are printable characters or white space)",
			ErrText, name, 100*share)
	}
	return nil
}

// LoadText reads the file at path (at most MaxTextBytes, checked before it
// is read in full) and returns NewCorpus of its bytes. A missing or
// unreadable file gives the operating system's error (test it with
// errors.Is(err, fs.ErrNotExist) or fs.ErrPermission).
func LoadText(path string, validFrac float64) (*Corpus, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("net: text: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("net: text: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrText, path)
	}
	if st.Size() > MaxTextBytes {
		return nil, fmt.Errorf("%w: %s holds %d bytes, more than the %d this tool reads", ErrText, path, st.Size(), MaxTextBytes)
	}
	// Read one byte past the limit so a file that grew since Stat is caught.
	text, err := io.ReadAll(io.LimitReader(f, MaxTextBytes+1))
	if err != nil {
		return nil, fmt.Errorf("net: text: %s: %w", path, err)
	}
	return NewCorpus(path, text, validFrac)
}

// Entropy returns the baselines a character-level model is judged
// against, in nats per byte, measured on the validation split: the unigram
// entropy H1 = −Σ_c p(c)·log p(c) and the bigram (conditional) entropy
// H2 = −Σ_{a,b} p(a,b)·log p(b|a), with p the split's own empirical
// frequencies (p(b|a) = count(a,b)/count(a as a first letter)). A model
// whose validation loss is below H2 has learned more than which byte
// follows which. Divide by ln 2 for bits.
func (c *Corpus) Entropy() (h1, h2 float64) {
	return Entropies(c.Valid, len(c.Vocab))
}

// Entropies returns the unigram and bigram entropies (nats per token) of a
// token sequence over a vocabulary of the given size, as Corpus.Entropy
// defines them. A sequence of fewer than two tokens has h2 = 0. Entropies
// panics with ErrShape if a token is not below vocab.
func Entropies(tokens []byte, vocab int) (h1, h2 float64) {
	if len(tokens) == 0 {
		return 0, 0
	}
	uni := make([]float64, vocab)
	for _, t := range tokens {
		if int(t) >= vocab {
			panic(ErrShape)
		}
		uni[t]++
	}
	n := float64(len(tokens))
	for _, k := range uni {
		if k > 0 {
			h1 -= k / n * math.Log(k/n)
		}
	}
	if len(tokens) < 2 {
		return h1, 0
	}
	pairs := make([]float64, vocab*vocab)
	first := make([]float64, vocab)
	for i := 1; i < len(tokens); i++ {
		a, b := int(tokens[i-1]), int(tokens[i])
		pairs[a*vocab+b]++
		first[a]++
	}
	np := float64(len(tokens) - 1)
	for a := range vocab {
		for b := range vocab {
			if k := pairs[a*vocab+b]; k > 0 {
				h2 -= k / np * math.Log(k/first[a])
			}
		}
	}
	return h1, h2
}
