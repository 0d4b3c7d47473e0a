package redisstore

import (
	"github.com/livestat/livestat"

	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/stretchr/testify/require"
)

// TestLimiterIsSharedAcrossReplicas lets three limiters on one key take 30
// requests at 20 per second: shared, they need at least 29 intervals of
// 50 ms; each alone would pass its 10 in 0.45 s.
func TestLimiterIsSharedAcrossReplicas(t *testing.T) {
	srv := startRedis(t)
	const (
		requests = 20
		period   = time.Second
		perLim   = 10
	)
	var lims []*Limiter
	for range 3 {
		lims = append(lims, NewLimiter(srv.Client(t), LimiterOptions{Key: "acct1", Requests: requests, Period: period}))
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, len(lims)*perLim)
	for _, l := range lims {
		wg.Go(func() {
			for range perLim {
				errs <- l.Wait(t.Context())
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	minimum := time.Duration(len(lims)*perLim-1) * period / requests
	require.GreaterOrEqual(t, elapsed, minimum-10*time.Millisecond, "30 requests at 20/s across three limiters")
}

func TestLimiterKeysAreIndependent(t *testing.T) {
	srv := startRedis(t)
	rdb := srv.Client(t)
	slow := LimiterOptions{Requests: 1, Period: time.Hour}
	a := NewLimiter(rdb, LimiterOptions{Key: "acct-a", Requests: slow.Requests, Period: slow.Period})
	b := NewLimiter(rdb, LimiterOptions{Key: "acct-b", Requests: slow.Requests, Period: slow.Period})
	require.NoError(t, a.Wait(t.Context()))
	require.NoError(t, b.Wait(t.Context()), "another account has its own quota")
}

func TestLimiterFailsFastPastTheDeadline(t *testing.T) {
	srv := startRedis(t)
	rdb := srv.Client(t)
	opts := LimiterOptions{Key: "acct", Requests: 1, Period: time.Hour}
	require.NoError(t, NewLimiter(rdb, opts).Wait(t.Context()))

	// The next slot is an hour away: a caller with a 10 s deadline is told
	// at once, by another replica's limiter.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	err := NewLimiter(rdb, opts).Wait(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NoError(t, ctx.Err(), "Wait must not sleep until the deadline")

	// A context that has ended is reported as it is.
	ctx, cancel = context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, NewLimiter(rdb, opts).Wait(ctx), context.Canceled)
}

func TestLimiterFallsBackWhileRedisIsDown(t *testing.T) {
	srv := startRedis(t)
	var logs logBuffer
	l := NewLimiter(srv.Client(t), LimiterOptions{Requests: 1000, Period: time.Second, Timeout: 200 * time.Millisecond, Logger: logs.logger()})
	l.retryAfter = 100 * time.Millisecond
	require.NoError(t, l.Wait(t.Context()))

	srv.Kill()
	for range 3 {
		require.NoError(t, l.Wait(t.Context()), "calls keep going without Redis")
	}
	require.Equal(t, 1, strings.Count(logs.String(), "shared rate limit unavailable"), "one warning per outage, not one per call:\n%s", logs.String())

	srv.Restart()
	require.Eventually(t, func() bool {
		return l.Wait(t.Context()) == nil && strings.Contains(logs.String(), "shared rate limit available again")
	}, 10*time.Second, 50*time.Millisecond, "the limiter shares again once Redis is back")
}

// TestLimiterWithoutRedis checks that Wait keeps letting requests through
// when Redis refuses connections or hangs, and that only the first Wait of
// an outage pays the Redis timeout.
func TestLimiterWithoutRedis(t *testing.T) {
	for _, tt := range []struct {
		name string
		addr func(*testing.T) string
	}{
		{"connection refused", closedAddr},
		{"server hangs", hungAddr},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := NewLimiter(newTestClient(t, tt.addr(t)), LimiterOptions{Requests: 1000, Period: time.Second, Timeout: 200 * time.Millisecond})
			// Ten Waits: one Redis timeout, then the share (9 ms apart).
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			defer cancel()
			for i := range 10 {
				require.NoError(t, l.Wait(ctx), "wait %d", i)
			}
		})
	}
}

// fakeGCRA stands in for the Redis of several processes' limiters: the
// GCRA of redis_rate with a burst of 1, on the test's clock, and a switch
// that makes it fail as a Redis that is down (refusing at once) or hangs.
type fakeGCRA struct {
	every time.Duration // Period/Requests

	mu      sync.Mutex
	tat     time.Time
	down    bool
	hang    bool
	allowed int // requests let through since the last up()
}

func (f *fakeGCRA) allow(ctx context.Context) (*redis_rate.Result, error) {
	f.mu.Lock()
	if f.down {
		hang := f.hang
		f.mu.Unlock()
		if hang {
			<-ctx.Done() // the Limiter's Timeout
			return nil, ctx.Err()
		}
		return nil, errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")
	}
	defer f.mu.Unlock()
	now := time.Now()
	if now.Before(f.tat) {
		return &redis_rate.Result{RetryAfter: f.tat.Sub(now)}, nil
	}
	f.tat = now.Add(f.every)
	f.allowed++
	return &redis_rate.Result{Allowed: 1}, nil
}

func (f *fakeGCRA) fail(hang bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down, f.hang = true, hang
}

// up brings Redis back, empty, as a restarted redis-server without
// persistence.
func (f *fakeGCRA) up() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down, f.tat, f.allowed = false, time.Time{}, 0
}

