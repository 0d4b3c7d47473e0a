package livestat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/time/rate"
)

// This file holds what is Nuoyun's (诺云直播) in livestat: its options, its
// envelope (code/msg/data), its codes, the client-side rate limiter and the
// request authorizer step. The endpoint is in nuoyun_durations.go, its
// snapshot bookkeeping in nuoyun_repeats.go, its lenient value types in
// nuoyun_types.go.

// VendorNuoyun is Nuoyun (诺云直播).
const VendorNuoyun Vendor = "nuoyun"

// DefaultNuoyunBaseURL is the Nuoyun API gateway.
const DefaultNuoyunBaseURL = "https://gateway.nuoyunapi.com"

// Nuoyun defaults.
const (
	// DefaultNuoyunRateLimit and DefaultNuoyunRatePeriod are the
	// client-side limit on Nuoyun requests: 1000 per 10 s, what
	// getAccountUserDurationList documents.
	DefaultNuoyunRateLimit  = 1000
	DefaultNuoyunRatePeriod = 10 * time.Second
	// DefaultNuoyunWorkers is how many pages an iteration fetches at once
	// once the first page has told how many there are.
	DefaultNuoyunWorkers = 4
)

// nuoyunConfig is what the Nuoyun options set.
type nuoyunConfig struct {
	nuoyunBase    string
	nuoyunAuth    RequestAuthorizer
	nuoyunRateN   int
	nuoyunRatePer time.Duration
	nuoyunWorkers int
	nuoyunLimiter Limiter
}

func defaultNuoyunConfig() nuoyunConfig {
	return nuoyunConfig{
		nuoyunBase:    DefaultNuoyunBaseURL,
		nuoyunRateN:   DefaultNuoyunRateLimit,
		nuoyunRatePer: DefaultNuoyunRatePeriod,
		nuoyunWorkers: DefaultNuoyunWorkers,
	}
}

// WithNuoyunBaseURL sets the Nuoyun gateway scheme and host (default
// DefaultNuoyunBaseURL).
func WithNuoyunBaseURL(u string) Option { return func(c *config) { c.nuoyunBase = u } }

// WithNuoyunRateLimit paces Nuoyun requests so that at most n per period
// reach the server, across every goroutine using the Client, and counting
// every attempt (retries included). A request waits for its turn, or until
// its context ends. n = 0 turns the client-side limit off; the server
// still enforces its own.
//
// The server counts arrivals, not sends, and the time a request takes to
// get there varies (scheduling, the network, a new connection). Spaced
// exactly period/n apart, n+1 requests span exactly one period, so any
// such variation can pack n+1 arrivals into one window. So requests are
// spaced with a margin of a twentieth: period/n × 1.05 apart (10.5 ms by
// default, at most 953 requests in any 10 s), through a token bucket with
// a burst of 1. Then no window of length period holds more than n
// arrivals as long as the delays of the requests differ by less than
// period/20 (500 ms by default), whatever the server's window alignment.
// Default: DefaultNuoyunRateLimit per DefaultNuoyunRatePeriod.
func WithNuoyunRateLimit(n int, period time.Duration) Option {
	return func(c *config) { c.nuoyunRateN, c.nuoyunRatePer = n, period }
}

// A Limiter paces requests: Wait blocks until the next request may go, or
// returns an error when ctx ends first. *rate.Limiter (golang.org/x/time/rate)
// and redisstore's shared Limiter implement it.
type Limiter interface {
	Wait(ctx context.Context) error
}

// WithNuoyunLimiter paces Nuoyun requests with l instead of the built-in
// limiter of WithNuoyunRateLimit: for instance a limiter shared by several
// replicas through Redis (redisstore.NewLimiter), so that together they
// stay under the vendor's limit.
func WithNuoyunLimiter(l Limiter) Option { return func(c *config) { c.nuoyunLimiter = l } }

// WithNuoyunWorkers sets how many pages a Nuoyun iteration fetches
// concurrently after the first (default DefaultNuoyunWorkers); 1 fetches
// page after page. Rows are yielded in page order either way.
func WithNuoyunWorkers(n int) Option { return func(c *config) { c.nuoyunWorkers = n } }

func (cfg *config) validateNuoyun() error {
	var err error
	if cfg.nuoyunBase, err = cfg.baseURL("WithNuoyunBaseURL", cfg.nuoyunBase); err != nil {
		return err
	}
	switch {
	case cfg.nuoyunRateN < 0:
		return errors.New("livestat: WithNuoyunRateLimit: n must not be negative")
	case cfg.nuoyunRateN > 0 && cfg.nuoyunRatePer <= 0:
		return errors.New("livestat: WithNuoyunRateLimit: the period must be positive")
	case cfg.nuoyunWorkers < 1:
		return errors.New("livestat: WithNuoyunWorkers: at least 1 worker is needed")
	}
	return nil
}

