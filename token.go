package livestat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Token is an access token and the instant it stops being valid.
//
// Its String, Format and LogValue methods never print the token itself,
// so a Token can be logged or formatted with %v safely.
type Token struct {
	AccessToken string
	ExpiresAt   time.Time
	// ObtainedAt is when the token's lifetime began: ExpiresAt minus
	// ObtainedAt is the lifetime that the refresh margin is measured
	// against. Optional: CachingTokenSource sets it to the time it asked
	// its TokenSource when that leaves it zero. A TokenStore should keep
	// it; for a token loaded without it, the cache counts the lifetime
	// from when it first saw the token.
	ObtainedAt time.Time
}

// String returns a description of t with the token redacted.
func (t Token) String() string {
	if t.AccessToken == "" {
		return "Token(empty)"
	}
	return "Token(REDACTED, expires " + t.ExpiresAt.UTC().Format(time.RFC3339) + ")"
}

// LogValue keeps log/slog from printing the token.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("access_token", "REDACTED"),
		slog.Time("expires_at", t.ExpiresAt),
	)
}

// cachedToken is a token and the instant it is to be replaced, so that the
// cached path compares the clock with one value and does nothing else.
type cachedToken struct {
	Token
	refreshAt time.Time
}

// fresh reports whether c may be served without a refresh.
func (c *cachedToken) fresh(now time.Time) bool { return c != nil && now.Before(c.refreshAt) }

// valid reports whether c has not expired yet.
func (c *cachedToken) valid(now time.Time) bool { return c != nil && now.Before(c.ExpiresAt) }

// A TokenSource returns an access token. WeCom self-built apps use the
// gettoken source livestat builds from WithWeComApp; third-party and 代开发
// apps, whose tokens come from other flows, supply their own with
// WithTokenSource.
//
// Token must set ExpiresAt: the cache keeps a token until RefreshMargin
// before then, and rejects a token without it.
type TokenSource interface {
	Token(ctx context.Context) (Token, error)
}

// TokenSourceFunc adapts a function to a TokenSource.
type TokenSourceFunc func(ctx context.Context) (Token, error)

// Token calls f(ctx).
func (f TokenSourceFunc) Token(ctx context.Context) (Token, error) { return f(ctx) }

// A TokenStore keeps tokens where several CachingTokenSources (in one process
// or in several) can share them. Keys name a corp and an app, never a corp
// alone: two apps of one corp have different tokens.
//
// Implementations must be safe for concurrent use and must return when
// their context ends: CachingTokenSource bounds every call with it (see
// CachingTokenSource for how), and carries on without a store that fails.
// A store that cannot be reached should return (or wrap, with %w) the
// error that says so, a context error or a net.Error: that is what puts
// it into a back-off; other errors are taken as the store's answer.
type TokenStore interface {
	// Load returns the token stored under key; ok is false when there is none.
	Load(ctx context.Context, key string) (tok Token, ok bool, err error)
	// Save stores tok under key until tok.ExpiresAt.
	Save(ctx context.Context, key string, tok Token) error
	// Invalidate removes the token under key, but only if it is still
	// stale (compare-and-delete): another caller may already have
	// replaced it with a fresh one.
	Invalidate(ctx context.Context, key string, stale string) error
}

// A RefreshLocker is a TokenStore that can also serialise refreshes across
// processes. A CachingTokenSource holds the lock while it fetches a new token,
// so that of several replicas sharing the store only one calls gettoken.
type RefreshLocker interface {
	// LockRefresh blocks until the refresh lock for key is held or ctx ends.
	// The deadline of ctx is how long the caller waits for the lock; a
	// lock taken should expire by itself no later than that, so that a
	// holder that vanished delays the others no longer than they would
	// wait anyway. The lock must outlive ctx: unlock releases it.
	LockRefresh(ctx context.Context, key string) (unlock func(), err error)
}

// MemoryTokenStore is the default TokenStore: a map in this process.
type MemoryTokenStore struct {
	mu sync.Mutex
	m  map[string]Token
}

// NewMemoryTokenStore returns an empty in-process store.
func NewMemoryTokenStore() *MemoryTokenStore {
	return &MemoryTokenStore{m: make(map[string]Token)}
}

