package hc_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hyperconn/hyperconn/hc"
)

// gateMixer is a one-stream mixer whose Workers can be held inside Forward
// or Flush until the test releases them, so that two calls overlap for
// certain.
type gateMixer struct {
	p       *hc.Param
	waits   atomic.Int32  // calls that may still wait at a gate
	forward chan struct{} // when not nil, Forward waits for a value
	flush   chan struct{} // when not nil, Flush waits for a value
	entered chan struct{} // receives a value when a Worker starts waiting
}

func newGate() *gateMixer {
	return &gateMixer{p: &hc.Param{Name: "w", Value: []float64{1}, Grad: []float64{0}}, entered: make(chan struct{}, 4)}
}

func (m *gateMixer) Shape() (n, c int)                                  { return 1, 1 }
func (m *gateMixer) Params() []*hc.Param                                { return []*hc.Param{m.p} }
func (m *gateMixer) TapeLen() int                                       { return 0 }
func (m *gateMixer) NewWorker() hc.Worker                               { return &gateWorker{m: m} }
func (w *gateWorker) Backward(dx, x, tape, dpre, dpost, dres []float64) { w.g += dpre[0] }

type gateWorker struct {
	m *gateMixer
	g float64
}

func (w *gateWorker) Forward(pre, post, res, tape, x []float64) error {
	if w.m.forward != nil && w.m.waits.Add(-1) >= 0 {
		w.m.entered <- struct{}{}
		<-w.m.forward
	}
	pre[0], post[0], res[0] = 1, 1, 1
	return nil
}

func (w *gateWorker) Flush() {
	if w.m.flush != nil && w.m.waits.Add(-1) >= 0 {
		w.m.entered <- struct{}{}
		<-w.m.flush
	}
	w.m.p.Grad[0] += w.g
	w.g = 0
}

// panicValue runs f and returns what it panicked with, or nil.
func panicValue(f func()) (v any) {
	defer func() { v = recover() }()
	f()
	return nil
}

// step runs one training step of l on one token.
func step(l *hc.Layer) {
	x := []float64{1}
	if err := l.Pre(make([]float64, 1), x, 1); err != nil {
		panic(err)
	}
	if err := l.Post(make([]float64, 1), []float64{0.5}); err != nil {
		panic(err)
	}
	l.PostBackward(make([]float64, 1), make([]float64, 1), []float64{1})
	l.PreBackward(make([]float64, 1), []float64{1})
}

// TestLayerConcurrentUse (issue 19, point 7): a second goroutine calling a
// Layer while a call runs on it panics with ErrConcurrent, for every entry
// point; the running call is not disturbed and the Layer works afterwards.
// Before, one Layer used from two goroutines gave silently wrong steps.
func TestLayerConcurrentUse(t *testing.T) {
	calls := map[string]func(l *hc.Layer){
		"Pre":          func(l *hc.Layer) { l.Pre(make([]float64, 1), []float64{1}, 1) },
		"Post":         func(l *hc.Layer) { l.Post(make([]float64, 1), []float64{0}) },
		"PostBackward": func(l *hc.Layer) { l.PostBackward(make([]float64, 1), make([]float64, 1), []float64{1}) },
		"PreBackward":  func(l *hc.Layer) { l.PreBackward(make([]float64, 1), []float64{1}) },
		"SetChunks":    func(l *hc.Layer) { l.SetChunks(2) },
		"Apply": func(l *hc.Layer) {
			l.Apply(make([]float64, 1), []float64{1}, 1, func(out, in []float64) error { return nil })
		},
	}
	for name, call := range calls {
		m := newGate()
		l := hc.NewLayer(m)
		m.forward = make(chan struct{})
		m.waits.Store(1) // only the first call waits
		var wg sync.WaitGroup
		var err error
		wg.Go(func() { err = l.Pre(make([]float64, 1), []float64{1}, 1) })
		<-m.entered // the first Pre is inside the mixer
		v := panicValue(func() { call(l) })
		if e, ok := v.(error); !ok || !errors.Is(e, hc.ErrConcurrent) {
			t.Errorf("%s during Pre: panic %v, want ErrConcurrent", name, v)
		}
		m.forward <- struct{}{}
		wg.Wait()
		if err != nil {
			t.Errorf("%s: the first Pre failed: %v", name, err)
		}
		m.forward = nil
		if v := panicValue(func() { step(l) }); v != nil {
			t.Errorf("%s: the Layer does not work after the refused call: %v", name, v)
		}
	}
}

// TestSharedMixerFlush (issue 19, point 7): two Layers sharing a mixer may
// train one after the other, but a PreBackward that would add gradients
// into the mixer while the other Layer does panics with ErrConcurrent.
// Before, such Flushes raced on the shared Grad.
func TestSharedMixerFlush(t *testing.T) {
	m := newGate()
	a, b := hc.NewLayer(m), hc.NewLayer(m)
	step(a)
	step(b)
	if g := m.p.Grad[0]; g != 2 {
		t.Fatalf("two sequential steps: gradient %v, want 2", g)
	}
	// Layer a's PreBackward holds the mixer inside a Flush.
	for _, l := range []*hc.Layer{a, b} {
		x := []float64{1}
		l.Pre(make([]float64, 1), x, 1)
		l.Post(make([]float64, 1), []float64{0.5})
		l.PostBackward(make([]float64, 1), make([]float64, 1), []float64{1})
	}
	m.flush = make(chan struct{})
	m.waits.Store(1)
	var wg sync.WaitGroup
	wg.Go(func() { a.PreBackward(make([]float64, 1), []float64{1}) })
	<-m.entered
	v := panicValue(func() { b.PreBackward(make([]float64, 1), []float64{1}) })
	if e, ok := v.(error); !ok || !errors.Is(e, hc.ErrConcurrent) {
		t.Errorf("PreBackward of a Layer sharing the flushing mixer: panic %v, want ErrConcurrent", v)
	}
	m.flush <- struct{}{}
	wg.Wait()
	m.flush = nil
	// Both Layers still work, one after the other.
	step(a)
	step(b)
}

// TestSharedMixerConcurrentForward checks that Layers sharing a mixer may
// run their forward passes at once (Workers only read the Params): run
// with -race.
func TestSharedMixerConcurrentForward(t *testing.T) {
	m, err := hc.New(hc.PaperConfig(4, 16, 0))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			l := hc.NewLayer(m)
			x := make([]float64, 8*4*16)
			for i := range x {
				x[i] = float64((i+g)%7) - 3
			}
			for range 20 {
				if err := l.Pre(make([]float64, 8*16), x, 8); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
