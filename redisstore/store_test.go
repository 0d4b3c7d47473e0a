package redisstore

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livestat/livestat"
	"github.com/stretchr/testify/require"
)

const (
	testKey    = "wecom:wwcorp:1000002"
	testSecret = "TOKEN-SECRET-must-not-leak-5d1e"
)

// logBuffer collects log output from several goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func TestStoreSaveLoad(t *testing.T) {
	srv := startRedis(t)
	rdb := srv.Client(t)
	s := New(rdb, Options{Prefix: "app1:"})
	ctx := t.Context()

	_, ok, err := s.Load(ctx, testKey)
	require.NoError(t, err)
	require.False(t, ok, "an empty store has no token")

	exp := time.Now().Add(2 * time.Hour).Truncate(time.Millisecond)
	require.NoError(t, s.Save(ctx, testKey, livestat.Token{AccessToken: testSecret, ExpiresAt: exp}))

	got, ok, err := s.Load(ctx, testKey)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, testSecret, got.AccessToken)
	require.True(t, exp.Equal(got.ExpiresAt), "expiry survives the round trip: %v != %v", got.ExpiresAt, exp)

	// The key is namespaced and expires with the token, not before.
	ttl, err := rdb.PTTL(ctx, "app1:token:"+testKey).Result()
	require.NoError(t, err)
	require.Greater(t, ttl, 2*time.Hour-time.Minute)
	require.LessOrEqual(t, ttl, 2*time.Hour)

	// Another prefix is another namespace.
	_, ok, err = New(rdb, Options{Prefix: "app2:"}).Load(ctx, testKey)
	require.NoError(t, err)
	require.False(t, ok)
}

func TestStoreSaveExpiredTokenIsNotStored(t *testing.T) {
	srv := startRedis(t)
	rdb := srv.Client(t)
	s := New(rdb, Options{})
	require.NoError(t, s.Save(t.Context(), testKey, livestat.Token{AccessToken: testSecret, ExpiresAt: time.Now().Add(-time.Second)}))
	n, err := rdb.Exists(t.Context(), DefaultPrefix+"token:"+testKey).Result()
	require.NoError(t, err)
	require.Zero(t, n)
}

func TestStoreLoadCorruptValue(t *testing.T) {
	srv := startRedis(t)
	rdb := srv.Client(t)
	require.NoError(t, rdb.Set(t.Context(), DefaultPrefix+"token:"+testKey, "garbage "+testSecret, 0).Err())
	_, ok, err := New(rdb, Options{}).Load(t.Context(), testKey)
	require.Error(t, err)
	require.False(t, ok)
	require.NotContains(t, err.Error(), testSecret, "the error must not quote a value that may hold a token")
}

func TestStoreInvalidateIsCompareAndDelete(t *testing.T) {
	srv := startRedis(t)
	rdb := srv.Client(t)
	s := New(rdb, Options{})
	exp := time.Now().Add(time.Hour)
	tests := []struct {
		name     string
		stored   string // "" = nothing stored
		stale    string
		wantKept bool
	}{
		{"stale token is removed", "TOK-A", "TOK-A", false},
		{"a newer token survives", "TOK-B", "TOK-A", true},
		{"nothing stored", "", "TOK-A", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			require.NoError(t, rdb.Del(ctx, DefaultPrefix+"token:"+testKey).Err())
			if tt.stored != "" {
				require.NoError(t, s.Save(ctx, testKey, livestat.Token{AccessToken: tt.stored, ExpiresAt: exp}))
			}
			require.NoError(t, s.Invalidate(ctx, testKey, tt.stale))
			got, ok, err := s.Load(ctx, testKey)
			require.NoError(t, err)
			require.Equal(t, tt.wantKept, ok)
			if tt.wantKept {
				require.Equal(t, tt.stored, got.AccessToken)
			}
		})
	}
}

func TestLockExcludesUntilUnlocked(t *testing.T) {
	srv := startRedis(t)
	a := New(srv.Client(t), Options{LockTTL: time.Minute})
	b := New(srv.Client(t), Options{LockTTL: time.Minute, LockWait: 300 * time.Millisecond, PollInterval: 10 * time.Millisecond})
	ctx := t.Context()

	unlockA, err := a.LockRefresh(ctx, testKey)
	require.NoError(t, err)

	_, err = b.LockRefresh(ctx, testKey)
	require.ErrorIs(t, err, ErrLockWait, "a second holder must wait, then give up after LockWait")

	// A holder's lock on one key does not block another key.
	unlockOther, err := b.LockRefresh(ctx, "wecom:wwcorp:other-app")
	require.NoError(t, err)
	unlockOther()

	// A waiter gets the lock as soon as it is released.
	got := make(chan error, 1)
	bWait := New(srv.Client(t), Options{LockTTL: time.Minute, PollInterval: 10 * time.Millisecond})
	go func() {
		unlock, err := bWait.LockRefresh(ctx, testKey)
		if err == nil {
			unlock()
		}
		got <- err
	}()
	unlockA()
	require.NoError(t, <-got)
}

func TestLockOfACrashedHolderExpires(t *testing.T) {
	srv := startRedis(t)
	const ttl = 300 * time.Millisecond
	crashed := New(srv.Client(t), Options{LockTTL: ttl})
	_, err := crashed.LockRefresh(t.Context(), testKey) // never unlocked
	require.NoError(t, err)

	start := time.Now()
	unlock, err := New(srv.Client(t), Options{LockTTL: ttl, PollInterval: 10 * time.Millisecond}).LockRefresh(t.Context(), testKey)
	require.NoError(t, err, "the lock must expire after its TTL")
	unlock()
	require.GreaterOrEqual(t, time.Since(start), ttl/2, "the waiter must have waited for the TTL, not taken a held lock")
}

