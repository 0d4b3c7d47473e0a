// Command modproxy writes a module proxy layout (the GOPROXY protocol, served
// with GOPROXY=file://DIR) from module directories of a working tree, so that
// a module can be fetched the way a user's go command fetches a release,
// before any tag exists. scripts/check-modules.sh uses it.
//
//	modproxy OUT DIR@VERSION...
//
// For each DIR it reads the module path from DIR/go.mod and writes
// OUT/<path>/@v/{list,VERSION.info,VERSION.mod,VERSION.zip}. The zip holds
// what a tag of the tree would hold: in a git checkout, the tracked and
// untracked-but-not-ignored files as they are on disk (uncommitted edits
// included, build output left out); elsewhere, every file under DIR. Either
// way golang.org/x/mod/zip applies the go command's rules, so nested modules
// (redisstore for the root), vendor trees and symlinks stay out, exactly as
// a real proxy would leave them out.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	modzip "golang.org/x/mod/zip"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: modproxy OUT DIR@VERSION...")
		os.Exit(2)
	}
	out := os.Args[1]
	for _, arg := range os.Args[2:] {
		dir, vers, ok := strings.Cut(arg, "@")
		if !ok {
			fail(fmt.Errorf("%q: want DIR@VERSION", arg))
		}
		path, err := publish(out, dir, vers)
		if err != nil {
			fail(fmt.Errorf("%s: %w", dir, err))
		}
		fmt.Printf("   %s@%s from %s\n", path, vers, dir)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "modproxy:", err)
	os.Exit(1)
}

// publish writes one module version from dir into the proxy at out and
// returns the module path.
func publish(out, dir, vers string) (string, error) {
	if !semver.IsValid(vers) || semver.Canonical(vers) != vers {
		return "", fmt.Errorf("version %q is not a canonical semantic version", vers)
	}
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return "", err
	}
	path := modfile.ModulePath(gomod)
	if path == "" {
		return "", errors.New("go.mod names no module")
	}
	m := module.Version{Path: path, Version: vers}
	if err := module.Check(m.Path, m.Version); err != nil {
		return "", err
	}
	esc, err := module.EscapePath(path)
	if err != nil {
		return "", err
	}
	vdir := filepath.Join(out, filepath.FromSlash(esc), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return "", err
	}

	files, err := moduleFiles(dir)
	if err != nil {
		return "", err
	}
	// Create rejects invalid files too, but CheckFiles names all of them
	// at once instead of the first.
	if cf, err := modzip.CheckFiles(files); err != nil {
		return "", fmt.Errorf("module zip: %w", err)
	} else if len(cf.Valid) == 0 {
		return "", errors.New("module zip would be empty")
	}
	var zbuf bytes.Buffer
	if err := modzip.Create(&zbuf, m, files); err != nil {
		return "", err
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{vers, time.Now().UTC().Truncate(time.Second)})
	if err != nil {
		return "", err
	}
	for name, data := range map[string][]byte{
		vers + ".zip":  zbuf.Bytes(),
		vers + ".mod":  gomod,
		vers + ".info": info,
	} {
		if err := os.WriteFile(filepath.Join(vdir, name), data, 0o644); err != nil {
			return "", err
		}
	}
	return path, addToList(filepath.Join(vdir, "list"), vers)
}

// addToList records vers in a proxy's version list, keeping it sorted and
// free of repeats.
func addToList(list, vers string) error {
	data, err := os.ReadFile(list)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	versions := strings.Fields(string(data))
	if !slices.Contains(versions, vers) {
		versions = append(versions, vers)
	}
	semver.Sort(versions)
	return os.WriteFile(list, []byte(strings.Join(versions, "\n")+"\n"), 0o644)
}

// moduleFiles lists the files under dir that a tag would hold.
func moduleFiles(dir string) ([]modzip.File, error) {
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = dir
	cmd.Stderr = io.Discard
	listing, err := cmd.Output()
	if err != nil {
		// Not a git checkout (or no git): every file, as CreateFromDir
		// would take them.
		return dirFiles(dir)
	}
	var files []modzip.File
	for rel := range strings.SplitSeq(strings.TrimSuffix(string(listing), "\x00"), "\x00") {
		if rel == "" {
			continue
		}
		f := diskFile{root: dir, rel: rel}
		if _, err := f.Lstat(); errors.Is(err, os.ErrNotExist) {
			continue // deleted in the working tree, not yet committed
		}
		files = append(files, f)
	}
	return files, nil
}

func dirFiles(dir string) ([]modzip.File, error) {
	var files []modzip.File
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		files = append(files, diskFile{root: dir, rel: filepath.ToSlash(rel)})
		return nil
	})
	return files, err
}

// diskFile is a file of the working tree, named by its slash-separated path
// relative to the module root.
type diskFile struct{ root, rel string }

func (f diskFile) Path() string { return f.rel }
func (f diskFile) Lstat() (os.FileInfo, error) {
	return os.Lstat(filepath.Join(f.root, filepath.FromSlash(f.rel)))
}
func (f diskFile) Open() (io.ReadCloser, error) {
	return os.Open(filepath.Join(f.root, filepath.FromSlash(f.rel)))
}
