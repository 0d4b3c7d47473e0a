package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
)

// The JSON lines of a school attendance: a row per person with the API's
// id names, status, watch_time and share; roster people on neither list
// are unknown; then class and summary rows with a count per status.
func TestSchoolAttendanceJSONLines(t *testing.T) {
	srv := seeded(t, 2)
	c := newCLI(t, srv)
	roster := filepath.Join(t.TempDir(), "roster.csv")
	require.NoError(t, os.WriteFile(roster, []byte("userid,name,class\nstu1,张三,10\nghost,李四,10\n"), 0o600))
	r := c.run("wecom-school-attendance", "--living-id", "S", "--min", "50%", "--roster", roster)
	require.Equal(t, 0, r.code, r.stderr)
	rows := jsonLines(t, r.stdout)
	byID := map[string]map[string]any{}
	var classes, summaries int
	for _, row := range rows {
		assert.Equal(t, "S", row["livingid"])
		switch row["kind"] {
		case "class":
			classes++
			assert.Contains(t, row, "partyid")
			assert.Contains(t, row, "unknown")
		case "summary":
			summaries++
			assert.Contains(t, row, "attended")
		default:
			id, _ := row["parent_userid"].(string)
			if id == "" {
				id, _ = row["student_userid"].(string)
			}
			if id == "" {
				id, _ = row["nickname"].(string)
			}
			byID[row["kind"].(string)+":"+id] = row
		}
	}
	assert.Equal(t, "partial", byID["student:stu1"]["status"], "30 s of the broadcast")
	assert.Equal(t, "张三", byID["student:stu1"]["name"], "the roster's name")
	assert.Equal(t, []any{10.0, 11.0}, byID["student:stu1"]["partyids"])
	assert.Equal(t, "absent", byID["student:stu2"]["status"])
	assert.Equal(t, "unknown", byID["student:ghost"]["status"], "on the roster, in neither list")
	assert.Equal(t, "visitor", byID["visitor:游客"]["kind"])
	assert.EqualValues(t, 3600, byID["parent:par1"]["watch_time"])
	share, _ := byID["parent:par1"]["share"].(float64)
	assert.True(t, share > 0 && share <= 1, "share %v", byID["parent:par1"]["share"])
	assert.Positive(t, classes)
	assert.Positive(t, summaries)
	// Person rows come first, summaries after them.
	assert.NotContains(t, []string{"class", "summary"}, rows[0]["kind"])
	assert.Equal(t, "summary", rows[len(rows)-1]["kind"])
}

// The same report as CSV has one header, the union of both kinds of rows.
func TestAttendanceCSV(t *testing.T) {
	srv := seeded(t, 2)
	c := newCLI(t, srv)
	r := c.run("wecom-attendance", "--living-id", "L", "--format", "csv", "--min", "10m")
	require.Equal(t, 0, r.code, r.stderr)
	recs, err := csv.NewReader(bytes.NewReader([]byte(r.stdout))).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, attendanceFields, recs[0])
	col := func(name string) int {
		for i, f := range recs[0] {
			if f == name {
				return i
			}
		}
		t.Fatalf("no column %s", name)
		return -1
	}
	got := map[string]string{}
	for _, rec := range recs[1:] {
		if rec[col("kind")] != "summary" {
			got[rec[col("userid")]+rec[col("external_userid")]] = rec[col("status")] + " invited by " + rec[col("invitor_userid")]
		} else if rec[col("by")] == "" {
			assert.Equal(t, "3", rec[col("total")])
			assert.Equal(t, "2", rec[col("attended")])
		}
	}
	assert.Equal(t, map[string]string{"zhangsan": "attended invited by lisi", "lisi": "attended invited by ", "wmEXT1": "partial invited by "}, got)
}

// A workbook of several broadcasts: one sheet each, then Summary; shares
// are numbers shown as percentages.
func TestAttendanceXLSX(t *testing.T) {
	ids, school := livestattest.GenerateSchoolLivings("lesson-", 3, 5, 1)
	srv := newServer(t, livestattest.Options{School: school, UserLivings: map[string][]string{"teacher": ids}})
	c := newCLI(t, srv)
	c.stderrTTY = true
	out := filepath.Join(t.TempDir(), "a.xlsx")
	r := c.run("wecom-school-attendance", "--user-id", "teacher", "--since", "2025-09-02", "--out", out)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "wecom-school-attendance: 2 of 2 broadcasts", "progress on a terminal")
	assert.Regexp(t, `\d+ rows written to `, r.stderr)

	f := openXLSX(t, out)
	sheets := f.GetSheetList()
	require.Len(t, sheets, 3, "two broadcasts since 2 September, and the summary: %v", sheets)
	assert.Contains(t, sheets[0], "lesson-002")
	assert.Contains(t, sheets[1], "lesson-003")
	assert.Equal(t, "Summary", sheets[2])
	rows, err := f.GetRows(sheets[0])
	require.NoError(t, err)
	assert.Equal(t, []string{"livingid", "kind", "student_userid", "parent_userid", "nickname", "name", "class", "partyids", "status", "watch_time", "share", "enter_time", "leave_time", "incomplete"}, rows[0])
	assert.Equal(t, "lesson-002", rows[1][0])
	// share (K) is a number with a percentage format.
	assert.True(t, isNumber(t, f, sheets[0], "K2"))
	style, err := f.GetCellStyle(sheets[0], "K2")
	require.NoError(t, err)
	st, err := f.GetStyle(style)
	require.NoError(t, err)
	assert.Equal(t, 10, st.NumFmt, "0.00%")
	sum, err := f.GetRows("Summary")
	require.NoError(t, err)
	assert.Equal(t, "livingid", sum[0][0])
	assert.Greater(t, len(sum), 2)
	total, _ := excelize.CoordinatesToCellName(9, 2)
	assert.True(t, isNumber(t, f, "Summary", total), "counts are numbers")
}

