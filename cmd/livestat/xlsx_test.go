package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/livestat/livestat"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
)

// openXLSX opens a workbook the CLI wrote.
func openXLSX(t *testing.T, path string) *excelize.File {
	t.Helper()
	f, err := excelize.OpenFile(path)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}

// cellTime reads a time cell: a number with a date format.
func cellTime(t *testing.T, f *excelize.File, sheet, ref string) time.Time {
	t.Helper()
	typ, err := f.GetCellType(sheet, ref)
	require.NoError(t, err)
	assert.Contains(t, []excelize.CellType{excelize.CellTypeNumber, excelize.CellTypeUnset}, typ, "%s is a number", ref)
	raw, err := f.GetCellValue(sheet, ref, excelize.Options{RawCellValue: true})
	require.NoError(t, err)
	serial, err := strconv.ParseFloat(raw, 64)
	require.NoError(t, err, "%s holds %q", ref, raw)
	style, err := f.GetCellStyle(sheet, ref)
	require.NoError(t, err)
	st, err := f.GetStyle(style)
	require.NoError(t, err)
	require.NotNil(t, st.CustomNumFmt, "%s has a date format", ref)
	assert.Contains(t, *st.CustomNumFmt, "yyyy-mm-dd")
	tm, err := excelize.ExcelDateToTime(serial, false)
	require.NoError(t, err)
	return tm.Round(time.Second)
}

// isNumber says whether a cell holds a number, not text.
func isNumber(t *testing.T, f *excelize.File, sheet, ref string) bool {
	t.Helper()
	typ, err := f.GetCellType(sheet, ref)
	require.NoError(t, err)
	// excelize reads a number cell without a t attribute as unset.
	return typ == excelize.CellTypeNumber || typ == excelize.CellTypeUnset
}

// A workbook of a command: one sheet named after it, the API's field
// names in a frozen, styled header, numbers as numbers, times as times
// (in local time, as the tables show them), columns as wide as their text.
func TestXLSXWorkbook(t *testing.T) {
	srv := seeded(t, 2)
	c := newCLI(t, srv)
	out := filepath.Join(t.TempDir(), "school.xlsx")
	r := c.run("wecom-school-watch", "--living-id", "S", "--out", out)
	require.Equal(t, 0, r.code, r.stderr)

	f := openXLSX(t, out)
	const sh = "wecom-school-watch"
	assert.Equal(t, []string{sh}, f.GetSheetList())
	rows, err := f.GetRows(sh)
	require.NoError(t, err)
	require.Len(t, rows, 4, "header and three rows")
	assert.Equal(t, []string{"kind", "student_userid", "parent_userid", "nickname", "partyids", "watch_time", "enter_time", "leave_time", "is_comment"}, rows[0])
	assert.Equal(t, []string{"student", "stu1", "", "", "10;11"}, rows[1][:5])

	// The header is styled and frozen.
	hs, err := f.GetCellStyle(sh, "A1")
	require.NoError(t, err)
	st, err := f.GetStyle(hs)
	require.NoError(t, err)
	assert.True(t, st.Font != nil && st.Font.Bold, "bold header")
	panes, err := f.GetPanes(sh)
	require.NoError(t, err)
	assert.True(t, panes.Freeze)
	assert.Equal(t, 1, panes.YSplit)

	// watch_time (F) is a number; enter_time (G) a time; ids are text.
	for i, want := range []int{30, 3600, 61} {
		ref := fmt.Sprintf("F%d", i+2)
		assert.True(t, isNumber(t, f, sh, ref), ref)
		v, _ := f.GetCellValue(sh, ref)
		assert.Equal(t, strconv.Itoa(want), v)
	}
	typ, err := f.GetCellType(sh, "B2")
	require.NoError(t, err)
	assert.Contains(t, []excelize.CellType{excelize.CellTypeSharedString, excelize.CellTypeInlineString}, typ, "ids are text")
	wall := time.Unix(1586433904, 0).Local()
	assert.Equal(t, time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, time.UTC), cellTime(t, f, sh, "G2"))

	// Column widths follow their contents: the header's at least.
	wID, err := f.GetColWidth(sh, "B")
	require.NoError(t, err)
	assert.GreaterOrEqual(t, wID, float64(len("student_userid")))
	wTime, err := f.GetColWidth(sh, "G")
	require.NoError(t, err)
	assert.GreaterOrEqual(t, wTime, float64(len("2020-04-09 20:05:04")))
}

