//go:build review14

// Review 14: tests of defects found in review, failing on the code under
// review. Run with: go test -tags review14 ./attendance ./cmd/livestat

package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// review14School serves one school broadcast id with theme, one student who
// watched, and online viewers when online > 0.
func review14School(t *testing.T, id, theme string, online int) *livestattest.Server {
	return newServer(t, livestattest.Options{
		School: map[string]livestattest.School{id: {Watchers: []livestat.SchoolWatcher{
			{Kind: livestat.KindStudent, StudentUserID: "stu1", PartyIDs: []int64{10}, WatchTime: 600, EnterTime: 1586433904, LeaveTime: 1586434504},
		}}},
		SchoolLivingInfo: map[string]livestat.SchoolLivingInfo{id: {
			Theme: theme, LivingStart: 1586433904, LivingDuration: 1800, OnlineCount: online,
			LivingRange: livestat.LivingRange{PartyIDs: []int64{10}},
		}},
	})
}

// A theme with an emoji (common in school broadcasts) must still give a
// workbook: Excel (and excelize) count a sheet name's 31 characters in
// UTF-16 units, and an emoji is two of them.
func TestReview14XLSXSheetNameWithEmoji(t *testing.T) {
	theme := "📚三年级二班数学第十二课：勾股定理的证明与应用练习（课后回放）"
	srv := review14School(t, "S", theme, 0)
	out := filepath.Join(t.TempDir(), "a.xlsx")
	r := newCLI(t, srv).run("wecom-school-attendance", "--living-id", "S", "--out", out)
	require.Equal(t, 0, r.code, r.stderr)
	f := openXLSX(t, out)
	assert.Len(t, f.GetSheetList(), 2)
}

// A sheet name must not end with an apostrophe: the title is trimmed of
// them, but the name cut to 31 characters can still end with one.
func TestReview14XLSXSheetNameEndsWithApostrophe(t *testing.T) {
	theme := "Lesson 12: intro to Pythagoras' theorem"
	srv := review14School(t, "S", theme, 0)
	out := filepath.Join(t.TempDir(), "a.xlsx")
	r := newCLI(t, srv).run("wecom-school-attendance", "--living-id", "S", "--out", out)
	require.Equal(t, 0, r.code, r.stderr)
	f := openXLSX(t, out)
	assert.Len(t, f.GetSheetList(), 2)
}

// A broadcast still on air is marked on its people's sheet: the rows carry
// no incomplete field, so the sheet's name is the only place that says so.
// With a WeCom-length livingid the mark is cut off by the 31-character limit.
func TestReview14XLSXOnAirSheetIsMarked(t *testing.T) {
	const id = "lvOQpQDgAAO7_0lG8qfBhNqgKrcdhRRA"
	srv := review14School(t, id, "数学", 3)
	out := filepath.Join(t.TempDir(), "a.xlsx")
	r := newCLI(t, srv).run("wecom-school-attendance", "--living-id", id, "--out", out)
	require.Equal(t, 0, r.code, r.stderr)
	f := openXLSX(t, out)
	sheets := f.GetSheetList()
	require.Len(t, sheets, 2)
	rows, err := f.GetRows(sheets[0])
	require.NoError(t, err)
	marked := strings.Contains(sheets[0], "on air") || strings.Contains(sheets[0], "not final")
	for _, c := range rows[0] {
		marked = marked || c == "incomplete"
	}
	assert.True(t, marked, "sheet %q, header %v: nothing says the broadcast is still on air", sheets[0], rows[0])
}