func TestAttendanceUsageErrorsSendNothing(t *testing.T) {
	srv := seeded(t, 2)
	bad := filepath.Join(t.TempDir(), "bad.csv")
	require.NoError(t, os.WriteFile(bad, []byte("name\nx\n"), 0o600))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"wecom-school-attendance"}, "missing required flag --living-id (or --user-id)"},
		{[]string{"wecom-attendance", "--living-id", "L", "--user-id", "u"}, "give --living-id or --user-id, not both"},
		{[]string{"wecom-attendance", "--living-id", " , "}, "--living-id names no broadcast"},
		{[]string{"wecom-attendance", "--living-id", "L", "--since", "2026-09-01"}, "--since goes with --user-id"},
		{[]string{"wecom-attendance", "--living-id", "L", "--min", "lots"}, `--min: invalid value "lots"`},
		{[]string{"wecom-attendance", "--living-id", "L", "--min", "0%"}, `a share must be above 0%; for any watch time, give no threshold (or "0")`},
		{[]string{"wecom-school-attendance", "--living-id", "S", "--roster", "/nonexistent/r.csv"}, "--roster: /nonexistent/r.csv: no such file"},
		{[]string{"wecom-school-attendance", "--living-id", "S", "--roster", bad}, "--roster " + bad},
		{[]string{"wecom-attendance", "--living-id", "L", "--roster", bad}, "unknown flag --roster"},
		{[]string{"wecom-attendance", "--living-id", "L", "--format", "xlsx"}, "--format xlsx needs --out FILE"},
	} {
		c := newCLI(t, srv)
		before := srv.TotalCalls()
		r := c.run(tc.args...)
		assert.Equal(t, 2, r.code, tc.args)
		assert.Contains(t, r.stderr, tc.want, tc.args)
		assert.Equal(t, before, srv.TotalCalls(), "no request sent: %v", tc.args)
	}
}

// schoolLesson serves the school broadcast id with theme: one student who
// watched 10 minutes of 30, and online viewers when online > 0 (on air).
func schoolLesson(t *testing.T, id, theme string, online int) *livestattest.Server {
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

// A broadcast still on air is marked on every person row, in every format,
// not only in a title that a worksheet name cuts off: JSON lines carry
// "incomplete": true (nothing when it ended), CSV and workbooks an
// incomplete column, true or false. A worksheet of a WeCom-length livingid
// is named after the id (cut, marked with …), not its theme.
func TestAttendanceOnAirIsMarkedOnEveryPersonRow(t *testing.T) {
	const id = "lvOQpQDgAAO7_0lG8qfBhNqgKrcdhRRA" // 32 characters, as WeCom's are
	for _, onAir := range []bool{true, false} {
		online := 0
		if onAir {
			online = 3
		}
		srv := schoolLesson(t, id, "三年级数学", online)
		c := newCLI(t, srv)

		r := c.run("wecom-school-attendance", "--living-id", id)
		require.Equal(t, 0, r.code, r.stderr)
		for _, row := range jsonLines(t, r.stdout) {
			if onAir {
				assert.Equal(t, true, row["incomplete"], "on air: %v", row)
			} else {
				assert.NotContains(t, row, "incomplete", "ended: %v", row)
			}
		}

		r = c.run("wecom-school-attendance", "--living-id", id, "--format", "csv")
		require.Equal(t, 0, r.code, r.stderr)
		recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
		require.NoError(t, err)
		col := slicesIndex(recs[0], "incomplete")
		require.GreaterOrEqual(t, col, 0, "an incomplete column: %v", recs[0])
		for _, rec := range recs[1:] {
			assert.Equal(t, map[bool]string{true: "true", false: "false"}[onAir], rec[col], "csv %v", rec)
		}

		out := filepath.Join(t.TempDir(), "a.xlsx")
		r = c.run("wecom-school-attendance", "--living-id", id, "--out", out)
		require.Equal(t, 0, r.code, r.stderr)
		f := openXLSX(t, out)
		sheets := f.GetSheetList()
		require.Len(t, sheets, 2)
		assert.Equal(t, id[:30]+"…", sheets[0], "the id, not the theme, names the sheet")
		rows, err := f.GetRows(sheets[0])
		require.NoError(t, err)
		require.Len(t, rows, 2, "header and the student")
		col = slicesIndex(rows[0], "incomplete")
		require.GreaterOrEqual(t, col, 0, "an incomplete column: %v", rows[0])
		assert.Equal(t, map[bool]string{true: "TRUE", false: "FALSE"}[onAir], rows[1][col], "xlsx")
	}
}

func slicesIndex(s []string, v string) int {
	for i, e := range s {
		if e == v {
			return i
		}
	}
	return -1
}