// newNuoyunLimiter returns the shared Nuoyun limiter, nil when it is off.
func (cfg *config) newNuoyunLimiter() Limiter {
	if cfg.nuoyunLimiter != nil {
		return cfg.nuoyunLimiter
	}
	if cfg.nuoyunRateN == 0 {
		return nil // an untyped nil: a nil *rate.Limiter would not compare equal
	}
	return rate.NewLimiter(rate.Every(nuoyunInterval(cfg.nuoyunRateN, cfg.nuoyunRatePer)), 1)
}

// nuoyunPaceMargin is the part of the period that WithNuoyunRateLimit adds
// to it before dividing it among the requests: the spread of delays on the
// way to the server that the pacing absorbs.
const nuoyunPaceMargin = 20 // 1/20: 5 %

// nuoyunInterval returns the spacing of requests for n per period.
//
// Why a token bucket with a burst of 1 and a margin, and not a sliding
// window: the bucket schedules turns at least this interval apart however
// late the goroutines that take them wake up, so a send delayed by d does
// not move the turns after it. The arrivals in a server window of length
// period then come from turns within period + D, where D is the spread of
// the delays, and while D < period/20 that span holds at most n turns. A
// sliding window over sends would need the same margin for what happens
// after the send, and would let n requests go at once.
func nuoyunInterval(n int, period time.Duration) time.Duration {
	span := period + period/nuoyunPaceMargin
	// Rounded up, plus a nanosecond against the limiter's float rounding,
	// so that n+1 turns never fit in span.
	return (span+time.Duration(n)-1)/time.Duration(n) + 1
}

// WithNuoyunAuth authenticates every Nuoyun request (every attempt) with a.
// Without it, Nuoyun requests carry no credentials.
func WithNuoyunAuth(a RequestAuthorizer) Option { return func(c *config) { c.nuoyunAuth = a } }

// waitLimiter waits for lim (if any) before an attempt of c.
func waitLimiter(ctx context.Context, lim Limiter, c *call) error {
	if lim == nil {
		return nil
	}
	if err := lim.Wait(ctx); err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		// The limiter refused at once: the turn comes after ctx's deadline.
		return fmt.Errorf("livestat: %s %s: the client-side rate limit would delay the request past the context deadline: %w", c.vendor, c.endpoint, context.DeadlineExceeded)
	}
	return nil
}

// nuoyunAPI is Nuoyun's part of the request path (see vendorAPI).
type nuoyunAPI struct{}

func (nuoyunAPI) baseURL(cfg *config) string { return cfg.nuoyunBase }

func (nuoyunAPI) limiter(cl *Client, _ *call) Limiter { return cl.limiter }

func (nuoyunAPI) credential(context.Context, *Client, *call) (string, error) { return "", nil }

func (nuoyunAPI) rejected(context.Context, *Client, string) {}

// authorize runs the RequestAuthorizer of WithNuoyunAuth, if any.
func (nuoyunAPI) authorize(ctx context.Context, cl *Client, c *call, _ string, cr *credentials) (any, error) {
	if cl.cfg.nuoyunAuth == nil {
		return c.body, nil
	}
	return authorize(ctx, cl.cfg.nuoyunAuth, c, cr)
}

func (nuoyunAPI) envelope() statusReply { return &nuoyunStatus{} }

func (nuoyunAPI) annotate(*APIError) {}

// classify reads Nuoyun's codes: only 5xx (and an HTTP 429 or 5xx status)
// have a category. Its code 400 says only "failed".
func (nuoyunAPI) classify(e *APIError) error {
	switch {
	case e.HTTPStatus == 429:
		return ErrRateLimited
	case e.HTTPStatus >= 500:
		return ErrServerBusy
	case e.Code >= 500 && e.Code < 600:
		return ErrServerBusy
	}
	return nil
}

// nuoyunStatus is the code/msg pair every Nuoyun reply carries. Code 200 is
// success; any other code is returned as an *APIError with Vendor
// VendorNuoyun. Failures come with HTTP 200 and an empty data object. The
// page types embed it unexported: a page is always a success.
type nuoyunStatus struct {
	Code FlexInt `json:"code"`
	Msg  string  `json:"msg"`
}

func (s *nuoyunStatus) status() apiStatus {
	return apiStatus{code: int(s.Code), msg: s.Msg, ok: s.Code == 200}
}
func (s *nuoyunStatus) unsetStatus() { s.Code = noStatus }

func (nuoyunAPI) validate(cfg *config) error { return cfg.validateNuoyun() }

// wire sets up the Nuoyun service and its rate limiter.
func (nuoyunAPI) wire(cl *Client) {
	cl.Nuoyun = &NuoyunService{c: cl}
	cl.limiter = cl.cfg.newNuoyunLimiter()
}

// describe names the base URL; the authorizer describes itself elsewhere.
func (nuoyunAPI) describe(cfg *config) (string, []slog.Attr) {
	return "nuoyun: " + cfg.nuoyunBase, []slog.Attr{slog.String("nuoyun_base_url", cfg.nuoyunBase)}
}

func (nuoyunAPI) noCredentials() string { return "" }
