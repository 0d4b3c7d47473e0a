package redisstore

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"
)

// redisRetryInterval is how long a Limiter whose Redis failed keeps to its
// in-process limit before it asks Redis again: a Redis that hangs would
// otherwise cost every Wait a Timeout.
const redisRetryInterval = 5 * time.Second

// Defaults of LimiterOptions: Nuoyun allows 1000 requests per 10 s on
// getAccountUserDurationList; the default leaves a tenth of it for clock
// and window differences and for callers outside livestat.
const (
	DefaultLimiterKey      = "nuoyun"
	DefaultLimiterRequests = 900
	DefaultLimiterPeriod   = 10 * time.Second
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
	// Timeout bounds one Redis round trip; default DefaultTimeout.
	Timeout time.Duration
	// Logger hears when the limiter falls back to a limit of its own
	// process and when it shares again; default: discard.
	Logger *slog.Logger
}

// Limiter is a rate limiter that the replicas of a service share through
// Redis, so that together they stay under a vendor's limit. Its Wait
// method has the signature of (*rate.Limiter).Wait, the in-process limiter.
//
// When Redis fails, Wait falls back to an in-process limiter of the same
// rate, with one warning, and asks Redis again a few seconds later. Each
// replica then keeps to the whole limit on its own, and the vendor may
// answer with its rate-limit error, which livestat retries.
//
// A Limiter is safe for concurrent use.
type Limiter struct {
	rl      *redis_rate.Limiter
	key     string
	limit   redis_rate.Limit
	timeout time.Duration
	logger  *slog.Logger

	local      *rate.Limiter
	degraded   atomic.Bool
	retryAt    atomic.Int64 // Unix nanoseconds; Redis is not asked before
	retryAfter time.Duration
}

// NewLimiter returns a Limiter on rdb.
func NewLimiter(rdb redis.UniversalClient, opts LimiterOptions) *Limiter {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.Key == "" {
		opts.Key = DefaultLimiterKey
	}
	if opts.Requests <= 0 {
		opts.Requests = DefaultLimiterRequests
	}
	if opts.Period <= 0 {
		opts.Period = DefaultLimiterPeriod
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Limiter{
		rl:  redis_rate.NewLimiter(rdb),
		key: opts.Prefix + "limit:" + opts.Key,
		// Burst 1 spaces requests Period/Requests apart, so any window
		// of Period holds at most Requests of them (+1 at its edges).
		limit:      redis_rate.Limit{Rate: opts.Requests, Period: opts.Period, Burst: 1},
		timeout:    opts.Timeout,
		logger:     opts.Logger,
		local:      rate.NewLimiter(rate.Limit(float64(opts.Requests)/opts.Period.Seconds()), 1),
		retryAfter: redisRetryInterval,
	}
}

// Wait blocks until one more request is allowed, or returns an error when
// ctx ends first. Like (*rate.Limiter).Wait, it fails at once, with an
// error that wraps context.DeadlineExceeded, if the wait would outlast
// ctx's deadline.
func (l *Limiter) Wait(ctx context.Context) error {
	var timer *time.Timer
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if time.Now().UnixNano() < l.retryAt.Load() {
			return l.local.Wait(ctx)
		}
		res, err := l.allow(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			l.retryAt.Store(time.Now().Add(l.retryAfter).UnixNano())
			if !l.degraded.Swap(true) {
				l.logger.WarnContext(ctx, "redisstore: shared rate limit unavailable; limiting this process alone", "key", l.key, "error", err)
			}
			return l.local.Wait(ctx)
		}
		if l.degraded.Swap(false) {
			l.logger.InfoContext(ctx, "redisstore: shared rate limit available again", "key", l.key)
		}
		if res.Allowed > 0 {
			return nil
		}
		wait := max(res.RetryAfter, time.Millisecond)
		if d, ok := ctx.Deadline(); ok && time.Until(d) < wait {
			return fmt.Errorf("redisstore: rate limit wait of %v would pass the deadline: %w", wait, context.DeadlineExceeded)
		}
		if timer == nil {
			timer = time.NewTimer(wait)
			defer timer.Stop()
		} else {
			timer.Reset(wait)
		}
		select {
		case <-timer.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (l *Limiter) allow(ctx context.Context) (*redis_rate.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	return l.rl.Allow(ctx, l.key, l.limit)
}
