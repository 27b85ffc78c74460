package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// killCount is how many SIGKILLs TestDepthKill delivers (issue 19,
// acceptance line 3).
const killCount = 50

// killGrace is how long after its start a process may be killed before it
// has removed the temporary files of earlier runs (its first action after
// parsing the flags, a few milliseconds in): the check that no older
// temporary file remains applies to kills after it.
const killGrace = 250 * time.Millisecond

// TestDepthKill builds the command and SIGKILLs it killCount times at
// random moments, across first runs and reruns with changed flags (with
// and without -resume), checking after each kill that every results file
// agrees with the run files beside it (or says complete: false) and that
// no temporary file older than the killed run remains; then a -resume run
// to the end must give the records and run files of an uninterrupted run
// (but wall times). About 40 s; skipped with -short.
func TestDepthKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a real process 50 times: about 40 s")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "hyperconn")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	base := func(dir string) []string {
		return []string{"depth", "--mixers", "residual,hc,mhc", "--depths", "1,2", "--steps", "24", "--subset", "256",
			"--test", "256", "--width", "8", "--jobs", "2", "--out", dir}
	}
	run := func(args []string) (time.Duration, error) {
		var stderr bytes.Buffer
		cmd := exec.Command(bin, args...)
		cmd.Stderr = &stderr
		start := time.Now()
		err := cmd.Run()
		if err != nil {
			t.Logf("stderr:\n%s", stderr.String())
		}
		return time.Since(start), err
	}
	ref := filepath.Join(tmp, "ref")
	full, err := run(base(ref))
	if err != nil {
		t.Fatal(err)
	}

	dir := filepath.Join(tmp, "out")
	variants := [][]string{nil, {"--steps", "16"}, {"--lr", "0.002"}, {"--mixers", "hc,mhc,shc"}}
	rnd := rand.New(rand.NewPCG(19, 1))
	kills, finished, listed, complete := 0, 0, 0, 0
	for k := 0; kills < killCount; k++ {
		if k > 4*killCount {
			t.Fatalf("only %d kills in %d runs", kills, k)
		}
		args := append(base(dir), variants[rnd.IntN(len(variants))]...)
		if rnd.IntN(4) != 0 {
			args = append(args, "--resume")
		}
		cmd := exec.Command(bin, args...)
		start := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		delay := time.Duration(rnd.Float64() * 1.2 * float64(full))
		time.Sleep(delay)
		cmd.Process.Kill()
		err := cmd.Wait()
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee) && !ee.Exited():
			kills++
		case err == nil:
			finished++
		default:
			t.Fatalf("run %d %v: %v", k, args[1:], err)
		}
		before := time.Time{}
		if delay > killGrace {
			before = start
		}
		c, records := checkConsistent(t, dir, before)
		if records > 0 {
			listed++
		}
		if c {
			complete++
		}
		if t.Failed() {
			t.Fatalf("after run %d (%v, killed after %v)", k, args[1:], delay)
		}
	}
	t.Logf("%d kills, %d runs finished before their kill; after %d of them results.json listed runs, after %d it said complete; a full run takes %v",
		kills, finished, listed, complete, full)

	// Resume to the end: the same records and run files as the uninterrupted run.
	if _, err := run(append(base(dir), "--resume")); err != nil {
		t.Fatal(err)
	}
	if complete, k := checkConsistent(t, dir, time.Now()); !complete || k != 6 {
		t.Fatalf("resumed: complete %v with %d records", complete, k)
	}
	for _, name := range []string{"residual_L1", "residual_L2", "hc_L1", "hc_L2", "mhc_L1", "mhc_L2"} {
		a, errA := readRunFile(ref, name+".json")
		b, errB := readRunFile(dir, name+".json")
		if errA != nil || errB != nil {
			t.Fatal(errA, errB)
		}
		a.Record.WallSeconds, b.Record.WallSeconds = 0, 0
		ja, _ := json.Marshal(struct {
			R depthRecord
			L []num
			Y depthLayers
		}{a.Record, a.Loss, a.Layers})
		jb, _ := json.Marshal(struct {
			R depthRecord
			L []num
			Y depthLayers
		}{b.Record, b.Loss, b.Layers})
		if !bytes.Equal(ja, jb) {
			t.Errorf("%s: the resumed run differs from the uninterrupted one", name)
		}
		la, _ := os.ReadFile(filepath.Join(ref, runsDir, name+".csv"))
		lb, _ := os.ReadFile(filepath.Join(dir, runsDir, name+".csv"))
		if !bytes.Equal(la, lb) {
			t.Errorf("%s: the resumed step log differs from the uninterrupted one", name)
		}
	}
	docA, docB := readResults(t, ref), readResults(t, dir)
	strip := func(rs []map[string]any) []map[string]any {
		for _, r := range rs {
			delete(r, "wall_seconds")
		}
		return rs
	}
	ja, _ := json.Marshal(strip(docA.Records))
	jb, _ := json.Marshal(strip(docB.Records))
	if !bytes.Equal(ja, jb) {
		t.Errorf("resumed results.json records differ from the uninterrupted run's")
	}
}
