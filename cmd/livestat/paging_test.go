package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Page 2 of 3 arrives without its paging field (ending, has_more, Nuoyun's
// data.total): the export fails, and --out FILE keeps what it held rather
// than being replaced by the rows of page 1 as a complete export.
func TestOutIsKeptWhenAPageLacksItsPagingField(t *testing.T) {
	page2 := func(r livestattest.Request) bool {
		return bytes.Contains(r.Body, []byte(`"page":2,`)) || // Nuoyun
			bytes.Contains(r.Body, []byte(`"next_`)) // WeCom: any cursor but the first
	}
	for _, tc := range []struct {
		ep   livestat.Endpoint
		args []string
		want string
	}{
		{livestat.EndpointWatchStat, []string{"wecom-watch", "--living-id", "L"}, "no ending field"},
		{livestat.EndpointSchoolWatchStat, []string{"wecom-school-watch", "--living-id", "S"}, "no has_more field"},
		{livestat.EndpointSchoolUnwatchStat, []string{"wecom-school-unwatch", "--living-id", "S"}, "no has_more field"},
		{livestat.EndpointNuoyunUserDurations, []string{"nuoyun-durations", "--user-space-id", "34043700", "--page-size", "2"}, "no data.total field"},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			// Three pages of 2 rows each.
			srv := newServer(t, livestattest.Options{
				PageSize: 2,
				Living:   map[string][]livestat.LivingViewer{"L": livestattest.GenerateViewers(6, 1)},
				School:   map[string]livestattest.School{"S": livestattest.GenerateSchool(6, 2)},
				Nuoyun:   livestattest.GenerateDurations(6, 3),
				Faults:   []livestattest.Fault{{Endpoint: tc.ep, When: page2, Times: -1, OmitPaging: true}},
			})
			dir := t.TempDir()
			out := filepath.Join(dir, "rows.jsonl")
			require.NoError(t, os.WriteFile(out, []byte("the previous export\n"), 0o600))

			r := newCLI(t, srv).run(append(tc.args, "--out", out)...)
			assert.NotEqual(t, 0, r.code, "a page without its paging field is not the end:\n%s", r.stderr)
			assert.Contains(t, r.stderr, tc.want)
			assert.Contains(t, r.stderr, out+" was not written")
			b, err := os.ReadFile(out)
			require.NoError(t, err)
			assert.Equal(t, "the previous export\n", string(b), "--out keeps its content")
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			assert.Len(t, entries, 1, "no temporary file left behind")
		})
	}
}

// The Nuoyun iteration ends with an error when the data changed under it or
// the pages do not make the total: nuoyun-durations exits non-zero and
// --out FILE keeps what it held, instead of being replaced by a result that
// may miss or double rows.
func TestOutIsKeptWhenTheNuoyunTotalDoesNotAddUp(t *testing.T) {
	row := func(id int) string {
		return `{"room_id":7,"wechat_user_space_id":` + strconv.Itoa(id) + `,"wechat_user_name":"v","device":"iOS"}`
	}
	reply := func(total string, ids ...int) string {
		var rows []string
		for _, id := range ids {
			rows = append(rows, row(id))
		}
		return `{"code":200,"msg":"Success","data":{"total":` + total + `,"list":[` + strings.Join(rows, ",") + `]}}`
	}
	for _, tc := range []struct {
		name  string
		page  string // the page whose reply is replaced
		reply string
		want  string
	}{
		// Six rows in pages of 2; page 2 says a row was added.
		{"the total grows on page 2", `"page":2,`, reply("7", 3, 4), "the total changed from 6 (page 1) to 7 (page 2)"},
		// A row removed: the last page says 5, and 4 rows were read.
		{"the total shrinks on the last page", `"page":3,`, reply("5", 6), "the total changed from 6 (page 1) to 5 (page 3)"},
		// The last page brings a row the total does not count.
		{"a row past the total", `"page":3,`, reply("6", 5, 6, 7), "the page holds 3 new rows, more than the page_size of 2 asked for"},
		{"a total that is not a count", `"page":2,`, reply(`""`, 3, 4), "data.total: want a non-negative integer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, livestattest.Options{
				PageSize: 2,
				Nuoyun:   livestattest.GenerateDurations(6, 3),
				Faults: []livestattest.Fault{{Endpoint: livestat.EndpointNuoyunUserDurations, Times: -1, Body: tc.reply,
					When: func(r livestattest.Request) bool { return bytes.Contains(r.Body, []byte(tc.page)) }}},
			})
			dir := t.TempDir()
			out := filepath.Join(dir, "rows.jsonl")
			require.NoError(t, os.WriteFile(out, []byte("the previous export\n"), 0o600))

			r := newCLI(t, srv).run("nuoyun-durations", "--page-size", "2", "--out", out)
			assert.Equal(t, exitFailure, r.code, "not a complete export:\n%s", r.stderr)
			assert.Contains(t, r.stderr, tc.want)
			assert.Contains(t, r.stderr, out+" was not written")
			b, err := os.ReadFile(out)
			require.NoError(t, err)
			assert.Equal(t, "the previous export\n", string(b), "--out keeps its content")
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			assert.Len(t, entries, 1, "no temporary file left behind")

			// To stdout, the rows before the failing page are written,
			// and the exit status and message say the output is
			// incomplete.
			r = newCLI(t, srv).run("nuoyun-durations", "--page-size", "2")
			assert.Equal(t, exitFailure, r.code)
			assert.Contains(t, r.stderr, "the output is incomplete")
		})
	}
}
