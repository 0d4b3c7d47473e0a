// Package redisstore shares livestat's WeCom access tokens between replicas
// through Redis, serialises their refreshes with a lock, and offers a rate
// limiter that several replicas share.
//
// It is a Go module of its own, so that programs which do not use Redis do
// not pull go-redis into their builds.
//
//	rdb := redis.NewUniversalClient(&redis.UniversalOptions{
//		Addrs:                 []string{"redis:6379"},
//		ContextTimeoutEnabled: true, // let Options.Timeout bound socket I/O
//	})
//	c, err := livestat.NewClient(
//		livestat.WithWeComApp(corpID, secret),
//		livestat.WithAppID(agentID),
//		livestat.WithTokenStore(redisstore.New(rdb, redisstore.Options{})),
//	)
//
// # Keys
//
// A token lives under Prefix+"token:"+key and its refresh lock under
// Prefix+"lock:"+key, where key is what livestat passes
// ("wecom:<corp>:<app>"). The token is stored as JSON with its expiry, and
// the Redis key expires with the token. The refresh margin is applied by
// livestat when it reads the token, not by the key's TTL, so replicas with
// different margins can share one store.
//
// # The refresh lock
//
// The lock is an efficiency lock: it keeps replicas from calling gettoken
// all at once, it does not guard data. If Redis loses it (a failover, an
// expiry while a slow holder still works), two replicas may both call
// gettoken, which WeCom answers with the same token while it is valid.
//
// A lock cannot outlive its purpose: it lives LockTTL, but never past the
// deadline of the context it was taken with (livestat passes the time it
// is prepared to wait for the lock), counted from when the request was
// sent. A request that Redis runs late (it was frozen, and the client has
// given up) keeps to that expiry, and takes no lock at all if it has
// passed. The release is a compare-and-delete, so it never removes a lock
// that expired and passed to another replica.
//
// # When Redis fails
//
// Every method returns Redis errors as they are (wrapped with %w), after at
// most Options.Timeout per round trip. livestat's CachingTokenSource logs
// them; for a Redis that does not answer in time or cannot be reached it
// also leaves the store alone for a few seconds, and carries on with the
// token it holds in memory, or fetches one itself; it shares again once
// Redis answers. An error Redis answers with (NOPERM for a user that may
// not run scripts) starts no such pause.
package redisstore

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"time"

	"github.com/livestat/livestat"
	"github.com/redis/go-redis/v9"
)

// Defaults of Options.
const (
	DefaultPrefix       = "livestat:"
	DefaultTimeout      = time.Second
	DefaultLockTTL      = 10 * time.Second
	DefaultPollInterval = 50 * time.Millisecond
)

// ErrLockWait is returned by LockRefresh when another holder kept the lock
// for longer than Options.LockWait. livestat then refreshes without the lock.
var ErrLockWait = errors.New("redisstore: gave up waiting for the refresh lock")

// Options configure a Store. The zero value is usable.
type Options struct {
	// Prefix starts every key the store writes; default DefaultPrefix.
	Prefix string
	// Timeout bounds one Redis round trip; default DefaultTimeout. Create
	// the client with ContextTimeoutEnabled so that it also bounds socket
	// reads and writes, not only dialing and waiting for a connection.
	Timeout time.Duration
	// LockTTL is how long a refresh lock lives if its holder never
	// releases it (a crash): the longest a dead holder blocks the others.
	// Default DefaultLockTTL. Keep it above a normal gettoken call. A lock
	// never lives past the deadline of the context LockRefresh got, which
	// for livestat is 1.5 to 2.25 s, or less for a caller with a shorter
	// deadline.
	LockTTL time.Duration
	// LockWait bounds how long LockRefresh waits for another holder;
	// default twice LockTTL, so a dead holder's lock expires first.
	// livestat waits less (see LockTTL): the context's deadline comes
	// first.
	LockWait time.Duration
	// PollInterval is how often a waiter tries the lock again (with
	// jitter); default DefaultPollInterval.
	PollInterval time.Duration
	// Logger receives warnings about the lock; default: discard.
	Logger *slog.Logger
}

