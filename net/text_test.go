package net

import (
	"bytes"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestOpticksEmbedded checks the shipped corpus is the Go distribution's
// file byte for byte (when the distribution has it) and has its size.
func TestOpticksEmbedded(t *testing.T) {
	text := Opticks()
	const size = 567198 // bytes of $GOROOT/src/testdata/Isaac.Newton-Opticks.txt (SPEC §10)
	if len(text) != size {
		t.Fatalf("embedded Opticks holds %d bytes, want %d", len(text), size)
	}
	text[0] ^= 0xff // a copy: the package's text must not change
	if bytes.Equal(Opticks(), text) {
		t.Fatal("Opticks returned the package's own slice, not a copy")
	}
	goroot, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "src", "testdata", OpticksName))
	if err != nil {
		t.Logf("no Go distribution copy to compare with: %v", err)
		return
	}
	if !bytes.Equal(goroot, Opticks()) {
		t.Fatal("embedded Opticks differs from the Go distribution's copy")
	}
}

func TestNewCorpus(t *testing.T) {
	text := []byte("the cat sat on the mat; the rat ate the hat. " +
		"a bat and a gnat sat flat on a vat of fat that sat at the back of the lab. " +
		"then the cat and the rat and the bat sat on the mat in the hat at the back.")
	c, err := NewCorpus("t", text, 0.4)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(c.Train) + len(c.Valid); got != len(text) {
		t.Fatalf("split holds %d tokens, want %d", got, len(text))
	}
	if want := len(text) - int(math.Round(0.4*float64(len(text)))); len(c.Train) != want {
		t.Fatalf("train split %d tokens, want %d", len(c.Train), want)
	}
	for i := 1; i < len(c.Vocab); i++ {
		if c.Vocab[i-1] >= c.Vocab[i] {
			t.Fatalf("vocabulary not ascending at %d: %q", i, c.Vocab)
		}
	}
	// Decoding the tokens gives the text back, in order: the split is by
	// position.
	var back []byte
	for _, tok := range append(append([]byte(nil), c.Train...), c.Valid...) {
		back = append(back, c.Vocab[tok])
	}
	if !bytes.Equal(back, text) {
		t.Fatalf("decoded %q, want %q", back, text)
	}
}

func TestNewCorpusErrors(t *testing.T) {
	long := bytes.Repeat([]byte("abc "), 100)
	binary := make([]byte, 4096)
	for i := range binary {
		binary[i] = byte(i*7 + 1) // no NUL byte, mostly control and invalid UTF-8
	}
	for _, tc := range []struct {
		name string
		text []byte
		frac float64
		want error
	}{
		{"empty", nil, 0.1, ErrText},
		{"nul", append([]byte("abc"), 0), 0.1, ErrText},
		{"binary", binary, 0.1, ErrText},
		{"too short", []byte("hello, world"), 0.1, ErrText},
		{"valid side too short", long, 0.1, ErrText},
		{"frac 0", long, 0, ErrConfig},
		{"frac 1", long, 1, ErrConfig},
		{"frac NaN", long, math.NaN(), ErrConfig},
	} {
		c, err := NewCorpus(tc.name, tc.text, tc.frac)
		if !errors.Is(err, tc.want) || c != nil {
			t.Errorf("%s: got (%v, %v), want an error wrapping %v", tc.name, c, err, tc.want)
		}
	}
	// A few stray control bytes in real text are accepted.
	text := append(bytes.Repeat([]byte("plain words\n"), 40), 0x01, 0x02)
	if _, err := NewCorpus("stray", text, 0.2); err != nil {
		t.Errorf("text with two stray control bytes refused: %v", err)
	}
	// UTF-8 text is text.
	if _, err := NewCorpus("utf8", bytes.Repeat([]byte("Wärme, Licht — Farben. "), 20), 0.2); err != nil {
		t.Errorf("UTF-8 text refused: %v", err)
	}
}

func TestLoadText(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.txt")
	text := bytes.Repeat([]byte("Of the Refractions of Light. "), 20)
	if err := os.WriteFile(path, text, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := LoadText(path, 0.25)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != path || len(c.Train)+len(c.Valid) != len(text) {
		t.Fatalf("loaded %q with %d+%d tokens", c.Name, len(c.Train), len(c.Valid))
	}
	if _, err := LoadText(filepath.Join(dir, "missing.txt"), 0.25); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
	if _, err := LoadText(dir, 0.25); !errors.Is(err, ErrText) {
		t.Errorf("directory: %v, want ErrText", err)
	}
	empty := filepath.Join(dir, "empty.txt")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadText(empty, 0.25); !errors.Is(err, ErrText) {
		t.Errorf("empty file: %v, want ErrText", err)
	}
}

// TestEntropies checks the baselines against hand-computed values.
func TestEntropies(t *testing.T) {
	const tol = 1e-14 // a few roundings of sums of logs
	// "abab…": H1 = ln 2 (two equally frequent letters); each letter
	// determines the next, so H2 = 0.
	h1, h2 := Entropies([]byte{0, 1, 0, 1, 0, 1, 0, 1}, 2)
	if math.Abs(h1-math.Ln2) > tol || math.Abs(h2) > tol {
		t.Errorf("abab: H1 %v H2 %v, want ln 2 and 0", h1, h2)
	}
	// "aab": p = (2/3, 1/3); bigrams aa, ab (first letter a twice):
	// p(a|a) = p(b|a) = 1/2, so H2 = −(1/2·ln ½ + 1/2·ln ½) = ln 2.
	h1, h2 = Entropies([]byte{0, 0, 1}, 2)
	want1 := -(2.0/3*math.Log(2.0/3) + 1.0/3*math.Log(1.0/3))
	if math.Abs(h1-want1) > tol || math.Abs(h2-math.Ln2) > tol {
		t.Errorf("aab: H1 %v H2 %v, want %v and ln 2", h1, h2, want1)
	}
	// On real text the bigram entropy is below the unigram entropy, which is
	// below ln(vocabulary).
	c, err := NewCorpus(OpticksName, Opticks(), 0.1)
	if err != nil {
		t.Fatal(err)
	}
	h1, h2 = c.Entropy()
	t.Logf("Opticks validation split: %d tokens, vocab %d, H1 %.4f H2 %.4f nats (%.3f / %.3f bits)",
		len(c.Valid), len(c.Vocab), h1, h2, h1/math.Ln2, h2/math.Ln2)
	if !(0 < h2 && h2 < h1 && h1 < math.Log(float64(len(c.Vocab)))) {
		t.Errorf("Opticks: H1 %v, H2 %v, ln vocab %v: want 0 < H2 < H1 < ln vocab", h1, h2, math.Log(float64(len(c.Vocab))))
	}
}
