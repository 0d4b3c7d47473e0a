package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The secret every test server accepts; no output may contain it, nor any
// token the server issued.
const testSecret = "CLI-SECRET-never-print-9d1e"

// result is one run of the CLI.
type result struct {
	code           int
	stdout, stderr string
}

// cli runs the CLI against srv (nil: no server configured).
type cli struct {
	t         *testing.T
	srv       *livestattest.Server
	env       map[string]string
	stdoutTTY bool
	stderrTTY bool
}

func newServer(t *testing.T, opts livestattest.Options) *livestattest.Server {
	t.Helper()
	opts.CorpSecret = testSecret
	return livestattest.NewServer(t, opts)
}

func newCLI(t *testing.T, srv *livestattest.Server) *cli {
	c := &cli{t: t, srv: srv, env: map[string]string{}}
	if srv != nil {
		c.env = map[string]string{
			"WECOM_CORP_ID": srv.CorpID(), "WECOM_CORP_SECRET": srv.CorpSecret(),
			"WECOM_BASE_URL": srv.URL(), "NUOYUN_BASE_URL": srv.URL(),
		}
	}
	return c
}

func (c *cli) run(args ...string) result {
	c.t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, stdio{
		stdout: &stdout, stderr: &stderr,
		getenv:    func(k string) string { return c.env[k] },
		stdoutTTY: c.stdoutTTY, stderrTTY: c.stderrTTY,
	})
	r := result{code, stdout.String(), stderr.String()}
	assertNoSecrets(c.t, r.stdout+r.stderr)
	return r
}

var tokenPattern = regexp.MustCompile(`livestattest-token-\d+`)

func assertNoSecrets(t *testing.T, out string) {
	t.Helper()
	assert.NotContains(t, out, testSecret, "output shows the secret")
	assert.NotContains(t, out, livestattest.DefaultCorpSecret, "output shows the secret")
	assert.False(t, tokenPattern.MatchString(out), "output shows a token:\n%s", out)
}

func jsonLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		out = append(out, m)
	}
	return out
}

func seeded(t *testing.T, pageSize int) *livestattest.Server {
	return newServer(t, livestattest.Options{
		PageSize: pageSize,
		Living: map[string][]livestat.LivingViewer{"L": {
			{Kind: livestat.KindUser, UserID: "zhangsan", WatchTime: 3720, IsComment: true, InvitorUserID: "lisi"},
			{Kind: livestat.KindExternalUser, ExternalUserID: "wmEXT1", Type: livestat.ExternalUserWeChat, Name: "王芳", WatchTime: 45, IsMic: true},
			{Kind: livestat.KindUser, UserID: "lisi", WatchTime: 725},
		}},
		School: map[string]livestattest.School{"S": {
			Watchers: []livestat.SchoolWatcher{
				{Kind: livestat.KindStudent, StudentUserID: "stu1", PartyIDs: []int64{10, 11}, WatchTime: 30, EnterTime: 1586433904, LeaveTime: 1586434000, IsComment: true},
				{Kind: livestat.KindParent, ParentUserID: "par1", StudentUserID: "stu1", PartyIDs: []int64{10, 11}, WatchTime: 3600, EnterTime: 1586433904, LeaveTime: 1586437504},
				{Kind: livestat.KindVisitor, Nickname: "游客", WatchTime: 61, EnterTime: 1586433904, LeaveTime: 1586433965},
			},
			Absentees: []livestat.SchoolAbsentee{
				{Kind: livestat.KindStudent, StudentUserID: "stu2", PartyIDs: []int64{5}},
				{Kind: livestat.KindParent, ParentUserID: "par2", StudentUserID: "stu2", PartyIDs: []int64{5}},
			},
		}},
	})
}

