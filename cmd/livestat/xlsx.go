package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/livestat/livestat"
	"github.com/rivo/uniseg"
	"github.com/xuri/excelize/v2"
)

// fieldType says how a field is written where cells have types (xlsx).
// Fields without one are written as their JSON values are: numbers as
// numbers, strings as text.
type fieldType int

const (
	plainField     fieldType = iota
	unixTimeField            // Unix seconds (WeCom); 0 is no time
	chinaTimeField           // "2006-01-02 15:04:05" in UTC+8 (Nuoyun); "" is no time
	ratioField               // a share from 0 to 1, shown as a percentage
	boolField                // true or false; absent (omitted from the JSON) is false
)

// xlsxWidthRows is the number of rows of a worksheet that set its column
// widths: they are held back until then, because a stream writer takes
// the widths before the first row.
const xlsxWidthRows = 500

// workbook writes worksheets with excelize's stream writer, one at a
// time: memory holds one worksheet's first xlsxWidthRows rows, the rest go
// to excelize's temporary storage.
type workbook struct {
	f        *excelize.File
	sw       *excelize.StreamWriter
	types    []fieldType
	header   []string
	held     [][]any // rows before the widths are known
	released bool    // the widths are set and the header written
	row      int     // the next row number of the worksheet
	names    map[string]bool
	styles   struct{ header, time, ratio int }
}

func newWorkbook() (*workbook, error) {
	b := &workbook{f: excelize.NewFile(), names: map[string]bool{}}
	b.names[reservedSheetName] = true
	var err error
	if b.styles.header, err = b.f.NewStyle(&excelize.Style{
		Font:      &excelize.Font{Bold: true, Color: "FFFFFF"},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"4F6D8F"}},
		Alignment: &excelize.Alignment{Vertical: "center"},
	}); err != nil {
		return nil, err
	}
	if b.styles.time, err = b.f.NewStyle(&excelize.Style{CustomNumFmt: ptr("yyyy-mm-dd hh:mm:ss")}); err != nil {
		return nil, err
	}
	if b.styles.ratio, err = b.f.NewStyle(&excelize.Style{NumFmt: 10}); err != nil { // 0.00%
		return nil, err
	}
	return b, nil
}

func ptr[T any](v T) *T { return &v }

// begin starts a worksheet named after title, with the header: the
// previous worksheet is complete.
func (b *workbook) begin(title sheetTitle, header []string, types []fieldType) error {
	if err := b.end(); err != nil {
		return err
	}
	name := b.sheetName(title)
	if len(b.names) == 2 { // the reserved name and this one: the first sheet
		if err := b.f.SetSheetName("Sheet1", name); err != nil {
			return err
		}
	} else if _, err := b.f.NewSheet(name); err != nil {
		return err
	}
	sw, err := b.f.NewStreamWriter(name)
	if err != nil {
		return err
	}
	b.sw, b.header, b.types, b.held, b.released, b.row = sw, header, types, nil, false, 1
	return nil
}

// sheetTitle is what a worksheet is named after: head, then keep (a
// livingid) in parentheses. When the two do not fit, head is cut (or left
// out when too little of it would be left), not keep.
type sheetTitle struct{ head, keep string }

// maxSheetName is the length limit of a sheet name, in UTF-16 units as
// Excel and excelize count them (an emoji is two).
const maxSheetName = 31

// minSheetHead is the least of a cut head worth keeping before a kept id,
// in UTF-16 units: three Chinese characters.
const minSheetHead = 6

// reservedSheetName is taken in every workbook (lower case, as names are
// compared): Excel reserves History for its change tracking.
const reservedSheetName = "history"

// sheetName makes title a valid worksheet name, unique in the workbook: at
// most 31 UTF-16 units, none of : \ / ? * [ ], no ' at either end, not
// History. A cut is made between graphemes and marked with "…".
func (b *workbook) sheetName(title sheetTitle) string {
	head, keep := cleanSheetName(title.head), cleanSheetName(title.keep)
	if head == "" && keep == "" {
		head = "rows"
	}
	name := fitSheetName(head, keep, maxSheetName)
	for i := 2; b.names[strings.ToLower(name)]; i++ {
		suffix := fmt.Sprintf(" (%d)", i)
		name = fitSheetName(head, keep, maxSheetName-len(suffix)) + suffix
	}
	b.names[strings.ToLower(name)] = true
	return name
}

// cleanSheetName replaces the characters a sheet name may not hold and
// trims spaces and apostrophes from its ends.
func cleanSheetName(s string) string {
	return trimSheetName(strings.Map(func(r rune) rune {
		if strings.ContainsRune(`:\/?*[]`, r) || r < ' ' {
			return '_'
		}
		return r
	}, s))
}

func trimSheetName(s string) string { return strings.Trim(s, "' ") }