// Every export command writes a workbook; Nuoyun's times are times too.
func TestXLSXNuoyun(t *testing.T) {
	var sample []livestat.UserDuration
	require.NoError(t, json.Unmarshal([]byte(nuoyunRows), &sample))
	srv := nuoyunServer(t, sample)
	c := nuoyunCLI(t, srv)
	out := filepath.Join(t.TempDir(), "d.XLSX")
	r := c.run("nuoyun-durations", "--user-space-id", "34043700", "--out", out)
	require.Equal(t, 0, r.code, r.stderr)
	f := openXLSX(t, out)
	rows, err := f.GetRows("nuoyun-durations")
	require.NoError(t, err)
	require.Len(t, rows, 3)
	col := -1
	for i, h := range rows[0] {
		if h == "first_visit_time" {
			col = i
		}
	}
	require.GreaterOrEqual(t, col, 0)
	ref, _ := excelize.CoordinatesToCellName(col+1, 2)
	wall := time.Date(2025, 9, 16, 15, 6, 6, 0, time.FixedZone("UTC+8", 8*3600)).Local()
	assert.Equal(t, time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, time.UTC), cellTime(t, f, "nuoyun-durations", ref))
	assert.True(t, isNumber(t, f, "nuoyun-durations", "B2"), "room_id is a number")
}

// utf16Units is the length of s as Excel counts a sheet name's 31
// characters: in UTF-16 units (an emoji is two).
func utf16Units(s string) int { return len(utf16.Encode([]rune(s))) }

// A broadcast's theme is free text: whatever it holds, the workbook is
// written and its sheet is named validly for Excel (at most 31 UTF-16
// units, no ' at either end, not "History", no grapheme split), after the
// theme and the livingid, the theme cut rather than the id.
func TestXLSXBroadcastSheetNames(t *testing.T) {
	for _, tc := range []struct {
		name, theme, id string
		want            string // the sheet's name
	}{
		{"emoji", "📚三年级二班数学第十二课：勾股定理的证明与应用练习（课后回放）", "S", "📚三年级二班数学第十二课：勾股定理的证明与应用练习… (S)"},
		{"emoji at the cut", "一二三四五六七八九十一二三四五六七八九十一二三四五📚练习", "S", "一二三四五六七八九十一二三四五六七八九十一二三四五… (S)"},
		{"flag at the cut", "abcdefghijklmnopqrstuvwx🇨🇳🇨🇳", "S", "abcdefghijklmnopqrstuvwx… (S)"},
		{"apostrophe at the cut", "Lesson twelve: Pythagoras' theorem", "S", "Lesson twelve_ Pythagoras… (S)"},
		{"cut ends a word", "Lesson 12: intro to Pythagoras' theorem", "S", "Lesson 12_ intro to Pythag… (S)"},
		{"apostrophes around", "'quoted'", "'id'", "quoted (id)"},
		{"fits", "数学", "S", "数学 (S)"},
		{"no theme", "", "S", "S"},
		{"WeCom id", "数学", "lvOQpQDgAAO7_0lG8qfBhNqgKrcdhRRA", "lvOQpQDgAAO7_0lG8qfBhNqgKrcdhR…"},
		{"id of 31", "数学", "lvOQpQDgAAO7_0lG8qfBhNqgKrcdhRR", "lvOQpQDgAAO7_0lG8qfBhNqgKrcdhRR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := schoolLesson(t, tc.id, tc.theme, 0)
			out := filepath.Join(t.TempDir(), "a.xlsx")
			r := newCLI(t, srv).run("wecom-school-attendance", "--living-id", tc.id, "--out", out)
			require.Equal(t, 0, r.code, r.stderr)
			sheets := openXLSX(t, out).GetSheetList()
			require.Len(t, sheets, 2)
			assert.Equal(t, tc.want, sheets[0])
			assert.LessOrEqual(t, utf16Units(sheets[0]), 31, sheets[0])
			assert.True(t, utf8.ValidString(sheets[0]), sheets[0])
		})
	}
}

// sheetName itself, for names no broadcast gives: the reserved History,
// apostrophes at the ends after a cut, and the suffix that keeps names
// unique, all within 31 UTF-16 units.
func TestXLSXSheetNameRules(t *testing.T) {
	b, err := newWorkbook()
	require.NoError(t, err)
	defer b.f.Close()
	long := strings.Repeat("😀", 20) // 40 units
	for _, tc := range []struct{ in, want string }{
		{"History", "History (2)"},
		{"history", "history (3)"},
		{"''", "rows"},
		{"a/b:c", "a_b_c"},
		{strings.Repeat("x", 29) + "'yz", strings.Repeat("x", 29) + "…"},
		{long, strings.Repeat("😀", 15) + "…"},
		{long, strings.Repeat("😀", 13) + "… (2)"},
	} {
		got := b.sheetName(sheetTitle{head: tc.in})
		assert.Equal(t, tc.want, got, tc.in)
		assert.LessOrEqual(t, utf16Units(got), 31, got)
	}
}
