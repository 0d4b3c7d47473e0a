package livestat

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// failThenOK answers the corp-living endpoint with fail for the first n
// calls and a one-row last page afterwards, counting calls.
func failThenOK(e *mockEnv, n int32, fail httpmock.Responder) *atomic.Int32 {
	var calls atomic.Int32
	e.mt.RegisterResponder(http.MethodPost, testBase+"/cgi-bin/living/get_watch_stat", func(r *http.Request) (*http.Response, error) {
		if calls.Add(1) <= n {
			return fail(r)
		}
		return httpmock.NewStringResponse(200, `{"errcode":0,"errmsg":"ok","ending":1,"stat_info":{"users":[{"userid":"a"}]}}`), nil
	})
	return &calls
}

func TestRetryErrorSaysHowManyAttempts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		opts     []Option
		fail     httpmock.Responder
		attempts int
		is       error
	}{
		{"busy -1", nil, respond(200, `{"errcode":-1,"errmsg":"system busy"}`), 4, ErrServerBusy},
		{"45009", nil, respond(200, `{"errcode":45009,"errmsg":"api freq out of limit"}`), 4, ErrRateLimited},
		{"45033", nil, respond(200, `{"errcode":45033,"errmsg":"api concurrent out of limit"}`), 4, ErrRateLimited},
		{"HTTP 503", nil, respond(503, "busy"), 4, ErrServerBusy},
		{"truncated body", nil, respond(200, `{"errcode":0,"stat_in`), 4, ErrBadResponse},
		{"retries off", []Option{WithoutRetries()}, respond(502, "bad gateway"), 1, ErrServerBusy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newMockEnv(t, tc.opts...)
			calls := failThenOK(e, 100, tc.fail)
			_, err := e.c.Living.GetWatchStat(context.Background(), WatchStatRequest{LivingID: "L1"})
			re, ok := errors.AsType[*RetryError](err)
			require.True(t, ok, "want a *RetryError, got %T: %v", err, err)
			assert.Equal(t, tc.attempts, re.Attempts)
			assert.EqualValues(t, tc.attempts, calls.Load())
			assert.ErrorIs(t, err, tc.is, "the category is still visible")
			assert.Contains(t, err.Error(), "living/get_watch_stat")
			assert.Contains(t, err.Error(), "gave up after")
			assert.True(t, IsRetryable(err), "a later call may still succeed")
		})
	}
}

func TestNonRetryableErrorsAreNotWrapped(t *testing.T) {
	t.Parallel()
	e := newMockEnv(t)
	calls := failThenOK(e, 100, respond(200, `{"errcode":40058,"errmsg":"invalid livingid"}`))
	_, err := e.c.Living.GetWatchStat(context.Background(), WatchStatRequest{LivingID: "L1"})
	_, isRetry := errors.AsType[*RetryError](err)
	assert.False(t, isRetry, "%v", err)
	ae, ok := errors.AsType[*APIError](err)
	require.True(t, ok)
	assert.Equal(t, 40058, ae.Code)
	assert.EqualValues(t, 1, calls.Load())
}