// fitSheetName is "head (keep)", head or keep (whichever is not empty) in
// at most n UTF-16 units; both are clean. What does not fit is cut, head
// first: "head… (keep)", else keep alone, cut if need be.
func fitSheetName(head, keep string, n int) string {
	full := head
	switch {
	case head == "":
		full = keep
	case keep != "":
		full = head + " (" + keep + ")"
	}
	if utf16Len(full) <= n {
		return full
	}
	if head != "" && keep != "" {
		tail := " (" + keep + ")"
		if room := n - utf16Len(tail) - 1; room >= minSheetHead {
			if h := cutUTF16(head, room); h != "" {
				return h + "…" + tail
			}
		}
		head = keep // the id identifies the broadcast; a theme may not
	}
	if utf16Len(head) <= n {
		return head
	}
	return cutUTF16(head, n-1) + "…"
}

// utf16Len is the length of s in UTF-16 units.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// cutUTF16 is the longest start of s of at most n UTF-16 units that ends
// between graphemes (never inside an emoji, a flag or a character and its
// accents), trimmed of spaces and apostrophes at its end. A single
// grapheme longer than n is cut between runes.
func cutUTF16(s string, n int) string {
	end, units := 0, 0
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		u := utf16Len(g.Str())
		if units+u > n {
			break
		}
		units += u
		_, end = g.Positions()
	}
	if end == 0 {
		for i, r := range s {
			if units += utf16.RuneLen(r); units > n {
				break
			}
			end = i + utf8.RuneLen(r)
		}
	}
	return strings.TrimRight(s[:end], "' ")
}

// add writes a row of the current worksheet: values are the row's JSON
// values (as flatten gives them), in the header's order.
func (b *workbook) add(values []any) error {
	cells := make([]any, len(values))
	for i, v := range values {
		cells[i] = b.cell(v, b.types[i])
	}
	if b.released {
		return b.write(cells)
	}
	b.held = append(b.held, cells)
	if len(b.held) < xlsxWidthRows {
		return nil
	}
	return b.release()
}

func (b *workbook) write(cells []any) error {
	ref, err := excelize.CoordinatesToCellName(1, b.row)
	if err != nil {
		return err
	}
	b.row++
	return b.sw.SetRow(ref, cells)
}

// release sets the column widths from the held rows, freezes the styled
// header and writes it and the held rows.
func (b *workbook) release() error {
	held := b.held
	b.held, b.released = nil, true
	for i, h := range b.header {
		w := uniseg.StringWidth(h) + 3 // bold, and room for a filter button
		for _, r := range held {
			w = max(w, cellWidth(r[i]))
		}
		if err := b.sw.SetColWidth(i+1, i+1, float64(min(max(w, 6), 60))); err != nil {
			return err
		}
	}
	if err := b.sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	head := make([]any, len(b.header))
	for i, h := range b.header {
		head[i] = excelize.Cell{StyleID: b.styles.header, Value: h}
	}
	if err := b.write(head); err != nil {
		return err
	}
	for _, r := range held {
		if err := b.write(r); err != nil {
			return err
		}
	}
	return nil
}

// end completes the current worksheet.
func (b *workbook) end() error {
	if b.sw == nil {
		return nil
	}
	if !b.released {
		if err := b.release(); err != nil {
			return err
		}
	}
	err := b.sw.Flush()
	b.sw = nil
	return err
}

// close completes the workbook and writes it to w.
func (b *workbook) close(w io.Writer) error {
	if err := b.end(); err != nil {
		return err
	}
	defer b.f.Close()
	_, err := b.f.WriteTo(w)
	return err
}

// cell is the typed cell of a JSON value.
func (b *workbook) cell(v any, t fieldType) any {
	switch t {
	case unixTimeField:
		if n, ok := v.(json.Number); ok {
			if s, err := n.Int64(); err == nil && s > 0 {
				return excelize.Cell{StyleID: b.styles.time, Value: time.Unix(s, 0).Local()}
			}
			return nil
		}
	case chinaTimeField:
		if s, ok := v.(string); ok {
			if tm, err := time.ParseInLocation(livestat.ChinaTimeLayout, s, time.FixedZone("UTC+8", 8*3600)); err == nil {
				return excelize.Cell{StyleID: b.styles.time, Value: tm.Local()}
			}
			if s == "" {
				return nil
			}
		}
	case ratioField:
		if n, ok := v.(json.Number); ok {
			if f, err := n.Float64(); err == nil {
				return excelize.Cell{StyleID: b.styles.ratio, Value: f}
			}
		}
	}
	switch v := v.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		if f, err := v.Float64(); err == nil {
			return f
		}
		return v.String()
	case nil, string, bool:
		return v
	}
	return cell(v)
}

// cellWidth is the width a column needs for c, in characters.
func cellWidth(c any) int {
	switch c := c.(type) {
	case nil:
		return 0
	case excelize.Cell:
		if _, ok := c.Value.(time.Time); ok {
			return 19
		}
		return 8
	case string:
		return uniseg.StringWidth(c) + 1
	}
	return len(fmt.Sprint(c)) + 1
}