// Store is a livestat.TokenStore and livestat.RefreshLocker in Redis. It is
// safe for concurrent use; share one per Redis client.
type Store struct {
	rdb  redis.UniversalClient
	opts Options

	invalidate *redis.Script
	acquire    *redis.Script
	release    *redis.Script
}

var (
	_ livestat.TokenStore    = (*Store)(nil)
	_ livestat.RefreshLocker = (*Store)(nil)
)

// invalidateLua deletes the token only if it is still the stale one.
const invalidateLua = `
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local ok, t = pcall(cjson.decode, v)
if ok and type(t) == 'table' and t.access_token == ARGV[1] then
	return redis.call('DEL', KEYS[1])
end
return 0`

// acquireLua takes the lock for ARGV[2] ms, but only until ARGV[3] (Unix
// ms, the client's clock: when the request was sent plus the TTL), so that
// a request run late (Redis was frozen; the client gave up) does not leave
// a lock with a fresh TTL that nobody holds; past ARGV[3] it takes none
// and returns 2. A Redis clock ahead of the client's shortens the lock by
// as much (one behind cannot lengthen it past ARGV[2]): the cost is a
// gettoken, never a stall. It also reports that we already hold the
// lock: go-redis may resend a command whose reply was lost, and the resent
// request must not find our own lock taken.
const acquireLua = `
if redis.replicate_commands then redis.replicate_commands() end
local now = redis.call('TIME')
local left = tonumber(ARGV[3]) - (tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000))
if left <= 0 then return 2 end
local ttl = math.min(tonumber(ARGV[2]), left)
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ttl) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then
	redis.call('PEXPIRE', KEYS[1], ttl)
	return 1
end
return 0`

