package livestat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
	t.Parallel()
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
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		src := &countingSource{ttl: time.Hour, gate: make(chan struct{})}
		cts := NewCachingTokenSource(src, CachingOptions{})

		leaderDone := make(chan error, 1)
		go func() { _, err := cts.Token(context.Background()); leaderDone <- err }()
		synctest.Wait() // the leader is fetching
		require.EqualValues(t, 1, src.n.Load())
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := cts.Token(ctx)
		assert.ErrorIs(t, err, context.DeadlineExceeded, "a waiter leaves when its own context ends")
		assert.Equal(t, 20*time.Millisecond, time.Since(start), "at its deadline, not later")

		close(src.gate)
		require.NoError(t, <-leaderDone)
		assert.EqualValues(t, 1, src.n.Load())
	})
}

func TestLeaderCancellationDoesNotFailWaiters(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		src := &countingSource{ttl: time.Hour, gate: make(chan struct{})}
		cts := NewCachingTokenSource(src, CachingOptions{})

		leaderCtx, cancelLeader := context.WithCancel(context.Background())
		leaderDone := make(chan error, 1)
		go func() { _, err := cts.Token(leaderCtx); leaderDone <- err }()
		synctest.Wait() // the leader is fetching
		require.EqualValues(t, 1, src.n.Load())
		waiterDone := make(chan Token, 1)
		go func() {
			tok, err := cts.Token(context.Background())
			assert.NoError(t, err)
			waiterDone <- tok
		}()
		synctest.Wait() // the waiter is parked on the flight
		require.EqualValues(t, 1, src.n.Load(), "the waiter waits for the leader's fetch")
		cancelLeader()
		assert.ErrorIs(t, <-leaderDone, context.Canceled)
		close(src.gate) // the waiter's own fetch may now finish
		tok := <-waiterDone
		assert.Equal(t, "tok-2", tok.AccessToken, "the waiter fetched for itself after the leader gave up")
	})
}

func TestEarlyRefreshOnFakeClock(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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
	t.Parallel()
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
	t.Parallel()
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
	t.Parallel()
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
	t.Parallel()
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
				assert.Equal(t, EndpointGetToken, ae.Endpoint)
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
	t.Parallel()
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
	t.Parallel()
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
	t.Parallel()
	tok := Token{AccessToken: testToken, ExpiresAt: time.Unix(1_900_000_000, 0)}
	logs := &syncBuffer{}
	slog.New(slog.NewJSONHandler(logs, nil)).Info("tok", "token", tok)
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%v %+v %#v %s", tok, tok, tok, tok), logs.String()} {
		assertNoSecrets(t, "formatted token", s)
		assert.Contains(t, s, "REDACTED")
	}
}

func TestCustomSourceWithSharedStoreNeedsAnAppID(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
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
		synctest.Wait() // one leader fetching, nine parked on its flight
		close(src.gate)
		wg.Wait()
		close(errs)
		for err := range errs {
			assert.ErrorIs(t, err, context.DeadlineExceeded)
		}
		assert.EqualValues(t, 1, src.n.Load(), "one fetch, not one per waiter")
	})
}

type panickingSource struct{ calls atomic.Int32 }

func (p *panickingSource) Token(context.Context) (Token, error) {
	if p.calls.Add(1) == 1 {
		panic("token service bug")
	}
	return Token{AccessToken: "tok-after-panic", ExpiresAt: time.Now().Add(time.Hour)}, nil
}

func TestPanickingSourceDoesNotWedgeTheCache(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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
	t.Parallel()
	cts := NewCachingTokenSource(TokenSourceFunc(func(context.Context) (Token, error) {
		return Token{AccessToken: "x"}, nil
	}), CachingOptions{})
	_, err := cts.Token(context.Background())
	assert.ErrorContains(t, err, "ExpiresAt")
}

