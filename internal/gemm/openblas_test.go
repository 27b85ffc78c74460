//go:build openblas && linux

package gemm

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"gonum.org/v1/gonum/blas"
)

// childEnv marks a run of the test binary started by a test of this file
// (the core type is read once per process, so other settings need other
// processes).
const childEnv = "HYPERCONN_GEMM_CHILD"

// child runs the test binary's test named run in a new process with the
// extra environment env (and OPENBLAS_CORETYPE removed unless env sets it),
// and returns its output.
func child(t testing.TB, run string, env ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+run+"$", "-test.v")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, coreTypeEnv+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, append(env, childEnv+"=1")...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child %s %v: %v\n%s", run, env, err, out)
	}
	return string(out)
}

// field returns the value after "key=" on the output's line that starts
// with prefix.
func field(out, prefix string) string {
	for _, line := range strings.Split(out, "\n") {
		if s, ok := strings.CutPrefix(strings.TrimSpace(line), prefix); ok {
			return s
		}
	}
	return ""
}

// TestDescribeChild prints what the process loaded (run by the tests
// below in a child process).
func TestDescribeChild(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		t.Skip("run by TestCoreTypeChosen in a child process")
	}
	fmt.Printf("core=%s\nchosen=%s\nuser=%v\nenv=%s\n", openBLAS.core, openBLAS.chosen, openBLAS.userCore, os.Getenv(coreTypeEnv))
	fmt.Printf("describe=%s\n", Describe())
}

// TestCoreTypeChosen checks, in child processes, that with no
// OPENBLAS_CORETYPE the kernels OpenBLAS runs are the ones coreType picks
// from this processor's features, that the variable is gone from the
// environment afterwards, and that a core type the user sets is kept.
func TestCoreTypeChosen(t *testing.T) {
	if !haveOpenBLAS {
		t.Fatalf("OpenBLAS not loaded: %v", loadErr)
	}
	out := child(t, "TestDescribeChild")
	want := coreType(readFeatures())
	if got := field(out, "chosen="); got != want {
		t.Errorf("chosen core type %q, want %q (features %+v)", got, want, readFeatures())
	}
	if want != "" {
		if got := field(out, "core="); got != want {
			t.Errorf("OpenBLAS runs %q, want %q", got, want)
		}
	}
	if got := field(out, "env="); got != "" {
		t.Errorf("%s left set to %q", coreTypeEnv, got)
	}
	if got := field(out, "describe="); !strings.HasPrefix(got, "openblas: OpenBLAS") {
		t.Errorf("Describe = %q", got)
	}
	// Set but empty counts as unset.
	if out := child(t, "TestDescribeChild", coreTypeEnv+"="); want != "" && field(out, "core=") != want {
		t.Errorf("with %s empty OpenBLAS runs %q, want %q", coreTypeEnv, field(out, "core="), want)
	}
	// A core every x86-64 processor runs, set by the user.
	out = child(t, "TestDescribeChild", coreTypeEnv+"=Prescott")
	if got := field(out, "core="); got != "Prescott" {
		t.Errorf("with %s=Prescott OpenBLAS runs %q", coreTypeEnv, got)
	}
	if got := field(out, "user="); got != "true" {
		t.Errorf("user's core type not reported: %q", got)
	}
	if got := field(out, "env="); got != "Prescott" {
		t.Errorf("user's %s changed to %q", coreTypeEnv, got)
	}
}

// TestLoadOpenBLASEnv checks the environment loadOpenBLAS sets around the
// load and that it puts it back, with and without the user's settings.
func TestLoadOpenBLASEnv(t *testing.T) {
	saved := openBLAS
	defer func() { openBLAS = saved }()
	for _, user := range []map[string]string{{}, {coreTypeEnv: "Haswell"}, {threadsEnv: "2"},
		{coreTypeEnv: "", threadsEnv: ""}} {
		env := map[string]string{}
		for k, v := range user {
			env[k] = v
		}
		var log []string
		lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
		set := func(k, v string) error { log = append(log, "set "+k+"="+v); env[k] = v; return nil }
		unset := func(k string) error { log = append(log, "unset "+k); delete(env, k); return nil }
		info := loadOpenBLAS(lookup, set, unset)
		if !haveOpenBLAS {
			t.Fatalf("OpenBLAS not loaded: %v", loadErr)
		}
		if !maps(env, user) {
			t.Errorf("user env %v: left %v", user, env)
		}
		userCore := user[coreTypeEnv] != ""
		userThreads := user[threadsEnv] != ""
		// restore is how a variable comes back: unset, or set to its
		// empty value.
		restore := func(k string) string {
			if _, ok := user[k]; ok {
				return "set " + k + "="
			}
			return "unset " + k
		}
		var want []string
		if c := coreType(readFeatures()); !userCore && c != "" {
			want = append(want, "set "+coreTypeEnv+"="+c, restore(coreTypeEnv))
		}
		if !userThreads {
			want = append(want, "set "+threadsEnv+"=1", restore(threadsEnv))
		}
		slices.Sort(log)
		slices.Sort(want)
		if !slices.Equal(log, want) {
			t.Errorf("user env %v: calls %v, want %v", user, log, want)
		}
		if info.userCore != userCore || (userCore && info.chosen != "Haswell") {
			t.Errorf("user env %v: info %+v", user, info)
		}
	}
}

