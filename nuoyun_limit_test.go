package livestat

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// requestClock records the fake-clock time of every request the fake sees.
func requestClock(f *nuoyunFake) func() []time.Time {
	var mu sync.Mutex
	var times []time.Time
	prev := f.hook
	f.hook = func(r *http.Request, page int) (*http.Response, error) {
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
		if prev != nil {
			return prev(r, page)
		}
		return nil, nil
	}
	return func() []time.Time {
		mu.Lock()
		defer mu.Unlock()
		return slices.SortedFunc(slices.Values(times), time.Time.Compare)
	}
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
	synctest.Test(t, func(t *testing.T) {
		c, mt := newNuoyunClient(t, WithNuoyunRateLimit(DefaultNuoyunRateLimit, DefaultNuoyunRatePeriod), WithNuoyunWorkers(4))
		f := serveNuoyun(mt, 40*5) // 40 pages of 5
		times := requestClock(f)
		start := time.Now()

		var wg sync.WaitGroup
		for range 5 {
			wg.Go(func() {
				for range 240 {
					_, err := c.Nuoyun.GetUserDurations(context.Background(), UserDurationRequest{Page: 1, PageSize: 5})
					assert.NoError(t, err)
				}
			})
		}
		wg.Go(func() {
			rows, err := Collect(c.Nuoyun.UserDurations(context.Background(), UserDurationRequest{PageSize: 5}))
			assert.NoError(t, err)
			assert.Len(t, rows, 200)
		})
		wg.Wait()

		got := times()
		require.Len(t, got, 5*240+40)
		assert.Equal(t, 1000, maxInWindow(got, 10*time.Second), "at most 1000 requests in any 10 s")
		// ... and not much fewer: 1240 requests spaced 10 ms apart.
		elapsed := time.Since(start)
		assert.GreaterOrEqual(t, elapsed, 1239*10*time.Millisecond)
		assert.Less(t, elapsed, 1241*10*time.Millisecond)
	})
}

// Retries wait for the limiter too.
func TestNuoyunRateLimitCountsRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, mt := newNuoyunClient(t, WithNuoyunRateLimit(1, time.Second), WithRetry(RetryPolicy{MaxAttempts: 3}))
		f := serveNuoyun(mt, 10)
		f.hook = func(*http.Request, int) (*http.Response, error) {
			if len(f.requested()) < 3 {
				return httpmock.NewStringResponse(503, "busy"), nil
			}
			return nil, nil
		}
		times := requestClock(f)
		_, err := c.Nuoyun.GetUserDurations(context.Background(), UserDurationRequest{Page: 1, PageSize: 10})
		require.NoError(t, err)
		got := times()
		require.Len(t, got, 3)
		assert.GreaterOrEqual(t, got[1].Sub(got[0]), time.Second, "no backoff configured: the limiter spaces the retries")
		assert.GreaterOrEqual(t, got[2].Sub(got[1]), time.Second)
	})
}

// A request waiting for its turn gives up with its context.
func TestNuoyunRateLimitHonoursContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, mt := newNuoyunClient(t, WithNuoyunRateLimit(1, 10*time.Second))
		f := serveNuoyun(mt, 10)
		req := UserDurationRequest{Page: 1, PageSize: 10}
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

		assert.Len(t, f.requested(), 1, "neither was sent")

		// The cancelled wait gave its turn back: the next request goes at
		// 10 s after the first.
		_, err = c.Nuoyun.GetUserDurations(context.Background(), req)
		require.NoError(t, err)
		assert.GreaterOrEqual(t, time.Since(start), 10*time.Second)
		assert.Less(t, time.Since(start), 10*time.Second+time.Millisecond)
	})
}

// countingLimiter records its waits, standing in for a shared limiter.
type countingLimiter struct{ waits atomic.Int32 }

func (l *countingLimiter) Wait(ctx context.Context) error { l.waits.Add(1); return ctx.Err() }

func TestNuoyunCustomLimiterReplacesTheBuiltIn(t *testing.T) {
	lim := &countingLimiter{}
	c, mt := newNuoyunClient(t, WithNuoyunRateLimit(1, time.Hour), WithNuoyunLimiter(lim))
	serveNuoyun(mt, 30)
	rows, err := Collect(c.Nuoyun.UserDurations(context.Background(), UserDurationRequest{PageSize: 10}))
	require.NoError(t, err)
	assert.Len(t, rows, 30, "a 1-per-hour built-in limiter would have blocked: the custom one is used")
	assert.EqualValues(t, 3, lim.waits.Load(), "every request waits on the custom limiter")
}