// releaseLua deletes the lock only if it is still ours: after our TTL ran
// out another replica may hold it.
const releaseLua = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('DEL', KEYS[1])
end
return 0`

// New returns a Store on rdb, which may be a single node, Sentinel or
// Cluster client.
func New(rdb redis.UniversalClient, opts Options) *Store {
	opts.Prefix = cmp.Or(opts.Prefix, DefaultPrefix)
	opts.Timeout = positiveOr(opts.Timeout, DefaultTimeout)
	opts.LockTTL = positiveOr(opts.LockTTL, DefaultLockTTL)
	opts.LockWait = positiveOr(opts.LockWait, 2*opts.LockTTL)
	opts.PollInterval = positiveOr(opts.PollInterval, DefaultPollInterval)
	opts.Logger = cmp.Or(opts.Logger, slog.New(slog.DiscardHandler))
	return &Store{
		rdb:        rdb,
		opts:       opts,
		invalidate: redis.NewScript(invalidateLua),
		acquire:    redis.NewScript(acquireLua),
		release:    redis.NewScript(releaseLua),
	}
}

// positiveOr returns v, or def when v is zero or negative: the default rule
// of the numeric options.
func positiveOr[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// sleep waits for d, or until ctx ends (then ctx.Err()).
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) tokenKey(key string) string { return s.opts.Prefix + "token:" + key }
func (s *Store) lockKey(key string) string  { return s.opts.Prefix + "lock:" + key }

// stored is a token as it is kept in Redis. ObtainedAtMS is absent in
// values written before it existed; livestat copes without it.
type stored struct {
	AccessToken  string `json:"access_token"`
	ExpiresAtMS  int64  `json:"expires_at_ms"`
	ObtainedAtMS int64  `json:"obtained_at_ms,omitempty"`
}

// Load implements livestat.TokenStore.
func (s *Store) Load(ctx context.Context, key string) (livestat.Token, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	b, err := s.rdb.Get(ctx, s.tokenKey(key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return livestat.Token{}, false, nil
	}
	if err != nil {
		return livestat.Token{}, false, fmt.Errorf("redisstore: load: %w", err)
	}
	var v stored
	if err := json.Unmarshal(b, &v); err != nil || v.AccessToken == "" {
		// Say nothing of the value: it may hold a token.
		return livestat.Token{}, false, fmt.Errorf("redisstore: load: the value under %q is not a stored token", s.tokenKey(key))
	}
	t := livestat.Token{AccessToken: v.AccessToken, ExpiresAt: time.UnixMilli(v.ExpiresAtMS)}
	if v.ObtainedAtMS > 0 {
		t.ObtainedAt = time.UnixMilli(v.ObtainedAtMS)
	}
	if !time.Now().Before(t.ExpiresAt) {
		return livestat.Token{}, false, nil
	}
	return t, true, nil
}

// Save implements livestat.TokenStore. The key expires when tok does; a
// token that has already expired is not stored.
func (s *Store) Save(ctx context.Context, key string, tok livestat.Token) error {
	ttl := time.Until(tok.ExpiresAt).Truncate(time.Millisecond)
	if ttl <= 0 {
		return nil
	}
	v := stored{AccessToken: tok.AccessToken, ExpiresAtMS: tok.ExpiresAt.UnixMilli()}
	if !tok.ObtainedAt.IsZero() {
		v.ObtainedAtMS = tok.ObtainedAt.UnixMilli()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("redisstore: save: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	if err := s.rdb.Set(ctx, s.tokenKey(key), b, ttl).Err(); err != nil {
		return fmt.Errorf("redisstore: save: %w", err)
	}
	return nil
}

// Invalidate implements livestat.TokenStore: it deletes the token under key
// only if it is still stale, in one atomic step, so that a token another
// replica has just stored survives.
func (s *Store) Invalidate(ctx context.Context, key string, stale string) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	if err := s.invalidate.Run(ctx, s.rdb, []string{s.tokenKey(key)}, stale).Err(); err != nil {
		return fmt.Errorf("redisstore: invalidate: %w", err)
	}
	return nil
}

// LockRefresh implements livestat.RefreshLocker. It waits while another
// replica holds the lock, polling every PollInterval, until it gets it,
// ctx ends (ctx.Err()), LockWait passes (ErrLockWait) or Redis fails (that
// error, at once: waiting on a Redis that does not answer helps nobody).
//
// The lock expires after LockTTL even if unlock is never called, and no
// later than the deadline of ctx (see the package doc). unlock deletes it
// only while it is still this caller's.
func (s *Store) LockRefresh(ctx context.Context, key string) (unlock func(), err error) {
	k := s.lockKey(key)
	val := rand.Text() // identifies this holder
	deadline := time.Now().Add(s.opts.LockWait)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ttl := s.opts.LockTTL
		if dl, ok := ctx.Deadline(); ok {
			ttl = min(ttl, time.Until(dl))
		}
		ttl = max(ttl, time.Millisecond)
		expires := time.Now().Add(ttl)
		ok, err := s.try(ctx, k, val, ttl, expires)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("redisstore: refresh lock: %w", err)
		}
		if ok {
			return func() { s.unlock(ctx, k, val, expires) }, nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, ErrLockWait
		}
		p := s.opts.PollInterval
		wait := min(p/2+mrand.N(p/2+1), left)
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// errLateLock is a lock request that reached Redis after its lock would
// have expired: the clocks of this host and Redis's differ by more than
// the TTL, or Redis stalled for as long.
var errLateLock = errors.New("the request reached Redis after its lock would have expired (clocks that differ by more than the lock's TTL, or a stalled Redis)")

func (s *Store) try(ctx context.Context, k, val string, ttl time.Duration, expires time.Time) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	n, err := s.acquire.Run(ctx, s.rdb, []string{k}, val, max(ttl.Milliseconds(), 1), expires.UnixMilli()).Int()
	if err == nil && n == 2 {
		err = errLateLock
	}
	return n == 1, err
}

// unlock runs after the refresh, whose context may have ended by then. It
// waits no longer than the lock has to live: past that, the lock is gone
// (or another replica's) anyway.
func (s *Store) unlock(ctx context.Context, k, val string, expires time.Time) {
	left := time.Until(expires)
	if left <= 0 {
		s.opts.Logger.WarnContext(ctx, "redisstore: the refresh lock expired before the refresh ended", "key", k)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), min(s.opts.Timeout, left))
	defer cancel()
	n, err := s.release.Run(ctx, s.rdb, []string{k}, val).Int()
	switch {
	case err != nil:
		s.opts.Logger.WarnContext(ctx, "redisstore: releasing the refresh lock failed; it expires by itself", "key", k, "expires_in", left, "error", err)
	case n == 0:
		s.opts.Logger.WarnContext(ctx, "redisstore: the refresh lock expired before the refresh ended", "key", k)
	}
}