// Load implements TokenStore.
func (s *MemoryTokenStore) Load(_ context.Context, key string) (Token, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.m[key]
	if ok && !time.Now().Before(t.ExpiresAt) {
		delete(s.m, key)
		return Token{}, false, nil
	}
	return t, ok, nil
}

// Save implements TokenStore.
func (s *MemoryTokenStore) Save(_ context.Context, key string, tok Token) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil { // the zero value is usable
		s.m = make(map[string]Token)
	}
	s.m[key] = tok
	return nil
}

// Invalidate implements TokenStore.
func (s *MemoryTokenStore) Invalidate(_ context.Context, key string, stale string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.m[key]; ok && t.AccessToken == stale {
		delete(s.m, key)
	}
	return nil
}

// DefaultRefreshMargin is how long before expiry a cached token is replaced.
const DefaultRefreshMargin = 5 * time.Minute

// CachingTokenSource caches the tokens of another TokenSource.
//
//   - A cached token is used until RefreshMargin before it expires, or
//     until half its lifetime has passed if that comes later: a margin
//     longer than half the lifetime is cut to half of it, so no margin can
//     make every call a refresh.
//   - When it must be refreshed, exactly one caller refreshes; concurrent
//     callers wait for that result, each still bound by its own context,
//     or use the cached token meanwhile while it is still valid (an early
//     refresh). If the refreshing caller gives up (its context ends), a
//     waiter takes over instead of failing with someone else's
//     cancellation. Waiters get the token as soon as it is fetched, not
//     after it is saved.
//   - A waiter never fails only because the refresh it waits on spends
//     longer on the store than the waiter has: once half the time its
//     context had left has passed with the refresh still on the store, it
//     fetches a token without the store, in a second single flight that
//     all such waiters share and that saves nothing; the refresh then uses
//     that token (and saves it) instead of fetching one more. The cost is
//     at most one extra fetch per source, never a failed call.
//   - If an early refresh (within the margin) fails while the cached token
//     is still valid, that token keeps being used, a warning is logged,
//     and the refresh is tried again 10 s later.
//   - A token passed to Invalidate (one an API call just rejected) is never
//     used again by this source, whatever the store returns: a store that
//     hands it back is passed over, with a warning, and the fresh token
//     fetched instead is saved over it.
//   - No lock is held during network I/O, and the cached path does not
//     allocate.
//
// The store is kept off the critical path. Before fetching, a refresh
// waits on the store (the removal of a rejected token, loads, and the
// refresh lock that another process may hold) for 2 to 3 s at most, all
// together (jittered, so that replicas released by one stale lock do not
// all fetch at once); to save what it fetched, at most 1 s more. Neither
// wait takes more than half the time the caller's context has left. The
// lock is waited for during three quarters of the first wait: then the
// refresh looks at the store once more and, if it still finds no fresh
// token, fetches one itself. When the store does not answer in time (a
// timeout or deadline, or an error after more than half the call's time)
// or cannot be reached (a refused, reset or closed connection, any
// net.Error) while the caller still waits, the store is left alone for
// 5 s: the source serves and fetches tokens on its own meanwhile, with one
// warning per such period, and a removal that failed is not retried. An
// error the store answers with at once (a Redis user without the
// permission to run scripts) is not that: it is logged at Warn, once per
// 5 s, and the refresh carries on with the store, saving what it fetched.
//
// A CachingTokenSource is safe for concurrent use. Share one between
// Clients to share its token.
type CachingTokenSource struct {
	src    TokenSource
	store  TokenStore
	key    string
	margin time.Duration
	logger *slog.Logger

	cur atomic.Pointer[cachedToken]

	mu       sync.Mutex
	inflight *flight
	// direct is the fetch without the store that callers share when
	// they cannot wait for the refresh in flight (see wait).
	direct *flight
	// rejected holds the latest tokens passed to Invalidate, oldest
	// first: none of them is taken from the store again.
	rejected []rejectedToken
	// quietUntil (Unix nanoseconds) holds off refresh attempts after an
	// early refresh failed while the cached token was still valid.
	quietUntil atomic.Int64
	// storeDownUntil (Unix nanoseconds): after a store failure, the store
	// is not called before then.
	storeDownUntil atomic.Int64
	// storeDegraded is set from a store failure until it answers again.
	storeDegraded atomic.Bool
	// storeErrWarned (Unix nanoseconds) ends the period in which errors
	// the store answered with are not logged again.
	storeErrWarned atomic.Int64
}

