package redisstore

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// redisRetryInterval is how long a Limiter whose Redis failed keeps to its
// share before it asks Redis again: a Redis that hangs would otherwise
// cost every Wait a Timeout.
const redisRetryInterval = 5 * time.Second

// Defaults of LimiterOptions: Nuoyun allows 1000 requests per 10 s on
// getAccountUserDurationList; the default leaves a tenth of it for clock
// and window differences and for callers outside livestat. The default
// fleet is small, but larger than most deployments, as it only costs
// throughput while Redis fails.
const (
	DefaultLimiterKey      = "nuoyun"
	DefaultLimiterRequests = 900
	DefaultLimiterPeriod   = 10 * time.Second
	DefaultLimiterReplicas = 8
)

// LimiterOptions configure a Limiter. The zero value is usable.
type LimiterOptions struct {
	// Prefix starts the limiter's key; default DefaultPrefix. (redis_rate
	// puts "rate:" in front of it.)
	Prefix string
	// Key names the quota that the limiters sharing it split; default
	// DefaultLimiterKey. Use one key per Nuoyun account.
	Key string
	// Requests is the most requests that all limiters on Key together
	// let through in any window of Period (one more where a window's
	// edges both fall on one), spread evenly with no bursts; default
	// DefaultLimiterRequests.
	Requests int
	// Period is the window of Requests; default DefaultLimiterPeriod.
	Period time.Duration
	// Replicas is the most processes that use Key at the same time,
	// counting those of a rolling update that run side by side; default
	// DefaultLimiterReplicas. While Redis fails, each process keeps to its
	// share of Requests (see Limiter), so a larger fleet may exceed
	// Requests then. Requests should be well above Replicas.
	Replicas int
	// Timeout bounds one Redis round trip; default DefaultTimeout.
	Timeout time.Duration
	// Logger hears when the limiter falls back to its share and when it
	// shares again; default: discard.
	Logger *slog.Logger
}

// Limiter is a rate limiter that the replicas of a service share through
// Redis, so that together they stay under a vendor's limit. Its Wait
// method has the signature of (*rate.Limiter).Wait, the in-process limiter.
//
// When Redis fails (an error, or no answer within Timeout), Wait logs one
// warning and paces this process alone at its share of the limit, and asks
// Redis again a few seconds later. The share is Requests/Replicas - 1
// requests per Period, evenly spaced with no burst and a tenth slower
// still (with the defaults, about 101 per 10 s): so Replicas processes on
// their own together send at most Requests in any window of Period, even
// when arrivals are up to a tenth of a Period late. The switches keep that
// bound:
//
//   - When Redis fails mid-window, the share starts one interval after the
//     failure. Redis spread what it let through evenly over the window,
//     and the shares together run slower than Redis did, so what Redis
//     counted plus what the shares send stays within Requests.
//   - When Redis answers again, other processes may still be on their own
//     until their next try, up to the retry interval plus Timeout later.
//     So for that long plus one Period (16 s with the defaults), a process
//     that shares again keeps to its share too, before it asks Redis: no
//     window of Period holds both requests that Redis did not count and
//     requests at Redis's full rate.
//
// Not covered: a process cut off from a Redis that the others still reach
// adds its share to Requests; and a process that sent nothing during an
// outage never saw it, so it may take Redis's full rate while the others
// still run on their shares, until their next try.
//
// A Limiter is safe for concurrent use.
type Limiter struct {
	rl      *redis_rate.Limiter
	key     string
	limit   redis_rate.Limit
	period  time.Duration
	timeout time.Duration
	logger  *slog.Logger
	// redis asks Redis for one request; a field so that tests can stand
	// in for Redis. allow bounds it with timeout.
	redis func(context.Context) (*redis_rate.Result, error)

	local      pacer // this process's share while Redis fails
	degraded   atomic.Bool
	retryAt    atomic.Int64 // Unix nanoseconds; Redis is not asked before
	shareUntil atomic.Int64 // Unix nanoseconds; the share also applies before
	retryAfter time.Duration
}

// NewLimiter returns a Limiter on rdb.
func NewLimiter(rdb redis.UniversalClient, opts LimiterOptions) *Limiter {
	opts.Prefix = cmp.Or(opts.Prefix, DefaultPrefix)
	opts.Key = cmp.Or(opts.Key, DefaultLimiterKey)
	opts.Requests = positiveOr(opts.Requests, DefaultLimiterRequests)
	opts.Period = positiveOr(opts.Period, DefaultLimiterPeriod)
	opts.Replicas = positiveOr(opts.Replicas, DefaultLimiterReplicas)
	opts.Timeout = positiveOr(opts.Timeout, DefaultTimeout)
	opts.Logger = cmp.Or(opts.Logger, slog.New(slog.DiscardHandler))
	l := &Limiter{
		rl:  redis_rate.NewLimiter(rdb),
		key: opts.Prefix + "limit:" + opts.Key,
		// Burst 1 spaces requests Period/Requests apart, so any window
		// of Period holds at most Requests of them (+1 at its edges).
		limit:      redis_rate.Limit{Rate: opts.Requests, Period: opts.Period, Burst: 1},
		period:     opts.Period,
		timeout:    opts.Timeout,
		logger:     opts.Logger,
		local:      pacer{every: shareInterval(opts.Requests, opts.Replicas, opts.Period)},
		retryAfter: redisRetryInterval,
	}
	l.redis = func(ctx context.Context) (*redis_rate.Result, error) { return l.rl.Allow(ctx, l.key, l.limit) }
	return l
}

