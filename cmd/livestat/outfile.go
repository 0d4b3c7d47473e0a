package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// outFile is the destination of --out FILE.
//
// A regular file (a new one, an existing one, or one a symbolic link
// leads to) is written as a temporary file in the same directory and
// renamed over it only when the export is complete, so a failed export
// leaves it as it was; an existing file keeps its permissions, a new one is
// private (0600), and a symbolic link stays a link to the file it names.
//
// Anything else (a FIFO, a terminal, a device) and every name under /dev or
// /proc, such as /dev/stdout, is a stream: it is written in place, as the
// rows arrive, and a failed export leaves there what was written.
type outFile struct {
	name  string   // as given, for messages
	f     *os.File // the temporary file, or the stream
	final string   // the file f is renamed to on commit; "" for a stream
	done  bool
}

// checkOut is the check of --out name with the other flags: a directory
// is a usage error.
func checkOut(name string) error {
	if fi, err := os.Stat(name); err == nil && fi.IsDir() {
		return usagef("--out %s is a directory", name)
	}
	return nil
}

// openOut opens --out name for writing. Errors name the file as given.
// Temporary files that earlier runs to the same file left behind (killed
// with SIGKILL, or by a power cut) are removed if they are older than
// start, the start of this run.
func openOut(ctx context.Context, name string, start time.Time) (*outFile, error) {
	fi, err := os.Stat(name)
	if err == nil && fi.IsDir() {
		return nil, cannotWrite(name, errors.New("it is a directory"))
	}
	if isStreamName(name) || (err == nil && !fi.Mode().IsRegular()) {
		f, err := openStream(ctx, name)
		if err != nil {
			return nil, cannotWrite(name, err)
		}
		return &outFile{name: name, f: f}, nil
	}
	switch {
	case err == nil:
		// Replace the file the name leads to, not a link on the way.
		final, err := filepath.EvalSymlinks(name)
		if err != nil {
			return nil, cannotWrite(name, err)
		}
		return createTemp(name, final, fi.Mode().Perm(), start)
	case errors.Is(err, fs.ErrNotExist):
		if _, lerr := os.Lstat(name); lerr == nil {
			return nil, cannotWrite(name, errors.New("it is a symbolic link to a file that does not exist"))
		}
		return createTemp(name, name, 0o600, start)
	}
	return nil, cannotWrite(name, err)
}

// openStream opens a stream for writing. Opening a FIFO waits for a
// reader; ctx ends the wait.
func openStream(ctx context.Context, name string) (*os.File, error) {
	type opened struct {
		f   *os.File
		err error
	}
	done := make(chan opened, 1)
	go func() {
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		done <- opened{f, err}
	}()
	select {
	case o := <-done:
		return o.f, o.err
	case <-ctx.Done():
	}
	// Let the open complete, so that the goroutine ends: a reader of our
	// own, opened without waiting, is what a waiting FIFO needs.
	if r, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
		defer r.Close()
	}
	if o := <-done; o.f != nil {
		o.f.Close()
	}
	return nil, fmt.Errorf("waiting for it to open: %w", ctx.Err())
}

// isStreamName reports whether name is under /dev or /proc. Such names
// (/dev/stdout, /dev/fd/3, /proc/self/fd/1) stand for an open stream even
// when it leads to a regular file, and must not be replaced by a new file.
func isStreamName(name string) bool {
	abs, err := filepath.Abs(name)
	if err != nil {
		return false
	}
	abs = filepath.ToSlash(abs)
	return strings.HasPrefix(abs, "/dev/") || strings.HasPrefix(abs, "/proc/")
}

// createTemp creates the temporary file that becomes final on commit:
// .FILE.<random>.tmp beside it.
func createTemp(name, final string, perm fs.FileMode, start time.Time) (*outFile, error) {
	removeStaleTemps(final, start)
	f, err := os.CreateTemp(filepath.Dir(final), "."+filepath.Base(final)+".*.tmp")
	if err != nil {
		return nil, cannotWrite(name, err)
	}
	o := &outFile{name: name, f: f, final: final}
	if perm != 0o600 { // CreateTemp's
		if err := f.Chmod(perm); err != nil {
			o.abort()
			return nil, cannotWrite(name, err)
		}
	}
	return o, nil
}

// removeStaleTemps removes the temporary files of final that runs killed
// before they could remove them left behind: regular files named exactly
// as createTemp names them (os.CreateTemp's random part is digits) and last
// written before start. A run still writing to one started after it did,
// or writes to it now, so it is newer; one stalled for longer than this run
// has been going loses its file and reports that it could not write. Errors
// are ignored: a file left is only clutter.
func removeStaleTemps(final string, start time.Time) {
	dir, base := filepath.Dir(final), filepath.Base(final)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := "." + base + "."
	for _, e := range entries {
		n := e.Name()
		random, ok := strings.CutPrefix(n, prefix)
		if !ok {
			continue
		}
		random, ok = strings.CutSuffix(random, ".tmp")
		if !ok || random == "" || strings.Trim(random, "0123456789") != "" || !e.Type().IsRegular() {
			continue
		}
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() && fi.ModTime().Before(start) {
			os.Remove(filepath.Join(dir, n))
		}
	}
}

// cannotWrite names the file as the user gave it, not the temporary file
// or the resolved path the error may carry.
func cannotWrite(name string, err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		err = pe.Err
	case errors.As(err, &le):
		err = le.Err
	}
	return fmt.Errorf("cannot write %s: %w", name, err)
}

// Write writes to the file.
func (o *outFile) Write(p []byte) (int, error) { return o.f.Write(p) }

// replaces reports whether the file appears only on commit.
func (o *outFile) replaces() bool { return o.final != "" }

// commit ends a complete export: a temporary file is flushed to disk and
// renamed to its final name, a stream closed.
func (o *outFile) commit() error {
	if o.done {
		return nil
	}
	o.done = true
	if !o.replaces() {
		if err := o.f.Close(); err != nil {
			return cannotWrite(o.name, err)
		}
		return nil
	}
	err := o.f.Sync()
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(o.f.Name(), o.final)
	}
	if err != nil {
		os.Remove(o.f.Name())
		return cannotWrite(o.name, err)
	}
	return nil
}

// abort ends a failed export: a temporary file is removed, a stream
// closed. It does nothing after commit.
func (o *outFile) abort() {
	if o.done {
		return
	}
	o.done = true
	o.f.Close()
	if o.replaces() {
		os.Remove(o.f.Name())
	}
}