// rejectedToken is a token an API call rejected, remembered until it
// expires. pending is set until a refresh has asked the store to drop it
// (once: a failure is not retried).
type rejectedToken struct {
	token   string
	expires time.Time
	pending bool
	// warned is set once a store handed the token back and that was
	// logged: a store that keeps doing so is logged once per token.
	warned bool
}

// How CachingTokenSource waits on its store (see its doc comment).
const (
	// storeWait bounds the store's part of a refresh before the fetch:
	// every round trip and the wait for another holder's lock, together.
	storeWait = 2 * time.Second
	// storeSaveWait bounds saving the fetched token.
	storeSaveWait = time.Second
	// storeRetryInterval is how long a failed store is left alone.
	storeRetryInterval = 5 * time.Second
	// minStoreWindow is the shortest wait on the store worth starting: a
	// caller with less than twice this left does not call the store (and
	// a store that misses so short a window is not to blame).
	minStoreWindow = 100 * time.Millisecond
	// maxRejected bounds the rejected tokens remembered (each until it
	// expires): far more than a process sees rejected in a token's life.
	maxRejected = 64
)

// refreshRetryInterval is how long a still-valid token is served without
// another refresh attempt after an early refresh failed.
const refreshRetryInterval = 10 * time.Second

type flight struct {
	done chan struct{}
	// fetching is closed when the leader of a refresh is done with the
	// store and fetches (nil for a fetch without the store).
	fetching chan struct{}
	tok      Token
	err      error
	// abandoned is set when the leader's own context ended: its failure
	// is then not the waiters' to share.
	abandoned bool
	// released is set, by the leader, once done is closed.
	released bool
}

// CachingOptions configure a CachingTokenSource. The zero value is usable.
type CachingOptions struct {
	// Store shares tokens beyond this source; default: a MemoryTokenStore.
	Store TokenStore
	// Key names the corp and app in the store; default "default". Set it
	// whenever Store is shared: sources with the same Key share a token.
	Key string
	// RefreshMargin is how early a token is replaced; default
	// DefaultRefreshMargin. Negative means zero. It is cut to half the
	// token's lifetime (ExpiresAt - ObtainedAt) where that is shorter.
	RefreshMargin time.Duration
	// Logger receives warnings (a store that fails); default: discard.
	Logger *slog.Logger
}

