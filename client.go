package livestat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"
)

// Version is the livestat release, sent in the User-Agent header.
const Version = "0.1.0"

// Default limits.
const (
	// DefaultTimeout bounds one HTTP attempt; the caller's context bounds
	// the whole call, retries included.
	DefaultTimeout = 30 * time.Second
	// DefaultMaxPages caps an iteration, so a server that keeps saying
	// "more" with fresh cursors cannot keep it running forever.
	DefaultMaxPages = 100_000
	// DefaultMaxResponseBytes bounds one reply body.
	DefaultMaxResponseBytes = 32 << 20
)

// Client talks to the WeCom and Nuoyun live-statistics APIs. Create one with
// NewClient and share it: a Client is safe for concurrent use, and it holds
// the connection pool, the token cache and the rate limiters.
type Client struct {
	// Living is WeCom corp living (直播): get_user_all_livingid (a
	// member's or teacher's living IDs), get_living_info and
	// get_watch_stat.
	Living *LivingService
	// School is WeCom school living (上课直播): get_living_info,
	// get_watch_stat_v2 and get_unwatch_stat_v2.
	School *SchoolService
	// Nuoyun is Nuoyun (诺云直播) viewer durations:
	// getAccountUserDurationList.
	Nuoyun *NuoyunService
	// WeCom reaches any WeCom cgi-bin endpoint, wrapped or not, with the
	// token, errcode, retry and redaction rules of the wrapped ones: see
	// WeComService.Do.
	WeCom *WeComService

	cfg  config
	rc   *resty.Client
	bufs replyBuffers
	// The vendors' state, set up by their files: the token cache and
	// the limiters per API (wecom.go), the rate limiter (nuoyun.go).
	tokens      *CachingTokenSource // nil when no credentials are configured
	wecomLimits *apiLimiters        // nil when the client-side limit is off
	limiter     Limiter             // nil when the client-side limit is off
}

// config is what the Options set. NewClient validates it as a whole.
type config struct {
	wecomConfig  // wecom.go
	nuoyunConfig // nuoyun.go

	httpClient    *http.Client
	middleware    []func(http.RoundTripper) http.RoundTripper
	timeout       time.Duration
	logger        *slog.Logger
	retry         RetryPolicy
	maxPages      int
	maxBody       int64
	allowInsecure bool
}

// An Option configures a Client.
type Option func(*config)

// WithHTTPClient sends requests through hc: for proxies, TLS settings,
// httpmock. livestat copies *hc and never modifies the original. Redirects
// are not followed unless hc has its own CheckRedirect.
//
// hc's Transport is the bottom of livestat's stack: it sees every request
// as sent, credentials included (an access_token and corpsecret in the
// query, whatever a RequestAuthorizer adds). Install tracing,
// logging and metrics with WithMiddleware instead, which sees them
// REDACTED.
func WithHTTPClient(hc *http.Client) Option { return func(c *config) { c.httpClient = hc } }

// WithTimeout bounds each HTTP attempt (default DefaultTimeout).
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithLogger receives livestat's logs: retries at Debug, fallbacks at Warn.
// Log records never contain tokens or secrets. Default: discard.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithRetry sets the retry policy (default DefaultRetryPolicy()). Zero
// delays in p take the default values.
func WithRetry(p RetryPolicy) Option {
	return func(c *config) {
		d := DefaultRetryPolicy()
		if p.BaseDelay == 0 {
			p.BaseDelay = d.BaseDelay
		}
		if p.MaxDelay == 0 {
			p.MaxDelay = d.MaxDelay
		}
		if p.RateLimitDelay == 0 {
			p.RateLimitDelay = d.RateLimitDelay
		}
		c.retry = p
	}
}

// WithoutRetries makes every call a single attempt. The one replay after a
// rejected token still happens.
func WithoutRetries() Option { return func(c *config) { c.retry = RetryPolicy{MaxAttempts: 1} } }

// WithMaxPages caps the pages one iteration may fetch (default
// DefaultMaxPages); past it the iteration ends with an ErrPagination error.
func WithMaxPages(n int) Option { return func(c *config) { c.maxPages = n } }

// WithMaxResponseBytes bounds one reply body (default
// DefaultMaxResponseBytes).
func WithMaxResponseBytes(n int64) Option { return func(c *config) { c.maxBody = n } }

// WithInsecureHTTP allows http:// base URLs on hosts other than loopback.
// Loopback hosts (tests, local fakes) never need it.
func WithInsecureHTTP() Option { return func(c *config) { c.allowInsecure = true } }

