package livestat_test

// End-to-end tests against livestattest, where a fake that pages, checks
// tokens and fails like the real APIs says more than per-request mocks.

import (
	"context"
	"sync"
	"testing"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Retried failures on any page of any endpoint neither drop nor double a row.
func TestRetriedFailuresKeepEveryRowOnce(t *testing.T) {
	t.Parallel()
	viewers := livestattest.GenerateViewers(47, 1)
	school := livestattest.GenerateSchool(40, 2)
	durations := livestattest.GenerateDurations(47, 3)
	faults := func(ep livestat.Endpoint) []livestattest.Fault {
		busy := -1 // WeCom's "system busy"
		if ep == livestat.EndpointNuoyunUserDurations {
			busy = 500
		}
		return []livestattest.Fault{
			{Endpoint: ep, Call: 2, HTTPStatus: 502},
			{Endpoint: ep, Call: 4, Times: 2, ErrCode: busy},
			{Endpoint: ep, Call: 7, Disconnect: true},
			{Endpoint: ep, Call: 8, Body: `{"errcode":0,"errmsg":"ok","stat_info":{"us`},
		}
	}
	ctx := context.Background()
	for _, tc := range []struct {
		ep   livestat.Endpoint
		read func(c *livestat.Client) (got, want any, err error)
	}{
		{livestat.EndpointWatchStat, func(c *livestat.Client) (any, any, error) {
			got, err := livestat.Collect(c.Living.Viewers(ctx, livestat.WatchStatRequest{LivingID: "L"}))
			return got, viewers, err
		}},
		{livestat.EndpointSchoolWatchStat, func(c *livestat.Client) (any, any, error) {
			got, err := livestat.Collect(c.School.Watchers(ctx, livestat.SchoolStatRequest{LivingID: "S"}))
			return got, school.Watchers, err
		}},
		{livestat.EndpointSchoolUnwatchStat, func(c *livestat.Client) (any, any, error) {
			got, err := livestat.Collect(c.School.Absentees(ctx, livestat.SchoolStatRequest{LivingID: "S"}))
			return got, school.Absentees, err
		}},
		{livestat.EndpointNuoyunUserDurations, func(c *livestat.Client) (any, any, error) {
			got, err := livestat.Collect(c.Nuoyun.UserDurations(ctx, livestat.UserDurationRequest{PageSize: 5}))
			return got, durations, err
		}},
	} {
		t.Run(string(tc.ep), func(t *testing.T) {
			srv := livestattest.NewServer(t, livestattest.Options{
				PageSize: 5,
				Living:   map[string][]livestat.LivingViewer{"L": viewers},
				School:   map[string]livestattest.School{"S": school},
				Nuoyun:   durations,
				Faults:   faults(tc.ep),
			})
			got, want, err := tc.read(srv.Client(livestat.WithNuoyunRateLimit(0, 0), livestat.WithNuoyunWorkers(1)))
			require.NoError(t, err)
			// Each row exactly once (within a page, WeCom groups rows by kind).
			assert.ElementsMatch(t, want, got)
		})
	}
}

// Goroutines sharing a client see the token expire mid-iteration: each
// replays once, and the client fetches one new token for all of them.
func TestConcurrentIterationsRefreshTheTokenOnce(t *testing.T) {
	school := livestattest.GenerateSchool(60, 4)
	srv := livestattest.NewServer(t, livestattest.Options{
		PageSize: 5,
		School:   map[string]livestattest.School{"S": school},
		Faults:   []livestattest.Fault{{Endpoint: livestat.EndpointSchoolWatchStat, Call: 10, ExpireToken: true}},
	})
	c := srv.Client()
	const workers = 8
	results := make([][]livestat.SchoolWatcher, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			results[i], errs[i] = livestat.Collect(c.School.Watchers(context.Background(), livestat.SchoolStatRequest{LivingID: "S"}))
		})
	}
	wg.Wait()
	for i := range workers {
		require.NoError(t, errs[i])
		assert.ElementsMatch(t, school.Watchers, results[i])
	}
	assert.Equal(t, 2, srv.Calls(livestat.EndpointGetToken), "one gettoken at the start, one after the expiry")
}