func TestZeroMarginRefreshesOnlyAtExpiry(t *testing.T) {
	t.Parallel()
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

// fakeStore is a TokenStore whose operations can be made to fail, to hang
// like a frozen Redis, to answer slowly, or to hand back what they should
// not, and that counts them. Its time is the test's (synctest) clock.
type fakeStore struct {
	mem MemoryTokenStore

	mu    sync.Mutex
	calls map[string]int
	// frozen: every operation hangs until its own timeout (like
	// redisstore's Options.Timeout) or the caller's context ends.
	frozen  bool
	timeout time.Duration
	// delay: every operation answers, successfully, after this long.
	delay time.Duration
	// fail: operations that return this error at once.
	fail map[string]error
	// keepStale: Invalidate reports success but deletes nothing, as when
	// another replica saved the rejected token back meanwhile.
	keepStale bool
}

func newFakeStore() *fakeStore {
	return &fakeStore{calls: map[string]int{}, fail: map[string]error{}, timeout: time.Second}
}

func (f *fakeStore) enter(ctx context.Context, op string) error {
	f.mu.Lock()
	f.calls[op]++
	frozen, timeout, delay, err := f.frozen, f.timeout, f.delay, f.fail[op]
	f.mu.Unlock()
	wait := delay
	if frozen {
		wait = timeout
	}
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
		if frozen {
			return errors.New("fake store: i/o timeout")
		}
	}
	return err
}

func (f *fakeStore) set(fn func(f *fakeStore)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// count returns the operations made so far, all of them or those named.
func (f *fakeStore) count(ops ...string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for op, c := range f.calls {
		if len(ops) == 0 || slices.Contains(ops, op) {
			n += c
		}
	}
	return n
}

func (f *fakeStore) Load(ctx context.Context, key string) (Token, bool, error) {
	if err := f.enter(ctx, "load"); err != nil {
		return Token{}, false, err
	}
	return f.mem.Load(ctx, key)
}

func (f *fakeStore) Save(ctx context.Context, key string, tok Token) error {
	if err := f.enter(ctx, "save"); err != nil {
		return err
	}
	return f.mem.Save(ctx, key, tok)
}

func (f *fakeStore) Invalidate(ctx context.Context, key, stale string) error {
	if err := f.enter(ctx, "invalidate"); err != nil {
		return err
	}
	f.mu.Lock()
	keep := f.keepStale
	f.mu.Unlock()
	if keep {
		return nil
	}
	return f.mem.Invalidate(ctx, key, stale)
}

// fakeLockingStore is a fakeStore with a refresh lock, which may be held
// forever by a holder that is gone.
type fakeLockingStore struct {
	*fakeStore
	stale     bool          // the lock is held by someone who never releases it
	deadlines []time.Time   // the deadline of each LockRefresh context (zero: none)
	onWait    func()        // runs when a LockRefresh starts waiting on the stale lock
	waited    time.Duration // the longest LockRefresh took
}

func (l *fakeLockingStore) LockRefresh(ctx context.Context, key string) (func(), error) {
	start := time.Now()
	defer func() {
		l.mu.Lock()
		l.waited = max(l.waited, time.Since(start))
		l.mu.Unlock()
	}()
	dl, _ := ctx.Deadline()
	l.mu.Lock()
	l.deadlines = append(l.deadlines, dl)
	stale, onWait := l.stale, l.onWait
	l.mu.Unlock()
	if err := l.enter(ctx, "lock"); err != nil {
		return nil, err
	}
	if stale {
		if onWait != nil {
			onWait()
		}
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return func() {
		l.mu.Lock()
		l.calls["unlock"]++
		l.mu.Unlock()
	}, nil
}

// warnings counts the log lines at Warn that contain s.
func warnings(logs *syncBuffer, s string) int {
	n := 0
	for line := range strings.Lines(logs.String()) {
		if strings.Contains(line, "level=WARN") && strings.Contains(line, s) {
			n++
		}
	}
	return n
}

func textLogger(logs *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Issue 10 item 5: a store whose Invalidate fails (a timeout, a Redis user
// without the scripting permission) hands the rejected token back; it must
// not be used again, however often it is rejected.
func TestRejectedTokenIsNotServedAgainWhenInvalidateFails(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		store := newFakeStore()
		store.fail["invalidate"] = errors.New("NOPERM this user has no permissions to run the 'evalsha' command")
		src := &countingSource{ttl: 2 * time.Hour}
		cts := NewCachingTokenSource(src, CachingOptions{Store: store, Key: "k"})
		ctx := context.Background()
		tok, err := cts.Token(ctx)
		require.NoError(t, err)
		rejected := map[string]bool{}
		for range 4 {
			rejected[tok.AccessToken] = true
			cts.Invalidate(ctx, tok.AccessToken)
			tok, err = cts.Token(ctx)
			require.NoError(t, err)
			assert.False(t, rejected[tok.AccessToken], "%s was rejected: it must not be served again", tok.AccessToken)
			time.Sleep(7 * time.Second)
		}
		assert.EqualValues(t, 5, src.n.Load(), "one gettoken per rejection")
	})
}

// Issue 10 item 5: a store that hands a rejected token back (its
// Invalidate succeeded, but another replica saved the token again) is
// bypassed: a fresh token is fetched and saved, with a warning.
func TestStoreThatHandsBackARejectedTokenIsBypassed(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		store := &fakeLockingStore{fakeStore: newFakeStore()}
		store.keepStale = true
		logs := &syncBuffer{}
		src := &countingSource{ttl: 2 * time.Hour}
		cts := NewCachingTokenSource(src, CachingOptions{Store: store, Key: "k", Logger: textLogger(logs)})
		ctx := context.Background()
		t1, err := cts.Token(ctx)
		require.NoError(t, err)
		cts.Invalidate(ctx, t1.AccessToken)
		t2, err := cts.Token(ctx)
		require.NoError(t, err)
		assert.Equal(t, "tok-2", t2.AccessToken, "the rejected token from the store is not used")
		stored, ok, err := store.mem.Load(ctx, "k")
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, "tok-2", stored.AccessToken, "the fresh token replaces the rejected one in the store")
		assert.Equal(t, 1, warnings(logs, "rejected"), "one warning:\n%s", logs)
		assert.NotContains(t, logs.String(), "tok-")

		// Another replica, which never saw tok-1 rejected, gets tok-2.
		other := &countingSource{ttl: 2 * time.Hour}
		t3, err := NewCachingTokenSource(other, CachingOptions{Store: store, Key: "k"}).Token(ctx)
		require.NoError(t, err)
		assert.Equal(t, "tok-2", t3.AccessToken)
		assert.Zero(t, other.n.Load())
	})
}