func (f *fakeGCRA) allowedSinceUp() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.allowed
}

// maxInWindow returns the most of times (sorted) that fall in one window
// [t, t+period), and that window's start. The busiest window starts at one
// of the times, so trying each of them tries every window.
func maxInWindow(times []time.Time, period time.Duration) (most int, start time.Time) {
	j := 0
	for i, t := range times {
		for j < len(times) && times[j].Before(t.Add(period)) {
			j++
		}
		if j-i > most {
			most, start = j-i, t
		}
	}
	return most, start
}

// TestLimiterFleetKeepsTheLimitThroughAnOutage runs four processes'
// limiters, three goroutines each, as fast as allowed on one stand-in
// Redis, on synctest's clock: Redis fails mid-window, stays down for
// several periods and comes back empty. Arrivals are counted in every
// window of Period: none may hold more than Requests, whether Redis is up,
// down, or in between. The processes retry Redis out of step, as they do
// when Redis hangs (each sets its next try when its own call times out),
// so that some share again while others are still on their own.
func TestLimiterFleetKeepsTheLimitThroughAnOutage(t *testing.T) {
	const (
		requests = 100
		period   = time.Second
		replicas = 4
		timeout  = 200 * time.Millisecond
		failAt   = 2*period + 370*time.Millisecond // mid-window
		upAt     = failAt + 3*period + 240*time.Millisecond
		endAt    = upAt + 6*period
	)
	for _, hang := range []bool{false, true} {
		t.Run(fmt.Sprintf("hang=%v", hang), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				redis := &fakeGCRA{every: period / requests}
				start := time.Now()
				ctx, cancel := context.WithDeadline(t.Context(), start.Add(endAt))
				defer cancel()

				var (
					mu    sync.Mutex
					sends []time.Time
					wg    sync.WaitGroup
				)
				var logs logBuffer
				for i := range replicas {
					l := NewLimiter(nil, LimiterOptions{Requests: requests, Period: period, Replicas: replicas, Timeout: timeout, Logger: logs.logger()})
					l.redis = redis.allow
					l.retryAfter = 300*time.Millisecond + time.Duration(i)*130*time.Millisecond
					for range 3 {
						wg.Go(func() {
							for l.Wait(ctx) == nil {
								mu.Lock()
								sends = append(sends, time.Now())
								mu.Unlock()
							}
						})
					}
				}
				time.Sleep(failAt)
				redis.fail(hang)
				time.Sleep(upAt - failAt)
				redis.up()
				wg.Wait()

				slices.SortFunc(sends, time.Time.Compare)
				in := func(from, to time.Duration) []time.Time {
					lo, _ := slices.BinarySearchFunc(sends, start.Add(from), time.Time.Compare)
					hi, _ := slices.BinarySearchFunc(sends, start.Add(to), time.Time.Compare)
					return sends[lo:hi]
				}
				most, at := maxInWindow(sends, period)
				t.Logf("%d sends; the busiest window of %v holds %d, from %v", len(sends), period, most, at.Sub(start))
				require.LessOrEqual(t, most, requests, "sends in the window of %v from %v", period, at.Sub(start))

				// The fleet kept working while Redis was down: each
				// process at its share, (100/4-1)/1.1 ≈ 21.8 per second,
				// less what its tries of a hung Redis cost.
				down := upAt - failAt - timeout - period
				outage := in(failAt+timeout+period, upAt)
				require.GreaterOrEqual(t, len(outage), int(0.8*replicas*21.8*down.Seconds()), "sends while Redis was down")
				// It shares again: the last periods run at Redis's full
				// rate, above what the shares allow (4 × 22 per period).
				last := in(endAt-2*period, endAt)
				require.GreaterOrEqual(t, len(last), 2*requests-2, "sends in the last two periods")
				require.GreaterOrEqual(t, redis.allowedSinceUp(), len(in(upAt+period, endAt)), "Redis let through every send after it was back")
				// One warning per process and outage, not per call (a
				// failure that crosses another call's success as Redis
				// comes back may add one).
				for _, msg := range []string{"shared rate limit unavailable", "shared rate limit available again"} {
					n := strings.Count(logs.String(), msg)
					require.True(t, n >= replicas && n <= 2*replicas, "%d times %q", n, msg)
				}
			})
		})
	}
}

