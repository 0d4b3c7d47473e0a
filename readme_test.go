package livestat_test

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeCodeIsCompiled checks that every Go block of the README and of
// docs/*.md is code that go test compiles: a run of consecutive lines of an
// example_*_test.go file, here or in redisstore/, after its imports (in
// practice: of Examples, and of the tests, types and functions they use). Lines are compared
// without their indentation, blank lines ignored; a block line that is just
// "// ..." stands for any lines left out. So a README example cannot drift
// from the API: change one, and either the Example changes with it (and
// still compiles and passes) or this test fails.
func TestReadmeCodeIsCompiled(t *testing.T) {
	decls := exampleDecls(t, ".", "redisstore", "attendance")
	if len(decls) < 5 {
		t.Fatalf("found %d example files: the scan is broken", len(decls))
	}

	docs, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	minBlocks := map[string]int{"README.md": 8} // the README's examples: a scan that finds fewer is broken
	for _, doc := range append([]string{"README.md"}, docs...) {
		blocks := goBlocks(t, doc)
		if len(blocks) < minBlocks[doc] {
			t.Errorf("%s: %d Go blocks, want at least %d", doc, len(blocks), minBlocks[doc])
		}
		for _, b := range blocks {
			if !matchesSomeDecl(b.lines, decls) {
				t.Errorf("%s:%d: this Go block is not a piece of any Example (example_*_test.go); "+
					"write it as (part of) an Example so that go test compiles it:\n%s",
					doc, b.line, strings.Join(b.lines, "\n"))
			}
		}
	}
}

// TestReadmeCodeMatcher checks the matcher itself, so that the test above
// cannot pass for a matcher that accepts anything.
func TestReadmeCodeMatcher(t *testing.T) {
	decls := [][]string{{"func ExampleX() {", "a := 1", "b := a", "fmt.Println(b)", "}"}}
	for _, c := range []struct {
		block []string
		want  bool
	}{
		{[]string{"a := 1", "b := a"}, true},
		{[]string{"a := 1", "// ...", "fmt.Println(b)"}, true},
		{[]string{"// ...", "b := a"}, true},
		{[]string{"a := 1", "fmt.Println(b)"}, false}, // not consecutive
		{[]string{"a := 2"}, false},
		{[]string{"b := a", "a := 1"}, false},
		{nil, false}, // an empty block shows nothing
	} {
		if got := matchesSomeDecl(c.block, decls); got != c.want {
			t.Errorf("match(%q) = %v, want %v", c.block, got, c.want)
		}
	}
}

type codeBlock struct {
	line  int // of the opening fence
	lines []string
}

// goBlocks returns the ```go blocks of a Markdown file, each line trimmed,
// blank lines dropped.
func goBlocks(t *testing.T, path string) []codeBlock {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		blocks []codeBlock
		cur    *codeBlock
		inside bool // inside a fence of another language
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		fence := strings.HasPrefix(strings.TrimSpace(line), "```")
		switch {
		case cur != nil && fence:
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			if l := strings.TrimSpace(line); l != "" {
				cur.lines = append(cur.lines, l)
			}
		case inside && fence:
			inside = false
		case fence && strings.TrimSpace(line) == "```go":
			cur = &codeBlock{line: n}
		case fence:
			inside = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Fatalf("%s:%d: unclosed Go block", path, cur.line)
	}
	return blocks
}

// exampleDecls returns, for each example*_test.go file in dirs, its lines
// from the first declaration after the imports on (doc comments included),
// trimmed, blank lines dropped.
func exampleDecls(t *testing.T, dirs ...string) [][]string {
	t.Helper()
	var out [][]string
	for _, dir := range dirs {
		files, err := filepath.Glob(filepath.Join(dir, "example*_test.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range files {
			src, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, name, src, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			start := token.NoPos
			for _, d := range f.Decls {
				if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.IMPORT {
					continue
				}
				start = d.Pos()
				if doc := docOf(d); doc != nil {
					start = doc.Pos()
				}
				break
			}
			if !start.IsValid() {
				continue
			}
			var lines []string
			for l := range strings.SplitSeq(string(src[fset.Position(start).Offset:]), "\n") {
				if l = strings.TrimSpace(l); l != "" {
					lines = append(lines, l)
				}
			}
			out = append(out, lines)
		}
	}
	return out
}

func docOf(d ast.Decl) *ast.CommentGroup {
	switch d := d.(type) {
	case *ast.FuncDecl:
		return d.Doc
	case *ast.GenDecl:
		return d.Doc
	}
	return nil
}

func matchesSomeDecl(block []string, decls [][]string) bool {
	if len(block) == 0 {
		return false
	}
	for _, d := range decls {
		for start := range d {
			if matchFrom(block, d[start:]) {
				return true
			}
		}
	}
	return false
}

// matchFrom reports whether block matches a prefix of lines, "// ..."
// matching any run of lines.
func matchFrom(block, lines []string) bool {
	if len(block) == 0 {
		return true
	}
	if block[0] == "// ..." {
		for skip := 0; skip <= len(lines); skip++ {
			if matchFrom(block[1:], lines[skip:]) {
				return true
			}
		}
		return false
	}
	return len(lines) > 0 && block[0] == lines[0] && matchFrom(block[1:], lines[1:])
}