func TestJSONLinesCarryKindAndAPIFields(t *testing.T) {
	srv := seeded(t, 2)
	c := newCLI(t, srv)
	for _, tc := range []struct {
		args []string
		want []string // each line, as JSON
	}{
		{[]string{"wecom-watch", "--living-id", "L"}, []string{
			`{"kind":"user","userid":"zhangsan","watch_time":3720,"is_comment":1,"is_mic":0,"invitor_userid":"lisi"}`,
			`{"kind":"external_user","external_userid":"wmEXT1","type":1,"name":"王芳","watch_time":45,"is_comment":0,"is_mic":1}`,
			`{"kind":"user","userid":"lisi","watch_time":725,"is_comment":0,"is_mic":0}`,
		}},
		{[]string{"wecom-school-watch", "--living-id", "S"}, []string{
			`{"kind":"student","student_userid":"stu1","partyids":[10,11],"watch_time":30,"enter_time":1586433904,"leave_time":1586434000,"is_comment":1}`,
			`{"kind":"parent","student_userid":"stu1","parent_userid":"par1","partyids":[10,11],"watch_time":3600,"enter_time":1586433904,"leave_time":1586437504,"is_comment":0}`,
			`{"kind":"visitor","nickname":"游客","watch_time":61,"enter_time":1586433904,"leave_time":1586433965,"is_comment":0}`,
		}},
		{[]string{"wecom-school-unwatch", "--living-id", "S"}, []string{
			`{"kind":"student","student_userid":"stu2","partyids":[5]}`,
			`{"kind":"parent","student_userid":"stu2","parent_userid":"par2","partyids":[5]}`,
		}},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			r := c.run(tc.args...)
			require.Equal(t, 0, r.code, r.stderr)
			assert.Empty(t, r.stderr, "nothing on a non-terminal stderr")
			lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
			require.Len(t, lines, len(tc.want), r.stdout)
			for i := range lines {
				assert.JSONEq(t, tc.want[i], lines[i])
				assert.True(t, strings.HasPrefix(lines[i], `{"kind":`), "kind comes first: %s", lines[i])
				assert.Equal(t, 1, strings.Count(lines[i], `"kind":`), "kind once: %s", lines[i])
			}
		})
	}
}

func TestCSVHasKindThenAPIFieldNames(t *testing.T) {
	srv := seeded(t, 2)
	c := newCLI(t, srv)
	for _, tc := range []struct {
		args []string
		want [][]string
	}{
		{[]string{"wecom-watch", "--living-id", "L", "--format", "csv"}, [][]string{
			{"kind", "userid", "external_userid", "type", "name", "watch_time", "is_comment", "is_mic", "invitor_userid", "invitor_external_userid"},
			{"user", "zhangsan", "", "", "", "3720", "1", "0", "lisi", ""},
			{"external_user", "", "wmEXT1", "1", "王芳", "45", "0", "1", "", ""},
			{"user", "lisi", "", "", "", "725", "0", "0", "", ""},
		}},
		{[]string{"wecom-school-watch", "--format", "csv", "--living-id", "S"}, [][]string{
			{"kind", "student_userid", "parent_userid", "nickname", "partyids", "watch_time", "enter_time", "leave_time", "is_comment"},
			{"student", "stu1", "", "", "10;11", "30", "1586433904", "1586434000", "1"},
			{"parent", "stu1", "par1", "", "10;11", "3600", "1586433904", "1586437504", "0"},
			{"visitor", "", "", "游客", "", "61", "1586433904", "1586433965", "0"},
		}},
		{[]string{"wecom-school-unwatch", "--living-id=S", "--format=csv"}, [][]string{
			{"kind", "student_userid", "parent_userid", "partyids"},
			{"student", "stu2", "", "5"},
			{"parent", "stu2", "par2", "5"},
		}},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			r := c.run(tc.args...)
			require.Equal(t, 0, r.code, r.stderr)
			recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
			require.NoError(t, err)
			assert.Equal(t, tc.want, recs)
		})
	}
}

func TestTableIsForPeople(t *testing.T) {
	srv := seeded(t, 2)
	c := newCLI(t, srv)
	c.stdoutTTY = true // table is the default on a terminal

	r := c.run("wecom-watch", "--living-id", "L")
	require.Equal(t, 0, r.code, r.stderr)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	require.Len(t, lines, 5, r.stdout)
	assert.Regexp(t, `^KIND\s+ID\s+NAME\s+TYPE\s+WATCHED`, lines[0])
	assert.Regexp(t, `^user\s+zhangsan\s+1h02m\s+yes\s+no\s+lisi$`, lines[1])
	assert.Regexp(t, `^external_user\s+wmEXT1\s+王芳\s+wechat\s+45s\s+no\s+yes$`, lines[2])
	assert.Regexp(t, `^user\s+lisi\s+12m05s\s`, lines[3])
	assert.Equal(t, "(3 rows)", lines[4])
	// Columns line up, also after a name in Chinese (two columns a character).
	endOf := func(line, s string) int { return displayWidth(line[:strings.Index(line, s)+len(s)]) }
	assert.Equal(t, endOf(lines[1], " 1h02m"), endOf(lines[2], " 45s"))

	r = c.run("wecom-school-watch", "--living-id", "S", "--format", "table")
	require.Equal(t, 0, r.code, r.stderr)
	enter := time.Unix(1586433904, 0).Local().Format("2006-01-02 15:04")
	assert.Contains(t, r.stdout, enter, "times in local time")
	assert.Regexp(t, `parent\s+par1\s+stu1\s+10,11\s+1h00m\s+`+regexp.QuoteMeta(enter), r.stdout)
}