// RetryPolicy says how often and how patiently a failed call is repeated.
// Only what IsRetryable accepts is retried: transport errors (but not a
// certificate that does not verify or DNS "no such host"), HTTP 429 and
// 5xx, WeCom -1 and 45009, truncated or garbled replies.
//
// The wait before retry n is drawn at random from [d/2, d], where d is
// BaseDelay (RateLimitDelay after a rate limit) doubled n-1 times and capped
// at MaxDelay; it is never shorter than the server's Retry-After. A call that
// stops retrying with a retryable failure returns a *RetryError: when the
// attempts are used up, when the caller's context has ended or would end
// before the next attempt starts (the call fails at once rather than sleep
// into the deadline), or when Retry-After asks for more than MaxDelay.
//
// Zero delays take the values of DefaultRetryPolicy.
type RetryPolicy struct {
	// MaxAttempts counts the first attempt; 1 disables retries.
	MaxAttempts int
	// BaseDelay is the first backoff; each retry doubles it, with jitter.
	BaseDelay time.Duration
	// MaxDelay caps one backoff. A Retry-After beyond it ends the call.
	MaxDelay time.Duration
	// RateLimitDelay is the first backoff after a rate-limit reply (WeCom
	// 45009, HTTP 429), which wants more patience than a busy server.
	RateLimitDelay time.Duration
}

// DefaultRetryPolicy returns the policy a Client uses unless told otherwise:
// 4 attempts (WeCom advises at most 3 retries of -1), 200 ms doubling to at
// most 10 s, and 2 s after a rate limit.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 4, BaseDelay: 200 * time.Millisecond, MaxDelay: 10 * time.Second, RateLimitDelay: 2 * time.Second}
}

// NewClient returns a Client configured by opts, or an error naming the
// first invalid setting. It sends no request.
func NewClient(opts ...Option) (*Client, error) {
	cfg := config{
		wecomConfig:  defaultWeComConfig(),
		nuoyunConfig: defaultNuoyunConfig(),
		timeout:      DefaultTimeout,
		retry:        DefaultRetryPolicy(),
		maxPages:     DefaultMaxPages,
		maxBody:      DefaultMaxResponseBytes,
	}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}

	hc := &http.Client{}
	if cfg.httpClient != nil {
		cp := *cfg.httpClient
		hc = &cp
	}
	if hc.Transport == nil {
		hc.Transport = http.DefaultTransport
	}
	rt, err := transportStack(hc.Transport, cfg.middleware)
	if err != nil {
		return nil, err
	}
	hc.Transport = rt
	if hc.CheckRedirect == nil {
		// These JSON APIs do not redirect. Following a redirect would
		// send the request, its credentials included, to a URL that the
		// base URL checks never saw (plain http, another host): return
		// the 3xx reply instead, which becomes a *ResponseError.
		hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	rc := resty.NewWithClient(hc).
		SetLogger(discardLogger{}).
		SetHeader("User-Agent", "livestat-go/"+Version).
		SetRetryCount(0) // livestat's own loop retries: its decisions need the decoded errcode

	c := &Client{cfg: cfg, rc: rc, bufs: newReplyBuffers()}
	for _, v := range vendors() {
		v.setup().wire(c)
	}
	return c, nil
}

func (cfg *config) validate() error {
	if err := cfg.validateCommon(); err != nil {
		return err
	}
	for _, v := range vendors() {
		if err := v.setup().validate(cfg); err != nil {
			return err
		}
	}
	return nil
}

// validateCommon checks the settings every vendor shares.
func (cfg *config) validateCommon() error {
	switch {
	case cfg.timeout <= 0:
		return errors.New("livestat: WithTimeout: the timeout must be positive")
	case cfg.retry.MaxAttempts < 1:
		return errors.New("livestat: WithRetry: MaxAttempts must be at least 1")
	case cfg.retry.BaseDelay < 0 || cfg.retry.MaxDelay < 0 || cfg.retry.RateLimitDelay < 0:
		return errors.New("livestat: WithRetry: delays must not be negative")
	case cfg.retry.MaxAttempts > 1 && cfg.retry.MaxDelay < cfg.retry.BaseDelay:
		return errors.New("livestat: WithRetry: MaxDelay is shorter than BaseDelay")
	case cfg.maxPages < 1:
		return errors.New("livestat: WithMaxPages: the cap must be at least 1")
	case cfg.maxBody < 1:
		return errors.New("livestat: WithMaxResponseBytes: the bound must be positive")
	}
	return nil
}