// TestWaitsThatCannotHelpFailFast: livestat does not sleep when the sleep
// cannot lead to a success the caller can still use.
func TestWaitsThatCannotHelpFailFast(t *testing.T) {
	pol := RetryPolicy{MaxAttempts: 4, BaseDelay: 100 * time.Millisecond, MaxDelay: 10 * time.Second, RateLimitDelay: 2 * time.Second}
	for _, tc := range []struct {
		name     string
		deadline time.Duration // 0: none
		fail     httpmock.Responder
		ctxErr   bool // the error matches context.DeadlineExceeded
		reason   string
	}{
		{"Retry-After beyond MaxDelay", 0, respond(503, "busy", "Retry-After", "60"), false, "more than RetryPolicy.MaxDelay"},
		{"Retry-After beyond the deadline", 5 * time.Second, respond(429, "slow down", "Retry-After", "8"), true, "after the context deadline"},
		{"45009 backoff beyond the deadline", 500 * time.Millisecond, respond(200, `{"errcode":45009,"errmsg":"freq"}`), true, "after the context deadline"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newMockEnv(t, WithRetry(pol))
				calls := failThenOK(e, 100, tc.fail)
				ctx := context.Background()
				if tc.deadline > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tc.deadline)
					defer cancel()
				}
				start := time.Now()
				_, err := e.c.Living.GetWatchStat(ctx, WatchStatRequest{LivingID: "L1"})
				assert.Zero(t, time.Since(start), "no time is spent waiting")
				assert.EqualValues(t, 1, calls.Load())
				re, ok := errors.AsType[*RetryError](err)
				require.True(t, ok, "%T: %v", err, err)
				assert.Equal(t, 1, re.Attempts)
				assert.Contains(t, re.Reason, tc.reason)
				assert.Equal(t, tc.ctxErr, errors.Is(err, context.DeadlineExceeded))
			})
		})
	}
}

func TestRetryAfterAsHTTPDate(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := newMockEnv(t, WithRetry(RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Minute}))
		start := time.Now()
		date := start.Add(5 * time.Second).UTC().Format(http.TimeFormat)
		calls := failThenOK(e, 1, respond(503, "busy", "Retry-After", date))
		_, err := e.c.Living.GetWatchStat(context.Background(), WatchStatRequest{LivingID: "L1"})
		require.NoError(t, err)
		assert.EqualValues(t, 2, calls.Load())
		assert.GreaterOrEqual(t, time.Since(start), 4*time.Second, "the date is honoured (to the second)")
	})
}

func TestCancelDuringBackoff(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := newMockEnv(t, WithRetry(RetryPolicy{MaxAttempts: 4, BaseDelay: time.Minute, MaxDelay: time.Hour}))
		failThenOK(e, 100, respond(200, `{"errcode":-1}`))
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(time.Second, cancel)
		start := time.Now()
		_, err := e.c.Living.GetWatchStat(ctx, WatchStatRequest{LivingID: "L1"})
		assert.Equal(t, time.Second, time.Since(start), "the call ends when the context does")
		assert.ErrorIs(t, err, context.Canceled)
		assert.ErrorIs(t, err, ErrServerBusy, "and still says what failed")
		re, ok := errors.AsType[*RetryError](err)
		require.True(t, ok)
		assert.Equal(t, 1, re.Attempts)
	})
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{
		"":                              0,
		"0":                             0,
		"-5":                            0,
		"7":                             7 * time.Second,
		" 7":                            0, // not a number nor a date: ignored
		"soon":                          0,
		"99999999999":                   maxRetryAfterSeconds * time.Second, // no overflow
		"99999999999999999999":          0,                                  // out of int range: ignored
		"Mon, 01 Jan 1990 00:00:00 GMT": 0,                                  // in the past
	} {
		assert.Equal(t, want, parseRetryAfter(in), "%q", in)
	}
}

func TestHugeExpiresInIsClamped(t *testing.T) {
	t.Parallel()
	// Found by FuzzDecodeGettoken: expires_in near MaxInt64 overflowed
	// into a token that had already expired.
	e := newMockEnv(t)
	e.mt.RegisterResponder(http.MethodGet, testBase+"/cgi-bin/gettoken",
		respond(200, `{"errcode":0,"errmsg":"ok","access_token":"t","expires_in":9223372036854775807}`))
	before := time.Now()
	tok, err := (&gettokenSource{c: e.c}).Token(context.Background())
	require.NoError(t, err)
	assert.True(t, tok.ExpiresAt.After(before.Add(time.Hour)), "expires %v", tok.ExpiresAt)
	assert.False(t, tok.ExpiresAt.After(before.Add(25*time.Hour)), "expires %v", tok.ExpiresAt)
}