func TestDefaultFormat(t *testing.T) {
	srv := seeded(t, 10)
	c := newCLI(t, srv)
	r := c.run("wecom-school-unwatch", "--living-id", "S")
	assert.Len(t, jsonLines(t, r.stdout), 2, "jsonl when stdout is not a terminal")

	c.stdoutTTY = true
	r = c.run("wecom-school-unwatch", "--living-id", "S")
	assert.True(t, strings.HasPrefix(r.stdout, "KIND"), "a table on a terminal:\n%s", r.stdout)

	out := filepath.Join(t.TempDir(), "x.jsonl")
	r = c.run("wecom-school-unwatch", "--living-id", "S", "--out", out)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, r.stdout)
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Len(t, jsonLines(t, string(b)), 2, "jsonl into a file, even from a terminal")
}

// Usage errors exit 2 with usage on stderr, print nothing on stdout and send
// no request.
func TestUsageErrorsSendNothing(t *testing.T) {
	srv := seeded(t, 2)
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string // overrides
		want string            // in stderr
	}{
		{"no command", nil, nil, "Usage:"},
		{"unknown command", []string{"wecom-watched"}, nil, `unknown command "wecom-watched"`},
		{"flag before the command", []string{"--format", "csv", "wecom-watch"}, nil, "flags go after the command name"},
		{"missing --living-id", []string{"wecom-watch"}, nil, "missing required flag --living-id"},
		{"empty --living-id", []string{"wecom-school-watch", "--living-id", ""}, nil, "missing required flag --living-id"},
		{"unknown flag", []string{"wecom-watch", "--living-id", "L", "--verbose"}, nil, "wecom-watch: unknown flag --verbose\n"},
		{"flag without its value", []string{"wecom-watch", "--living-id"}, nil, "wecom-watch: flag --living-id needs a value\n"},
		{"bad number", []string{"wecom-livings", "--user-id", "u", "--limit", "ten"}, nil, `wecom-livings: --limit: invalid value "ten": parse error`},
		{"bad boolean", []string{"wecom-livings", "--user-id", "u", "--details=maybe"}, nil, `wecom-livings: --details: invalid value "maybe"`},
		{"bad time", []string{"nuoyun-durations", "--update-time-start", "yesterday"}, nil, `nuoyun-durations: --update-time-start: invalid value "yesterday": want Unix seconds, a date (2026-09-01)`},
		{"xlsx without --out", []string{"wecom-watch", "--living-id", "L", "--format", "XLSX"}, nil, "--format xlsx needs --out FILE"},
		{"--excel with jsonl", []string{"wecom-watch", "--living-id", "L", "--excel", "--format", "jsonl"}, nil, "--excel is for --format csv, not jsonl"},
		{"--excel with a .xlsx file", []string{"wecom-watch", "--living-id", "L", "--excel", "--out", "x.xlsx"}, nil, "--excel is for --format csv, not xlsx"},
		{"stray argument", []string{"wecom-watch", "--living-id", "L", "extra"}, nil, `unexpected argument "extra"`},
		{"bad format", []string{"wecom-watch", "--living-id", "L", "--format", "xml"}, nil, `--format must be jsonl, csv, table or xlsx, not "xml"`},
		{"bad timeout", []string{"wecom-watch", "--living-id", "L", "--timeout", "soon"}, nil, `--timeout: invalid value "soon"`},
		{"negative timeout", []string{"wecom-watch", "--living-id", "L", "--timeout", "-1s"}, nil, "--timeout must not be negative"},
		{"no credentials", []string{"wecom-watch", "--living-id", "L"}, map[string]string{"WECOM_CORP_SECRET": ""}, "WECOM_CORP_ID and WECOM_CORP_SECRET must be set"},
		{"http base URL off loopback", []string{"wecom-watch", "--living-id", "L"}, map[string]string{"WECOM_BASE_URL": "http://qyapi.example.com"}, "loopback"},
		{"demo with a flag it lacks", []string{"demo", "--format", "csv"}, nil, "demo: unknown flag --format\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t, srv)
			for k, v := range tc.env {
				c.env[k] = v
			}
			before := srv.TotalCalls()
			r := c.run(tc.args...)
			assert.Equal(t, 2, r.code)
			assert.Contains(t, r.stderr, tc.want)
			assert.Contains(t, r.stderr, "Usage:")
			assert.Empty(t, r.stdout)
			assert.Equal(t, before, srv.TotalCalls(), "no request sent")
		})
	}
}

