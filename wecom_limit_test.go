package livestat_test

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// wecomArrivals returns when the calls of ep reached srv, in order.
func wecomArrivals(srv *livestattest.Server, ep livestat.Endpoint) []time.Time {
	var out []time.Time
	for _, r := range srv.Requests(ep) {
		out = append(out, r.Time)
	}
	return slices.SortedFunc(slices.Values(out), time.Time.Compare)
}

// The WeCom limiter, scaled down to 10 per second (a bucket of 10 that
// refills at 10 a second), holds at the server for every API on its own,
// across goroutines, an iteration and retries: no window of 1 s holds more
// than 10 + 10 arrivals of one API, none of 3 s more than 10 + 30. The APIs
// do not share a bucket. Measured on synctest's clock.
func TestWeComRateLimitPerAPIAtTheServer(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ids, school := livestattest.GenerateSchoolLivings("S", 4, 300, 1)
		srv := livestattest.NewServer(t, livestattest.Options{School: school, InMemory: true})
		c := srv.Client(livestat.WithWeComRateLimit(10, time.Second))
		// Three details calls fail with 45009 and are retried, through
		// the limiter.
		for _, call := range []int{5, 17, 40} {
			srv.Fail(livestattest.Fault{Endpoint: livestat.EndpointSchoolLivingInfo, ErrCode: 45009, Call: call})
		}
		start := time.Now()

		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for range 15 {
					_, err := c.School.GetLivingInfo(context.Background(), ids[g])
					assert.NoError(t, err)
				}
			})
			wg.Go(func() { // pages of 100 watchers
				for range 5 {
					n := 0
					for _, err := range c.School.Watchers(context.Background(), livestat.SchoolStatRequest{LivingID: ids[g]}) {
						require.NoError(t, err)
						n++
					}
					assert.Equal(t, len(school[ids[g]].Watchers), n)
				}
			})
		}
		wg.Wait()

		info := wecomArrivals(srv, livestat.EndpointSchoolLivingInfo)
		watch := wecomArrivals(srv, livestat.EndpointSchoolWatchStat)
		require.Len(t, info, 60+3, "60 calls and 3 retries")
		require.Greater(t, len(watch), 40)
		for name, got := range map[string][]time.Time{"get_living_info": info, "get_watch_stat_v2": watch} {
			assert.LessOrEqual(t, maxInWindow(got, time.Second+1), 20, "%s: no 1 s window holds more than 10 + 10", name)
			assert.LessOrEqual(t, maxInWindow(got, 3*time.Second+1), 40, "%s: no 3 s window holds more than 10 + 30", name)
			// Paced, and not slower than the pace: the 11th and later go
			// 100 ms apart.
			assert.Equal(t, time.Duration(len(got)-10)*100*time.Millisecond, got[len(got)-1].Sub(start).Round(time.Millisecond), name)
		}
		both := slices.SortedFunc(slices.Values(append(slices.Clone(info), watch...)), time.Time.Compare)
		assert.Greater(t, maxInWindow(both, time.Second+1), 20, "each API has its own bucket")
	})
}

// A request whose turn comes after its deadline fails at once, unsent.
func TestWeComRateLimitHonoursTheDeadline(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ids, school := livestattest.GenerateSchoolLivings("S", 1, 10, 1)
		srv := livestattest.NewServer(t, livestattest.Options{School: school, InMemory: true})
		c := srv.Client(livestat.WithWeComRateLimit(1, time.Hour))
		_, err := c.School.GetLivingInfo(context.Background(), ids[0])
		require.NoError(t, err)
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, err = c.School.GetLivingInfo(ctx, ids[0])
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Zero(t, time.Since(start), "without waiting for the deadline")
		assert.Equal(t, 1, srv.Calls(livestat.EndpointSchoolLivingInfo))
		// Another API has its own bucket.
		_, err = c.School.GetWatchStatV2(ctx, livestat.SchoolStatRequest{LivingID: ids[0]})
		assert.NoError(t, err)
	})
}

// pathLimiter counts the waits of one API.
type pathLimiter struct{ waits atomic.Int32 }

func (l *pathLimiter) Wait(ctx context.Context) error { l.waits.Add(1); return ctx.Err() }

// WithWeComLimiter replaces the built-in limiters: one Limiter per API
// path, asked for once, waited on by every attempt (retries included).
func TestWeComCustomLimiterPerAPI(t *testing.T) {
	t.Parallel()
	ids, school := livestattest.GenerateSchoolLivings("S", 1, 250, 1)
	srv := livestattest.NewServer(t, livestattest.Options{School: school})
	var mu sync.Mutex
	made := map[string]*pathLimiter{}
	asked := 0
	c := srv.Client(livestat.WithWeComRateLimit(1, time.Hour), livestat.WithWeComLimiter(func(path string) livestat.Limiter {
		mu.Lock()
		defer mu.Unlock()
		asked++
		made[path] = &pathLimiter{}
		return made[path]
	}))
	srv.Fail(livestattest.Fault{Endpoint: livestat.EndpointSchoolWatchStat, ErrCode: 45033, Times: 1})
	for range 2 {
		n := 0
		for _, err := range c.School.Watchers(context.Background(), livestat.SchoolStatRequest{LivingID: ids[0]}) {
			require.NoError(t, err, "a 1-per-hour built-in limiter would have blocked: the custom ones are used")
			n++
		}
		assert.Equal(t, len(school[ids[0]].Watchers), n)
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 2, asked, "once per API: gettoken and get_watch_stat_v2")
	require.Contains(t, made, "/cgi-bin/school/living/get_watch_stat_v2")
	assert.EqualValues(t, srv.Calls(livestat.EndpointSchoolWatchStat), made["/cgi-bin/school/living/get_watch_stat_v2"].waits.Load(),
		"every attempt waits, the 45033 retry included")
	assert.EqualValues(t, 1, made["/cgi-bin/gettoken"].waits.Load())
}

func TestWeComRateLimitOptionErrors(t *testing.T) {
	t.Parallel()
	for _, opt := range []livestat.Option{livestat.WithWeComRateLimit(-1, time.Second), livestat.WithWeComRateLimit(5, 0)} {
		_, err := livestat.NewClient(livestat.WithWeComApp("corp", "secret"), opt)
		assert.ErrorContains(t, err, "WithWeComRateLimit")
	}
	_, err := livestat.NewClient(livestat.WithWeComApp("corp", "secret"), livestat.WithWeComRateLimit(0, 0))
	assert.NoError(t, err, "0 turns the limit off")
}
