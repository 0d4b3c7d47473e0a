package livestat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingSource hands out tok-1, tok-2, ... valid for ttl, optionally
// blocking on gate first.
type countingSource struct {
	n    atomic.Int32
	ttl  time.Duration
	gate chan struct{}
	err  error
}

func (s *countingSource) Token(ctx context.Context) (Token, error) {
	n := s.n.Add(1)
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return Token{}, ctx.Err()
		}
	}
	if s.err != nil {
		return Token{}, s.err
	}
	return Token{AccessToken: fmt.Sprintf("tok-%d", n), ExpiresAt: time.Now().Add(s.ttl)}, nil
}

func TestSingleFlightColdStart(t *testing.T) {
	// 100 goroutines arrive at a cold cache: one gettoken request.
	e := newMockEnv(t)
	var wg sync.WaitGroup
	start := make(chan struct{})
	toks := make([]string, 100)
	errs := make([]error, 100)
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			tok, err := e.c.tokens.Token(context.Background())
			toks[i], errs[i] = tok.AccessToken, err
		}()
	}
	close(start)
	wg.Wait()
	for i := range 100 {
		require.NoError(t, errs[i])
		require.Equal(t, testToken, toks[i])
	}
	assert.EqualValues(t, 1, e.gettoken.Load())
}

func TestWaiterHonoursItsOwnContext(t *testing.T) {
	src := &countingSource{ttl: time.Hour, gate: make(chan struct{})}
	cts := NewCachingTokenSource(src, CachingOptions{})

	leaderDone := make(chan error, 1)
	go func() { _, err := cts.Token(context.Background()); leaderDone <- err }()
	for src.n.Load() == 0 { // wait until the leader is fetching
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := cts.Token(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "a waiter leaves when its own context ends")

	close(src.gate)
	require.NoError(t, <-leaderDone)
	assert.EqualValues(t, 1, src.n.Load())
}

func TestLeaderCancellationDoesNotFailWaiters(t *testing.T) {
	src := &countingSource{ttl: time.Hour, gate: make(chan struct{})}
	cts := NewCachingTokenSource(src, CachingOptions{})

	leaderCtx, cancelLeader := context.WithCancel(context.Background())
	leaderDone := make(chan error, 1)
	go func() { _, err := cts.Token(leaderCtx); leaderDone <- err }()
	for src.n.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	waiterDone := make(chan Token, 1)
	go func() {
		tok, err := cts.Token(context.Background())
		assert.NoError(t, err)
		waiterDone <- tok
	}()
	time.Sleep(5 * time.Millisecond) // let the waiter park on the flight
	cancelLeader()
	assert.ErrorIs(t, <-leaderDone, context.Canceled)
	close(src.gate) // the waiter's own fetch may now finish
	tok := <-waiterDone
	assert.Equal(t, "tok-2", tok.AccessToken, "the waiter fetched for itself after the leader gave up")
}

func TestEarlyRefreshOnFakeClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &countingSource{ttl: 2 * time.Hour}
		cts := NewCachingTokenSource(src, CachingOptions{RefreshMargin: 10 * time.Minute})
		ctx := context.Background()

		tok, err := cts.Token(ctx)
		require.NoError(t, err)
		assert.Equal(t, "tok-1", tok.AccessToken)

		time.Sleep(time.Hour + 49*time.Minute) // 11 min before expiry: still fresh
		tok, _ = cts.Token(ctx)
		assert.Equal(t, "tok-1", tok.AccessToken)

		time.Sleep(2 * time.Minute) // 9 min before expiry: inside the margin
		tok, _ = cts.Token(ctx)
		assert.Equal(t, "tok-2", tok.AccessToken)
		assert.EqualValues(t, 2, src.n.Load())
	})
}

func TestCachedPathDoesNotAllocate(t *testing.T) {
	cts := NewCachingTokenSource(&countingSource{ttl: time.Hour}, CachingOptions{})
	ctx := context.Background()
	_, err := cts.Token(ctx)
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := cts.Token(ctx); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
}