func TestHelpGoesToStdout(t *testing.T) {
	c := newCLI(t, nil)
	for _, args := range [][]string{{"help"}, {"--help"}, {"wecom-watch", "-h"}, {"nuoyun-durations", "--help"}, {"demo", "-h"}} {
		r := c.run(args...)
		assert.Equal(t, 0, r.code, args)
		assert.Contains(t, r.stdout, "Usage:", args)
		assert.Empty(t, r.stderr, args)
	}
	r := c.run("help")
	for _, cmd := range []string{"wecom-watch", "wecom-school-watch", "wecom-school-unwatch", "nuoyun-durations", "demo", "--format", "--out", "--timeout", "WECOM_CORP_SECRET", "NUOYUN_APP_KEY"} {
		assert.Contains(t, r.stdout, cmd)
	}
}

// Failures exit 1 with one line naming the endpoint and the error; output
// written before the failure is said to be incomplete, and an --out file
// does not appear.
func TestFailuresExitOneWithOneLine(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault livestattest.Fault
		env   map[string]string
		args  []string
		want  []string // in the stderr line
	}{
		{"errcode on page 2",
			livestattest.Fault{Endpoint: livestat.EndpointWatchStat, Call: 2, ErrCode: 48002, ErrMsg: "api forbidden"}, nil,
			[]string{"wecom-watch", "--living-id", "L"},
			[]string{"living/get_watch_stat", "errcode 48002", "api forbidden", "output is incomplete (2 rows were written)"}},
		{"wrong secret",
			livestattest.Fault{}, map[string]string{"WECOM_CORP_SECRET": "wrong-secret-value"},
			[]string{"wecom-school-watch", "--living-id", "S"},
			[]string{"gettoken", "errcode 40001", "check WECOM_CORP_ID and WECOM_CORP_SECRET"}},
		{"HTTP 502 on every call",
			livestattest.Fault{Endpoint: livestat.EndpointSchoolUnwatchStat, Times: -1, HTTPStatus: 502}, nil,
			[]string{"wecom-school-unwatch", "--living-id", "S"},
			[]string{"school/living/get_unwatch_stat_v2", "HTTP 502"}},
		{"deadline",
			livestattest.Fault{Endpoint: livestat.EndpointWatchStat, Call: 1, Delay: time.Hour}, nil,
			[]string{"wecom-watch", "--living-id", "L", "--timeout", "200ms"},
			[]string{"timed out after 200ms (--timeout)", "living/get_watch_stat"}},
		{"unknown livingid",
			livestattest.Fault{}, nil,
			[]string{"wecom-watch", "--living-id", "nope"},
			[]string{"living/get_watch_stat", "errcode 40058"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := seeded(t, 2)
			if tc.fault.Endpoint != "" {
				srv.Fail(tc.fault)
			}
			c := newCLI(t, srv)
			for k, v := range tc.env {
				c.env[k] = v
			}
			r := c.run(tc.args...)
			assert.Equal(t, 1, r.code)
			assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line:\n%s", r.stderr)
			assert.True(t, strings.HasPrefix(r.stderr, "livestat "+tc.args[0]+": "), r.stderr)
			for _, w := range tc.want {
				assert.Contains(t, r.stderr, w)
			}
			assert.NotContains(t, r.stderr, "wrong-secret-value")

			// The same into a file: no file appears.
			if tc.fault.Endpoint != "" {
				srv.Fail(tc.fault)
			}
			out := filepath.Join(t.TempDir(), "out.csv")
			r = c.run(append(tc.args, "--out", out)...)
			assert.Equal(t, 1, r.code)
			assert.Contains(t, r.stderr, out+" was not written")
			_, err := os.Stat(out)
			assert.True(t, os.IsNotExist(err), "no partial file")
			entries, _ := os.ReadDir(filepath.Dir(out))
			assert.Empty(t, entries, "no temporary file left behind")
		})
	}
}

// Rows are written as pages arrive: the first page is on stdout before the
// second is asked for.
func TestRowsStreamPageByPage(t *testing.T) {
	srv := newServer(t, livestattest.Options{PageSize: 10, Living: map[string][]livestat.LivingViewer{"L": livestattest.GenerateViewers(35, 1)}})
	w := &probe{srv: srv}
	code := run(context.Background(), []string{"wecom-watch", "--living-id", "L"}, stdio{
		stdout: w, stderr: &bytes.Buffer{},
		getenv: newCLI(t, srv).getenv,
	})
	require.Equal(t, 0, code)
	assert.Equal(t, []int{1, 2, 3, 4}, w.callsAtWrite, "one write per page, each right after its page")
	assert.Len(t, jsonLines(t, w.buf.String()), 35)
}

