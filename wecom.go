package livestat

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// This file holds what is WeCom's (企业微信) in livestat: its options, its
// envelope (errcode/errmsg), gettoken and the token step of every call, its
// errcode categories, and WeComService, which reaches any cgi-bin endpoint.
// The endpoints livestat wraps live in living.go and school_living.go.

// VendorWeCom is WeCom (企业微信).
const VendorWeCom Vendor = "wecom"

// DefaultWeComBaseURL is the WeCom API host.
const DefaultWeComBaseURL = "https://qyapi.weixin.qq.com"

// EndpointGetToken is gettoken, the call that turns the corp ID and app
// secret into an access token.
const EndpointGetToken Endpoint = "gettoken"

// wecomEndpoints describes WeCom's own endpoint; the APIs' are in their
// area files.
func wecomEndpoints(e Endpoint) (endpointInfo, bool) {
	gettoken := endpointInfo{VendorWeCom, http.MethodGet, "/cgi-bin/gettoken", "https://developer.work.weixin.qq.com/document/path/91039"}
	return gettoken, e == EndpointGetToken
}

// wecomConfig is what the WeCom options set.
type wecomConfig struct {
	corpID, appID string
	// corpSecret is held in a closure, which fmt prints as an address:
	// printing a Client or config by value cannot show the secret.
	corpSecret       func() string
	tokenSource      TokenSource
	tokenStore       TokenStore
	refreshMargin    time.Duration
	refreshMarginSet bool
	wecomBase        string
	wecomRateN       int
	wecomRatePer     time.Duration
	wecomLimiterFor  func(path string) Limiter
}

func defaultWeComConfig() wecomConfig {
	return wecomConfig{wecomBase: DefaultWeComBaseURL, wecomRateN: DefaultWeComRateLimit, wecomRatePer: DefaultWeComRatePeriod}
}

// DefaultWeComRateLimit and DefaultWeComRatePeriod are the client-side
// limit of every WeCom API (see WithWeComRateLimit): up to 6,750 requests
// at once, then 6,750 every 3 minutes (37.5 a second).
//
// WeCom limits each corp to 10,000 calls a minute and 150,000 an hour per
// API (and each IP to 20,000 a minute per API). A bucket of n turns that
// refills at n per period lets at most n + n×T/period requests through in
// any window of length T, so the defaults allow at most
//
//	6,750 + 37.5 × 60   =   9,000 in any 60 s    (≤ 9,500: 95 % of 10,000)
//	6,750 + 37.5 × 3600 = 141,750 in any hour    (≤ 142,500: 95 % of 150,000)
//
// The 5 % left over absorbs requests that take different times to reach
// the server (a second of spread adds at most 38) and a few calls by other
// programs of the corp. The burst is large so that a sync of some
// thousand calls (Schools of 20 broadcasts: about 120) runs at full speed;
// only a sync that keeps going for minutes is paced, at 37.5 a second.
const (
	DefaultWeComRateLimit  = 6750
	DefaultWeComRatePeriod = 3 * time.Minute
)

// WithWeComApp authenticates WeCom calls as a self-built app: gettoken with
// the corp ID and the app's own secret. Since 2023-12-01 the system-app
// (通讯录/直播) secret may no longer call these APIs.
func WithWeComApp(corpID, appSecret string) Option {
	return func(c *config) {
		c.corpID, c.corpSecret = corpID, func() string { return appSecret }
	}
}

// WithAppID names the app (its agent ID, say) in the token cache key. Tokens
// are keyed by corp ID and app, so two apps of one corp never share one.
// Without it, the app part of the key is a one-way hash of the secret.
// With WithTokenSource it names the corp and app together, and it is
// required when the token store is shared (WithTokenStore).
func WithAppID(appID string) Option { return func(c *config) { c.appID = appID } }

// WithTokenSource supplies WeCom tokens from elsewhere: third-party and
// 代开发 apps, or a token service of your own. livestat caches what it
// returns; a *CachingTokenSource is used as it is.
func WithTokenSource(ts TokenSource) Option { return func(c *config) { c.tokenSource = ts } }

// WithTokenStore shares cached tokens through store (default: in process).
func WithTokenStore(store TokenStore) Option { return func(c *config) { c.tokenStore = store } }