// baseURL checks a vendor's base URL, set by option, and returns it
// without a trailing slash.
func (cfg *config) baseURL(option, raw string) (string, error) {
	if err := checkBaseURL(raw, cfg.allowInsecure); err != nil {
		return "", fmt.Errorf("livestat: %s: %w", option, err)
	}
	return strings.TrimRight(raw, "/"), nil
}

// checkBaseURL accepts scheme://host[:port] with https, or http on a
// loopback host (or anywhere when insecure is allowed).
func checkBaseURL(raw string, insecure bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("invalid URL %q", redactURL(raw))
	}
	if u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return fmt.Errorf("want scheme://host[:port], got %q", redactURL(raw))
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if insecure || isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("http:// is allowed only on loopback hosts (or with WithInsecureHTTP), got %q", u.Host)
	}
	return fmt.Errorf("unsupported scheme %q", u.Scheme)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// discardLogger silences resty, whose own messages may carry request URLs.
type discardLogger struct{}

func (discardLogger) Errorf(string, ...any) {}
func (discardLogger) Warnf(string, ...any)  {}
func (discardLogger) Debugf(string, ...any) {}

// call is one API request as the endpoint files describe it.
type call struct {
	vendor   Vendor
	endpoint Endpoint
	method   string
	path     string     // appended to the vendor's base URL
	query    url.Values // no secrets: middleware sees it
	creds    url.Values // query parameters that are credentials: added below middleware
	body     any
	token    bool // authenticate with the vendor's per-call credential (an access token)
	secret   bool // the reply holds a secret: no body snippets in errors
	// replyCreds names the top-level string fields of the reply that are
	// credentials (gettoken's access_token): the layer below the
	// middleware takes them out of the reply (see credentials).
	replyCreds []string
}

// noStatus marks a status code the reply did not contain.
const noStatus = math.MinInt32

// pagedReply is implemented by the page replies, whose paging field (the
// flag, cursor or total that alone tells whether more pages follow) a
// success must carry: read as zero, an absent one would end the iteration
// early as if complete. The request path marks the field absent before
// decoding and checks it after, so absent and zero are told apart for every
// endpoint. A reply that is not paged may use it for the one field a
// success must carry (get_living_info's living_info).
type pagedReply interface {
	// unsetPaging sets the paging field to noStatus, which no reply sends.
	unsetPaging()
	// missingPaging names the paging field still unset after decoding
	// ("has_more", "data.total"), "" when the reply had it.
	missingPaging() string
}

// missingIf is a missingPaging: field when unset (still the value
// unsetPaging gave it), else "".
func missingIf(unset bool, field string) string {
	if unset {
		return field
	}
	return ""
}

// send performs c with retries and the one token replay, and decodes the
// reply into a fresh *T per attempt.
func send[T any](ctx context.Context, cl *Client, c *call) (*T, error) {
	out, err := cl.do(ctx, c, func() any { return new(T) })
	if err != nil {
		return nil, err
	}
	return out.(*T), nil
}

// do performs c with retries and the one replay after a rejected
// credential. fresh returns the value one attempt decodes the reply into
// (nil: the payload is dropped); do returns the one of the attempt that
// succeeded.
func (cl *Client) do(ctx context.Context, c *call, fresh func() any) (any, error) {
	api := c.vendor.api()
	pol := cl.cfg.retry
	replayed := false
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		cred, err := api.credential(ctx, cl, c)
		if err != nil {
			return nil, err
		}
		out := fresh()
		retryAfter, err := cl.once(ctx, api, c, cred, out)
		if err == nil {
			return out, nil
		}
		if cred != "" && !replayed && errors.Is(err, ErrTokenInvalid) {
			// The credential was rejected: drop it unless someone
			// already replaced it, and replay once with a fresh one.
			replayed = true
			api.rejected(ctx, cl, cred)
			cl.cfg.logger.DebugContext(ctx, "livestat: token rejected; refreshing and replaying", "endpoint", c.endpoint, "error", err)
			attempt--
			continue
		}
		if !IsRetryable(err) {
			return nil, err
		}
		// From here on the call may only end with a *RetryError, which
		// says how many attempts were made and why there is no other.
		if cerr := ctx.Err(); cerr != nil {
			return nil, &RetryError{Attempts: attempt, Err: err, ctxErr: cerr, Reason: cerr.Error()}
		}
		if attempt >= pol.MaxAttempts {
			return nil, &RetryError{Attempts: attempt, Err: err, Reason: "no attempts left"}
		}
		if retryAfter > pol.MaxDelay {
			// Retrying sooner than the server asked is pointless, and
			// waiting longer than MaxDelay is not what the caller chose.
			return nil, &RetryError{Attempts: attempt, Err: err, Reason: fmt.Sprintf("the server asked to wait %v, more than RetryPolicy.MaxDelay (%v)", retryAfter, pol.MaxDelay)}
		}
		wait := pol.backoff(attempt, err, retryAfter)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			// Fail now rather than sleep into the deadline.
			return nil, &RetryError{Attempts: attempt, Err: err, ctxErr: context.DeadlineExceeded, Reason: fmt.Sprintf("the next attempt, in %v, would start after the context deadline", wait.Round(time.Millisecond))}
		}
		cl.cfg.logger.DebugContext(ctx, "livestat: retrying", "endpoint", c.endpoint, "attempt", attempt, "wait", wait, "error", err)
		if serr := sleep(ctx, wait); serr != nil {
			return nil, &RetryError{Attempts: attempt, Err: err, ctxErr: serr, Reason: serr.Error()}
		}
	}
}