// TestLimiterShareInterval checks the spacing of one process's share:
// Replicas processes at it never send more than Requests in a window of
// Period, even with one request at each edge of the window.
func TestLimiterShareInterval(t *testing.T) {
	for _, tt := range []struct {
		requests, replicas int
		period             time.Duration
	}{
		{DefaultLimiterRequests, DefaultLimiterReplicas, DefaultLimiterPeriod},
		{100, 4, time.Second},
		{180, 4, 2 * time.Second},
		{1000, 1, 10 * time.Second},
		{7, 3, time.Minute},
		{3, 3, time.Minute},
	} {
		every := shareInterval(tt.requests, tt.replicas, tt.period)
		perProcess := int(tt.period/every) + 1 // a closed window of Period
		if tt.requests > tt.replicas {
			require.LessOrEqual(t, tt.replicas*perProcess, tt.requests, "%+v: every %v", tt, every)
			// nor when arrivals are up to a tenth of a period late
			jittered := int((tt.period+tt.period/10)/every) + 1
			require.LessOrEqual(t, tt.replicas*jittered, tt.requests, "%+v: every %v, jittered", tt, every)
		} else {
			require.Equal(t, 1, perProcess, "%+v: one request per window at most", tt)
		}
	}
	// The default: about 101 per 10 s for each of 8 processes.
	require.Equal(t, 101, int(DefaultLimiterPeriod/shareInterval(DefaultLimiterRequests, DefaultLimiterReplicas, DefaultLimiterPeriod)))
}

// TestLimiterShareHonoursTheDeadline checks that, on its own, the Limiter
// refuses at once a wait that would pass ctx's deadline, with an error
// that wraps context.DeadlineExceeded, as it does when it shares.
func TestLimiterShareHonoursTheDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		redis := &fakeGCRA{every: time.Minute}
		redis.fail(false)
		l := NewLimiter(nil, LimiterOptions{Requests: 10, Period: time.Minute, Replicas: 2})
		l.redis = redis.allow
		require.NoError(t, l.Wait(t.Context()), "the first share is one interval after the failure")
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		start := time.Now()
		require.ErrorIs(t, l.Wait(ctx), context.DeadlineExceeded)
		require.Equal(t, start, time.Now(), "Wait must not sleep until the deadline")
	})
}

// The shared limiter plugs into the client's Nuoyun pacing.
var _ livestat.Limiter = (*Limiter)(nil)
