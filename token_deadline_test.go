package livestat

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// probeStore is a TokenStore and RefreshLocker (a lock that is always
// free) whose operations can be made to hang until their context ends, as
// on a frozen Redis, or to fail at once; it records how long each call
// took on the test's (synctest) clock.
type probeStore struct {
	mem MemoryTokenStore

	mu   sync.Mutex
	hang map[string]bool
	fail map[string]error
	// handBack, if set, is what Load returns, whatever was saved: a
	// replica that keeps writing that token back.
	handBack string
	calls    []probeCall
	saved    []string
}

type probeCall struct {
	op         string
	start, end time.Time
}

func newProbeStore() *probeStore {
	return &probeStore{hang: map[string]bool{}, fail: map[string]error{}}
}

func (p *probeStore) set(fn func(p *probeStore)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fn(p)
}

func (p *probeStore) enter(ctx context.Context, op string) (done func(), err error) {
	start := time.Now()
	p.mu.Lock()
	hang, err := p.hang[op], p.fail[op]
	p.mu.Unlock()
	done = func() {
		p.mu.Lock()
		p.calls = append(p.calls, probeCall{op: op, start: start, end: time.Now()})
		p.mu.Unlock()
	}
	if hang {
		<-ctx.Done()
		done()
		return nil, fmt.Errorf("probe store: %s: %w", op, ctx.Err())
	}
	if err != nil {
		done()
		return nil, err
	}
	return done, nil
}

// count returns how many calls of op were made ("" for all).
func (p *probeStore) count(op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.calls {
		if op == "" || c.op == op {
			n++
		}
	}
	return n
}

// spent returns the time spent in store calls that started in [from, to).
func (p *probeStore) spent(from, to time.Time, ops ...string) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	var d time.Duration
	for _, c := range p.calls {
		if !c.start.Before(from) && c.start.Before(to) && (len(ops) == 0 || slices.Contains(ops, c.op)) {
			d += c.end.Sub(c.start)
		}
	}
	return d
}

func (p *probeStore) Load(ctx context.Context, key string) (Token, bool, error) {
	done, err := p.enter(ctx, "load")
	if err != nil {
		return Token{}, false, err
	}
	defer done()
	p.mu.Lock()
	hb := p.handBack
	p.mu.Unlock()
	if hb != "" {
		return Token{AccessToken: hb, ExpiresAt: time.Now().Add(time.Hour)}, true, nil
	}
	return p.mem.Load(ctx, key)
}

func (p *probeStore) Save(ctx context.Context, key string, tok Token) error {
	done, err := p.enter(ctx, "save")
	if err != nil {
		return err
	}
	defer done()
	p.mu.Lock()
	p.saved = append(p.saved, tok.AccessToken)
	p.mu.Unlock()
	return p.mem.Save(ctx, key, tok)
}

func (p *probeStore) Invalidate(ctx context.Context, key, stale string) error {
	done, err := p.enter(ctx, "invalidate")
	if err != nil {
		return err
	}
	defer done()
	return p.mem.Invalidate(ctx, key, stale)
}

func (p *probeStore) LockRefresh(ctx context.Context, key string) (func(), error) {
	done, err := p.enter(ctx, "lock")
	if err != nil {
		return nil, err
	}
	done()
	return func() {}, nil
}

