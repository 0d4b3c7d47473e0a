package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/livestat/livestat"
)

// Output formats.
const (
	formatJSONL = "jsonl"
	formatCSV   = "csv"
	formatTable = "table"
)

// output writes rows in one format. Rows are buffered within a page and
// flushed when the page ends, so output appears as pages arrive and memory
// does not grow with the number of rows.
type output struct {
	w      *bufio.Writer
	format string
	prog   *progress
	csv    *csv.Writer
	enc    bytes.Buffer // scratch for one row's JSON
	rows   int          // rows handed to the writer so far
	// flushed is the number of rows the destination took: rows counts
	// only once they were flushed without error.
	flushed int
	pages   int
	footer  bool // write a row count at the end (tables)
}

func newOutput(w io.Writer, format string, prog *progress) *output {
	o := &output{w: bufio.NewWriterSize(destination{w}, 64<<10), format: format, prog: prog}
	if format == formatCSV {
		o.csv = csv.NewWriter(o.w)
	}
	return o
}

// endPage flushes the page's rows and updates the progress line. total is
// the number of rows of the whole result, 0 if unknown.
func (o *output) endPage(total int) error {
	o.pages++
	if o.csv != nil {
		o.csv.Flush()
		if err := o.csv.Error(); err != nil {
			return err
		}
	}
	o.prog.clear() // so rows and the progress line do not mix on one terminal
	err := o.flush()
	o.prog.update(o.pages, o.rows, total)
	return err
}

// flush writes out the buffered rows.
func (o *output) flush() error {
	if err := o.w.Flush(); err != nil {
		return err
	}
	o.flushed = o.rows
	return nil
}

// close ends the output after the last page.
func (o *output) close() error {
	o.prog.clear() // the footer must not land on the progress line
	if o.footer {
		noun := "rows"
		if o.rows == 1 {
			noun = "row"
		}
		fmt.Fprintf(o.w, "(%d %s)\n", o.rows, noun)
	}
	if o.csv != nil {
		o.csv.Flush()
		if err := o.csv.Error(); err != nil {
			return err
		}
	}
	return o.flush()
}

// destination is where output writes: its errors are writeErrors, told
// apart from the errors of getting the rows wherever they surface (bufio
// and encoding/csv pass them on as they are).
type destination struct{ w io.Writer }

func (d destination) Write(p []byte) (int, error) {
	n, err := d.w.Write(p)
	if err != nil {
		err = &writeError{err}
	}
	return n, err
}

// writeError is a failure to write the output: a full disk, a closed pipe.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

func isWriteError(err error) bool {
	_, ok := errors.AsType[*writeError](err)
	return ok
}

// column is a table column.
type column[T any] struct {
	title string
	width int
	right bool // align right (numbers, durations)
	value func(*T) string
}

// sheet describes how rows of type T are written: the CSV header after
// kind (the API's field names, nested ones joined with '_'), and the table
// columns. Rows of a sheet without kind (one list only, such as livings)
// have no kind field or column.
type sheet[T any] struct {
	fields  []string
	columns []column[T]
	kind    func(*T) livestat.ViewerKind
}

// header writes what comes before the first row.
func (s *sheet[T]) header(o *output) error {
	switch o.format {
	case formatCSV:
		if s.kind == nil {
			return o.csv.Write(s.fields)
		}
		return o.csv.Write(append([]string{"kind"}, s.fields...))
	case formatTable:
		o.footer = true
		cells := make([]string, len(s.columns))
		for i, c := range s.columns {
			cells[i] = fit(c.title, c.width, c.right)
		}
		_, err := fmt.Fprintln(o.w, strings.TrimRight(strings.Join(cells, "  "), " "))
		return err
	}
	return nil
}

// row writes one row.
func (s *sheet[T]) row(o *output, r *T) error {
	o.rows++
	var kind livestat.ViewerKind
	if s.kind != nil {
		kind = s.kind(r)
	}
	switch o.format {
	case formatTable:
		cells := make([]string, len(s.columns))
		for i, c := range s.columns {
			cells[i] = fit(c.value(r), c.width, c.right)
		}
		_, err := fmt.Fprintln(o.w, strings.TrimRight(strings.Join(cells, "  "), " "))
		return err
	case formatCSV:
		obj, err := o.rowJSON(r)
		if err != nil {
			return err
		}
		flat := make(map[string]string, len(s.fields))
		if err := flatten("", obj, flat); err != nil {
			return err
		}
		rec := make([]string, 0, len(s.fields)+1)
		if s.kind != nil {
			rec = append(rec, string(kind))
		}
		for _, f := range s.fields {
			rec = append(rec, flat[f])
		}
		return o.csv.Write(rec)
	default:
		obj, err := o.rowJSON(r)
		if err != nil {
			return err
		}
		// {"kind":"...", then the row's own fields. The WeCom rows encode
		// their kind themselves, first; Nuoyun's have none of their own.
		if s.kind == nil || bytes.HasPrefix(obj, []byte(`{"kind":`)) {
			o.w.Write(obj)
			return o.w.WriteByte('\n')
		}
		o.w.WriteString(`{"kind":`)
		k, _ := json.Marshal(string(kind))
		o.w.Write(k)
		if rest := bytes.TrimSpace(obj[1:]); len(rest) > 1 {
			o.w.WriteByte(',')
		}
		o.w.Write(obj[1:])
		return o.w.WriteByte('\n')
	}
}

