package attendance_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/attendance"
	"github.com/livestat/livestat/livestattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Reports come back in the order asked for, however they finish: here the
// first broadcast's details are held back until every other report is
// done. Progress counts each one once.
func TestSchoolsKeepInputOrder(t *testing.T) {
	ids, school := livestattest.GenerateSchoolLivings("S", 8, 12, 1)
	slices.Reverse(ids)
	first := ids[0]
	othersDone := make(chan struct{})
	srv := livestattest.NewServer(t, livestattest.Options{School: school, Faults: []livestattest.Fault{{
		Endpoint: livestat.EndpointSchoolLivingInfo,
		When: func(r livestattest.Request) bool {
			if r.Query.Get("livingid") == first {
				<-othersDone
			}
			return false // no fault: only hold the call back
		},
		Times: -1,
	}}})
	var mu sync.Mutex
	var progress []int
	reps, err := attendance.Schools(t.Context(), srv.Client(), ids, attendance.Options{
		Concurrency: len(ids),
		Progress: func(done, total int) {
			mu.Lock()
			defer mu.Unlock()
			assert.Equal(t, len(ids), total)
			progress = append(progress, done)
			if done == len(ids)-1 {
				close(othersDone)
			}
		},
	})
	require.NoError(t, err)
	require.Len(t, reps, len(ids))
	for i, rep := range reps {
		assert.Equal(t, ids[i], rep.LivingID)
		sc := school[ids[i]]
		assert.Len(t, rep.Rows, len(sc.Watchers)+len(sc.Absentees), ids[i])
	}
	assert.Equal(t, []int{1, 2, 3, 4, 5, 6, 7, 8}, progress)
}

// The first error cancels the reports in progress, starts no other and is
// returned, naming its broadcast. (TestMain checks that no goroutine is
// left behind.)
func TestSchoolsFirstErrorCancelsTheRest(t *testing.T) {
	ids, school := livestattest.GenerateSchoolLivings("S", 6, 5, 1)
	srv := livestattest.NewServer(t, livestattest.Options{School: school, Faults: []livestattest.Fault{
		{Endpoint: livestat.EndpointSchoolLivingInfo, When: livingIs("S001"), ErrCode: 48002},
		// Held until the client gives up: only the cancellation ends it.
		{Endpoint: livestat.EndpointSchoolLivingInfo, When: livingIs("S002"), Delay: time.Hour},
	}})
	reps, err := attendance.Schools(t.Context(), srv.Client(), ids, attendance.Options{Concurrency: 2})
	require.ErrorIs(t, err, livestat.ErrPermissionDenied)
	assert.Contains(t, err.Error(), "living S001")
	assert.Nil(t, reps)
	for _, r := range srv.Requests(livestat.EndpointSchoolLivingInfo) {
		assert.Contains(t, []string{"S001", "S002"}, r.Query.Get("livingid"), "started after the error")
	}
	assert.Zero(t, srv.Calls(livestat.EndpointSchoolWatchStat))

	// The caller's context: ended before anything started.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = attendance.Corps(ctx, srv.Client(), []string{"C1", "C2"}, attendance.Options{})
	require.ErrorIs(t, err, context.Canceled)
}

func livingIs(id string) func(livestattest.Request) bool {
	return func(r livestattest.Request) bool { return r.Query.Get("livingid") == id }
}

// A teacher with 250 lessons, one a day: the IDs since a date are those
// whose details start then or later, in the API's order; with no date the
// IDs are listed without any details fetched.
func TestSchoolLivingIDsSince(t *testing.T) {
	ids, school := livestattest.GenerateSchoolLivings("L", 250, 2, 1)
	srv := livestattest.NewServer(t, livestattest.Options{School: school, UserLivings: map[string][]string{"teacher": ids}})
	c := srv.Client()

	all, err := attendance.SchoolLivingIDs(t.Context(), c, "teacher", time.Time{}, attendance.Options{})
	require.NoError(t, err)
	assert.Equal(t, ids, all)
	assert.Equal(t, 3, srv.Calls(livestat.EndpointUserLivingIDs), "250 IDs in pages of 100")
	assert.Zero(t, srv.Calls(livestat.EndpointSchoolLivingInfo))

	since := time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	var want []string
	for _, id := range ids {
		info, ok := srv.SchoolLivingInfo(id)
		require.True(t, ok)
		if !info.LivingStart.Time().Before(since) {
			want = append(want, id)
		}
	}
	require.NotEmpty(t, want)
	require.Less(t, len(want), len(ids))
	calls := 0
	got, err := attendance.SchoolLivingIDs(t.Context(), c, "teacher", since, attendance.Options{Progress: func(done, total int) { calls++ }})
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.Equal(t, ids[len(ids)-len(want):], got, "one a day: the last ones")
	assert.Equal(t, len(ids), calls)
}

// The same for corp broadcasts, with a live one among them.
func TestCorpLivingIDsSince(t *testing.T) {
	living := make(map[string][]livestat.LivingViewer)
	var ids []string
	for i := 1; i <= 40; i++ {
		id := fmt.Sprintf("C%02d", i)
		ids = append(ids, id)
		living[id] = livestattest.GenerateViewers(3, uint64(i))
	}
	srv := livestattest.NewServer(t, livestattest.Options{Living: living, UserLivings: map[string][]string{"m": ids}, Live: []string{"C07"}})
	since := time.Date(2025, 9, 16, 0, 0, 0, 0, time.UTC)
	var want []string
	for _, id := range ids {
		info, _ := srv.LivingInfo(id)
		if !info.LivingStart.Time().Before(since) {
			want = append(want, id)
		}
	}
	require.NotEmpty(t, want)
	require.Less(t, len(want), len(ids))
	got, err := attendance.CorpLivingIDs(t.Context(), srv.Client(), "m", since, attendance.Options{Concurrency: 3})
	require.NoError(t, err)
	assert.Equal(t, want, got)

	reps, err := attendance.Corps(t.Context(), srv.Client(), got, attendance.Options{})
	require.NoError(t, err)
	for i, rep := range reps {
		assert.Equal(t, got[i], rep.LivingID)
		assert.Equal(t, got[i] == "C07", rep.Incomplete)
		assert.Len(t, rep.Rows, 3)
	}
}