func (c *cli) getenv(k string) string { return c.env[k] }

// probe records how many pages the server had served at each write.
type probe struct {
	mu           sync.Mutex
	srv          *livestattest.Server
	buf          bytes.Buffer
	callsAtWrite []int
}

func (p *probe) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.callsAtWrite = append(p.callsAtWrite, p.srv.Calls(livestat.EndpointWatchStat))
	return p.buf.Write(b)
}

func TestProgressOnlyOnATerminal(t *testing.T) {
	srv := newServer(t, livestattest.Options{PageSize: 10, School: map[string]livestattest.School{"S": livestattest.GenerateSchool(30, 1)}})
	c := newCLI(t, srv)

	r := c.run("wecom-school-watch", "--living-id", "S")
	require.Equal(t, 0, r.code)
	assert.Empty(t, r.stderr)

	c.stderrTTY = true
	r = c.run("wecom-school-watch", "--living-id", "S")
	require.Equal(t, 0, r.code)
	rows := len(jsonLines(t, r.stdout))
	pages := (rows + 9) / 10
	assert.Contains(t, r.stderr, fmt.Sprintf("\r\x1b[Kwecom-school-watch: %d pages, %d rows", pages, rows))
	assert.True(t, strings.HasSuffix(r.stderr, "\r\x1b[K"), "the line is cleared at the end")
}

func TestDemoNeedsNoCredentialsAndNoNetwork(t *testing.T) {
	// The environment points at a server that must not be called.
	tripwire := newServer(t, livestattest.Options{})
	c := newCLI(t, tripwire)
	r := c.run("demo")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, r.stderr)
	for _, step := range demoSteps() {
		assert.Contains(t, r.stdout, "$ livestat "+strings.Join(step, " "))
	}
	assert.Regexp(t, `(?m)^KIND\s+ID\s+NAME\s+TYPE\s+WATCHED`, r.stdout)
	assert.Regexp(t, `(?m)^\(\d+ rows\)$`, r.stdout)
	// A school attendance table with its class summary.
	assert.Regexp(t, `(?m)^KIND\s+ID\s+NAME\s+STUDENT\s+CLASSES\s+STATUS\s+WATCHED\s+SHARE`, r.stdout)
	assert.Regexp(t, `(?m)^student\s+student0001\s+\d+\s+(attended|partial)\s`, r.stdout)
	assert.Regexp(t, `(?m)^LIVINGID\s+GROUP\s+TOTAL\s+ATTENDED\s+PARTIAL\s+ABSENT\s+UNKNOWN`, r.stdout)
	assert.Regexp(t, `(?m)^demo-class-live\s+class \d+ students\s+\d+`, r.stdout)
	assert.Equal(t, 0, tripwire.TotalCalls())
}

// The built binary keeps the exit-status contract.
func TestBinary(t *testing.T) {
	bin := buildCLI(t)

	srv := seeded(t, 2)
	env := append(os.Environ(), "WECOM_CORP_ID="+srv.CorpID(), "WECOM_CORP_SECRET="+srv.CorpSecret(), "WECOM_BASE_URL="+srv.URL())
	for _, tc := range []struct {
		args     []string
		code     int
		inStdout string
		inStderr string
	}{
		{[]string{"wecom-watch", "--living-id", "L"}, 0, `{"kind":"user","userid":"zhangsan"`, ""},
		{[]string{"wecom-watch"}, 2, "", "missing required flag --living-id"},
		{[]string{"wecom-watch", "--living-id", "nope"}, 1, "", "errcode 40058"},
		{[]string{"demo"}, 0, "$ livestat wecom-school-unwatch", ""},
	} {
		cmd := exec.Command(bin, tc.args...)
		cmd.Env = env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else {
			require.NoError(t, err)
		}
		assert.Equal(t, tc.code, code, tc.args)
		assert.Contains(t, stdout.String(), tc.inStdout, tc.args)
		assert.Contains(t, stderr.String(), tc.inStderr, tc.args)
		if tc.code == 0 {
			assert.Empty(t, stderr.String(), "no progress when stderr is not a terminal")
		}
		assertNoSecrets(t, stdout.String()+stderr.String())
	}
}

// buildCLI builds the livestat binary and returns its path.
func buildCLI(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	require.NoError(t, err, "the go command runs these tests, so it is on PATH")
	bin := filepath.Join(t.TempDir(), "livestat")
	out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, string(out))
	return bin
}

