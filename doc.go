// Package livestat is a typed client for live-viewing statistics: who watched
// a live broadcast, for how long, and who did not. It covers four endpoints
// of two vendors behind one Client:
//
//   - WeCom corp living (直播) get_watch_stat: Client.Living
//   - WeCom school living (上课直播) get_watch_stat_v2 and
//     get_unwatch_stat_v2: Client.School
//   - Nuoyun (诺云直播) getAccountUserDurationList: Client.Nuoyun
//
// Create one Client per process (or per WeCom app) and share it: it is safe
// for concurrent use and holds the connection pool, the token cache and the
// rate limiters: WeCom's, per API, keep the Client within WeCom's limits per
// minute and per hour (WithWeComRateLimit).
//
// # Authentication
//
// WeCom calls need an access_token. With WithWeComApp(corpID, appSecret)
// livestat calls gettoken itself and caches the token until
// DefaultRefreshMargin before it expires. Since 2023-12-01 the system-app
// secret may no longer call these APIs: use your self-built app's own secret,
// or, for third-party and 代开发 apps whose tokens come from other flows, pass
// WithTokenSource.
//
// The cache is a CachingTokenSource: when the token must be refreshed,
// exactly one caller fetches it while the others wait, each bound by its
// own context; the cached path takes no lock and does not allocate. Tokens
// are keyed by corp ID and app (WithAppID, or a hash of the secret), so two
// apps of one corp never share one. A TokenStore shares tokens beyond one
// process: see the redisstore module for replicas.
//
// When WeCom answers 40001, 40014 or 42001 (token invalid or expired),
// livestat drops the token, unless a concurrent caller already replaced it,
// fetches a fresh one and replays the request once. It never loops.
//
// Tokens and secrets never appear in errors or logs: request URLs are
// redacted, Token's String, Format and LogValue print REDACTED, and resty's
// own logging is off. Middleware for tracing, logging and metrics
// (WithMiddleware, e.g. otelhttp) runs above the layer that adds the
// credentials, so it sees REDACTED in their place; only the transport of
// WithHTTPClient, at the bottom, sees the requests as sent.
//
// # Pagination
//
// Each endpoint has three layers:
//
//   - a page call that sends one request: Living.GetWatchStat,
//     School.GetWatchStatV2, School.GetUnwatchStatV2;
//   - a page iterator: Living.WatchStatPages, School.WatchStatV2Pages, ...;
//   - a row iterator over every page: Living.Viewers, School.Watchers,
//     School.Absentees. Rows are tagged with a ViewerKind, so one loop sees
//     every kind.
//
// Iterators are iter.Seq2[T, error] values for range-over-func. They send
// nothing until the loop starts; ranging twice starts again from the
// beginning; break stops fetching at once; the context is checked before
// each page; an error is yielded once and ends the loop. Collect drains an
// iterator into a slice.
//
// The three vendor styles (next_key + ending, next_cursor + has_more,
// page/page_size + total) run on one engine with guards: a server that
// repeats a cursor, or says "more" without a cursor, ends the iteration with
// an ErrPagination error instead of looping; WithMaxPages caps a run. An
// empty page that still says "more" is followed.
//
// To resume later, range over the page iterator, save each page's cursor
// (NextKey, NextCursor) after processing it, and pass it back in the request.
//
// # Errors
//
// Every failure can be classified with errors.Is against the sentinels
// ErrTokenInvalid, ErrInvalidCredentials, ErrRateLimited, ErrServerBusy,
// ErrInvalidArgument, ErrPermissionDenied, ErrNoCredentials, ErrBadResponse
// and ErrPagination, and read with errors.As:
//
//   - *APIError: the vendor reported a failure (errcode / code, message,
//     and what WeCom appends to errmsg: Hint, FromIP);
//   - *ValidationError: a request was invalid; nothing was sent;
//   - *NoCredentialsError: a WeCom call on a Client without WeCom
//     credentials; nothing was sent (ErrNoCredentials, not
//     ErrInvalidArgument);
//   - *ResponseError: a non-2xx status, an HTML page, malformed JSON, with a
//     short snippet of the body;
//   - *TransportError: no reply (connection reset, timeout, TLS, DNS);
//   - *PaginationError: the server broke the paging protocol;
//   - *RetryError: a retryable failure that livestat stopped retrying, with
//     the number of attempts and the last attempt's error inside.
//
// IsRetryable tells whether repeating a call may help: not after a
// certificate that does not verify, a host that does not exist, or valid
// JSON of the wrong shape. livestat already retries what may help with
// capped, jittered exponential backoff (see RetryPolicy), honouring
// Retry-After and the caller's context.
//
// # Testing
//
// Point a Client at a fake with WithWeComBaseURL / WithNuoyunBaseURL
// (http:// is allowed on loopback hosts), or give it an *http.Client whose
// transport is an httpmock.MockTransport with WithHTTPClient. The
// livestattest package runs an in-process fake of every endpoint.
package livestat