// shareInterval is the spacing of one process's requests while Redis
// fails: a share of requests/replicas - 1 per period (a window of period
// can hold one more than period/spacing), stretched by a tenth, so that
// replicas processes send at most requests in any window of 1.1 periods.
// With requests <= replicas no share keeps that bound; each process then
// sends one request per 1.1 periods.
func shareInterval(requests, replicas int, period time.Duration) time.Duration {
	n, r := int64(requests), int64(replicas)
	if n <= r {
		return period * 11 / 10
	}
	// period*11/10 / ((n-r)/r), rounded up.
	num, den := int64(period)*11*r, 10*(n-r)
	return time.Duration((num + den - 1) / den)
}

// Wait blocks until one more request is allowed, or returns an error when
// ctx ends first. Like (*rate.Limiter).Wait, it fails at once, with an
// error that wraps context.DeadlineExceeded, if the wait would outlast
// ctx's deadline.
func (l *Limiter) Wait(ctx context.Context) error {
	paced := false // this call has taken a slot of the share
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		now := time.Now().UnixNano()
		if now < l.retryAt.Load() {
			if paced {
				return nil
			}
			return l.local.wait(ctx)
		}
		if !paced && (l.degraded.Load() || now < l.shareUntil.Load()) {
			// Others may still be on their own: keep to the share as well.
			// Before Redis, so that Redis counts the request as it goes.
			if err := l.local.wait(ctx); err != nil {
				return err
			}
			paced = true
			continue
		}
		res, err := l.allow(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			failed := time.Now()
			if !paced {
				// Redis may have let this process send just now: its
				// share starts one interval later. Before retryAt, which
				// sends the other goroutines to the share.
				l.local.holdOff(failed)
			}
			l.retryAt.Store(failed.Add(l.retryAfter).UnixNano())
			if !l.degraded.Swap(true) {
				l.logger.WarnContext(ctx, "redisstore: shared rate limit unavailable; limiting this process to its share", "key", l.key, "error", err)
			}
			if paced {
				return nil
			}
			return l.local.wait(ctx)
		}
		if l.degraded.Load() {
			// Before degraded clears, which lets the other goroutines
			// skip the share.
			l.shareUntil.Store(time.Now().Add(l.retryAfter + l.timeout + l.period).UnixNano())
			if l.degraded.Swap(false) {
				l.logger.InfoContext(ctx, "redisstore: shared rate limit available again", "key", l.key)
			}
		}
		if res.Allowed > 0 {
			return nil
		}
		wait := max(res.RetryAfter, time.Millisecond)
		if d, ok := ctx.Deadline(); ok && time.Until(d) < wait {
			return fmt.Errorf("redisstore: rate limit wait of %v would pass the deadline: %w", wait, context.DeadlineExceeded)
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

func (l *Limiter) allow(ctx context.Context) (*redis_rate.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	return l.redis(ctx)
}

// pacer spaces the requests of one process at least every apart, with no
// burst: unlike a token bucket, it can start a period empty (holdOff).
type pacer struct {
	every time.Duration

	mu   sync.Mutex
	next time.Time // no request before
}

// holdOff keeps the next request at least one interval after now.
func (p *pacer) holdOff(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t := now.Add(p.every); t.After(p.next) {
		p.next = t
	}
}

// wait takes the next slot and sleeps until it. A slot at or past ctx's
// deadline is refused at once, and not taken. A wait that ctx ends
// forfeits its slot: the rate can only drop, never exceed its bound.
func (p *pacer) wait(ctx context.Context) error {
	p.mu.Lock()
	now := time.Now()
	at := p.next
	if at.Before(now) {
		at = now
	}
	if d, ok := ctx.Deadline(); ok && at.After(now) && !at.Before(d) {
		p.mu.Unlock()
		return fmt.Errorf("redisstore: rate limit wait of %v would pass the deadline: %w", at.Sub(now), context.DeadlineExceeded)
	}
	p.next = at.Add(p.every)
	p.mu.Unlock()
	if !at.After(now) {
		return nil
	}
	return sleep(ctx, at.Sub(now))
}