// NewCachingTokenSource wraps src with a cache.
func NewCachingTokenSource(src TokenSource, opts CachingOptions) *CachingTokenSource {
	if opts.Store == nil {
		opts.Store = NewMemoryTokenStore()
	}
	if opts.Key == "" {
		opts.Key = "default"
	}
	if opts.RefreshMargin == 0 {
		opts.RefreshMargin = DefaultRefreshMargin
	}
	if opts.RefreshMargin < 0 {
		opts.RefreshMargin = 0
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &CachingTokenSource{src: src, store: opts.Store, key: opts.Key, margin: opts.RefreshMargin, logger: opts.Logger}
}

// Token returns the cached token, refreshing it first if it is missing or
// within the refresh margin of its expiry.
func (s *CachingTokenSource) Token(ctx context.Context) (Token, error) {
	if c := s.cur.Load(); c != nil && time.Now().Before(c.refreshAt) {
		return c.Token, nil
	}
	return s.slow(ctx)
}

func (s *CachingTokenSource) slow(ctx context.Context) (Token, error) {
	for {
		if err := ctx.Err(); err != nil {
			return Token{}, err
		}
		s.mu.Lock()
		now := time.Now()
		c := s.cur.Load()
		if c.fresh(now) || (c.valid(now) && now.UnixNano() < s.quietUntil.Load()) {
			s.mu.Unlock()
			return c.Token, nil
		}
		f := s.inflight
		if f == nil {
			// Lead the refresh, outside the lock.
			f = &flight{done: make(chan struct{}), fetching: make(chan struct{})}
			s.inflight = f
			s.mu.Unlock()
			s.lead(ctx, f)
			return f.tok, f.err
		}
		s.mu.Unlock()
		if c.valid(now) {
			// An early refresh is under way: the cached token still
			// serves this call.
			return c.Token, nil
		}
		tok, err, again := s.wait(ctx, f)
		if !again {
			return tok, err
		}
	}
}

// wait waits for the refresh f that another caller leads, bound by ctx.
// While f is still on the store, it waits no longer than half the time ctx
// has left (the share a refresh of its own would give the store): then it
// fetches a token without the store, so that no call fails only because a
// leader with more time waits on a slow store. again reports that the
// leader gave up and the caller should try once more.
func (s *CachingTokenSource) wait(ctx context.Context, f *flight) (tok Token, err error, again bool) {
	var direct <-chan time.Time
	if dl, ok := ctx.Deadline(); ok {
		d := time.Until(dl) / 2
		if tooLate(ctx) {
			d = 0
		}
		t := time.NewTimer(d)
		defer t.Stop()
		direct = t.C
	}
	fetching := f.fetching
	for {
		select {
		case <-f.done:
			if f.abandoned && ctx.Err() == nil {
				return Token{}, nil, true // the leader gave up; try again ourselves
			}
			return f.tok, f.err, false
		case <-ctx.Done():
			return Token{}, ctx.Err(), false
		case <-fetching:
			// The leader is done with the store: its fetch is what this
			// caller would do itself.
			direct, fetching = nil, nil
		case <-direct:
			tok, err := s.fetchShared(ctx)
			return tok, err, false
		}
	}
}

// lead refreshes for every caller waiting on f. Waiters are released
// however it ends, a panicking TokenSource included (the panic then goes on
// up the leader's stack).
func (s *CachingTokenSource) lead(ctx context.Context, f *flight) {
	defer func() {
		if !f.released {
			f.tok, f.err = Token{}, errors.New("livestat: token source panicked")
			s.release(f)
		}
	}()
	tok, err := s.refresh(ctx, f)
	if !f.released {
		s.finish(ctx, f, tok, err)
	}
}

// finish settles the result of f and releases its waiters: before the
// leader saves the token, so that none of them waits on the store for it.
func (s *CachingTokenSource) finish(ctx context.Context, f *flight, tok Token, err error) {
	f.tok, f.err = tok, err
	switch {
	case err == nil:
	case ctx.Err() != nil:
		f.abandoned = true
	default:
		// An early refresh failed, but the cached token is still valid:
		// keep serving it, and try again in a while rather than on every
		// call.
		if c := s.cur.Load(); c.valid(time.Now()) {
			s.logger.WarnContext(ctx, "livestat: token refresh failed; using the cached token until it expires", "key", s.key, "expires_at", c.ExpiresAt, "error", err)
			s.quietUntil.Store(time.Now().Add(refreshRetryInterval).UnixNano())
			f.tok, f.err = c.Token, nil
		}
	}
	s.release(f)
}

// release ends the flight f for its waiters.
func (s *CachingTokenSource) release(f *flight) {
	f.released = true
	s.mu.Lock()
	if s.inflight == f {
		s.inflight = nil
	}
	s.mu.Unlock()
	close(f.done)
}

// fetchShared fetches a token from the source without the store, in a
// single flight of its own: the callers that cannot wait for the store,
// and the refresh leader once it is done with the store, share one fetch.
func (s *CachingTokenSource) fetchShared(ctx context.Context) (Token, error) {
	for {
		if err := ctx.Err(); err != nil {
			return Token{}, err
		}
		s.mu.Lock()
		if c := s.cur.Load(); c.fresh(time.Now()) {
			s.mu.Unlock()
			return c.Token, nil
		}
		f := s.direct
		if f == nil {
			f = &flight{done: make(chan struct{})}
			s.direct = f
			s.mu.Unlock()
			func() {
				f.err = errors.New("livestat: token source panicked")
				defer func() {
					s.mu.Lock()
					s.direct = nil
					s.mu.Unlock()
					close(f.done)
				}()
				f.tok, f.err = s.fetch(ctx)
				f.abandoned = f.err != nil && ctx.Err() != nil
			}()
			return f.tok, f.err
		}
		s.mu.Unlock()
		select {
		case <-f.done:
			if f.abandoned && ctx.Err() == nil {
				continue
			}
			return f.tok, f.err
		case <-ctx.Done():
			return Token{}, ctx.Err()
		}
	}
}

// fetch asks the source for a token and caches it.
func (s *CachingTokenSource) fetch(ctx context.Context) (Token, error) {
	obtained := time.Now()
	t, err := s.src.Token(ctx)
	if err != nil {
		return Token{}, err
	}
	if t.AccessToken == "" {
		return Token{}, errors.New("livestat: token source returned an empty token")
	}
	if t.ExpiresAt.IsZero() {
		return Token{}, errors.New("livestat: token source returned a token without ExpiresAt")
	}
	if t.ObtainedAt.IsZero() {
		t.ObtainedAt = obtained
	}
	s.mu.Lock()
	// The source has the last word: a token it hands out again is no
	// longer one to pass over in the store.
	s.rejected = slices.DeleteFunc(s.rejected, func(rt rejectedToken) bool { return rt.token == t.AccessToken })
	s.cur.Store(s.cache(t))
	s.mu.Unlock()
	return t, nil
}

// refreshCall is the store's part of one refresh.
type refreshCall struct {
	ctx context.Context // the caller's
	// off is set once the store is not to be called again in this
	// refresh: it is in its back-off period, or it just failed.
	off bool
}

// refresh loads the token from the store, or fetches and stores a new one.
func (s *CachingTokenSource) refresh(ctx context.Context, f *flight) (Token, error) {
	r := &refreshCall{ctx: ctx, off: time.Now().UnixNano() < s.storeDownUntil.Load() || tooLate(ctx)}
	// Everything before the fetch shares one deadline, jittered so that
	// callers released by one stale lock do not all fetch at once.
	dl := storeDeadline(ctx, storeWait+rand.N(storeWait/2))
	s.dropRejected(r, dl)
	if t, ok := s.load(r, dl); ok {
		return t, nil
	}
	var unlock func()
	defer func() {
		// A store that just failed is not waited on again: the lock
		// expires by itself, no later than this refresh's wait.
		if unlock != nil && !r.off {
			unlock()
		}
	}()
	if l, ok := s.store.(RefreshLocker); ok && !r.off {
		var err error
		if unlock, err = s.lock(ctx, l, dl); err != nil && ctx.Err() != nil {
			return Token{}, ctx.Err()
		}
		// Another holder may have refreshed while we waited; and after a
		// wait that ran out, the store is worth a look before fetching.
		if t, ok := s.load(r, dl); ok {
			return t, nil
		}
		if err != nil && !r.off {
			s.logger.WarnContext(ctx, "livestat: token refresh lock not obtained in time; refreshing without it", "key", s.key, "error", err)
		}
	}
	// Done with the store before the fetch: waiters need not leave for
	// a fetch of their own any more. The fetch is shared with them if
	// some already left; a token one of them fetched meanwhile is used.
	close(f.fetching)
	t, err := s.fetchShared(ctx)
	if err != nil {
		return Token{}, err
	}
	s.finish(ctx, f, t, nil)
	r.off = r.off || tooLate(ctx)
	s.storeOp(r, storeDeadline(ctx, storeSaveWait), "save", func(ctx context.Context) error { return s.store.Save(ctx, s.key, t) })
	return t, nil
}

// tooLate reports whether the caller has too little time left to wait on
// the store at all.
func tooLate(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return ok && time.Until(dl) < 2*minStoreWindow
}

// cache returns t with the instant it is to be replaced: RefreshMargin
// before it expires, but not before half its lifetime has passed.
func (s *CachingTokenSource) cache(t Token) *cachedToken {
	m := min(s.margin, max(t.ExpiresAt.Sub(t.ObtainedAt)/2, 0))
	return &cachedToken{Token: t, refreshAt: t.ExpiresAt.Add(-m)}
}

// storeDeadline is the end of a wait on the store of at most d that starts
// now: never past half the time the caller has left, so that the call
// keeps time to fetch a token itself.
func storeDeadline(ctx context.Context, d time.Duration) time.Time {
	now := time.Now()
	dl := now.Add(d)
	if cd, ok := ctx.Deadline(); ok {
		if half := now.Add(cd.Sub(now) / 2); half.Before(dl) {
			dl = half
		}
	}
	return dl
}

// storeOp runs one store operation, bounded by dl, and reports whether it
// succeeded. A store that does not answer in time (or errs only after more
// than half of it) or cannot be reached,
// while the caller still waits, ends the store's part in this refresh and
// starts its back-off period; an error the store answers with (a Redis
// user without the permission for a command) does neither: it is logged,
// once per period, and the refresh carries on with the store.
func (s *CachingTokenSource) storeOp(r *refreshCall, dl time.Time, op string, f func(context.Context) error) bool {
	if r.off {
		return false
	}
	start := time.Now()
	ctx, cancel := context.WithDeadline(r.ctx, dl)
	err := f(ctx)
	// An error that took more than half the time it had is a store that
	// is too slow, whatever the error says.
	unanswered := err != nil && (ctx.Err() != nil || storeUnreachable(err) || time.Since(start) > dl.Sub(start)/2)
	cancel()
	switch {
	case err == nil:
		if s.storeDegraded.CompareAndSwap(true, false) {
			s.logger.InfoContext(r.ctx, "livestat: token store answers again; sharing tokens through it", "key", s.key)
		}
		return true
	case !unanswered:
		if s.once(&s.storeErrWarned) {
			s.logger.WarnContext(r.ctx, "livestat: token store answered with an error; carrying on with it", "key", s.key, "op", op, "error", err)
		}
		return false
	}
	r.off = true
	if r.ctx.Err() == nil {
		s.storeFailed(r.ctx, op, err)
	}
	return false
}

// storeUnreachable reports whether a store's error says that it did not
// answer in time or could not be reached (a timeout, a refused, reset or
// closed connection), rather than that it answered with an error.
func storeUnreachable(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.As(err, &ne) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// once reports whether the period that until (Unix nanoseconds) ends has
// passed, and starts a new one if so: one caller in a period gets true.
func (s *CachingTokenSource) once(until *atomic.Int64) bool {
	now := time.Now()
	for {
		old := until.Load()
		if now.UnixNano() < old {
			return false
		}
		if until.CompareAndSwap(old, now.Add(storeRetryInterval).UnixNano()) {
			return true
		}
	}
}

// storeFailed starts a back-off period, with one warning for it: calls
// that fail together in the same period do not repeat it.
func (s *CachingTokenSource) storeFailed(ctx context.Context, op string, err error) {
	if !s.once(&s.storeDownUntil) {
		return
	}
	s.storeDegraded.Store(true)
	s.logger.WarnContext(ctx, "livestat: token store failed; this process fetches and keeps its own tokens for a while", "key", s.key, "op", op, "retry_in", storeRetryInterval, "error", err)
}

// dropRejected asks the store, once, to drop the tokens rejected since the
// last refresh, so that other processes do not load them.
func (s *CachingTokenSource) dropRejected(r *refreshCall, dl time.Time) {
	var stale []string
	s.mu.Lock()
	for i := range s.rejected {
		if s.rejected[i].pending {
			stale = append(stale, s.rejected[i].token)
			s.rejected[i].pending = false
		}
	}
	s.mu.Unlock()
	for _, tok := range stale {
		s.storeOp(r, dl, "invalidate", func(ctx context.Context) error { return s.store.Invalidate(ctx, s.key, tok) })
	}
}

// lock takes the refresh lock, waiting for another holder until a quarter
// of the time to dl is left: that quarter is for one more look at the store.
func (s *CachingTokenSource) lock(ctx context.Context, l RefreshLocker, dl time.Time) (func(), error) {
	now := time.Now()
	lctx, cancel := context.WithDeadline(ctx, now.Add(dl.Sub(now)*3/4))
	defer cancel()
	return l.LockRefresh(lctx, s.key)
}

// load returns the store's token if it is fresh and not one this process
// saw rejected, and caches it.
func (s *CachingTokenSource) load(r *refreshCall, dl time.Time) (Token, bool) {
	var t Token
	var found bool
	if !s.storeOp(r, dl, "load", func(ctx context.Context) (err error) {
		t, found, err = s.store.Load(ctx, s.key)
		return err
	}) || !found {
		return Token{}, false
	}
	s.mu.Lock()
	if i := slices.IndexFunc(s.rejected, func(rt rejectedToken) bool { return rt.token == t.AccessToken }); i >= 0 {
		warn := !s.rejected[i].warned
		s.rejected[i].warned = true
		s.mu.Unlock()
		if warn {
			s.logger.WarnContext(r.ctx, "livestat: token store returned a token this process saw rejected; fetching a new one", "key", s.key)
		}
		return Token{}, false
	}
	if t.ObtainedAt.IsZero() {
		// The store does not keep it: count the lifetime from when this
		// process first saw the token, not from each load, or every
		// load would postpone the refresh again.
		if c := s.cur.Load(); c != nil && c.AccessToken == t.AccessToken {
			t.ObtainedAt = c.ObtainedAt
		} else {
			t.ObtainedAt = time.Now()
		}
	}
	c := s.cache(t)
	if !c.fresh(time.Now()) {
		s.mu.Unlock()
		return Token{}, false
	}
	s.cur.Store(c)
	s.mu.Unlock()
	return t, true
}

// Invalidate drops the cached token if it is still stale, the token an API
// call just rejected. If a concurrent caller has already replaced it, the
// fresh token is kept. The stale token is never used again by this source:
// the next refresh asks the store, once, to drop it too, and passes it over
// if the store returns it all the same.
func (s *CachingTokenSource) Invalidate(_ context.Context, stale string) {
	if stale == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cur.Load()
	if c != nil && c.AccessToken == stale {
		s.cur.Store(nil)
	}
	if slices.ContainsFunc(s.rejected, func(rt rejectedToken) bool { return rt.token == stale }) {
		return
	}
	now := time.Now()
	s.rejected = slices.DeleteFunc(s.rejected, func(rt rejectedToken) bool { return !now.Before(rt.expires) })
	// The token's expiry is known when it is the cached one; otherwise
	// keep it as long as any token may live.
	rt := rejectedToken{token: stale, expires: now.Add(maxTokenLifeSeconds * time.Second)}
	if c != nil && c.AccessToken == stale {
		rt.expires = c.ExpiresAt
	}
	// Only a refresh that follows this drop cleans the store: if the
	// cache already holds another token, the store was updated with it.
	rt.pending = c == nil || c.AccessToken == stale
	s.rejected = append(s.rejected, rt)
	if len(s.rejected) > maxRejected {
		s.rejected = slices.Delete(s.rejected, 0, len(s.rejected)-maxRejected)
	}
}

// String describes the store with its tokens redacted.
func (s *MemoryTokenStore) String() string {
	if s == nil {
		return "MemoryTokenStore(nil)"
	}
	s.mu.Lock()
	n := len(s.m)
	s.mu.Unlock()
	return fmt.Sprintf("MemoryTokenStore{%d tokens, REDACTED}", n)
}

// Format keeps every fmt verb from printing tokens.
func (s *MemoryTokenStore) Format(f fmt.State, verb rune) { formatRedacted(f, verb, s) }

// LogValue keeps log/slog from printing tokens.
func (s *MemoryTokenStore) LogValue() slog.Value { return slog.StringValue(s.String()) }

// String describes the source and its cached token, redacted.
func (s *CachingTokenSource) String() string {
	if s == nil {
		return "CachingTokenSource(nil)"
	}
	cached := "none"
	if t := s.cur.Load(); t != nil {
		cached = "REDACTED, expires " + t.ExpiresAt.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("CachingTokenSource{key: %q, margin: %v, cached: %s}", s.key, s.margin, cached)
}

// Format keeps every fmt verb from printing the cached token.
func (s *CachingTokenSource) Format(f fmt.State, verb rune) { formatRedacted(f, verb, s) }

// LogValue keeps log/slog from printing the cached token.
func (s *CachingTokenSource) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Format keeps every fmt verb, %d and %x included, from printing the token.
func (t Token) Format(f fmt.State, verb rune) { formatRedacted(f, verb, t) }