// Task A: callers with a short deadline that arrive while a leader with no
// deadline waits on a store that hangs do not fail at their deadline: they
// fetch a token themselves, together, at the cost of one extra gettoken at
// most.
func TestShortDeadlineCallersDoNotWaitOnALeadersHangingStore(t *testing.T) {
	for _, tt := range []struct {
		name     string
		rejected bool // a revocation (Invalidate first) rather than a cold start
	}{{"cold start", false}, {"after a revocation", true}} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				store := newProbeStore()
				src := &countingSource{ttl: 2 * time.Hour}
				cts := NewCachingTokenSource(src, CachingOptions{Store: store, Key: "k"})
				var rejected string
				if tt.rejected {
					tok, err := cts.Token(context.Background())
					require.NoError(t, err)
					rejected = tok.AccessToken
					cts.Invalidate(context.Background(), rejected)
				}
				before := src.n.Load()
				store.set(func(p *probeStore) {
					for _, op := range []string{"invalidate", "load", "lock", "save"} {
						p.hang[op] = true
					}
				})

				leader := make(chan error, 1)
				go func() { _, err := cts.Token(context.Background()); leader <- err }()
				synctest.Wait() // the leader is blocked in the store

				const callers = 20
				var wg sync.WaitGroup
				errs := make([]error, callers)
				took := make([]time.Duration, callers)
				for i := range callers {
					wg.Go(func() {
						ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
						defer cancel()
						start := time.Now()
						var tok Token
						tok, errs[i] = cts.Token(ctx)
						took[i] = time.Since(start)
						if errs[i] == nil {
							assert.NotEqual(t, rejected, tok.AccessToken)
						}
					})
				}
				wg.Wait()
				for i := range callers {
					assert.NoError(t, errs[i], "call %d failed although it had time to fetch a token", i)
					assert.Less(t, took[i], 500*time.Millisecond, "call %d", i)
				}
				require.NoError(t, <-leader)
				assert.LessOrEqual(t, src.n.Load()-before, int32(2), "at most one extra gettoken for the process")
			})
		})
	}
}

// Task D: a caller waiting on the leader's refresh gets the token as soon
// as it is fetched, not after the leader has saved it in a slow store.
func TestWaitersDoNotWaitForTheLeadersSave(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		store := newProbeStore()
		store.hang["save"] = true
		src := &countingSource{ttl: 2 * time.Hour, gate: make(chan struct{})}
		cts := NewCachingTokenSource(src, CachingOptions{Store: store, Key: "k"})

		leader := make(chan time.Duration, 1)
		go func() {
			start := time.Now()
			_, err := cts.Token(context.Background())
			assert.NoError(t, err)
			leader <- time.Since(start)
		}()
		synctest.Wait() // the leader is fetching
		require.EqualValues(t, 1, src.n.Load())

		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		waiter := make(chan error, 1)
		go func() {
			tok, err := cts.Token(ctx)
			if err == nil {
				assert.Equal(t, "tok-1", tok.AccessToken)
			}
			waiter <- err
		}()
		synctest.Wait() // the waiter waits on the leader
		close(src.gate)
		start := time.Now()
		assert.NoError(t, <-waiter, "the waiter had its token before the leader's save")
		assert.Zero(t, time.Since(start), "the waiter does not wait for the save")
		assert.LessOrEqual(t, <-leader, time.Second, "the leader's save is bounded")
		assert.EqualValues(t, 1, src.n.Load())
	})
}

// Task B: errors a store answers with at once (Redis NOPERM for a user
// that may not run scripts, WRONGTYPE) are not a store that does not
// answer: the refresh carries on with the store, saves the fresh token in
// it, and no back-off starts; one warning per period.
func TestPromptStoreErrorsDoNotStartTheBackOff(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		store := newProbeStore()
		logs := &syncBuffer{}
		src := &countingSource{ttl: 2 * time.Hour}
		cts := NewCachingTokenSource(src, CachingOptions{Store: store, Key: "k", Logger: textLogger(logs)})
		ctx := context.Background()
		tok, err := cts.Token(ctx)
		require.NoError(t, err)
		store.set(func(p *probeStore) {
			p.fail["invalidate"] = errors.New("redisstore: invalidate: NOPERM User app has no permissions to run the 'evalsha' command")
		})
		for i := range 3 { // three revocations within one second
			cts.Invalidate(ctx, tok.AccessToken)
			next, err := cts.Token(ctx)
			require.NoError(t, err)
			require.NotEqual(t, tok.AccessToken, next.AccessToken)
			tok = next
			stored, ok, err := store.mem.Load(ctx, "k")
			require.NoError(t, err)
			require.True(t, ok)
			assert.Equal(t, tok.AccessToken, stored.AccessToken, "revocation %d: the fresh token is saved although Invalidate failed", i)
			time.Sleep(300 * time.Millisecond)
		}
		assert.Equal(t, 3, store.count("invalidate"), "the store is not left alone after a prompt error")
		assert.Equal(t, 4, store.count("save"))
		assert.Equal(t, 1, warnings(logs, "NOPERM"), "one warning per period:\n%s", logs)
		assert.NotContains(t, logs.String(), "fetches and keeps its own tokens", "no back-off:\n%s", logs)
		assert.NotContains(t, logs.String(), "tok-")
	})
}

