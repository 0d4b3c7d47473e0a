package livestat

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Sentinel categories. Every error returned by livestat that falls into one of
// these categories matches it with errors.Is, whatever its concrete type.
var (
	// ErrTokenInvalid: the access token was rejected as invalid or expired
	// (WeCom 40001, 40014, 42001, 41001). livestat already refreshed the
	// token and replayed the request once before returning this.
	ErrTokenInvalid = errors.New("livestat: access token invalid or expired")
	// ErrInvalidCredentials: gettoken refused the corp ID or app secret
	// (WeCom 40001, 40013, 40091 at gettoken). Not retried.
	ErrInvalidCredentials = errors.New("livestat: invalid corp ID or app secret")
	// ErrRateLimited: the vendor refused the call for frequency (WeCom 45009,
	// HTTP 429).
	ErrRateLimited = errors.New("livestat: rate limited")
	// ErrServerBusy: the vendor is temporarily unable to answer (WeCom -1,
	// HTTP 5xx).
	ErrServerBusy = errors.New("livestat: server busy")
	// ErrInvalidArgument: the request was rejected before sending, or
	// WeCom said a parameter is wrong (40058 and friends). Nuoyun's code
	// 400 says only "failed", so it is an *APIError without a category.
	ErrInvalidArgument = errors.New("livestat: invalid argument")
	// ErrPermissionDenied: the app may not call this API or operate this
	// broadcast (WeCom 48002, 60011, 60020, 301002, 92008).
	ErrPermissionDenied = errors.New("livestat: permission denied")
	// ErrNoCredentials: the Client has no credentials for the call (a
	// WeCom call without WithWeComApp or WithTokenSource). It is the
	// program's configuration, not the request, that is wrong, so it does
	// not match ErrInvalidArgument. Nothing was sent.
	ErrNoCredentials = errors.New("livestat: no credentials configured")
	// ErrBadResponse: the reply was not the JSON the endpoint documents.
	ErrBadResponse = errors.New("livestat: bad response")
	// ErrPagination: the server broke the paging protocol (a repeated
	// cursor, "more" without a cursor) or the page cap was reached.
	ErrPagination = errors.New("livestat: pagination stopped")
)

// APIError is a reply in which the vendor reported a failure: a non-zero
// WeCom errcode, or a Nuoyun code other than 200.
//
// Use errors.As to read it, and errors.Is with the sentinel categories
// (ErrTokenInvalid, ErrRateLimited, ...) to classify it.
type APIError struct {
	Vendor     Vendor
	Endpoint   Endpoint
	Code       int    // WeCom errcode or Nuoyun code
	Message    string // WeCom errmsg or Nuoyun msg, as sent
	HTTPStatus int

	// Hint and FromIP are read from what WeCom appends to errmsg
	// ("..., hint: [1737...], from ip: 1.2.3.4, more info at ..."): the
	// request ID that WeCom support asks for, and the address WeCom saw
	// the call come from. After 60020 (not allow to access from your ip)
	// FromIP is the address to add to the app's trusted IPs. Each is empty
	// when errmsg does not carry it.
	Hint   string
	FromIP string
}

// newAPIError returns the APIError for a failure reply, with what the
// vendor appends to its messages parsed out of it.
func newAPIError(vendor Vendor, endpoint Endpoint, code int, msg string, httpStatus int) *APIError {
	e := &APIError{Vendor: vendor, Endpoint: endpoint, Code: code, Message: msg, HTTPStatus: httpStatus}
	vendor.api().annotate(e)
	return e
}

// Error implements the error interface.
func (e *APIError) Error() string {
	return fmt.Sprintf("livestat: %s %s: code %d: %s", e.Vendor, e.Endpoint, e.Code, truncate(e.Message, 200))
}

// Is reports whether the error belongs to a sentinel category.
func (e *APIError) Is(target error) bool {
	return target != nil && e.category() == target
}

// category is the sentinel e matches: the vendor's table says.
func (e *APIError) category() error { return e.Vendor.api().classify(e) }

// ValidationError is returned before any request is sent when a request
// parameter is invalid. It matches ErrInvalidArgument.
type ValidationError struct {
	Endpoint Endpoint
	Field    string
	Reason   string
}

// Error implements the error interface.
func (e *ValidationError) Error() string {
	return fmt.Sprintf("livestat: %s: invalid %s: %s", e.Endpoint, e.Field, e.Reason)
}

// Is makes a ValidationError match ErrInvalidArgument.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidArgument }

// NoCredentialsError is returned, before anything is sent, by a call to a
// vendor the Client has no credentials for: a WeCom call on a Client made
// without WithWeComApp or WithTokenSource. It matches ErrNoCredentials, and
// not ErrInvalidArgument: the fix is in the program's configuration, not in
// the request.
type NoCredentialsError struct {
	Vendor   Vendor
	Endpoint Endpoint
}