// nuoyunRows are two rows as the docs show them: one with a store and
// third-party ids, one with empty objects and no device.
const nuoyunRows = `[
 {"room_id":1248039790,"wechat_user_space_id":8756,"wechat_user_name":"CLANNAD","wechat_user_photo":"https://x.test/a.jpg?s=1&t=2",
  "stay_duration":3720,"ip":"123.52.16.175","third_uuid":"crm-1",
  "third_wechat_info":{"authorizer_appid":"wxAPP","openid":"oOPEN","unionid":"uUNION"},
  "live_duration":3000,"playback_duration":720,"channel_info":{"channel_id":3128527,"channel_name":"袁","store_id":"S1"},
  "invited_wechat_user_space_id":0,"invited_name":"","first_visit_time":"2025-09-16 15:06:06","last_visit_time":"2025-09-16 15:06:06",
  "device":"iOS","area":"河南 郑州"},
 {"room_id":1247419132,"wechat_user_space_id":315897,"wechat_user_name":"","wechat_user_photo":"","stay_duration":10,"ip":"",
  "third_uuid":"","third_wechat_info":{},"live_duration":0,"playback_duration":0,"channel_info":{},
  "invited_wechat_user_space_id":8756,"invited_name":"CLANNAD","first_visit_time":"2025-09-16 19:28:18","last_visit_time":"2025-09-17 09:51:35",
  "device":"","area":""}
]`

func nuoyunServer(t *testing.T, rows []livestat.UserDuration) *livestattest.Server {
	t.Helper()
	return livestattest.NewServer(t, livestattest.Options{
		Nuoyun: rows, NuoyunUserSpaceID: 34043700,
		NuoyunAppKey: "nuoyun-key", NuoyunAppSecret: testSecret,
	})
}

func nuoyunCLI(t *testing.T, srv *livestattest.Server) *cli {
	c := newCLI(t, srv)
	c.env["NUOYUN_APP_KEY"] = srv.NuoyunAppKey()
	c.env["NUOYUN_APP_SECRET"] = srv.NuoyunAppSecret()
	return c
}

func TestNuoyunDurations(t *testing.T) {
	var rows []livestat.UserDuration
	require.NoError(t, json.Unmarshal([]byte(nuoyunRows), &rows))
	srv := nuoyunServer(t, rows)
	c := nuoyunCLI(t, srv)

	t.Run("jsonl", func(t *testing.T) {
		r := c.run("nuoyun-durations", "--user-space-id", "34043700")
		require.Equal(t, 0, r.code, r.stderr)
		var want []map[string]any
		require.NoError(t, json.Unmarshal([]byte(nuoyunRows), &want))
		got := jsonLines(t, r.stdout)
		require.Len(t, got, 2)
		for i := range got {
			assert.Equal(t, "user", got[i]["kind"])
			delete(got[i], "kind")
			assert.Equal(t, want[i], got[i], "the API's field names and values")
		}
		assert.Contains(t, r.stdout, `"https://x.test/a.jpg?s=1&t=2"`, "URLs are not HTML-escaped")
		// The request as the flags say.
		last, _ := srv.LastRequest(livestat.EndpointNuoyunUserDurations)
		var body map[string]any
		require.NoError(t, json.Unmarshal(last.Body, &body))
		assert.EqualValues(t, 34043700, body["wechat_user_space_id"])
		assert.EqualValues(t, 500, body["page_size"])
		assert.Equal(t, "asc", body["sort"], "the API requires sort")
	})

	t.Run("csv", func(t *testing.T) {
		r := c.run("nuoyun-durations", "--user-space-id", "34043700", "--format", "csv", "--sort", "asc", "--page-size", "1")
		require.Equal(t, 0, r.code, r.stderr)
		recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
		require.NoError(t, err)
		assert.Equal(t, [][]string{
			{"kind", "room_id", "wechat_user_space_id", "wechat_user_name", "wechat_user_photo", "stay_duration", "ip", "third_uuid",
				"third_wechat_info_authorizer_appid", "third_wechat_info_openid", "third_wechat_info_unionid",
				"live_duration", "playback_duration", "channel_info_channel_id", "channel_info_channel_name", "channel_info_store_id",
				"invited_wechat_user_space_id", "invited_name", "first_visit_time", "last_visit_time", "area", "device"},
			{"user", "1248039790", "8756", "CLANNAD", "https://x.test/a.jpg?s=1&t=2", "3720", "123.52.16.175", "crm-1",
				"wxAPP", "oOPEN", "uUNION", "3000", "720", "3128527", "袁", "S1", "0", "", "2025-09-16 15:06:06", "2025-09-16 15:06:06", "河南 郑州", "iOS"},
			{"user", "1247419132", "315897", "", "", "10", "", "", "", "", "", "0", "0", "", "", "", "8756", "CLANNAD",
				"2025-09-16 19:28:18", "2025-09-17 09:51:35", "", ""},
		}, recs)
		assert.Equal(t, 2, srv.Calls(livestat.EndpointNuoyunUserDurations)-1, "page size 1: two pages (after the jsonl run's one)")
	})

	t.Run("table", func(t *testing.T) {
		r := c.run("nuoyun-durations", "--user-space-id", "34043700", "--format", "table")
		require.Equal(t, 0, r.code, r.stderr)
		lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
		require.Len(t, lines, 4, r.stdout)
		var first livestat.ChinaTime
		require.NoError(t, json.Unmarshal([]byte(`"2025-09-16 15:06:06"`), &first))
		local := first.Local().Format("2006-01-02 15:04")
		assert.Regexp(t, `^1248039790\s+8756\s+CLANNAD\s+1h02m\s+50m00s\s+12m00s\s+ios\s+河南 郑州\s+`+regexp.QuoteMeta(local)+`\s+\S+ \S+\s+袁$`, lines[1])
		assert.Regexp(t, `^1247419132\s+315897\s+10s\s+0s\s+0s\s+-\s+`, lines[2])
	})

	t.Run("progress counts rows of the total", func(t *testing.T) {
		c.stderrTTY = true
		defer func() { c.stderrTTY = false }()
		r := c.run("nuoyun-durations", "--user-space-id", "34043700", "--page-size", "1")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stderr, "nuoyun-durations: 1 pages, 1 of 2 rows")
		assert.Contains(t, r.stderr, "nuoyun-durations: 2 pages, 2 of 2 rows")
	})
}

