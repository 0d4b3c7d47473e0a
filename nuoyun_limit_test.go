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

// arrivals returns when the Nuoyun calls srv received arrived, in order.
func arrivals(srv *livestattest.Server) []time.Time {
	var out []time.Time
	for _, r := range srv.Requests(nuoyunEP) {
		out = append(out, r.Time)
	}
	return slices.SortedFunc(slices.Values(out), time.Time.Compare)
}

// maxInWindow returns the largest number of times within any half-open
// window [t, t+window).
func maxInWindow(times []time.Time, window time.Duration) int {
	best, j := 0, 0
	for i := range times {
		for j < len(times) && times[j].Sub(times[i]) < window {
			j++
		}
		best = max(best, j-i)
	}
	return best
}

// The default limit (1000 per 10 s) holds across goroutines and an
// iteration's workers, measured on the fake clock.
func TestNuoyunRateLimitDefault(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv, c := numberedNuoyun(t, 40*5, true, // 40 pages of 5
			livestat.WithNuoyunRateLimit(livestat.DefaultNuoyunRateLimit, livestat.DefaultNuoyunRatePeriod), livestat.WithNuoyunWorkers(4))
		start := time.Now()

		var wg sync.WaitGroup
		for range 5 {
			wg.Go(func() {
				for range 240 {
					_, err := c.Nuoyun.GetUserDurations(context.Background(), livestat.UserDurationRequest{Page: 1, PageSize: 5})
					assert.NoError(t, err)
				}
			})
		}
		wg.Go(func() {
			rows, err := livestat.Collect(c.Nuoyun.UserDurations(context.Background(), livestat.UserDurationRequest{PageSize: 5}))
			assert.NoError(t, err)
			assert.Len(t, rows, 200)
		})
		wg.Wait()

		got := arrivals(srv)
		require.Len(t, got, 5*240+40)
		// Spaced 10.5 ms apart: 953 in any 10 s, which leaves 500 ms for
		// the delays on the way to the server to differ by, and no more
		// than 1000 in any 10.5 s.
		assert.Equal(t, 953, maxInWindow(got, 10*time.Second), "at most 953 requests in any 10 s")
		assert.Equal(t, 1000, maxInWindow(got, 10500*time.Millisecond), "at most 1000 in any 10.5 s")
		// ... and not much fewer: 1240 requests spaced 10.5 ms apart.
		elapsed := time.Since(start)
		assert.GreaterOrEqual(t, elapsed, 1239*10500*time.Microsecond)
		assert.Less(t, elapsed, 1240*10500*time.Microsecond)
	})
}

// Retries wait for the limiter too.
func TestNuoyunRateLimitCountsRetries(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv, c := numberedNuoyun(t, 10, true, livestat.WithNuoyunRateLimit(1, time.Second), livestat.WithRetry(livestat.RetryPolicy{MaxAttempts: 3}))
		srv.Fail(livestattest.Fault{Endpoint: nuoyunEP, HTTPStatus: 503, Times: 2})
		_, err := c.Nuoyun.GetUserDurations(context.Background(), livestat.UserDurationRequest{Page: 1, PageSize: 10})
		require.NoError(t, err)
		got := arrivals(srv)
		require.Len(t, got, 3)
		assert.GreaterOrEqual(t, got[1].Sub(got[0]), time.Second, "no backoff configured: the limiter spaces the retries")
		assert.GreaterOrEqual(t, got[2].Sub(got[1]), time.Second)
	})
}

// A request waiting for its turn gives up with its context.
func TestNuoyunRateLimitHonoursContext(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv, c := numberedNuoyun(t, 10, true, livestat.WithNuoyunRateLimit(1, 10*time.Second))
		req := livestat.UserDurationRequest{Page: 1, PageSize: 10}
		_, err := c.Nuoyun.GetUserDurations(context.Background(), req)
		require.NoError(t, err)

		// A deadline before the next turn: refused at once.
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err = c.Nuoyun.GetUserDurations(ctx, req)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Zero(t, time.Since(start), "without waiting for the deadline")

		// A cancel while waiting.
		ctx, cancel = context.WithCancel(context.Background())
		time.AfterFunc(2*time.Second, cancel)
		_, err = c.Nuoyun.GetUserDurations(ctx, req)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, 2*time.Second, time.Since(start))

		assert.Equal(t, 1, srv.Calls(nuoyunEP), "neither was sent")

		// The cancelled wait gave its turn back: the next request goes at
		// 10.5 s (the period and its margin) after the first.
		_, err = c.Nuoyun.GetUserDurations(context.Background(), req)
		require.NoError(t, err)
		assert.GreaterOrEqual(t, time.Since(start), 10500*time.Millisecond)
		assert.Less(t, time.Since(start), 10500*time.Millisecond+time.Millisecond)
	})
}