// Task B, the other side: a store that does not answer in time, or whose
// connection is refused or reset, is left alone for the back-off period:
// the refresh stops calling it, and so do the refreshes that follow.
func TestUnansweringStoreStartsTheBackOff(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		err  error // nil: the store hangs
	}{
		{"hangs", nil},
		{"deadline", fmt.Errorf("redisstore: invalidate: %w", context.DeadlineExceeded)},
		{"i/o timeout", fmt.Errorf("redisstore: invalidate: %w", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ETIMEDOUT)})},
		{"connection refused", fmt.Errorf("redisstore: invalidate: %w", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)})},
		{"connection reset", fmt.Errorf("redisstore: invalidate: %w", os.NewSyscallError("read", syscall.ECONNRESET))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				store := newProbeStore()
				logs := &syncBuffer{}
				src := &countingSource{ttl: 2 * time.Hour}
				cts := NewCachingTokenSource(src, CachingOptions{Store: store, Key: "k", Logger: textLogger(logs)})
				ctx := context.Background()
				tok, err := cts.Token(ctx)
				require.NoError(t, err)
				store.set(func(p *probeStore) {
					if tt.err == nil {
						p.hang["invalidate"] = true
					} else {
						p.fail["invalidate"] = tt.err
					}
				})
				before := store.count("")
				for range 3 {
					cts.Invalidate(ctx, tok.AccessToken)
					next, err := cts.Token(ctx)
					require.NoError(t, err)
					require.NotEqual(t, tok.AccessToken, next.AccessToken)
					tok = next
					time.Sleep(300 * time.Millisecond)
				}
				assert.Equal(t, 1, store.count("")-before, "one store call, then the back-off")
				assert.Equal(t, 1, warnings(logs, "fetches and keeps its own tokens"), "%s", logs)
			})
		})
	}
}

// Task C (1): whatever store call hangs, the store's part of one call
// keeps to the bound token.go promises: before the fetch at most 3 s
// (2 s plus up to half as much jitter) and at most half the time the
// caller has left, to save at most 1 s and at most half the time then
// left; the call succeeds within its deadline.
func TestStoreCallsKeepToTheirShareOfTheDeadline(t *testing.T) {
	for _, op := range []string{"invalidate", "load", "lock", "save", "all"} {
		for _, deadline := range []time.Duration{0, 10 * time.Second, 4 * time.Second, time.Second, 300 * time.Millisecond} {
			t.Run(fmt.Sprintf("%s hangs, deadline %v", op, deadline), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					store := newProbeStore()
					var fetchedAt time.Time
					var n int
					src := TokenSourceFunc(func(context.Context) (Token, error) {
						n++
						fetchedAt = time.Now()
						return Token{AccessToken: fmt.Sprintf("tok-%d", n), ExpiresAt: time.Now().Add(2 * time.Hour)}, nil
					})
					cts := NewCachingTokenSource(src, CachingOptions{Store: store, Key: "k"})
					first, err := cts.Token(context.Background())
					require.NoError(t, err)
					cts.Invalidate(context.Background(), first.AccessToken)
					store.set(func(p *probeStore) {
						for _, o := range []string{"invalidate", "load", "lock", "save"} {
							p.hang[o] = op == "all" || op == o
						}
					})

					ctx, cancel := context.Background(), context.CancelFunc(func() {})
					if deadline > 0 {
						ctx, cancel = context.WithTimeout(ctx, deadline)
					}
					defer cancel()
					start := time.Now()
					tok, err := cts.Token(ctx)
					took := time.Since(start)
					require.NoError(t, err)
					assert.Equal(t, "tok-2", tok.AccessToken)
					require.Equal(t, 2, n)

					before := fetchedAt.Sub(start)
					bound := 3 * time.Second
					if deadline > 0 {
						bound = min(bound, deadline/2)
					}
					assert.LessOrEqual(t, before, bound, "the store's part before the fetch")
					assert.LessOrEqual(t, store.spent(start, fetchedAt.Add(1)), bound)
					saveBound := time.Second
					if deadline > 0 {
						saveBound = min(saveBound, (deadline-before)/2)
					}
					assert.LessOrEqual(t, store.spent(fetchedAt, start.Add(time.Hour), "save"), saveBound, "saving")
					assert.LessOrEqual(t, took, before+saveBound)
					if deadline > 0 {
						assert.Less(t, took, deadline)
					}
				})
			})
		}
	}
}