// backoff returns the wait before retry number attempt: capped exponential
// with jitter in [d/2, d], at least the server's Retry-After.
func (p RetryPolicy) backoff(attempt int, err error, retryAfter time.Duration) time.Duration {
	base := p.BaseDelay
	if errors.Is(err, ErrRateLimited) && p.RateLimitDelay > base {
		base = p.RateLimitDelay
	}
	d := base << min(attempt-1, 20)
	if d > p.MaxDelay || d <= 0 {
		d = p.MaxDelay
	}
	if d > 0 {
		d = d/2 + rand.N(d/2+1)
	}
	if retryAfter > d {
		d = min(retryAfter, p.MaxDelay)
	}
	return d
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// once sends one attempt and decodes its reply into out.
func (cl *Client) once(ctx context.Context, api vendorAPI, c *call, cred string, out any) (retryAfter time.Duration, err error) {
	// The vendor's steps are taken on every attempt, retries included: its
	// rate limiter (if any), then its credentials.
	base := api.baseURL(&cl.cfg)
	// Wait for the limiter before the attempt's timeout starts, so that
	// queueing behind other goroutines does not eat into it.
	if err := waitLimiter(ctx, api.limiter(cl, c), c); err != nil {
		return 0, err
	}

	ctx, cancel := context.WithTimeout(ctx, cl.cfg.timeout)
	defer cancel()

	// Credentials travel in ctx, to the layer below the user's middleware
	// (transport.go); everything above it, resty included, sees REDACTED.
	cr := &credentials{vendor: c.vendor, endpoint: c.endpoint, replyFields: c.replyCreds, maxReply: cl.cfg.maxBody}
	for k, vs := range c.creds {
		cr.addQuery(k, vs...)
	}
	reqBody, err := api.authorize(ctx, cl, c, cred, cr)
	if err != nil {
		return 0, err
	}
	if ctx, err = withCredentials(ctx, cr, base+c.path); err != nil {
		return 0, err
	}
	r := cl.rc.R().SetContext(ctx).SetDoNotParseResponse(true)
	if len(c.query) > 0 {
		r.SetQueryParamsFromValues(c.query)
	}
	for k, vs := range cr.query {
		r.QueryParam[k] = placeholders(len(vs))
	}
	for k, vs := range cr.header {
		r.Header[k] = placeholders(len(vs))
	}
	if reqBody != nil {
		r.SetHeader("Content-Type", "application/json").SetBody(reqBody)
	}
	resp, err := r.Execute(c.method, base+c.path)
	if err != nil {
		if me, ok := errors.AsType[*MiddlewareError](err); ok {
			return 0, me // the program's mistake: not a transport failure, not retried
		}
		return 0, &TransportError{Vendor: c.vendor, Endpoint: c.endpoint, Err: cr.scrubError(err)}
	}
	body := resp.RawBody()
	defer body.Close()

	buf := cl.bufs.get()
	defer cl.bufs.put(buf)
	n, rerr := readBody(buf, body, resp.RawResponse.ContentLength, cl.cfg.maxBody)
	status := resp.StatusCode()
	data := buf.Bytes()
	snip := func() string {
		if c.secret {
			return ""
		}
		// A gateway page may echo the request, credentials included.
		return snippet(cr.redact(data))
	}
	if rerr != nil {
		return 0, &TransportError{Vendor: c.vendor, Endpoint: c.endpoint, Err: fmt.Errorf("reading reply: %w", cr.scrubError(rerr))}
	}
	if n > cl.cfg.maxBody {
		return 0, &ResponseError{Vendor: c.vendor, Endpoint: c.endpoint, HTTPStatus: status, Reason: "too large", Err: fmt.Errorf("reply exceeds %d bytes", cl.cfg.maxBody)}
	}
	if status < 200 || status > 299 {
		ra := parseRetryAfter(resp.Header().Get("Retry-After"))
		return ra, &ResponseError{Vendor: c.vendor, Endpoint: c.endpoint, HTTPStatus: status, Reason: "http status", Snippet: snip(), RetryAfter: int(ra / time.Second)}
	}
	paged, _ := out.(pagedReply)
	if paged != nil {
		paged.unsetPaging()
	}
	st, err := decodeReply(data, out, api.envelope())
	if err != nil {
		// Only a body that is not valid JSON may have been spoilt on the
		// way; valid JSON of another shape is what the server sends, and
		// asking again will not change it (see IsRetryable). The check
		// runs on failures only.
		if !json.Valid(data) {
			reason := "malformed json"
			if t := bytes.TrimSpace(data); len(t) == 0 || (t[0] != '{' && t[0] != '[') {
				reason = "not json"
			}
			return 0, &ResponseError{Vendor: c.vendor, Endpoint: c.endpoint, HTTPStatus: status, Reason: reason, Snippet: snip(), Err: err}
		}
		// A failure reply may carry a payload of another shape than a
		// success (PHP back ends send [] for an empty {}); decodeReply then
		// reads its status on its own, and a failure is the better report.
		if !st.ok && st.code != 0 && st.code != noStatus {
			return 0, newAPIError(c.vendor, c.endpoint, st.code, cr.scrubString(st.msg), status)
		}
		return 0, &ResponseError{Vendor: c.vendor, Endpoint: c.endpoint, HTTPStatus: status, Reason: "wrong shape", Snippet: snip(), Err: err}
	}
	if creds := cr.replyCredentials(); creds != nil && out != nil {
		// The real values of the reply's credentials, which the
		// middleware saw as REDACTED.
		if err := unmarshalJSON(creds, out); err != nil {
			return 0, &ResponseError{Vendor: c.vendor, Endpoint: c.endpoint, HTTPStatus: status, Reason: "wrong shape", Err: err}
		}
		if r, ok := out.(statusReply); ok {
			st = r.status()
		}
	}
	if st.code == noStatus {
		return 0, &ResponseError{Vendor: c.vendor, Endpoint: c.endpoint, HTTPStatus: status, Reason: "wrong shape", Snippet: snip(), Err: errors.New("the reply has no status code (errcode or code)")}
	}
	if !st.ok {
		return 0, newAPIError(c.vendor, c.endpoint, st.code, cr.scrubString(st.msg), status)
	}
	if paged != nil {
		if field := paged.missingPaging(); field != "" {
			// Only the paging field tells the end (the vendors' docs say
			// so): a success without it is a reply of the wrong shape,
			// and asking again will not add the field.
			return 0, &ResponseError{Vendor: c.vendor, Endpoint: c.endpoint, HTTPStatus: status, Reason: "wrong shape", Snippet: snip(), Err: fmt.Errorf("the reply has no %s field", field)}
		}
	}
	return 0, nil
}

// maxRetryAfterSeconds bounds a parsed Retry-After (a year): anything
// longer is as good as "never" for a retry loop.
const maxRetryAfterSeconds = 365 * 24 * 3600

// parseRetryAfter reads a Retry-After header in seconds or as an HTTP date.
func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		// Clamp before multiplying: a huge value must stay huge, not
		// overflow into a short or negative wait.
		return time.Duration(min(s, maxRetryAfterSeconds)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// String describes the Client's configuration without its secrets.
func (c *Client) String() string {
	if c == nil {
		return "Client(nil)"
	}
	var b strings.Builder
	b.WriteString("Client{")
	for _, v := range vendors() {
		if text, _ := v.setup().describe(&c.cfg); text != "" {
			b.WriteString(text)
			b.WriteString(", ")
		}
	}
	fmt.Fprintf(&b, "timeout: %v, retry: %+v}", c.cfg.timeout, c.cfg.retry)
	return b.String()
}

// Format keeps every fmt verb from printing the app secret.
func (c *Client) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c) }

// LogValue keeps log/slog from printing the app secret.
func (c *Client) LogValue() slog.Value {
	if c == nil {
		return slog.StringValue("Client(nil)")
	}
	var attrs []slog.Attr
	for _, v := range vendors() {
		_, va := v.setup().describe(&c.cfg)
		attrs = append(attrs, va...)
	}
	attrs = append(attrs, slog.Duration("timeout", c.cfg.timeout))
	return slog.GroupValue(attrs...)
}