// Issue 10 item 9: a margin beyond the token's lifetime must not make
// every call a gettoken.
func TestRefreshMarginIsCutToHalfTheTokensLifetime(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		src := &countingSource{ttl: 2 * time.Hour}
		c, err := NewClient(WithTokenSource(src), WithRefreshMargin(3*time.Hour))
		require.NoError(t, err)
		ctx := context.Background()
		for range 100 {
			_, err := c.tokens.Token(ctx)
			require.NoError(t, err)
			time.Sleep(35 * time.Second) // 58 min in all
		}
		assert.EqualValues(t, 1, src.n.Load(), "a 2 h token is used for its first hour")
		time.Sleep(3 * time.Minute) // 61 min: past half its life
		tok, err := c.tokens.Token(ctx)
		require.NoError(t, err)
		assert.Equal(t, "tok-2", tok.AccessToken)
		assert.EqualValues(t, 2, src.n.Load())
	})
}

// Issue 10 item 9, for a token that another replica (with another margin)
// put in the store: the margin is cut against its lifetime too, whether the
// store keeps when the token was obtained or not.
func TestRefreshMarginCutAppliesToTokensFromTheStore(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		forgetful bool
	}{{"store keeps the token as saved", false}, {"store keeps only token and expiry", true}} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var store TokenStore = NewMemoryTokenStore()
				if tt.forgetful {
					store = forgetfulStore{store}
				}
				ctx := context.Background()
				a := &countingSource{ttl: 2 * time.Hour}
				_, err := NewCachingTokenSource(a, CachingOptions{Store: store, Key: "k"}).Token(ctx)
				require.NoError(t, err)
				time.Sleep(30 * time.Minute)

				b := &countingSource{ttl: 2 * time.Hour}
				bc := NewCachingTokenSource(b, CachingOptions{Store: store, Key: "k", RefreshMargin: 3 * time.Hour})
				for range 80 { // 30 min to 110 min
					_, err := bc.Token(ctx)
					require.NoError(t, err)
					time.Sleep(time.Minute)
				}
				assert.EqualValues(t, 1, b.n.Load(), "one refresh in 80 minutes, not one per call")
			})
		})
	}
}

// forgetfulStore keeps only a token and its expiry, as a store written
// before tokens said when they were obtained.
type forgetfulStore struct{ TokenStore }

func (s forgetfulStore) Load(ctx context.Context, key string) (Token, bool, error) {
	t, ok, err := s.TokenStore.Load(ctx, key)
	return Token{AccessToken: t.AccessToken, ExpiresAt: t.ExpiresAt}, ok, err
}