// Task C (2), end to end: a store that keeps handing back the token an API
// call just rejected with 42001 is bypassed. A fresh token is fetched and
// saved, one warning is logged, and the server never sees the rejected
// token again, not even after the next token is rejected too and the
// store hands the first one back once more.
func TestRejectedTokenNeverReachesTheServerAgain(t *testing.T) {
	t.Parallel()
	store := newProbeStore()
	e := newMockEnv(t, WithTokenStore(store))
	rejected := map[string]bool{testToken: true}
	var mu sync.Mutex
	seen := map[string]int{}
	e.mt.RegisterResponder(http.MethodPost, testBase+"/cgi-bin/living/get_watch_stat", func(r *http.Request) (*http.Response, error) {
		tok := r.URL.Query().Get("access_token")
		mu.Lock()
		seen[tok]++
		bad := rejected[tok]
		mu.Unlock()
		if bad {
			return httpmock.NewStringResponse(200, `{"errcode":42001,"errmsg":"access_token expired"}`), nil
		}
		return httpmock.NewStringResponse(200, `{"errcode":0,"errmsg":"ok","ending":1,"next_key":"","stat_info":{}}`), nil
	})
	call := func() {
		t.Helper()
		_, err := e.c.Living.GetWatchStat(context.Background(), WatchStatRequest{LivingID: "L1"})
		require.NoError(t, err)
	}
	_, err := e.c.tokens.Token(context.Background())
	require.NoError(t, err)
	// From now on the store hands back testToken, as if another replica
	// kept saving it.
	store.set(func(p *probeStore) { p.handBack = testToken })
	for range 10 {
		call()
	}
	second := testToken + "-2"
	mu.Lock()
	assert.Equal(t, map[string]int{testToken: 1, second: 10}, seen)
	rejected[second] = true // the second token is revoked as well
	mu.Unlock()
	for range 10 {
		call()
	}
	third := testToken + "-3"
	mu.Lock()
	assert.Equal(t, map[string]int{testToken: 1, second: 11, third: 10}, seen, "a rejected token is never sent again")
	mu.Unlock()
	assert.EqualValues(t, 3, e.gettoken.Load())
	store.mu.Lock()
	assert.Equal(t, []string{testToken, second, third}, store.saved, "each fresh token is saved over the rejected one")
	store.mu.Unlock()
	assert.Equal(t, 1, warnings(e.logs, "saw rejected"), "one warning for the token the store keeps handing back:\n%s", e.logs)
	assertNoSecrets(t, "logs", e.logs.String())
}

// Task A, during an early refresh: while a leader waits on a hanging store
// to replace a token that is still valid, other callers are served that
// token at once, and nobody fetches but the leader.
func TestCallersUseTheValidTokenWhileAnEarlyRefreshWaitsOnTheStore(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		store := newProbeStore()
		src := &countingSource{ttl: 2 * time.Hour}
		cts := NewCachingTokenSource(src, CachingOptions{Store: store, Key: "k", RefreshMargin: 10 * time.Minute})
		first, err := cts.Token(context.Background())
		require.NoError(t, err)
		time.Sleep(time.Hour + 55*time.Minute) // inside the margin
		store.set(func(p *probeStore) { p.hang["load"] = true })

		leader := make(chan Token, 1)
		go func() {
			tok, err := cts.Token(context.Background())
			assert.NoError(t, err)
			leader <- tok
		}()
		synctest.Wait() // the leader is blocked in the store
		for range 10 {
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			start := time.Now()
			tok, err := cts.Token(ctx)
			cancel()
			require.NoError(t, err)
			assert.Equal(t, first.AccessToken, tok.AccessToken)
			assert.Zero(t, time.Since(start), "no wait for the refresh")
		}
		assert.Equal(t, "tok-2", (<-leader).AccessToken)
		assert.EqualValues(t, 2, src.n.Load())
	})
}