// Error implements the error interface.
func (e *NoCredentialsError) Error() string {
	msg := fmt.Sprintf("livestat: %s %s: no %s credentials", e.Vendor, e.Endpoint, e.Vendor)
	if hint := e.Vendor.setup().noCredentials(); hint != "" {
		msg += ": " + hint
	}
	return msg
}

// Is makes a NoCredentialsError match ErrNoCredentials.
func (e *NoCredentialsError) Is(target error) bool { return target == ErrNoCredentials }

// ResponseError is a reply that could not be read as the endpoint's JSON: a
// non-2xx HTTP status, an HTML gateway page, a truncated or malformed body,
// valid JSON of another shape. Snippet is a short, printable prefix of the
// body for diagnosis.
//
// Reason "malformed json" is a syntax error (a body cut short or garbled on
// the way: retried); "wrong shape" is valid JSON that is not what the
// endpoint documents, such as a field of another type or no status code
// (what the server meant: not retried).
type ResponseError struct {
	Vendor     Vendor
	Endpoint   Endpoint
	HTTPStatus int
	Reason     string // "http status", "not json", "malformed json", "wrong shape", "too large"
	Snippet    string
	Err        error // the decoder's error, if any
	// RetryAfter is the server's Retry-After hint, zero if none.
	RetryAfter int
}

// Error implements the error interface.
func (e *ResponseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "livestat: %s %s: %s (HTTP %d)", e.Vendor, e.Endpoint, e.Reason, e.HTTPStatus)
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if e.Snippet != "" {
		fmt.Fprintf(&b, ": body %q", e.Snippet)
	}
	return b.String()
}

// Unwrap returns the underlying error, for errors.Is and errors.As.
func (e *ResponseError) Unwrap() error { return e.Err }

// Is classifies the reply: 429 is ErrRateLimited, 5xx ErrServerBusy, and every
// ResponseError is ErrBadResponse.
func (e *ResponseError) Is(target error) bool {
	switch target {
	case ErrBadResponse:
		return true
	case ErrRateLimited:
		return e.HTTPStatus == 429
	case ErrServerBusy:
		return e.HTTPStatus >= 500
	}
	return false
}

// TransportError is a request that got no reply: connection refused or
// reset, a timeout, a TLS failure, a host name that does not resolve. The
// URL in it is redacted.
type TransportError struct {
	Vendor   Vendor
	Endpoint Endpoint
	Err      error
}

// Error implements the error interface.
func (e *TransportError) Error() string {
	return fmt.Sprintf("livestat: %s %s: %v", e.Vendor, e.Endpoint, e.Err)
}

// Unwrap returns the underlying error, for errors.Is and errors.As.
func (e *TransportError) Unwrap() error { return e.Err }

// PaginationError ends an iteration whose server broke the paging protocol,
// or that reached the configured page cap. It matches ErrPagination.
type PaginationError struct {
	Endpoint Endpoint
	Page     int    // 1-based number of the page that broke the protocol
	Cursor   string // the offending cursor, if any
	Reason   string
}

// Error implements the error interface.
func (e *PaginationError) Error() string {
	s := fmt.Sprintf("livestat: %s: page %d: %s", e.Endpoint, e.Page, e.Reason)
	if e.Cursor != "" {
		s += fmt.Sprintf(" (cursor %q)", truncate(e.Cursor, 64))
	}
	return s
}

// Is makes a PaginationError match ErrPagination.
func (e *PaginationError) Is(target error) bool { return target == ErrPagination }

// RetryError ends a call whose last attempt failed in a retryable way (see
// IsRetryable) and that livestat did not try again: the RetryPolicy's
// attempts were used up, the caller's context ended or would have ended
// before the next attempt, or the server asked to wait longer than
// RetryPolicy.MaxDelay.
//
// Err is the last attempt's error. errors.As and errors.Is look through a
// RetryError to Err (an *APIError, *ResponseError or *TransportError, and its
// category such as ErrServerBusy), and, when the context was the reason, to
// context.Canceled or context.DeadlineExceeded.
type RetryError struct {
	// Attempts counts the attempts made, the first included (a replay
	// after a rejected token is not counted).
	Attempts int
	// Reason says why there was no further attempt.
	Reason string
	// Err is the last attempt's error.
	Err error

	ctxErr error // the context's error, when it was the reason
}

// Error implements the error interface.
func (e *RetryError) Error() string {
	s := "s"
	if e.Attempts == 1 {
		s = ""
	}
	return fmt.Sprintf("%v (gave up after %d attempt%s: %s)", e.Err, e.Attempts, s, e.Reason)
}