// Issue 11 item 1: a store that stops answering (Redis frozen) while a
// token is revoked costs each call at most one store timeout, once for
// the process: calls with a 2 s deadline keep succeeding, one gettoken,
// one warning, and the failed Invalidate is not retried.
func TestFrozenStoreDoesNotFailShortDeadlineCalls(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		store := &fakeLockingStore{fakeStore: newFakeStore()}
		logs := &syncBuffer{}
		src := &countingSource{ttl: 2 * time.Hour}
		cts := NewCachingTokenSource(src, CachingOptions{Store: store, Key: "k", Logger: textLogger(logs)})
		t1, err := cts.Token(context.Background())
		require.NoError(t, err)
		store.set(func(f *fakeStore) { f.frozen = true })
		before := store.count()

		const callers = 50
		var wg sync.WaitGroup
		errs := make([]error, callers)
		took := make([]time.Duration, callers)
		for i := range callers {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				start := time.Now()
				cts.Invalidate(ctx, t1.AccessToken) // the call was answered 42001
				var tok Token
				tok, errs[i] = cts.Token(ctx)
				took[i] = time.Since(start)
				if errs[i] == nil {
					assert.Equal(t, "tok-2", tok.AccessToken)
				}
			})
		}
		wg.Wait()
		for i := range callers {
			require.NoError(t, errs[i], "call %d", i)
			assert.Less(t, took[i], 2*time.Second, "call %d", i)
		}
		assert.EqualValues(t, 2, src.n.Load(), "one gettoken for the revocation")
		assert.Equal(t, 1, store.count()-before, "one store call waits; the failure is remembered")
		assert.Equal(t, 1, warnings(logs, "token store"), "one warning:\n%s", logs)
	})
}

// Issue 11 item 1: after a failure the store is left alone for a while
// (one warning per period), tried again after it, and used again once it
// answers.
func TestStoreIsLeftAloneForAWhileAfterItFailed(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		store := &fakeLockingStore{fakeStore: newFakeStore()}
		logs := &syncBuffer{}
		src := &countingSource{ttl: 2 * time.Hour}
		cts := NewCachingTokenSource(src, CachingOptions{Store: store, Key: "k", Logger: textLogger(logs)})
		ctx := context.Background()
		tok, err := cts.Token(ctx)
		require.NoError(t, err)
		down := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
		store.set(func(f *fakeStore) {
			for _, op := range []string{"load", "save", "invalidate", "lock"} {
				f.fail[op] = down
			}
		})
		reject := func() {
			t.Helper()
			cts.Invalidate(ctx, tok.AccessToken)
			next, err := cts.Token(ctx)
			require.NoError(t, err)
			require.NotEqual(t, tok.AccessToken, next.AccessToken)
			tok = next
		}
		before := store.count()
		for range 10 { // 1 s
			reject()
			time.Sleep(100 * time.Millisecond)
		}
		assert.Equal(t, 1, store.count()-before, "the store is not asked again right after it failed")
		assert.Equal(t, 1, warnings(logs, "token store"), "one warning per period:\n%s", logs)

		time.Sleep(5 * time.Second)
		reject()
		assert.Equal(t, 2, store.count()-before, "the store is tried again after the period")
		assert.Equal(t, 2, warnings(logs, "token store"), "and its failure is logged again:\n%s", logs)

		store.set(func(f *fakeStore) { clear(f.fail) })
		time.Sleep(5 * time.Second)
		reject()
		stored, ok, err := store.mem.Load(ctx, "k")
		require.NoError(t, err)
		require.True(t, ok, "once the store answers, fetched tokens are saved in it again")
		assert.Equal(t, tok.AccessToken, stored.AccessToken)
		assert.EqualValues(t, 13, src.n.Load())
	})
}

// Issue 11 item 1: the store's round trips for one call share one bound,
// so a slow store (each answer after 1.5 s) cannot add up its timeouts
// past the caller's deadline.
func TestSlowStoreCallsDoNotAddUp(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		store := &fakeLockingStore{fakeStore: newFakeStore()}
		src := &countingSource{ttl: 2 * time.Hour}
		cts := NewCachingTokenSource(src, CachingOptions{Store: store, Key: "k"})
		t1, err := cts.Token(context.Background())
		require.NoError(t, err)
		store.set(func(f *fakeStore) { f.delay = 1500 * time.Millisecond })

		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
		defer cancel()
		start := time.Now()
		cts.Invalidate(ctx, t1.AccessToken)
		tok, err := cts.Token(ctx)
		require.NoError(t, err)
		assert.Equal(t, "tok-2", tok.AccessToken)
		assert.Less(t, time.Since(start), 4*time.Second)
	})
}