// WithRefreshMargin sets how long before expiry a token is replaced
// (default DefaultRefreshMargin). Zero refreshes only once a token has
// expired. A margin longer than half a token's lifetime is cut to half of
// it, so a 2 h token is always used for its first hour: no margin makes
// every call a gettoken.
func WithRefreshMargin(d time.Duration) Option {
	return func(c *config) { c.refreshMargin, c.refreshMarginSet = d, true }
}

// WithWeComBaseURL sets the WeCom scheme and host (default
// DefaultWeComBaseURL). livestat appends /cgi-bin/...
func WithWeComBaseURL(u string) Option { return func(c *config) { c.wecomBase = u } }

// WithWeComRateLimit paces the WeCom requests of the Client per API (per
// path such as /cgi-bin/school/living/get_watch_stat_v2, as WeCom counts
// them), across every goroutine using the Client and counting every
// attempt (retries and the replay after a rejected token included): a
// token bucket of n turns per API, which refills at n per period. Up to n
// requests to one API go at once, then n every period; in any window of
// length T at most n + n×T/period go out. A request waits for its turn, or
// until its context ends (at once, when the turn comes after its
// deadline). n = 0 turns the client-side limit off; WeCom still enforces
// its own (errcode 45009, retried as ErrRateLimited).
//
// A Client is one corp's (its credentials are one corp's app), so the
// limiters are per corp and API, as WeCom's limits are. Several Clients
// or replicas of one corp each have their own: use WithWeComLimiter to
// share them. Default: DefaultWeComRateLimit per DefaultWeComRatePeriod,
// which keeps one Client within WeCom's limits per minute and per hour.
func WithWeComRateLimit(n int, period time.Duration) Option {
	return func(c *config) { c.wecomRateN, c.wecomRatePer = n, period }
}

// WithWeComLimiter paces the WeCom requests of each API with the Limiter
// that limiterFor returns for its path (such as
// "/cgi-bin/school/living/get_watch_stat_v2"), instead of the built-in
// limiters of WithWeComRateLimit: for instance limiters shared through
// Redis by the replicas of a service, one key per corp and API, so that
// together they stay within WeCom's limits:
//
//	livestat.WithWeComLimiter(func(path string) livestat.Limiter {
//		return redisstore.NewLimiter(rdb, redisstore.LimiterOptions{
//			Key: "wecom:" + corpID + ":" + path, Requests: 140_000, Period: time.Hour,
//		})
//	})
//
// limiterFor is called once per API, the first time the Client calls it,
// and must not block; a nil Limiter (untyped) leaves that API unpaced.
// Every attempt waits for the Limiter, as with WithWeComRateLimit.
func WithWeComLimiter(limiterFor func(path string) Limiter) Option {
	return func(c *config) { c.wecomLimiterFor = limiterFor }
}

// newWeComLimiters returns the Client's WeCom limiters, nil when they are
// off.
func (cfg *config) newWeComLimiters() *apiLimiters {
	if f := cfg.wecomLimiterFor; f != nil {
		return &apiLimiters{make: f}
	}
	if cfg.wecomRateN == 0 {
		return nil
	}
	n, per := cfg.wecomRateN, cfg.wecomRatePer
	return &apiLimiters{make: func(string) Limiter { return newBucket(n, per) }}
}

// newBucket returns a token bucket of n turns that refills at n per
// period.
func newBucket(n int, period time.Duration) *rate.Limiter {
	return rate.NewLimiter(rate.Limit(float64(n)/period.Seconds()), n)
}

// apiLimiters holds one Limiter per API path, made on first use.
type apiLimiters struct {
	make func(path string) Limiter
	mu   sync.Mutex
	m    map[string]Limiter
}

// get returns the Limiter of path; nil when l is nil or path is unpaced.
func (l *apiLimiters) get(path string) Limiter {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.m[path]
	if !ok {
		if l.m == nil {
			l.m = map[string]Limiter{}
		}
		lim = l.make(path)
		l.m[path] = lim
	}
	return lim
}

// secret returns the app secret, "" when none is configured.
func (cfg *wecomConfig) secret() string {
	if cfg.corpSecret == nil {
		return ""
	}
	return cfg.corpSecret()
}

