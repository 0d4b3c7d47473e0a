package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOffline(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, realMain(context.Background(), nil, &out, func(string) string { return "" }))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	// A note, the header, classes 1001-1003 and the grade group 1900.
	require.Len(t, lines, 6, out.String())
	for i, id := range []string{"1001", "1002", "1003", "1900"} {
		assert.Equal(t, id, strings.Fields(lines[2+i])[0])
	}
}

func TestAttendanceCountsEachClass(t *testing.T) {
	srv := livestattest.NewServer(t, livestattest.Options{PageSize: 2, School: map[string]livestattest.School{"L": {
		Watchers: []livestat.SchoolWatcher{
			{Kind: livestat.KindStudent, StudentUserID: "s1", PartyIDs: []int64{10, 11}, WatchTime: 600},
			{Kind: livestat.KindStudent, StudentUserID: "s2", PartyIDs: []int64{10}, WatchTime: 1200},
			{Kind: livestat.KindParent, ParentUserID: "p1", StudentUserID: "s1", PartyIDs: []int64{10, 11}, WatchTime: 60},
			{Kind: livestat.KindVisitor, Nickname: "v", WatchTime: 5},
		},
		Absentees: []livestat.SchoolAbsentee{
			{Kind: livestat.KindStudent, StudentUserID: "s3", PartyIDs: []int64{11}},
			{Kind: livestat.KindParent, ParentUserID: "p2", StudentUserID: "s2", PartyIDs: []int64{10}},
		},
	}}})
	got, err := attendance(context.Background(), srv.Client(), "L")
	require.NoError(t, err)
	assert.Equal(t, map[int64]*class{
		10: {StudentsWatched: 2, ParentsWatched: 1, ParentsAbsent: 1, StudentTime: 30 * time.Minute, ParentTime: time.Minute},
		11: {StudentsWatched: 1, StudentsAbsent: 1, ParentsWatched: 1, StudentTime: 10 * time.Minute, ParentTime: time.Minute},
	}, got)

	var out bytes.Buffer
	require.NoError(t, report(&out, got))
	assert.Regexp(t, `(?m)^\s*10\s+2\s+0\s+100%\s+30m0s\s+15m0s\s+1\s+1\s+1m0s\s*$`, out.String())
	assert.Regexp(t, `(?m)^\s*11\s+1\s+1\s+50%\s+10m0s\s+10m0s\s+1\s+0\s+1m0s\s*$`, out.String())
}

func TestAttendanceFailsWholly(t *testing.T) {
	srv := livestattest.NewServer(t, livestattest.Options{School: map[string]livestattest.School{"L": livestattest.GenerateSchool(10, 1)}})
	srv.Fail(livestattest.Fault{Endpoint: livestat.EndpointSchoolUnwatchStat, ErrCode: 48002})
	got, err := attendance(context.Background(), srv.Client(), "L")
	assert.ErrorIs(t, err, livestat.ErrPermissionDenied)
	assert.ErrorContains(t, err, "absentees")
	assert.Nil(t, got, "no half report")
}

// With credentials, the program talks to WECOM_BASE_URL when it is set.
func TestRealAPIPathHonoursWeComBaseURL(t *testing.T) {
	srv := livestattest.NewServer(t, livestattest.Options{School: map[string]livestattest.School{"L": {
		Watchers:  []livestat.SchoolWatcher{{Kind: livestat.KindStudent, StudentUserID: "s1", PartyIDs: []int64{42}, WatchTime: 600}},
		Absentees: []livestat.SchoolAbsentee{{Kind: livestat.KindStudent, StudentUserID: "s2", PartyIDs: []int64{42}}},
	}}})
	env := map[string]string{"WECOM_CORP_ID": srv.CorpID(), "WECOM_CORP_SECRET": srv.CorpSecret(), "WECOM_BASE_URL": srv.URL()}
	var out bytes.Buffer
	require.NoError(t, realMain(context.Background(), []string{"-living-id", "L"}, &out, func(k string) string { return env[k] }))
	assert.Regexp(t, `(?m)^\s*42\s+1\s+1\s+50%\s+10m0s\s`, out.String())
	assert.Equal(t, 1, srv.Calls(livestat.EndpointSchoolWatchStat))
	assert.Equal(t, 1, srv.Calls(livestat.EndpointSchoolUnwatchStat))
}

// Half the credentials is a mistake, not a reason to run offline.
func TestHalfTheCredentialsIsAnError(t *testing.T) {
	for _, env := range []map[string]string{{"WECOM_CORP_ID": "ww1"}, {"WECOM_CORP_SECRET": "s"}} {
		var out bytes.Buffer
		err := realMain(context.Background(), []string{"-living-id", "L"}, &out, func(k string) string { return env[k] })
		assert.ErrorContains(t, err, "set both WECOM_CORP_ID and WECOM_CORP_SECRET, or neither", env)
		assert.Empty(t, out.String(), env)
	}
}