func TestInvalidateOnlyIfSame(t *testing.T) {
	ctx := context.Background()
	src := &countingSource{ttl: time.Hour}
	cts := NewCachingTokenSource(src, CachingOptions{})
	t1, _ := cts.Token(ctx)
	cts.Invalidate(ctx, t1.AccessToken)
	t2, _ := cts.Token(ctx)
	assert.Equal(t, "tok-2", t2.AccessToken)
	cts.Invalidate(ctx, t1.AccessToken) // a late caller still holding tok-1
	t3, _ := cts.Token(ctx)
	assert.Equal(t, "tok-2", t3.AccessToken, "a fresh token is not dropped for an old one's failure")
	assert.EqualValues(t, 2, src.n.Load())
}

func TestTwoAppsOfOneCorpDoNotShareATokenInOneStore(t *testing.T) {
	store := NewMemoryTokenStore()
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder(http.MethodGet, testBase+"/cgi-bin/gettoken", func(r *http.Request) (*http.Response, error) {
		return httpmock.NewJsonResponse(200, map[string]any{"errcode": 0, "access_token": "tok-for-" + r.URL.Query().Get("corpsecret"), "expires_in": 7200})
	})
	mk := func(secret string, opts ...Option) *Client {
		c, err := NewClient(append([]Option{WithWeComApp(testCorpID, secret), WithWeComBaseURL(testBase),
			WithHTTPClient(&http.Client{Transport: mt}), WithTokenStore(store)}, opts...)...)
		require.NoError(t, err)
		return c
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		a, b *Client
	}{
		{"keyed by secret hash", mk("secret-A"), mk("secret-B")},
		{"keyed by app id", mk("secret-C", WithAppID("1000002")), mk("secret-D", WithAppID("1000003"))},
	} {
		ta, err := tc.a.tokens.Token(ctx)
		require.NoError(t, err)
		tb, err := tc.b.tokens.Token(ctx)
		require.NoError(t, err)
		assert.NotEqual(t, ta.AccessToken, tb.AccessToken, tc.name)
	}
}

func TestTokenRejectedMidPagination(t *testing.T) {
	// Page 3 answers 42001 once: one refresh, one replay of page 3, and
	// every row exactly once.
	for _, code := range []int{40001, 40014, 42001} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			st := wecomStyles[1]
			e := newMockEnv(t)
			pages, want := chain(st, 5, 3)
			s := e.script(st.path, st.field, pages)
			var once sync.Once
			s.hook = func(n int, cursor string) (*http.Response, error) {
				var resp *http.Response
				if cursor == "c2" {
					once.Do(func() {
						resp = httpmock.NewStringResponse(200, fmt.Sprintf(`{"errcode":%d,"errmsg":"access_token expired"}`, code))
					})
				}
				return resp, nil
			}
			got, err := collectIDs(st.ids(context.Background(), e.c, ""))
			require.NoError(t, err)
			assert.Equal(t, want, got)
			assert.EqualValues(t, 2, e.gettoken.Load(), "one refresh")
			assert.Equal(t, []string{"", "c1", "c2", "c2", "c3", "c4"}, s.calls(), "one replay of the failed page")
			s.mu.Lock()
			assert.Equal(t, testToken, s.tokens[2])
			assert.NotEqual(t, testToken, s.tokens[3], "the replay carries the new token")
			s.mu.Unlock()
		})
	}
}

func TestTokenRejectedTwiceIsNotLooped(t *testing.T) {
	e := newMockEnv(t)
	var calls atomic.Int32
	e.mt.RegisterResponder(http.MethodPost, testBase+"/cgi-bin/living/get_watch_stat", func(*http.Request) (*http.Response, error) {
		calls.Add(1)
		return httpmock.NewStringResponse(200, `{"errcode":42001,"errmsg":"access_token expired"}`), nil
	})
	_, err := e.c.Living.GetWatchStat(context.Background(), WatchStatRequest{LivingID: "L1"})
	assert.ErrorIs(t, err, ErrTokenInvalid)
	assert.EqualValues(t, 2, calls.Load(), "the call and one replay, never more")
	assert.EqualValues(t, 2, e.gettoken.Load())
}