// appKey is the app part of the token cache key.
func (cfg *wecomConfig) appKey() string {
	if cfg.appID != "" {
		return cfg.appID
	}
	sum := sha256.Sum256([]byte(cfg.secret()))
	return "s" + hex.EncodeToString(sum[:6])
}

func (cfg *config) validateWeCom() error {
	if cfg.corpID != "" && cfg.secret() == "" {
		return errors.New("livestat: WithWeComApp: the app secret is empty")
	}
	if cfg.corpID == "" && cfg.secret() != "" {
		return errors.New("livestat: WithWeComApp: the corp ID is empty")
	}
	if cfg.tokenSource != nil && cfg.secret() != "" {
		return errors.New("livestat: use WithWeComApp or WithTokenSource, not both")
	}
	if _, cached := cfg.tokenSource.(*CachingTokenSource); cfg.tokenSource != nil && !cached && cfg.tokenStore != nil && cfg.appID == "" {
		// The store is shared: without a name, every custom source's
		// token would land under one key, and one corp would get
		// another's token.
		return errors.New("livestat: WithTokenSource with WithTokenStore needs WithAppID to name the corp and app in the store")
	}
	switch {
	case cfg.wecomRateN < 0:
		return errors.New("livestat: WithWeComRateLimit: n must not be negative")
	case cfg.wecomRateN > 0 && cfg.wecomRatePer <= 0:
		return errors.New("livestat: WithWeComRateLimit: the period must be positive")
	}
	if cfg.refreshMargin < 0 {
		return errors.New("livestat: WithRefreshMargin: the margin must not be negative")
	}
	var err error
	cfg.wecomBase, err = cfg.baseURL("WithWeComBaseURL", cfg.wecomBase)
	return err
}

// newTokens returns the Client's token cache, nil when WeCom is not
// configured.
func (c *Client) newTokens() *CachingTokenSource {
	cfg := &c.cfg
	switch {
	case cfg.tokenSource != nil:
		if cts, ok := cfg.tokenSource.(*CachingTokenSource); ok {
			return cts
		}
		return NewCachingTokenSource(cfg.tokenSource, c.cachingOptions("wecom:custom:"+cfg.appID))
	case cfg.corpID != "":
		return NewCachingTokenSource(&gettokenSource{c: c}, c.cachingOptions("wecom:"+cfg.corpID+":"+cfg.appKey()))
	}
	return nil
}

// cachingOptions configures the token cache under key, which names the
// corp and the app.
func (c *Client) cachingOptions(key string) CachingOptions {
	margin := c.cfg.refreshMargin
	if c.cfg.refreshMarginSet && margin == 0 {
		margin = -1 // CachingOptions reads 0 as "default" and negative as zero
	}
	return CachingOptions{Store: c.cfg.tokenStore, Key: key, RefreshMargin: margin, Logger: c.cfg.logger}
}

// wecomAPI is WeCom's part of the request path (see vendorAPI).
type wecomAPI struct{}

func (wecomAPI) baseURL(cfg *config) string { return cfg.wecomBase }

// limiter returns the limiter of c's API, nil when none.
func (wecomAPI) limiter(cl *Client, c *call) Limiter { return cl.wecomLimits.get(c.path) }

// credential returns the access token of an attempt of c.
func (wecomAPI) credential(ctx context.Context, cl *Client, c *call) (string, error) {
	if !c.token {
		return "", nil
	}
	if cl.tokens == nil {
		return "", &NoCredentialsError{Vendor: c.vendor, Endpoint: c.endpoint}
	}
	t, err := cl.tokens.Token(ctx)
	if err != nil {
		return "", err
	}
	return t.AccessToken, nil
}

// rejected drops tok, unless someone already replaced it.
func (wecomAPI) rejected(ctx context.Context, cl *Client, tok string) { cl.tokens.Invalidate(ctx, tok) }

// authorize puts the access token in the query, as a credential.
func (wecomAPI) authorize(_ context.Context, _ *Client, c *call, tok string, cr *credentials) (any, error) {
	if tok != "" {
		cr.addQuery("access_token", tok)
	}
	return c.body, nil
}