// countingLimiter records its waits, standing in for a shared limiter.
type countingLimiter struct{ waits atomic.Int32 }

func (l *countingLimiter) Wait(ctx context.Context) error { l.waits.Add(1); return ctx.Err() }

func TestNuoyunCustomLimiterReplacesTheBuiltIn(t *testing.T) {
	t.Parallel()
	lim := &countingLimiter{}
	_, c := numberedNuoyun(t, 30, false, livestat.WithNuoyunRateLimit(1, time.Hour), livestat.WithNuoyunLimiter(lim))
	rows, err := livestat.Collect(c.Nuoyun.UserDurations(context.Background(), livestat.UserDurationRequest{PageSize: 10}))
	require.NoError(t, err)
	assert.Len(t, rows, 30, "a 1-per-hour built-in limiter would have blocked: the custom one is used")
	assert.EqualValues(t, 3, lim.waits.Load(), "every request waits on the custom limiter")
}

// At the server, in real time: arrivals stay within the limit in every
// sliding window, retries included, however scheduling on a busy machine
// delays the sends. The limit is scaled down to 400 per 8 s, so requests go
// 21 ms apart, and the margin absorbs a spread of 400 ms in the delays of
// requests on their way (on a 2-core machine under a load of 8, runs showed
// up to 100 ms). Spaced exactly period/n apart, as before the margin, any
// spread at all let n+1 arrivals into one window.
func TestNuoyunPacingHoldsAtTheServer(t *testing.T) {
	t.Parallel()
	const (
		n      = 400
		period = 8 * time.Second
		// Enough arrivals for 60 windows of n+1 consecutive ones.
		target = n + 60
	)
	// Every fifth call fails with a 503 and is retried, through the
	// limiter.
	var calls atomic.Int64
	srv, c := numberedNuoyun(t, 1000, false, livestat.WithNuoyunRateLimit(n, period), livestat.WithNuoyunWorkers(4),
		livestat.WithRetry(livestat.RetryPolicy{MaxAttempts: 100, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}))
	srv.Fail(livestattest.Fault{Endpoint: nuoyunEP, HTTPStatus: 503, Times: -1,
		When: func(livestattest.Request) bool { return calls.Add(1)%5 == 0 }})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := func() bool { return srv.Calls(nuoyunEP) >= target }
	var wg sync.WaitGroup
	// An iteration with 4 workers and three callers of single pages, all
	// on the one limiter.
	wg.Go(func() {
		for _, err := range c.Nuoyun.UserDurations(ctx, livestat.UserDurationRequest{PageSize: 1}) {
			if err != nil && ctx.Err() == nil {
				t.Errorf("iteration: %v", err)
			}
			if err != nil || done() {
				cancel()
				return
			}
		}
	})
	for range 3 {
		wg.Go(func() {
			for page := 1; ctx.Err() == nil; page++ {
				if _, err := c.Nuoyun.GetUserDurations(ctx, livestat.UserDurationRequest{Page: page, PageSize: 1}); err != nil && ctx.Err() == nil {
					t.Errorf("page %d: %v", page, err)
				}
				if done() {
					cancel()
				}
			}
		})
	}
	wg.Wait()

	got := arrivals(srv)
	require.GreaterOrEqual(t, len(got), target)
	assert.LessOrEqual(t, maxInWindow(got, period), n, "no sliding %v window of arrivals holds more than %d", period, n)
	// How close it came: the shortest span of n+1 consecutive arrivals,
	// against the period.
	shortest := got[n].Sub(got[0])
	for i := n; i < len(got); i++ {
		shortest = min(shortest, got[i].Sub(got[i-n]))
	}
	t.Logf("%d arrivals; the shortest span of %d is %v (the period: %v)", len(got), n+1, shortest, period)
}