// Issue 11 item 2: a refresh lock that nobody holds any more (its holder
// vanished, or Redis ran a lock request after the client gave up on it)
// delays a call only by a bounded wait, after which it looks at the store
// again and, finding no token, fetches one itself.
func TestStaleRefreshLockDelaysACallOnlyItsBoundedWait(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		store := &fakeLockingStore{fakeStore: newFakeStore(), stale: true}
		logs := &syncBuffer{}
		src := &countingSource{ttl: 2 * time.Hour}
		cts := NewCachingTokenSource(src, CachingOptions{Store: store, Key: "k", Logger: textLogger(logs)})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		start := time.Now()
		tok, err := cts.Token(ctx)
		require.NoError(t, err, "a stale lock must not stall the call to its deadline")
		assert.Equal(t, "tok-1", tok.AccessToken)
		assert.LessOrEqual(t, time.Since(start), 2500*time.Millisecond, "at most half the time the call had")
		assert.Equal(t, 2, store.count("load"), "the store is looked at again after the wait")
		assert.Equal(t, 1, warnings(logs, "lock"), "%s", logs)
	})
}

// Issue 11 item 2: a waiter that gives up on the lock finds the token that
// another replica stored meanwhile, and does not fetch.
func TestLockWaiterLooksAtTheStoreAgain(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		store := &fakeLockingStore{fakeStore: newFakeStore(), stale: true}
		store.onWait = func() {
			go func() {
				time.Sleep(time.Second)
				_ = store.mem.Save(context.Background(), "k", Token{AccessToken: "from-another-replica", ExpiresAt: time.Now().Add(2 * time.Hour)})
			}()
		}
		src := &countingSource{ttl: 2 * time.Hour}
		cts := NewCachingTokenSource(src, CachingOptions{Store: store, Key: "k"})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		tok, err := cts.Token(ctx)
		require.NoError(t, err)
		assert.Equal(t, "from-another-replica", tok.AccessToken)
		assert.Zero(t, src.n.Load())
	})
}

// Issue 11 item 2: the lock's context bounds how long the lock is waited
// for even when the caller has no deadline, so that a RefreshLocker can
// bound the lock's own life by it (redisstore does).
func TestRefreshLockWaitIsBoundedWithoutACallerDeadline(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		store := &fakeLockingStore{fakeStore: newFakeStore()}
		cts := NewCachingTokenSource(&countingSource{ttl: 2 * time.Hour}, CachingOptions{Store: store, Key: "k"})
		start := time.Now()
		_, err := cts.Token(context.Background())
		require.NoError(t, err)
		require.Len(t, store.deadlines, 1)
		dl := store.deadlines[0]
		require.False(t, dl.IsZero(), "LockRefresh gets a context with a deadline")
		assert.LessOrEqual(t, dl.Sub(start), 3*time.Second)
		assert.Equal(t, 1, store.count("unlock"))
	})
}

// A caller with almost no time left skips the store rather than giving it
// a window too short to answer in, which would count as a store failure
// and leave the store alone for everyone.
func TestCallerWithLittleTimeLeftDoesNotBlameTheStore(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		store := &fakeLockingStore{fakeStore: newFakeStore()}
		store.delay = 10 * time.Millisecond // a store that answers in 10 ms
		logs := &syncBuffer{}
		cts := NewCachingTokenSource(&countingSource{ttl: 2 * time.Hour}, CachingOptions{Store: store, Key: "k", Logger: textLogger(logs)})
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Millisecond)
		defer cancel()
		tok, err := cts.Token(ctx)
		require.NoError(t, err)
		assert.Zero(t, store.count())
		assert.Empty(t, logs.String())

		// No back-off started: the next refresh uses the store.
		cts.Invalidate(context.Background(), tok.AccessToken)
		_, err = cts.Token(context.Background())
		require.NoError(t, err)
		assert.Positive(t, store.count("save"))
	})
}