func (wecomAPI) envelope() statusReply { return &wecomStatus{} }

// annotate reads what WeCom appends to errmsg ("..., hint: [1737...], from
// ip: 1.2.3.4, more info at ...") into Hint and FromIP.
func (wecomAPI) annotate(e *APIError) {
	e.Hint = errmsgField(e.Message, "hint")
	if ip, err := netip.ParseAddr(errmsgField(e.Message, "from ip")); err == nil {
		e.FromIP = ip.String()
	}
}

// classify is WeCom's errcode → category table.
func (wecomAPI) classify(e *APIError) error {
	if e.Endpoint == EndpointGetToken {
		switch e.Code {
		case 40001, 40013, 40091, 40056:
			return ErrInvalidCredentials
		}
	}
	switch e.Code {
	case 40001, 40014, 42001, 41001:
		return ErrTokenInvalid
	case 45009, 45033:
		return ErrRateLimited
	case -1:
		return ErrServerBusy
	case 48002, 60011, 60020, 301002, 92008:
		// 92008: this app may not operate this broadcast (one
		// created by another app).
		return ErrPermissionDenied
	case 40013, 40056, 40058, 40003, 41002, 41004:
		return ErrInvalidArgument
	}
	// Known without a category, so final like any code not listed:
	// 92006 (the broadcast has started or was cancelled) and 92007
	// (its replay cannot be deleted) answer the living write APIs.
	return nil
}

// errmsgField returns the value of "name: value" in a WeCom errmsg: the
// text up to the next comma or space, or inside brackets when it starts
// with one. It is lenient: any case, any position, spaces around the colon
// or none; "" when name is absent.
func errmsgField(msg, name string) string {
	lower := asciiLower(msg) // same length as msg, so indices carry over
	for from := 0; ; {
		i := strings.Index(lower[from:], name)
		if i < 0 {
			return ""
		}
		i += from
		from = i + len(name)
		// A whole word only: "hint" in "xhint:" is not the field.
		if i > 0 && isWordByte(lower[i-1]) {
			continue
		}
		rest := strings.TrimLeft(msg[from:], " ")
		if !strings.HasPrefix(rest, ":") {
			continue
		}
		rest = strings.TrimLeft(rest[1:], " ")
		if v, ok := strings.CutPrefix(rest, "["); ok {
			v, _, _ = strings.Cut(v, "]")
			return strings.TrimSpace(v)
		}
		if j := strings.IndexAny(rest, ", ;\t"); j >= 0 {
			rest = rest[:j]
		}
		return rest
	}
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}

// asciiLower lowers ASCII letters only, keeping every byte offset.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// wecomStatus is the errcode/errmsg pair that every WeCom reply carries.
// The page types embed it unexported: a page is always a success.
type wecomStatus struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

func (s *wecomStatus) status() apiStatus {
	return apiStatus{code: s.ErrCode, msg: s.ErrMsg, ok: s.ErrCode == 0}
}
func (s *wecomStatus) unsetStatus() { s.ErrCode = noStatus }

// wecomRequest is the call of one WeCom API request with the access token.
func wecomRequest(ep Endpoint, method, path string, query url.Values, body any) *call {
	return &call{vendor: VendorWeCom, endpoint: ep, method: method, path: path, query: query, body: body, token: true}
}

// wecomCall sends one request of a wrapped WeCom endpoint: req, validated
// first (nothing is sent when it is invalid), as the endpoint's method and
// path describe: the JSON body of a POST, the query of a GET (a GET's
// request type has a query method).
func wecomCall[P any](ctx context.Context, c *Client, ep Endpoint, req interface{ validate(Endpoint) error }) (*P, error) {
	if err := req.validate(ep); err != nil {
		return nil, err
	}
	info := ep.describe()
	var query url.Values
	var body any = req
	if info.method == http.MethodGet {
		body = nil
		if q, ok := req.(interface{ query() url.Values }); ok {
			query = q.query()
		}
	}
	return send[P](ctx, c, wecomRequest(ep, info.method, info.path, query, body))
}