// --user-space-id is optional, as wechat_user_space_id is in the API; sort
// is required there, so the CLI always sends it.
func TestNuoyunDurationsWithoutUserSpaceID(t *testing.T) {
	srv := newServer(t, livestattest.Options{Nuoyun: livestattest.GenerateDurations(7, 1)})
	c := newCLI(t, srv)
	r := c.run("nuoyun-durations", "--page-size", "5")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Len(t, jsonLines(t, r.stdout), 7)
	for _, req := range srv.Requests(livestat.EndpointNuoyunUserDurations) {
		var body map[string]any
		require.NoError(t, json.Unmarshal(req.Body, &body))
		assert.NotContains(t, body, "wechat_user_space_id")
		assert.Equal(t, "asc", body["sort"])
	}
}

// Rows whose ids read as 0 are rows: all three of the repro are
// written, and the count matches the total.
func TestNuoyunDurationsWritesRowsWithoutViewerID(t *testing.T) {
	srv := newServer(t, livestattest.Options{Faults: []livestattest.Fault{{
		Endpoint: livestat.EndpointNuoyunUserDurations, Times: -1,
		Body: `{"code":200,"msg":"Success","data":{"total":3,"list":[
			{"room_id":1,"wechat_user_space_id":0,"wechat_user_name":"a"},
			{"room_id":1,"wechat_user_space_id":"","wechat_user_name":"b"},
			{"room_id":1,"wechat_user_name":"c"}]}}`,
	}}})
	c := newCLI(t, srv)
	r := c.run("nuoyun-durations", "--user-space-id", "34043700")
	require.Equal(t, 0, r.code, r.stderr)
	rows := jsonLines(t, r.stdout)
	require.Len(t, rows, 3)
	for i, name := range []string{"a", "b", "c"} {
		assert.Equal(t, name, rows[i]["wechat_user_name"])
	}
}