// TestLoadOpenBLASMissing checks a load that fails: an error wrapping
// ErrBackend that names the library, and the environment put back.
func TestLoadOpenBLASMissing(t *testing.T) {
	savedName, savedErr, savedInfo := libOpenBLAS, loadErr, openBLAS
	defer func() { libOpenBLAS, loadErr, openBLAS = savedName, savedErr, savedInfo }()
	libOpenBLAS = "libhyperconn-no-such-blas.so.0"
	env := map[string]string{}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	set := func(k, v string) error { env[k] = v; return nil }
	unset := func(k string) error { delete(env, k); return nil }
	loadErr = nil
	info := loadOpenBLAS(lookup, set, unset)
	if !errors.Is(loadErr, ErrBackend) || !strings.Contains(loadErr.Error(), libOpenBLAS) {
		t.Errorf("loadErr = %v, want ErrBackend naming %s", loadErr, libOpenBLAS)
	}
	if len(env) != 0 {
		t.Errorf("environment left %v", env)
	}
	if info.core != "" {
		t.Errorf("core %q after a failed load", info.core)
	}
}

// maps reports whether a and b hold the same entries.
func maps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// coreShapes are single-precision products of the networks: the depth-32
// MNIST network at batch 64 (C = 128 and 256, hidden 4C: forward, weight
// gradient, input gradient), the plain sub-layer benchmarks (256 tokens at
// C = 256, 1024 tokens at C = 512) and issue 16's 1024×512 by 512×2048.
var coreShapes = []struct {
	name    string
	tA, tB  blas.Transpose
	m, n, k int
}{
	{"d32-C128-up", blas.NoTrans, blas.NoTrans, 64, 512, 128},
	{"d32-C128-dWup", blas.Trans, blas.NoTrans, 128, 512, 64},
	{"d32-C128-dxdown", blas.NoTrans, blas.Trans, 64, 512, 128},
	{"d32-C256-up", blas.NoTrans, blas.NoTrans, 64, 1024, 256},
	{"d32-C256-down", blas.NoTrans, blas.NoTrans, 64, 256, 1024},
	{"d32-C256-dWup", blas.Trans, blas.NoTrans, 256, 1024, 64},
	{"layer-C256-up", blas.NoTrans, blas.NoTrans, 256, 1024, 256},
	{"layer-C256-dWdown", blas.Trans, blas.NoTrans, 1024, 256, 256},
	{"layer-C512-up", blas.NoTrans, blas.NoTrans, 1024, 2048, 512},
	{"layer-C512-dxup", blas.NoTrans, blas.Trans, 1024, 512, 2048},
	{"issue16", blas.NoTrans, blas.NoTrans, 1024, 2048, 512},
}

// threadTime returns the CPU time the calling thread has used
// (CLOCK_THREAD_CPUTIME_ID): unlike wall time, it does not count the time
// other processes held the core.
func threadTime() time.Duration {
	var ts syscall.Timespec
	const clockThreadCPUTime = 3
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		panic(e)
	}
	return time.Duration(ts.Nano())
}

// TestSpeedChild prints the GFLOP/s of one thread's Mul32 on coreShapes,
// by wall time and by the thread's CPU time, each the best of 5 batches
// (run by BenchmarkCoreTypes in child processes).
func TestSpeedChild(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		t.Skip("run by BenchmarkCoreTypes in a child process")
	}
	defer SetThreads(SetThreads(1))
	runtime.LockOSThread() // one thread multiplies, and threadTime reads it
	defer runtime.UnlockOSThread()
	for _, s := range coreShapes {
		lda, ldb := s.k, s.n
		if s.tA == blas.Trans {
			lda = s.m
		}
		if s.tB == blas.Trans {
			ldb = s.k
		}
		a, b, c := make([]float32, s.m*s.k), make([]float32, s.k*s.n), make([]float32, s.m*s.n)
		for i := range a {
			a[i] = float32(i%7) - 3
		}
		for i := range b {
			b[i] = float32(i%5) - 2
		}
		flops := 2 * float64(s.m*s.n*s.k)
		reps := max(1, int(3e8/flops))
		wall, cpu := time.Duration(1<<62), time.Duration(1<<62)
		for range 5 { // best of 5 batches of about 0.3 GFLOP
			t0, c0 := time.Now(), threadTime()
			for range reps {
				Mul32(s.tA, s.tB, s.m, s.n, s.k, 1, a, lda, b, ldb, 0, c, s.n)
			}
			wall, cpu = min(wall, time.Since(t0)), min(cpu, threadTime()-c0)
		}
		fmt.Printf("gflops %s %.2f %.2f\n", s.name, flops*float64(reps)/wall.Seconds()/1e9, flops*float64(reps)/cpu.Seconds()/1e9)
	}
	fmt.Printf("core=%s\n", openBLAS.core)
}