// cursorPager is the pager of a WeCom endpoint that pages with an opaque
// cursor (next_key, next_cursor): req says where to start and makes the
// request for any cursor, get fetches one page, and each page names the
// next cursor. rows lists a page's rows in the order they are yielded.
func cursorPager[R cursorRequest[R], P cursorPage, T any](c *Client, endpoint Endpoint, req R,
	get func(context.Context, R) (P, error), rows func(P, func(T) bool) bool) pager[string, P, T] {
	return pager[string, P, T]{
		endpoint: endpoint,
		start:    req.cursor(),
		fetch:    func(ctx context.Context, cursor string) (P, error) { return get(ctx, req.at(cursor)) },
		next:     func(_ string, p P) (string, bool) { return p.nextCursor() },
		rows:     rows,
		maxPages: c.cfg.maxPages,
	}
}

// cursorRequest is the request of an endpoint that cursorPager pages.
type cursorRequest[R any] interface {
	cursor() string     // where the request starts
	at(cursor string) R // a copy that starts at cursor
}

// cursorPage is the reply of an endpoint that cursorPager pages. The page
// alone says whether more follow, in its endpoint's style: a flag beside
// the cursor (ending, has_more), or the cursor itself, "" on the last page
// (get_user_all_livingid). A reply without the field that says it is an
// error before it becomes a page (the paged interface in client.go).
type cursorPage interface {
	nextCursor() (cursor string, more bool)
}

// tagKind sets the Kind of rows that came in the reply's list of kind.
func tagKind[T any, PT interface {
	*T
	setKind(ViewerKind)
}](rows []T, kind ViewerKind) {
	for i := range rows {
		PT(&rows[i]).setKind(kind)
	}
}

// requireLivingID is the rule of the living statistics endpoints.
func requireLivingID(ep Endpoint, livingID string) error {
	if livingID == "" {
		return &ValidationError{Endpoint: ep, Field: "LivingID", Reason: "must not be empty"}
	}
	return nil
}

// WeComService reaches any WeCom cgi-bin endpoint, wrapped by livestat or
// not, with livestat's rules for all of them.
type WeComService struct{ c *Client }

// Do calls the WeCom endpoint at path (as in WeCom's docs, such as
// "/cgi-bin/user/get") with method (GET or POST) and decodes the reply into
// resp, with every rule the wrapped endpoints follow: the access token
// (fetched, cached, and on 40014 or 42001 refreshed and the request replayed
// once), errcode classification (an errcode other than 0 is an *APIError
// matching the sentinel categories), retries and the context's deadline,
// redaction of the token in errors, logs and what WithMiddleware sees.
//
// For GET, req is the query: nil or url.Values. For POST, req is encoded as
// the JSON body (nil sends none). A query parameter that is a credential
// (access_token, corpsecret, ...) is refused with a *ValidationError: the
// token is livestat's to add.
//
// resp is nil (the reply is checked and dropped) or a pointer to what the
// reply decodes into with encoding/json; it needs no errcode or errmsg
// field: livestat decodes the envelope. It is set only when the call
// succeeds. Errors name the endpoint as path without "/cgi-bin/", with
// Vendor VendorWeCom.
//
// WeCom's server API docs: https://developer.work.weixin.qq.com/document/
func (s *WeComService) Do(ctx context.Context, method, path string, req, resp any) error {
	name, ok := strings.CutPrefix(path, "/cgi-bin/")
	ep := Endpoint(name)
	bad := func(field, reason string) error { return &ValidationError{Endpoint: ep, Field: field, Reason: reason} }
	switch {
	case !ok || name == "" || strings.ContainsAny(name, "?#"):
		return bad("path", fmt.Sprintf("want /cgi-bin/<endpoint> without a query, got %q", truncate(path, 64)))
	case method != http.MethodGet && method != http.MethodPost:
		return bad("method", fmt.Sprintf("want GET or POST, got %q", truncate(method, 16)))
	}
	var query url.Values
	var body any
	if method == http.MethodGet {
		switch q := req.(type) {
		case nil:
		case url.Values:
			for k := range q {
				if isSecretParam(k) {
					return bad("req", fmt.Sprintf("the query parameter %q is a credential: livestat adds the access token itself", k))
				}
			}
			query = q
		default:
			return bad("req", fmt.Sprintf("a GET request's query must be url.Values, got %T", req))
		}
	} else {
		body = req
	}
	var rt reflect.Type
	if resp != nil {
		if rt = reflect.TypeOf(resp); rt.Kind() != reflect.Pointer || reflect.ValueOf(resp).IsNil() {
			return bad("resp", fmt.Sprintf("want nil or a non-nil pointer, got %T", resp))
		}
	}
	out, err := s.c.do(ctx, wecomRequest(ep, method, path, query, body), func() any {
		if rt == nil {
			return nil
		}
		return reflect.New(rt.Elem()).Interface()
	})
	if err != nil {
		return err
	}
	if rt != nil {
		// Each attempt decodes into a fresh value: a reply cut short and
		// retried leaves nothing behind in resp.
		reflect.ValueOf(resp).Elem().Set(reflect.ValueOf(out).Elem())
	}
	return nil
}