func TestNuoyunDurationsFailures(t *testing.T) {
	srv := nuoyunServer(t, livestattest.GenerateDurations(30, 1))
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string
	}{
		{"negative --user-space-id", []string{"nuoyun-durations", "--user-space-id", "-1"}, nil, 2, "--user-space-id must not be negative"},
		{"empty sort", []string{"nuoyun-durations", "--sort", ""}, nil, 2, "--sort must be asc or desc"},
		{"bad sort", []string{"nuoyun-durations", "--user-space-id", "1", "--sort", "newest"}, nil, 2, "--sort must be asc or desc"},
		{"page size 0", []string{"nuoyun-durations", "--user-space-id", "1", "--page-size", "0"}, nil, 2, "--page-size must be between 1 and 500"},
		{"page size 501", []string{"nuoyun-durations", "--user-space-id", "1", "--page-size", "501"}, nil, 2, "--page-size must be between 1 and 500"},
		{"window backwards", []string{"nuoyun-durations", "--user-space-id", "1", "--update-time-start", "20", "--update-time-end", "10"}, nil, 2, "--update-time-start is after --update-time-end"},
		{"not a number", []string{"nuoyun-durations", "--user-space-id", "abc"}, nil, 2, "invalid value"},
		{"half the credentials", []string{"nuoyun-durations", "--user-space-id", "34043700"}, map[string]string{"NUOYUN_APP_SECRET": ""}, 2, "set both NUOYUN_APP_KEY and NUOYUN_APP_SECRET"},
		{"unknown account", []string{"nuoyun-durations", "--user-space-id", "1"}, nil, 1, "livestat nuoyun-durations: nuoyun RoomRounds/getAccountUserDurationList failed: code 400: 用户不存在"},
		{"wrong secret", []string{"nuoyun-durations", "--user-space-id", "34043700"}, map[string]string{"NUOYUN_APP_SECRET": "not-it"}, 1, "code 400: 签名验证失败"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := nuoyunCLI(t, srv)
			for k, v := range tc.env {
				c.env[k] = v
			}
			before := srv.TotalCalls()
			r := c.run(tc.args...)
			assert.Equal(t, tc.code, r.code)
			assert.Contains(t, r.stderr, tc.want)
			assert.Empty(t, r.stdout)
			if tc.code == 2 {
				assert.Equal(t, before, srv.TotalCalls(), "no request sent")
				assert.Contains(t, r.stderr, "Usage:")
			} else {
				assert.Equal(t, 1, strings.Count(r.stderr, "\n"), r.stderr)
			}
		})
	}

	// A failure on page 3 of 3, after two pages were written.
	srv.Fail(livestattest.Fault{
		Endpoint: livestat.EndpointNuoyunUserDurations, ErrCode: 500, ErrMsg: "服务器繁忙", Times: -1,
		When: func(r livestattest.Request) bool { return bytes.Contains(r.Body, []byte(`"page":3,`)) },
	})
	c := nuoyunCLI(t, srv)
	r := c.run("nuoyun-durations", "--user-space-id", "34043700", "--page-size", "10")
	assert.Equal(t, 1, r.code)
	assert.Len(t, jsonLines(t, r.stdout), 20)
	assert.Contains(t, r.stderr, "code 500: 服务器繁忙; the output is incomplete (20 rows were written)")
}

// On a terminal, stdout and stderr share the screen: the progress line is
// always cleared before rows are written, so what remains on the screen is
// exactly the table.
func TestProgressAndTableShareATerminal(t *testing.T) {
	srv := newServer(t, livestattest.Options{PageSize: 4, School: map[string]livestattest.School{"S": livestattest.GenerateSchool(20, 1)}})
	c := newCLI(t, srv)
	c.stdoutTTY = true
	plain := c.run("wecom-school-watch", "--living-id", "S")
	require.Equal(t, 0, plain.code)

	var screen bytes.Buffer
	code := run(context.Background(), []string{"wecom-school-watch", "--living-id", "S"}, stdio{
		stdout: &screen, stderr: &screen, getenv: c.getenv, stdoutTTY: true, stderrTTY: true,
	})
	require.Equal(t, 0, code)
	assert.Contains(t, screen.String(), "\r\x1b[Kwecom-school-watch: 1 pages, ")
	assert.Equal(t, plain.stdout, render(screen.String()))
}

// render plays output on a minimal terminal that knows "\r\x1b[K" (go to
// the start of the line and clear it).
func render(s string) string {
	var lines []string
	for _, line := range strings.SplitAfter(s, "\n") {
		if i := strings.LastIndex(line, "\r\x1b[K"); i >= 0 {
			line = line[i+len("\r\x1b[K"):]
		}
		if line != "" {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines, "")
}

// Missing credentials exit 2, as the environment check does, even when a
// client without them reaches the export: livestat's ErrNoCredentials is
// not a failure of the service.
func TestNoCredentialsExitTwo(t *testing.T) {
	cmd := wecomWatchCmd()
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	cmd.flags(fs)
	require.NoError(t, fs.Parse([]string{"--living-id", "L"}))
	c, err := livestat.NewClient()
	require.NoError(t, err)
	var stdout, stderr bytes.Buffer
	code := export(context.Background(), cmd, c, commonFlags{format: formatJSONL}, stdio{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }})
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr.String(), "no wecom credentials")
	assert.Equal(t, 1, strings.Count(stderr.String(), "\n"))
	assert.Empty(t, stdout.String())
}
