package main

import (
	"encoding/csv"
	"fmt"
	"strings"
	"testing"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func livingsServer(t *testing.T, n int) (*livestattest.Server, []string) {
	ids := make([]string, n)
	living := map[string][]livestat.LivingViewer{}
	for i := range ids {
		ids[i] = fmt.Sprintf("lv%03d", i)
		living[ids[i]] = livestattest.GenerateViewers(1+i%4, uint64(i))
	}
	replay := livestat.ReplayGenerating
	srv := newServer(t, livestattest.Options{
		Living:      living,
		UserLivings: map[string][]string{"zhangsan": ids},
		LivingInfo: map[string]livestat.LivingInfo{"lvX": {
			Theme: "直角三角形讲解", LivingStart: 1586405229, LivingDuration: 1800, Status: livestat.LivingExpired,
			AnchorUserID: "lisi", MainDepartment: 1, OpenReplay: true, ReplayStatus: &replay, Type: livestat.LivingTypeEvent,
		}},
		School: map[string]livestattest.School{"S": livestattest.GenerateSchool(5, 1)},
		SchoolLivingInfo: map[string]livestat.SchoolLivingInfo{"S2": {
			Theme: "t", LivingRange: livestat.LivingRange{PartyIDs: []int64{1, 4, 9}, GroupNames: []string{"group_name1", "=cmd"}},
		}},
	})
	return srv, ids
}

// wecom-livings lists a member's livingids, one {"livingid": …} row each, in
// the API's order, page after page.
func TestWeComLivings(t *testing.T) {
	srv, ids := livingsServer(t, 7)
	r := newCLI(t, srv).run("wecom-livings", "--user-id", "zhangsan", "--limit", "3", "--format", "jsonl")
	require.Equal(t, 0, r.code, r.stderr)
	var want []map[string]any
	for _, id := range ids {
		want = append(want, map[string]any{"livingid": id})
	}
	assert.Equal(t, want, jsonLines(t, r.stdout))
	assert.Equal(t, 3, srv.Calls(livestat.EndpointUserLivingIDs))
	assert.Zero(t, srv.Calls(livestat.EndpointLivingInfo), "details only with --details")
}

// With --details each row carries its living's get_living_info fields,
// rows in list order, whatever order the concurrent calls end in.
func TestWeComLivingsDetails(t *testing.T) {
	srv, ids := livingsServer(t, 9)
	r := newCLI(t, srv).run("wecom-livings", "--user-id", "zhangsan", "--limit", "4", "--details", "--format", "jsonl")
	require.Equal(t, 0, r.code, r.stderr)
	rows := jsonLines(t, r.stdout)
	require.Len(t, rows, len(ids))
	for i, row := range rows {
		info, ok := srv.LivingInfo(ids[i])
		require.True(t, ok)
		assert.Equal(t, ids[i], row["livingid"])
		assert.EqualValues(t, info.ViewerNum, row["viewer_num"], ids[i])
		assert.EqualValues(t, info.LivingDuration, row["living_duration"], ids[i])
		assert.EqualValues(t, "zhangsan", row["anchor_userid"], ids[i])
		for _, f := range livingInfoFields {
			if f == "replay_status" || f == "push_stream_url" {
				continue // only when the API sends them
			}
			assert.Contains(t, row, f, ids[i])
		}
	}
	assert.Equal(t, len(ids), srv.Calls(livestat.EndpointLivingInfo))
}

// A failed detail ends the command with exit 1; the rows of earlier pages
// are out, none of the failed page.
func TestWeComLivingsDetailsFailure(t *testing.T) {
	srv, _ := livingsServer(t, 6)
	srv.Fail(livestattest.Fault{Endpoint: livestat.EndpointLivingInfo, Call: 5, ErrCode: 92008, Times: -1})
	r := newCLI(t, srv).run("wecom-livings", "--user-id", "zhangsan", "--limit", "3", "--details", "--format", "jsonl")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "living/get_living_info failed: errcode 92008")
	assert.Len(t, jsonLines(t, r.stdout), 3)
}

// wecom-living-info writes one row, every field under the API's name.
func TestWeComLivingInfo(t *testing.T) {
	srv, _ := livingsServer(t, 1)
	c := newCLI(t, srv)
	r := c.run("wecom-living-info", "--living-id", "lvX", "--format", "jsonl")
	require.Equal(t, 0, r.code, r.stderr)
	rows := jsonLines(t, r.stdout)
	require.Len(t, rows, 1)
	assert.Equal(t, map[string]any{
		"livingid": "lvX", "theme": "直角三角形讲解", "living_start": 1586405229.0, "living_duration": 1800.0, "status": 3.0,
		"reserve_start": 0.0, "reserve_living_duration": 0.0, "description": "", "anchor_userid": "lisi", "main_department": 1.0,
		"viewer_num": 0.0, "comment_num": 0.0, "mic_num": 0.0, "open_replay": 1.0, "replay_status": 1.0, "type": 4.0,
		"online_count": 0.0, "subscribe_count": 0.0,
	}, rows[0])
	r = c.run("wecom-living-info", "--living-id", "lvX", "--format", "csv")
	require.Equal(t, 0, r.code, r.stderr)
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.stdout, "\ufeff"))).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 2)
	assert.Equal(t, append([]string{"livingid"}, livingInfoFields...), recs[0])
	assert.Equal(t, "lvX", recs[1][0])
}

// wecom-school-living-info carries living_range as an object.
func TestWeComSchoolLivingInfo(t *testing.T) {
	srv, _ := livingsServer(t, 1)
	c := newCLI(t, srv)
	r := c.run("wecom-school-living-info", "--living-id", "S2", "--format", "jsonl")
	require.Equal(t, 0, r.code, r.stderr)
	rows := jsonLines(t, r.stdout)
	require.Len(t, rows, 1)
	assert.Equal(t, map[string]any{"partyids": []any{1.0, 4.0, 9.0}, "group_names": []any{"group_name1", "=cmd"}}, rows[0]["living_range"])
	assert.Equal(t, "S2", rows[0]["livingid"])

	r = c.run("wecom-school-living-info", "--living-id", "S", "--format", "table")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, `(?m)^LIVINGID\s+THEME\s+STARTED\s+LENGTH\s+TEACHER\s+CLASSES`, r.stdout)
	assert.Contains(t, r.stdout, "(1 row)")
}

// Missing or invalid flags: exit 2, nothing sent.
func TestLivingsUsageErrorsSendNothing(t *testing.T) {
	srv, _ := livingsServer(t, 1)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"wecom-livings"}, "missing required flag --user-id"},
		{[]string{"wecom-livings", "--user-id", "u", "--limit", "101"}, "--limit must be between 1 and 100"},
		{[]string{"wecom-livings", "--user-id", "u", "--limit", "0"}, "--limit must be between 1 and 100"},
		{[]string{"wecom-living-info"}, "missing required flag --living-id"},
		{[]string{"wecom-school-living-info", "--living-id", ""}, "missing required flag --living-id"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := newCLI(t, srv).run(tc.args...)
			assert.Equal(t, 2, r.code)
			assert.Contains(t, r.stderr, tc.want)
			assert.Empty(t, r.stdout)
			assert.Zero(t, srv.TotalCalls(), "no request sent")
		})
	}
}