// Unwrap returns the last attempt's error and, if the context ended the
// call, the context's error.
func (e *RetryError) Unwrap() []error {
	if e.ctxErr != nil {
		return []error{e.Err, e.ctxErr}
	}
	return []error{e.Err}
}

// IsRetryable reports whether repeating the same request later may succeed:
// transport failures, HTTP 429 and 5xx, WeCom -1 (busy) and 45009 (rate
// limit), and replies cut short or garbled on the way. Not retryable:
// invalid arguments, credentials and permissions; a server certificate that
// fails verification and a host name that does not exist (DNS "no such
// host"; a DNS timeout or server failure is retryable); a reply that is
// valid JSON of another shape than the endpoint's (asking again gets the
// same answer). livestat's own retry policy uses it.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	if te, ok := errors.AsType[*TransportError](err); ok {
		return !isPermanentTransportError(te.Err)
	}
	if errors.Is(err, ErrRateLimited) || errors.Is(err, ErrServerBusy) {
		return true
	}
	if re, ok := errors.AsType[*ResponseError](err); ok {
		// A 2xx body we could not read may be a fault on the way (cut
		// short, garbled, a proxy's HTML page); a complete JSON
		// document of another shape, or a 4xx other than 429, is what
		// the server means.
		return re.HTTPStatus < 300 && (re.Reason == "malformed json" || re.Reason == "not json")
	}
	return false
}

// isPermanentTransportError reports whether err, a failure to get a reply,
// is one that the same request meets again: the server's certificate does
// not verify (unknown authority, wrong host name, expired, ...), or DNS
// says the host does not exist. It looks at error types, not messages.
func isPermanentTransportError(err error) bool {
	if de, ok := errors.AsType[*net.DNSError](err); ok {
		// NXDOMAIN. A timeout or a resolver's SERVFAIL (IsTimeout,
		// IsTemporary) may clear: those are retried.
		return de.IsNotFound
	}
	if _, ok := errors.AsType[*tls.CertificateVerificationError](err); ok {
		return true
	}
	// The x509 errors themselves, for a transport that verifies in its
	// own code (VerifyConnection, a custom dialer) without the tls
	// wrapper.
	if _, ok := errors.AsType[x509.UnknownAuthorityError](err); ok {
		return true
	}
	if _, ok := errors.AsType[x509.HostnameError](err); ok {
		return true
	}
	if _, ok := errors.AsType[x509.CertificateInvalidError](err); ok {
		return true
	}
	if _, ok := errors.AsType[x509.SystemRootsError](err); ok {
		return true
	}
	return false
}

// isSecretParam reports whether a query parameter carries a secret.
func isSecretParam(k string) bool {
	switch strings.ToLower(k) {
	case "access_token", "corpsecret", "secret", "suite_access_token", "provider_access_token", "sign", "signature":
		return true
	}
	return false
}

// redactURL returns u with the values of secret-bearing query parameters
// replaced by REDACTED, in the way go-github's sanitizeURL does.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable url)"
	}
	if u.User != nil {
		u.User = url.User("REDACTED")
	}
	q := u.Query()
	changed := false
	for k := range q {
		if isSecretParam(k) {
			q.Set(k, "REDACTED")
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// snippetLen bounds the body prefix quoted in errors.
const snippetLen = 120

// snippet returns a short printable prefix of a body for error messages.
func snippet(body []byte) string {
	if len(body) > snippetLen {
		body = body[:snippetLen]
	}
	s := strings.ToValidUTF8(string(body), "")
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		if r < 0x20 || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// MiddlewareError is returned, before anything is sent, when a middleware
// installed with WithMiddleware passed livestat's request on (REDACTED
// placeholders and all) with another scheme, host or path than livestat
// built it for; or when the http.Client of WithHTTPClient, with a
// CheckRedirect of its own, followed a redirect. livestat adds credentials
// only to the URL it built, so the request would have reached the server
// with REDACTED in their place. It is a mistake in the program, not a
// transient failure: it matches no sentinel and is never retried. It
// names the URLs without their query, and holds no credential.
type MiddlewareError struct {
	Vendor   Vendor
	Endpoint Endpoint
	// Want is the URL livestat built (scheme, host and path), Got the one
	// the middleware sent.
	Want, Got string
}

// Error implements the error interface.
func (e *MiddlewareError) Error() string {
	return fmt.Sprintf("livestat: %s %s: a middleware changed the URL of the request (or the http.Client followed a redirect) from %s to %s; livestat adds credentials only to the URL it built, so the request was not sent",
		e.Vendor, e.Endpoint, e.Want, e.Got)
}
