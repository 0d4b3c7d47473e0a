package main

import (
	"bytes"
	"os"
	"path/filepath"
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
