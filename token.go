package livestat

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Token is an access token and the instant it stops being valid.
//
// Its String, GoString and LogValue methods never print the token itself,
// so a Token can be logged or formatted with %v safely.
type Token struct {
	AccessToken string
	ExpiresAt   time.Time
}

// String returns a description of t with the token redacted.
func (t Token) String() string {
	if t.AccessToken == "" {
		return "Token(empty)"
	}
	return "Token(REDACTED, expires " + t.ExpiresAt.UTC().Format(time.RFC3339) + ")"
}

// GoString keeps %#v from printing the token.
func (t Token) GoString() string { return "livestat." + t.String() }

// LogValue keeps log/slog from printing the token.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("access_token", "REDACTED"),
		slog.Time("expires_at", t.ExpiresAt),
	)
}

// freshFor reports whether t is usable for at least margin from now.
func (t *Token) freshFor(margin time.Duration) bool {
	return t != nil && t.AccessToken != "" && time.Now().Add(margin).Before(t.ExpiresAt)
}

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
// Implementations must be safe for concurrent use.
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
//   - A cached token is used until RefreshMargin before it expires.
//   - When it must be refreshed, exactly one caller fetches; concurrent
//     callers wait for that result, each still bound by its own context.
//     If the fetching caller gives up (its context ends), a waiter takes
//     over instead of failing with someone else's cancellation.
//   - If an early refresh (within the margin) fails while the cached token
//     is still valid, that token keeps being used, a warning is logged,
//     and the refresh is tried again 10 s later.
//   - No lock is held during network I/O, and the cached path does not
//     allocate.
//
// A CachingTokenSource is safe for concurrent use. Share one between
// Clients to share its token.
type CachingTokenSource struct {
	src    TokenSource
	store  TokenStore
	key    string
	margin time.Duration
	logger *slog.Logger

	cur atomic.Pointer[Token]

	mu       sync.Mutex
	inflight *flight
	// quietUntil (Unix nanoseconds) holds off refresh attempts after an
	// early refresh failed while the cached token was still valid.
	quietUntil atomic.Int64
}

// refreshRetryInterval is how long a still-valid token is served without
// another refresh attempt after an early refresh failed.
const refreshRetryInterval = 10 * time.Second

type flight struct {
	done chan struct{}
	tok  Token
	err  error
	// abandoned is set when the leader's own context ended: its failure
	// is then not the waiters' to share.
	abandoned bool
}

// CachingOptions configure a CachingTokenSource. The zero value is usable.
type CachingOptions struct {
	// Store shares tokens beyond this source; default: a MemoryTokenStore.
	Store TokenStore
	// Key names the corp and app in the store; default "default". Set it
	// whenever Store is shared: sources with the same Key share a token.
	Key string
	// RefreshMargin is how early a token is replaced; default
	// DefaultRefreshMargin. Negative means zero.
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
	if t := s.cur.Load(); t.freshFor(s.margin) {
		return *t, nil
	}
	return s.slow(ctx)
}

func (s *CachingTokenSource) slow(ctx context.Context) (Token, error) {
	for {
		if err := ctx.Err(); err != nil {
			return Token{}, err
		}
		s.mu.Lock()
		if t := s.cur.Load(); t.freshFor(s.margin) || (t.freshFor(0) && time.Now().UnixNano() < s.quietUntil.Load()) {
			s.mu.Unlock()
			return *t, nil
		}
		f := s.inflight
		if f == nil {
			// Lead the refresh, outside the lock.
			f = &flight{done: make(chan struct{})}
			s.inflight = f
			s.mu.Unlock()
			s.lead(ctx, f)
			return f.tok, f.err
		}
		s.mu.Unlock()
		select {
		case <-f.done:
			if f.abandoned && ctx.Err() == nil {
				continue // the leader gave up; try again ourselves
			}
			return f.tok, f.err
		case <-ctx.Done():
			return Token{}, ctx.Err()
		}
	}
}

// lead refreshes for every caller waiting on f. Waiters are released
// however it ends, a panicking TokenSource included (the panic then goes on
// up the leader's stack).
func (s *CachingTokenSource) lead(ctx context.Context, f *flight) {
	f.err = errors.New("livestat: token source panicked")
	defer func() {
		s.mu.Lock()
		s.inflight = nil
		s.mu.Unlock()
		close(f.done)
	}()
	f.tok, f.err = s.refresh(ctx)
	if f.err == nil {
		return
	}
	if ctx.Err() != nil {
		f.abandoned = true
		return
	}
	// An early refresh failed, but the cached token is still valid: keep
	// serving it, and try again in a while rather than on every call.
	if t := s.cur.Load(); t.freshFor(0) {
		s.logger.WarnContext(ctx, "livestat: token refresh failed; using the cached token until it expires", "key", s.key, "expires_at", t.ExpiresAt, "error", f.err)
		s.quietUntil.Store(time.Now().Add(refreshRetryInterval).UnixNano())
		f.tok, f.err = *t, nil
	}
}

// refresh loads the token from the store, or fetches and stores a new one.
func (s *CachingTokenSource) refresh(ctx context.Context) (Token, error) {
	if t, ok := s.load(ctx); ok {
		return t, nil
	}
	if l, ok := s.store.(RefreshLocker); ok {
		unlock, err := l.LockRefresh(ctx, s.key)
		if err != nil {
			if ctx.Err() != nil {
				return Token{}, ctx.Err()
			}
			s.logger.WarnContext(ctx, "livestat: token refresh lock unavailable; refreshing without it", "key", s.key, "error", err)
		} else {
			defer unlock()
			// Another holder may have refreshed while we waited.
			if t, ok := s.load(ctx); ok {
				return t, nil
			}
		}
	}
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
	if err := s.store.Save(ctx, s.key, t); err != nil {
		s.logger.WarnContext(ctx, "livestat: token store save failed; token cached in this process only", "key", s.key, "error", err)
	}
	s.cur.Store(&t)
	return t, nil
}

func (s *CachingTokenSource) load(ctx context.Context) (Token, bool) {
	t, ok, err := s.store.Load(ctx, s.key)
	if err != nil {
		s.logger.WarnContext(ctx, "livestat: token store load failed; falling back to this process", "key", s.key, "error", err)
		return Token{}, false
	}
	if !ok || !t.freshFor(s.margin) {
		return Token{}, false
	}
	s.cur.Store(&t)
	return t, true
}

// Invalidate drops the cached token if it is still stale, the token an API
// call just rejected. If a concurrent caller has already replaced it, the
// fresh token is kept.
func (s *CachingTokenSource) Invalidate(ctx context.Context, stale string) {
	if t := s.cur.Load(); t != nil && t.AccessToken == stale {
		s.cur.CompareAndSwap(t, nil)
	}
	if err := s.store.Invalidate(ctx, s.key, stale); err != nil {
		s.logger.WarnContext(ctx, "livestat: token store invalidate failed", "key", s.key, "error", err)
	}
}