func TestGettokenInvalidSecretIsTypedAndNotRetried(t *testing.T) {
	e := newMockEnv(t)
	// Replace the client with one whose secret the fake rejects.
	c, err := NewClient(WithWeComApp(testCorpID, "wrong-secret"), WithWeComBaseURL(testBase),
		WithHTTPClient(&http.Client{Transport: e.mt}), WithRetry(fastRetry()))
	require.NoError(t, err)
	api := e.script("/cgi-bin/living/get_watch_stat", "next_key", nil)
	gettokens := func() int { return e.mt.GetCallCountInfo()["GET "+testBase+"/cgi-bin/gettoken"] }

	_, err = c.Living.GetWatchStat(context.Background(), WatchStatRequest{LivingID: "L1"})
	assert.ErrorIs(t, err, ErrInvalidCredentials)
	assert.Equal(t, 1, gettokens(), "a refused secret is not retried")

	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Living.GetWatchStat(context.Background(), WatchStatRequest{LivingID: "L1"})
			var ae *APIError
			if assert.ErrorAs(t, err, &ae) {
				assert.Equal(t, 40001, ae.Code)
				assert.Equal(t, "gettoken", ae.Endpoint)
			}
			assert.ErrorIs(t, err, ErrInvalidCredentials)
			assert.False(t, IsRetryable(err))
			assert.NotContains(t, err.Error(), "wrong-secret")
		}()
	}
	wg.Wait()
	assert.LessOrEqual(t, gettokens(), 21, "at most one gettoken per call: no retry storm")
	assert.Empty(t, api.calls(), "no API call without a token")
}

func TestCustomTokenSource(t *testing.T) {
	mt := httpmock.NewMockTransport()
	var seen string
	mt.RegisterResponder(http.MethodPost, testBase+"/cgi-bin/living/get_watch_stat", func(r *http.Request) (*http.Response, error) {
		seen = r.URL.Query().Get("access_token")
		return httpmock.NewStringResponse(200, `{"errcode":0,"errmsg":"ok","ending":1,"next_key":"","stat_info":{}}`), nil
	})
	src := &countingSource{ttl: time.Hour}
	c, err := NewClient(WithTokenSource(src), WithWeComBaseURL(testBase), WithHTTPClient(&http.Client{Transport: mt}))
	require.NoError(t, err)
	for range 3 {
		_, err = c.Living.GetWatchStat(context.Background(), WatchStatRequest{LivingID: "L1"})
		require.NoError(t, err)
	}
	assert.Equal(t, "tok-1", seen)
	assert.EqualValues(t, 1, src.n.Load(), "tokens from a custom source are cached")
}

// failingStore is a shared store that is down.
type failingStore struct{}

func (*failingStore) Load(context.Context, string) (Token, bool, error) {
	return Token{}, false, errors.New("store down")
}
func (*failingStore) Save(context.Context, string, Token) error { return errors.New("store down") }
func (*failingStore) Invalidate(context.Context, string, string) error {
	return errors.New("store down")
}

func TestStoreFailureFallsBackToProcessCache(t *testing.T) {
	logs := &syncBuffer{}
	src := &countingSource{ttl: time.Hour}
	cts := NewCachingTokenSource(src, CachingOptions{Store: &failingStore{}, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	for range 3 {
		tok, err := cts.Token(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "tok-1", tok.AccessToken)
	}
	assert.Contains(t, logs.String(), "store down")
	assert.NotContains(t, logs.String(), "tok-1")
}

func TestTokenFormattingIsRedacted(t *testing.T) {
	tok := Token{AccessToken: testToken, ExpiresAt: time.Unix(1_900_000_000, 0)}
	logs := &syncBuffer{}
	slog.New(slog.NewJSONHandler(logs, nil)).Info("tok", "token", tok)
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%v %+v %#v %s", tok, tok, tok, tok), logs.String()} {
		assertNoSecrets(t, "formatted token", s)
		assert.Contains(t, s, "REDACTED")
	}
}

func TestCustomSourceWithSharedStoreNeedsAnAppID(t *testing.T) {
	store := NewMemoryTokenStore()
	src := func(tok string) TokenSource {
		return TokenSourceFunc(func(context.Context) (Token, error) {
			return Token{AccessToken: tok, ExpiresAt: time.Now().Add(time.Hour)}, nil
		})
	}
	_, err := NewClient(WithTokenSource(src("corpA-token")), WithTokenStore(store))
	require.Error(t, err, "two corps' custom sources would share one key")
	assert.Contains(t, err.Error(), "WithAppID")

	a, err := NewClient(WithTokenSource(src("corpA-token")), WithTokenStore(store), WithAppID("corpA/1000002"))
	require.NoError(t, err)
	b, err := NewClient(WithTokenSource(src("corpB-token")), WithTokenStore(store), WithAppID("corpB/1000002"))
	require.NoError(t, err)
	ctx := context.Background()
	ta, err := a.tokens.Token(ctx)
	require.NoError(t, err)
	tb, err := b.tokens.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "corpA-token", ta.AccessToken)
	assert.Equal(t, "corpB-token", tb.AccessToken, "corp B never gets corp A's token")
}