func TestLockUnlockSparesTheNextHolder(t *testing.T) {
	srv := startRedis(t)
	rdb := srv.Client(t)
	var logs logBuffer
	slow := New(rdb, Options{LockTTL: 100 * time.Millisecond, Logger: logs.logger()})
	unlockSlow, err := slow.LockRefresh(t.Context(), testKey)
	require.NoError(t, err)

	// The slow holder outlives its TTL; another replica takes the lock.
	next := New(rdb, Options{LockTTL: time.Minute, PollInterval: 10 * time.Millisecond})
	unlockNext, err := next.LockRefresh(t.Context(), testKey)
	require.NoError(t, err)

	unlockSlow()
	n, err := rdb.Exists(t.Context(), DefaultPrefix+"lock:"+testKey).Result()
	require.NoError(t, err)
	require.EqualValues(t, 1, n, "a late unlock must not delete the next holder's lock")
	require.Contains(t, logs.String(), "expired before the refresh ended")

	unlockNext()
	n, err = rdb.Exists(t.Context(), DefaultPrefix+"lock:"+testKey).Result()
	require.NoError(t, err)
	require.Zero(t, n)
}

func TestLockWaitEndsWithContext(t *testing.T) {
	srv := startRedis(t)
	s := New(srv.Client(t), Options{LockTTL: time.Minute})
	unlock, err := s.LockRefresh(t.Context(), testKey)
	require.NoError(t, err)
	defer unlock()

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err = s.LockRefresh(ctx, testKey)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

// TestRedisUnavailable checks that every method fails with an error, in
// bounded time and without quoting the token, when Redis is down or hangs.
func TestRedisUnavailable(t *testing.T) {
	for _, tt := range []struct {
		name string
		addr func(*testing.T) string
	}{
		{"connection refused", closedAddr},
		{"server hangs", hungAddr},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := New(newTestClient(t, tt.addr(t)), Options{Timeout: 200 * time.Millisecond})
			// Four round trips of at most 200 ms each.
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			tok := livestat.Token{AccessToken: testSecret, ExpiresAt: time.Now().Add(time.Hour)}
			var errs []error
			_, _, err := s.Load(ctx, testKey)
			errs = append(errs, err)
			errs = append(errs, s.Save(ctx, testKey, tok))
			errs = append(errs, s.Invalidate(ctx, testKey, testSecret))
			_, err = s.LockRefresh(ctx, testKey)
			errs = append(errs, err)
			for i, err := range errs {
				require.Error(t, err, "call %d", i)
				require.NotErrorIs(t, err, ErrLockWait, "a failing Redis is reported as such, not as a busy lock")
				require.NotContains(t, err.Error(), testSecret)
			}
			require.NoError(t, ctx.Err(), "the store must give up on its own Timeout, not the caller's")
		})
	}
}

// countingSource hands out one token per call and counts the calls.
type countingSource struct{ n atomic.Int32 }

func (c *countingSource) Token(context.Context) (livestat.Token, error) {
	n := c.n.Add(1)
	return livestat.Token{AccessToken: testSecret + "-" + string(rune('0'+n)), ExpiresAt: time.Now().Add(2 * time.Hour)}, nil
}

// TestCachingTokenSourceFallsBackAndSharesAgain runs livestat's
// CachingTokenSource on this store through a Redis outage, in one process.
// (replicas_test.go does the same with separate processes.)
func TestCachingTokenSourceFallsBackAndSharesAgain(t *testing.T) {
	srv := startRedis(t)
	var logs logBuffer
	src := &countingSource{}
	newReplica := func() *livestat.CachingTokenSource {
		return livestat.NewCachingTokenSource(src, livestat.CachingOptions{
			Store:  New(srv.Client(t), Options{Timeout: 200 * time.Millisecond}),
			Key:    testKey,
			Logger: logs.logger(),
		})
	}
	a, b := newReplica(), newReplica()
	ctx := t.Context()

	ta, err := a.Token(ctx)
	require.NoError(t, err)
	tb, err := b.Token(ctx)
	require.NoError(t, err)
	require.Equal(t, ta.AccessToken, tb.AccessToken, "b reads the token a stored")
	require.EqualValues(t, 1, src.n.Load())

	srv.Kill()
	// Cached tokens keep working without Redis...
	_, err = a.Token(ctx)
	require.NoError(t, err)
	// ...and a rejected one is replaced locally, with warnings.
	a.Invalidate(ctx, ta.AccessToken)
	ta2, err := a.Token(ctx)
	require.NoError(t, err)
	require.NotEqual(t, ta.AccessToken, ta2.AccessToken)
	require.EqualValues(t, 2, src.n.Load())
	require.Contains(t, logs.String(), "token store load failed")
	require.Contains(t, logs.String(), "token refresh lock unavailable")
	require.Contains(t, logs.String(), "token store save failed")

	srv.Restart()
	// Once Redis answers again, a refresh is shared again.
	b.Invalidate(ctx, tb.AccessToken)
	tb2, err := b.Token(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 3, src.n.Load())
	c := newReplica()
	tc, err := c.Token(ctx)
	require.NoError(t, err)
	require.Equal(t, tb2.AccessToken, tc.AccessToken, "a new replica reads the token b stored after the restart")
	require.EqualValues(t, 3, src.n.Load())

	require.NotContains(t, logs.String(), testSecret, "logs must not contain tokens")
}