// gettokenSource fetches WeCom tokens with GET /cgi-bin/gettoken.
type gettokenSource struct{ c *Client }

type gettokenReply struct {
	wecomStatus
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
}

// status reads a reply without errcode that has a token as a success:
// gettoken's shape before 2017, which older mocks and proxies still send.
func (r *gettokenReply) status() apiStatus {
	if r.ErrCode == noStatus && r.AccessToken != "" {
		return apiStatus{code: 0, msg: r.ErrMsg, ok: true}
	}
	return r.wecomStatus.status()
}

func (g *gettokenSource) Token(ctx context.Context) (Token, error) {
	start := time.Now()
	info := EndpointGetToken.describe()
	r, err := send[gettokenReply](ctx, g.c, &call{
		vendor:   VendorWeCom,
		endpoint: EndpointGetToken,
		method:   info.method,
		path:     info.path,
		query:    url.Values{"corpid": {g.c.cfg.corpID}},
		creds:    url.Values{"corpsecret": {g.c.cfg.secret()}},
		secret:   true,
		// The token travels up through the middleware as REDACTED.
		replyCreds: []string{"access_token"},
	})
	if err != nil {
		return Token{}, err
	}
	if r.AccessToken == "" || r.ExpiresIn <= 0 {
		return Token{}, &ResponseError{Vendor: VendorWeCom, Endpoint: EndpointGetToken, HTTPStatus: http.StatusOK, Reason: "no access_token or expires_in in reply"}
	}
	// Clamp before multiplying: a huge expires_in would overflow into a
	// token that looks expired at once, and every call would refetch it.
	life := time.Duration(min(r.ExpiresIn, maxTokenLifeSeconds)) * time.Second
	return Token{AccessToken: r.AccessToken, ExpiresAt: start.Add(life)}, nil
}

// maxTokenLifeSeconds caps the expires_in livestat believes (WeCom grants
// 7200 s): a day, after which the token is fetched again.
const maxTokenLifeSeconds = 24 * 3600

func (wecomAPI) validate(cfg *config) error { return cfg.validateWeCom() }

// wire sets up the WeCom services, the token cache and the limiters.
func (wecomAPI) wire(cl *Client) {
	cl.wecomLimits = cl.cfg.newWeComLimiters()
	cl.Living = &LivingService{c: cl}
	cl.School = &SchoolService{c: cl}
	cl.WeCom = &WeComService{c: cl}
	cl.tokens = cl.newTokens()
}

// describe names the base URL and the app, never the secret.
func (wecomAPI) describe(cfg *config) (string, []slog.Attr) {
	auth := "none"
	switch {
	case cfg.secret() != "":
		auth = fmt.Sprintf("app %q of corp %q, secret REDACTED", cfg.appKey(), cfg.corpID)
	case cfg.tokenSource != nil:
		auth = "token source"
	}
	attrs := []slog.Attr{slog.String("wecom_base_url", cfg.wecomBase)}
	if cfg.secret() != "" {
		attrs = append(attrs, slog.String("corp_id", cfg.corpID), slog.String("app", cfg.appKey()), slog.String("secret", redacted))
	}
	return fmt.Sprintf("wecom: %s (%s)", cfg.wecomBase, auth), attrs
}

func (wecomAPI) noCredentials() string {
	return "create the Client with WithWeComApp or WithTokenSource"
}
