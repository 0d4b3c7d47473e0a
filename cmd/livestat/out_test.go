//go:build unix

package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/livestat/livestat/livestattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The rows seeded(t, 2) has for wecom-school-unwatch, as jsonl.
func unwatchRows(t *testing.T, srv *livestattest.Server) string {
	t.Helper()
	r := newCLI(t, srv).run("wecom-school-unwatch", "--living-id", "S")
	require.Equal(t, 0, r.code, r.stderr)
	require.NotEmpty(t, r.stdout)
	return r.stdout
}

// A symlink stays a symlink: the file it points to gets the rows, and keeps
// its mode.
func TestOutThroughASymlinkWritesItsTarget(t *testing.T) {
	srv := seeded(t, 2)
	want := unwatchRows(t, srv)
	dir := t.TempDir()
	target := filepath.Join(dir, "data", "rows.jsonl")
	require.NoError(t, os.Mkdir(filepath.Dir(target), 0o755))
	require.NoError(t, os.WriteFile(target, []byte("old\n"), 0o640))
	require.NoError(t, os.Chmod(target, 0o640)) // whatever the umask
	link := filepath.Join(dir, "latest.jsonl")
	require.NoError(t, os.Symlink(filepath.Join("data", "rows.jsonl"), link))

	r := newCLI(t, srv).run("wecom-school-unwatch", "--living-id", "S", "--out", link)
	require.Equal(t, 0, r.code, r.stderr)

	fi, err := os.Lstat(link)
	require.NoError(t, err)
	assert.Equal(t, fs.ModeSymlink, fi.Mode().Type(), "the link is still a link")
	b, err := os.ReadFile(target)
	require.NoError(t, err)
	assert.Equal(t, want, string(b), "the target has the rows")
	fi, err = os.Stat(target)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o640), fi.Mode().Perm())
	assertOnlyFiles(t, dir, "data", "latest.jsonl")
	assertOnlyFiles(t, filepath.Dir(target), "rows.jsonl")
}

// An existing file is replaced by one with the same permissions; a new
// file is private (0600).
func TestOutKeepsAnExistingFilesMode(t *testing.T) {
	srv := seeded(t, 2)
	want := unwatchRows(t, srv)
	dir := t.TempDir()
	existing := filepath.Join(dir, "shared.jsonl")
	require.NoError(t, os.WriteFile(existing, []byte("old\n"), 0o644))
	require.NoError(t, os.Chmod(existing, 0o644))
	fresh := filepath.Join(dir, "new.jsonl")

	for name, mode := range map[string]fs.FileMode{existing: 0o644, fresh: 0o600} {
		r := newCLI(t, srv).run("wecom-school-unwatch", "--living-id", "S", "--out", name)
		require.Equal(t, 0, r.code, r.stderr)
		b, err := os.ReadFile(name)
		require.NoError(t, err)
		assert.Equal(t, want, string(b))
		fi, err := os.Stat(name)
		require.NoError(t, err)
		assert.Equal(t, mode, fi.Mode().Perm(), name)
	}
	assertOnlyFiles(t, dir, "new.jsonl", "shared.jsonl")
}

// Something that is not a regular file, here a FIFO, is written to as it
// is: it is not replaced by a regular file.
func TestOutToAFIFOWritesIntoIt(t *testing.T) {
	srv := seeded(t, 2)
	want := unwatchRows(t, srv)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	// A second name for the FIFO, to release the reader should the CLI
	// never open it (or replace it).
	spare := filepath.Join(t.TempDir(), "spare")
	require.NoError(t, os.Link(fifo, spare))

	got := make(chan string, 1)
	go func() {
		b, _ := os.ReadFile(fifo) // blocks until a writer opens the FIFO
		got <- string(b)
	}()
	r := newCLI(t, srv).run("wecom-school-unwatch", "--living-id", "S", "--out", fifo)
	if w, err := os.OpenFile(spare, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
		w.Close() // the reader was still waiting
	}
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, want, <-got)

	fi, err := os.Lstat(fifo)
	require.NoError(t, err)
	assert.Equal(t, fs.ModeNamedPipe, fi.Mode().Type(), "still a FIFO")
	assertOnlyFiles(t, dir, "pipe")
}

// Waiting for a FIFO's reader ends with --timeout (and with ^C), with
// nothing sent.
func TestOutToAFIFOWithoutAReader(t *testing.T) {
	srv := seeded(t, 2)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))

	r := newCLI(t, srv).run("wecom-watch", "--living-id", "L", "--out", fifo, "--timeout", "100ms")
	assert.Equal(t, 1, r.code)
	assert.Equal(t, "livestat wecom-watch: timed out after 100ms (--timeout): cannot write "+fifo+": waiting for it to open: context deadline exceeded\n", r.stderr)
	assert.Equal(t, 0, srv.TotalCalls(), "nothing sent")
	fi, err := os.Lstat(fifo)
	require.NoError(t, err)
	assert.Equal(t, fs.ModeNamedPipe, fi.Mode().Type(), "still a FIFO")
	assertOnlyFiles(t, dir, "pipe")
}

// Mistakes about --out are found before anything is sent, and the
// messages name the file the user gave.
func TestOutProblemsAreFoundBeforeSending(t *testing.T) {
	srv := seeded(t, 2)
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "reports"), 0o755))
	require.NoError(t, os.Symlink("nowhere.jsonl", filepath.Join(dir, "dangling")))
	for _, tc := range []struct {
		name string
		out  string
		code int
		want string
	}{
		{"a directory", filepath.Join(dir, "reports"), 2, "--out " + filepath.Join(dir, "reports") + " is a directory"},
		{"a directory, by a trailing slash", filepath.Join(dir, "reports") + "/", 2, "is a directory"},
		{"a missing directory", filepath.Join(dir, "missing", "rows.csv"), 1,
			"cannot write " + filepath.Join(dir, "missing", "rows.csv") + ": no such file or directory"},
		{"a symlink to nothing", filepath.Join(dir, "dangling"), 1, "cannot write " + filepath.Join(dir, "dangling") + ": "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := srv.TotalCalls()
			r := newCLI(t, srv).run("wecom-watch", "--living-id", "L", "--out", tc.out)
			assert.Equal(t, tc.code, r.code)
			assert.Contains(t, r.stderr, tc.want)
			assert.NotContains(t, r.stderr, ".tmp", "the message names FILE, not a temporary file")
			assert.Equal(t, before, srv.TotalCalls(), "no request sent")
			if tc.code == 2 {
				assert.Contains(t, r.stderr, "Usage:")
			} else {
				assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line:\n%s", r.stderr)
			}
			assertOnlyFiles(t, dir, "dangling", "reports")
		})
	}
}

// Names under /dev and /proc (/dev/stdout, /dev/fd/3, /proc/self/fd/1) are
// streams: written in place even when they lead to a regular file. Only the
// names are checked here; the tests never open a device.
func TestStreamNames(t *testing.T) {
	for name, want := range map[string]bool{
		"/dev/stdout": true, "/dev/fd/3": true, "/dev/null": true, "/proc/self/fd/1": true, "/dev/../dev/stderr": true,
		"/tmp/out.csv": false, "/devices/out.csv": false, "/dev": false, "out.csv": false, "/home/dev/stdout": false,
	} {
		assert.Equal(t, want, isStreamName(name), name)
	}
}

// assertOnlyFiles checks that dir holds exactly names: no temporary file
// was left behind.
func assertOnlyFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s is missing", dir)
		return
	}
	require.NoError(t, err)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	assert.ElementsMatch(t, names, got, "files in %s", dir)
}