func TestLeaderFailureIsSharedNotReplayedByEachWaiter(t *testing.T) {
	// gettoken times out (the attempt's timeout, not the caller's
	// context): the waiters share that failure instead of each leading a
	// refresh of its own in turn.
	src := &countingSource{ttl: time.Hour, gate: make(chan struct{}), err: &TransportError{Vendor: VendorWeCom, Endpoint: "gettoken", Err: context.DeadlineExceeded}}
	cts := NewCachingTokenSource(src, CachingOptions{})
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := cts.Token(context.Background())
			errs <- err
		}()
	}
	for src.n.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the others park on the flight
	close(src.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	}
	assert.LessOrEqual(t, src.n.Load(), int32(2), "one fetch (two if a caller arrived after the first flight ended), not one per waiter")
}

type panickingSource struct{ calls atomic.Int32 }

func (p *panickingSource) Token(context.Context) (Token, error) {
	if p.calls.Add(1) == 1 {
		panic("token service bug")
	}
	return Token{AccessToken: "tok-after-panic", ExpiresAt: time.Now().Add(time.Hour)}, nil
}

func TestPanickingSourceDoesNotWedgeTheCache(t *testing.T) {
	cts := NewCachingTokenSource(&panickingSource{}, CachingOptions{})
	func() {
		defer func() { assert.NotNil(t, recover(), "the panic reaches the caller") }()
		_, _ = cts.Token(context.Background())
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tok, err := cts.Token(ctx)
	require.NoError(t, err, "the next caller is not stuck behind the dead flight")
	assert.Equal(t, "tok-after-panic", tok.AccessToken)
}

func TestFailedEarlyRefreshKeepsAValidToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &countingSource{ttl: time.Hour}
		logs := &syncBuffer{}
		cts := NewCachingTokenSource(src, CachingOptions{RefreshMargin: 10 * time.Minute, Logger: slog.New(slog.NewTextHandler(logs, nil))})
		ctx := context.Background()
		tok, err := cts.Token(ctx)
		require.NoError(t, err)

		time.Sleep(55 * time.Minute) // inside the margin, not expired
		src.err = errors.New("gettoken: system busy")
		got, err := cts.Token(ctx)
		require.NoError(t, err, "a blip in gettoken does not fail calls while the token is valid")
		assert.Equal(t, tok.AccessToken, got.AccessToken)
		assert.Contains(t, logs.String(), "token refresh failed")
		n := src.n.Load()
		_, _ = cts.Token(ctx)
		assert.Equal(t, n, src.n.Load(), "no new attempt within the quiet interval")

		time.Sleep(6 * time.Minute) // expired now
		_, err = cts.Token(ctx)
		assert.Error(t, err, "an expired token is never served")
	})
}

func TestTokenWithoutExpiryIsRejected(t *testing.T) {
	cts := NewCachingTokenSource(TokenSourceFunc(func(context.Context) (Token, error) {
		return Token{AccessToken: "x"}, nil
	}), CachingOptions{})
	_, err := cts.Token(context.Background())
	assert.ErrorContains(t, err, "ExpiresAt")
}

func TestZeroMarginRefreshesOnlyAtExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &countingSource{ttl: time.Hour}
		c, err := NewClient(WithTokenSource(src), WithRefreshMargin(0))
		require.NoError(t, err)
		ctx := context.Background()
		_, _ = c.tokens.Token(ctx)
		time.Sleep(59*time.Minute + 59*time.Second)
		_, _ = c.tokens.Token(ctx)
		assert.EqualValues(t, 1, src.n.Load(), "WithRefreshMargin(0) means no margin, not the default")
	})
}

func TestZeroValueMemoryTokenStore(t *testing.T) {
	var s MemoryTokenStore
	ctx := context.Background()
	require.NoError(t, s.Save(ctx, "k", Token{AccessToken: "a", ExpiresAt: time.Now().Add(time.Hour)}))
	tok, ok, err := s.Load(ctx, "k")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, "a", tok.AccessToken)
}
