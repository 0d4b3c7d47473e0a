package redisstore

import (
	"github.com/livestat/livestat"

	"context"
	"strings"
	"sync"
	"testing"
	"time"

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
			// Ten Waits: one Redis timeout, then the local limit (1 ms apart).
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			defer cancel()
			for i := range 10 {
				require.NoError(t, l.Wait(ctx), "wait %d", i)
			}
		})
	}
}

// The shared limiter plugs into the client's Nuoyun pacing.
var _ livestat.Limiter = (*Limiter)(nil)
