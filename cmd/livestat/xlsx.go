package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

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
func (b *workbook) begin(title string, header []string, types []fieldType) error {
	if err := b.end(); err != nil {
		return err
	}
	name := b.sheetName(title)
	if len(b.names) == 1 {
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

// sheetName makes title a valid worksheet name, unique in the workbook:
// at most 31 characters, none of : \ / ? * [ ].
func (b *workbook) sheetName(title string) string {
	clean := strings.Map(func(r rune) rune {
		if strings.ContainsRune(`:\/?*[]`, r) || r < ' ' {
			return '_'
		}
		return r
	}, strings.Trim(title, "' "))
	if clean == "" {
		clean = "rows"
	}
	name := truncRunes(clean, 31)
	for i := 2; b.names[strings.ToLower(name)]; i++ {
		suffix := fmt.Sprintf(" (%d)", i)
		name = truncRunes(clean, 31-len(suffix)) + suffix
	}
	b.names[strings.ToLower(name)] = true
	return name
}

func truncRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
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