// BenchmarkCoreTypes compares one-thread SGEMM on the networks' shapes
// (coreShapes) with no OPENBLAS_CORETYPE — the kernels coreType chooses —
// against every core type this processor can run set explicitly, each in
// its own process (OpenBLAS reads the variable when it loads), in
// interleaved rounds. Each child times each shape by wall time and by its
// thread's CPU time (which leaves out the time other processes held the
// core: on a shared machine the wall-time figures of two runs of one
// setting differ by up to 30%). It reports, per shape, the median GFLOP/s
// of the default over that of the best setting by CPU time
// ("cpu-default/best-<shape>"), and the smallest of these ratios by CPU
// time and by wall time ("cpu-default/best-min", "default/best-min"); -v
// logs both tables. Prescott is what OpenBLAS 0.3.21 picks by itself on the
// README's Intel Xeon VM.
//
//	go test -tags openblas -run '^$' -bench CoreTypes -benchtime 1x ./internal/gemm
func BenchmarkCoreTypes(b *testing.B) {
	const rounds = 5
	settings := []string{"", "Prescott", "Sandybridge", "Haswell", "Zen", "SkylakeX", "Cooperlake"}
	f := readFeatures()
	can := map[string]bool{"": true, "Prescott": true, "Sandybridge": f.avx,
		"Haswell": f.avx2 && f.fma, "Zen": f.avx2 && f.fma, "SkylakeX": f.avx512, "Cooperlake": f.avx512 && f.avx512bf16}
	gf := map[string]map[string][]float64{}  // setting → shape → per round, wall time
	gfc := map[string]map[string][]float64{} // the same by the thread's CPU time
	cores := map[string]string{}
	for b.Loop() {
		for r := range rounds {
			for i := range settings { // each round starts at another setting
				s := settings[(i+r)%len(settings)]
				if !can[s] {
					continue
				}
				var env []string
				if s != "" {
					env = append(env, coreTypeEnv+"="+s)
				}
				out := child(b, "TestSpeedChild", env...)
				cores[s] = field(out, "core=")
				if gf[s] == nil {
					gf[s], gfc[s] = map[string][]float64{}, map[string][]float64{}
				}
				for _, line := range strings.Split(out, "\n") {
					if f := strings.Fields(line); len(f) == 4 && f[0] == "gflops" {
						w, err1 := strconv.ParseFloat(f[2], 64)
						c, err2 := strconv.ParseFloat(f[3], 64)
						if err1 != nil || err2 != nil {
							b.Fatal(line)
						}
						gf[s][f[1]] = append(gf[s][f[1]], w)
						gfc[s][f[1]] = append(gfc[s][f[1]], c)
					}
				}
			}
		}
	}
	median := func(v []float64) float64 {
		v = slices.Clone(v)
		slices.Sort(v)
		return v[len(v)/2]
	}
	// ratio returns, for one shape, the default's median over the best
	// setting's, and the table line.
	ratio := func(g map[string]map[string][]float64, shape string) (float64, string) {
		line := fmt.Sprintf("%-18s", shape)
		best, bestName := 0.0, ""
		for _, s := range settings {
			if !can[s] {
				continue
			}
			m := median(g[s][shape])
			line += fmt.Sprintf(" %s=%.1f", cmp(s == "", "default("+cores[""]+")", s), m)
			if s != "" && m > best {
				best, bestName = m, s
			}
		}
		r := median(g[""][shape]) / best
		return r, fmt.Sprintf("%s  default/best %.3f (best %s)", line, r, bestName)
	}
	worst, worstCPU := 2.0, 2.0
	for _, sh := range coreShapes {
		r, line := ratio(gf, sh.name)
		rc, lineCPU := ratio(gfc, sh.name)
		worst, worstCPU = min(worst, r), min(worstCPU, rc)
		b.Logf("wall %s", line)
		b.Logf("cpu  %s", lineCPU)
		b.ReportMetric(rc, "cpu-default/best-"+sh.name)
	}
	b.ReportMetric(worst, "default/best-min")
	b.ReportMetric(worstCPU, "cpu-default/best-min")
}

// cmp returns a if c, else b.
func cmp(c bool, a, b string) string {
	if c {
		return a
	}
	return b
}
