package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hyperconn/hyperconn/internal/plotting"
)

// How "hyperconn depth" keeps its output directory consistent when it is
// killed at any moment (SIGKILL, power loss) or a disk fills up:
//
//   - every file is written atomically (writeAtomic: a temporary file in the
//     same directory, synced, renamed over the old one, and the directory
//     synced), so a reader sees the old content or the new, never a part;
//   - a run file carries the SHA-256 of its own content and of its step log
//     (runChecksum): -resume reuses it only if both match, so an edited or
//     damaged run is rerun, not republished;
//   - results.json and results.csv list only runs whose run files beside
//     them hold exactly those records: before the first experiment of a
//     sweep replaces any run file they are rewritten with complete: false
//     and the runs reused by -resume, then again after each saved run, and
//     complete: true is written last, after the plots (so plots are those
//     of the records when complete is true, and may be stale otherwise);
//   - temporary files left by a killed process (".NAME.tmp-*", older than
//     the current process) are removed when a sweep starts.

// tempMark is in the name of every temporary file the command writes
// (writeAtomic's and plotting.WriteFile's ".NAME.tmp-*").
const tempMark = ".tmp-"

// writeFault, when not nil, is called with the path before each atomic
// write and a non-nil result is taken as the write's error: tests use it to
// simulate a full disk.
var writeFault func(path string) error

// writeAtomic writes b to path atomically (see above) with
// plotting.WriteFile, the one atomic writer of the command: a temporary
// file in path's directory, synced, renamed, and the directory synced. On
// error path is left as it was and the temporary file is removed.
func writeAtomic(path string, b []byte) error {
	if writeFault != nil {
		if err := writeFault(path); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	return plotting.WriteFile(path, bytes.NewReader(b))
}

// removeStaleTemps removes the temporary files in dir and dir/runs that
// were last modified before start: those of a process that was killed
// between creating and renaming them. It returns how many it removed.
func removeStaleTemps(dir string, start time.Time) int {
	k := 0
	for _, d := range []string{dir, filepath.Join(dir, runsDir)} {
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), ".") || !strings.Contains(e.Name(), tempMark) {
				continue
			}
			if fi, err := e.Info(); err == nil && fi.ModTime().Before(start) && os.Remove(filepath.Join(d, e.Name())) == nil {
				k++
			}
		}
	}
	return k
}

// sha256Hex returns the hexadecimal SHA-256 of b.
func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// encodeRun returns the content of r's run file, its own checksum field
// set to the checksum of that content with the field empty.
func encodeRun(r sealed) ([]byte, error) {
	self, _ := r.checksums()
	*self = ""
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return nil, err
	}
	*self = sha256Hex(b)
	b, err = json.MarshalIndent(r, "", " ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// checkRun verifies the checksums of a decoded run file: that of its
// content and that of its step log, whose bytes are log.
func checkRun(r sealed, log []byte) error {
	self, logSum := r.checksums()
	want := *self
	*self = ""
	b, err := json.MarshalIndent(r, "", " ")
	*self = want
	if err != nil {
		return err
	}
	if want == "" || sha256Hex(b) != want {
		return errors.New("checksum mismatch: the run file was edited or is corrupt")
	}
	if sha256Hex(log) != *logSum {
		return errors.New("its step log's checksum does not match: the log was edited or is corrupt")
	}
	return nil
}

// readAll is io.ReadAll of the file at path, bounded by limit bytes.
func readAll(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err == nil && int64(len(b)) > limit {
		err = fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return b, err
}