// rowJSON encodes r with the API's field names and values, without
// escaping HTML characters (URLs stay readable). The result is valid until
// the next call.
func (o *output) rowJSON(r any) ([]byte, error) {
	o.enc.Reset()
	e := json.NewEncoder(&o.enc)
	e.SetEscapeHTML(false)
	if err := e.Encode(r); err != nil {
		return nil, err
	}
	b := bytes.TrimSpace(o.enc.Bytes())
	if len(b) < 2 || b[0] != '{' {
		return nil, fmt.Errorf("row does not encode to a JSON object: %.40s", b)
	}
	return b, nil
}

// flatten turns a JSON object into CSV cells: nested objects become
// parent_child, lists are joined with ';', null is empty.
func flatten(prefix string, obj []byte, dst map[string]string) error {
	d := json.NewDecoder(bytes.NewReader(obj))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return err
	}
	flattenMap(prefix, m, dst)
	return nil
}

func flattenMap(prefix string, m map[string]any, dst map[string]string) {
	for k, v := range m {
		if prefix != "" {
			k = prefix + "_" + k
		}
		if sub, ok := v.(map[string]any); ok {
			flattenMap(k, sub, dst)
			continue
		}
		dst[k] = cell(v)
	}
}

func cell(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		if v {
			return "true"
		}
		return "false"
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = cell(e)
		}
		return strings.Join(parts, ";")
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// stream writes every row of pages to o, page by page: lists returns a
// page's row lists in the API's order, total the number of rows of the
// whole result when the page tells it (0 otherwise).
func stream[P, T any](o *output, s *sheet[T], pages iter.Seq2[P, error], lists func(P) [][]T, total func(P) int) error {
	if err := s.header(o); err != nil {
		return err
	}
	for p, err := range pages {
		if err != nil {
			// Rows of the pages before the failure are already out;
			// flush what is buffered so the output ends on a row boundary.
			o.prog.clear()
			o.flush()
			return err
		}
		for _, l := range lists(p) {
			for i := range l {
				if err := s.row(o, &l[i]); err != nil {
					return err
				}
			}
		}
		n := 0
		if total != nil {
			n = total(p)
		}
		if err := o.endPage(n); err != nil {
			return err
		}
	}
	return nil
}

// progress is the live line on a terminal's stderr. A nil *progress does
// nothing.
type progress struct {
	w     io.Writer
	name  string
	drawn bool
}

func (p *progress) update(pages, rows, total int) {
	if p == nil {
		return
	}
	line := fmt.Sprintf("%s: %d pages, %d rows", p.name, pages, rows)
	if total > 0 {
		line = fmt.Sprintf("%s: %d pages, %d of %d rows", p.name, pages, rows, total)
	}
	fmt.Fprintf(p.w, "\r\x1b[K%s", line)
	p.drawn = true
}

func (p *progress) clear() {
	if p == nil || !p.drawn {
		return
	}
	fmt.Fprint(p.w, "\r\x1b[K")
	p.drawn = false
}

// Table cells.

// duration formats seconds for people: 45s, 12m05s, 1h02m.
func duration(s livestat.Seconds) string {
	switch {
	case s <= 0:
		return "0s"
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
}

// localTime formats t in the local zone; "-" for the zero time.
func localTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04")
}

func yesNo(f livestat.IntBool) string {
	if f {
		return "yes"
	}
	return "no"
}

func joinInts(ids []int64, sep string) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprint(id)
	}
	return strings.Join(parts, sep)
}

// fit pads or cuts s to width terminal columns. Control characters are
// replaced, so that a nickname cannot send escape sequences to a terminal.
func fit(s string, width int, right bool) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return '?'
		}
		return r
	}, s)
	w := displayWidth(s)
	if w > width {
		var b strings.Builder
		used := 0
		for _, r := range s {
			rw := runeWidth(r)
			if used+rw > width-1 {
				break
			}
			b.WriteRune(r)
			used += rw
		}
		b.WriteString("…")
		s, w = b.String(), used+1
	}
	pad := strings.Repeat(" ", width-w)
	if right {
		return pad + s
	}
	return s + pad
}

func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

// runeWidth is the number of terminal columns r takes: 2 for East Asian
// wide characters (CJK, Hangul, full-width forms, most emoji), 0 for
// combining marks, 1 otherwise.
func runeWidth(r rune) int {
	switch {
	case unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r) || r == 0x200B:
		return 0
	case r >= 0x1100 && r <= 0x115F, r >= 0x2E80 && r <= 0x303E, r >= 0x3041 && r <= 0x33FF,
		r >= 0x3400 && r <= 0x4DBF, r >= 0x4E00 && r <= 0x9FFF, r >= 0xA000 && r <= 0xA4CF,
		r >= 0xAC00 && r <= 0xD7A3, r >= 0xF900 && r <= 0xFAFF, r >= 0xFE30 && r <= 0xFE4F,
		r >= 0xFF00 && r <= 0xFF60, r >= 0xFFE0 && r <= 0xFFE6, r >= 0x1F300 && r <= 0x1F64F,
		r >= 0x1F900 && r <= 0x1F9FF, r >= 0x20000 && r <= 0x3FFFD:
		return 2
	}
	return 1
}
