package livestat

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A RequestAuthorizer adds credentials to an outgoing request. livestat runs
// it on every attempt, retries included, so time-based signatures are always
// fresh. It may be called from several goroutines at once.
//
// Everything it adds is a credential to livestat: the headers, query
// parameters and body fields go into the request below any WithMiddleware
// middleware, which sees them as REDACTED.
//
// Nuoyun's public docs do not say how gateway requests are authenticated, so
// livestat makes it pluggable: see WithNuoyunAuth, StaticHeaders,
// SignAuthorizer, and RequestAuthorizerFunc for any other scheme.
type RequestAuthorizer interface {
	AuthorizeRequest(ctx context.Context, r *AuthRequest) error
}

// RequestAuthorizerFunc is a RequestAuthorizer written as a function: the
// way to any scheme the others do not cover (a signature in the query or
// in the body, other field names).
type RequestAuthorizerFunc func(ctx context.Context, r *AuthRequest) error

// AuthorizeRequest calls f.
func (f RequestAuthorizerFunc) AuthorizeRequest(ctx context.Context, r *AuthRequest) error {
	return f(ctx, r)
}

// AuthRequest is the part of one outgoing attempt that a RequestAuthorizer
// may change. livestat makes a fresh one for every attempt.
type AuthRequest struct {
	Vendor   Vendor
	Endpoint Endpoint
	Method   string
	Path     string // below the base URL, e.g. "/Api/RoomRounds/..."

	// Header and Query are added to the request; a name set here replaces
	// the value livestat would otherwise send under that name.
	Header http.Header
	Query  url.Values

	body map[string]any
}

// SetBodyField sets the top-level field name of the JSON request body to
// value (encoded with encoding/json), replacing a field of that name.
func (r *AuthRequest) SetBodyField(name string, value any) {
	if r.body == nil {
		r.body = make(map[string]any)
	}
	r.body[name] = value
}

// authorize runs auth for one attempt of c and records its headers, query
// and body fields in cr, as credentials. It returns the body for the layers
// above the credentials: c.body, or, when the authorizer sets body fields,
// c.body with those fields merged in as REDACTED (cr.body is the real one).
func authorize(ctx context.Context, auth RequestAuthorizer, c *call, cr *credentials) (any, error) {
	ar := &AuthRequest{Vendor: c.vendor, Endpoint: c.endpoint, Method: c.method, Path: c.path, Header: http.Header{}, Query: url.Values{}}
	if err := auth.AuthorizeRequest(ctx, ar); err != nil {
		return nil, fmt.Errorf("livestat: %s %s: request authorizer: %w", c.vendor, c.endpoint, err)
	}
	for k, vs := range ar.Header {
		cr.addHeader(k, slices.Clone(vs)...)
	}
	for k, vs := range ar.Query {
		cr.addQuery(k, slices.Clone(vs)...)
	}
	if len(ar.body) == 0 {
		return c.body, nil
	}
	fields := make(map[string]any, 8)
	if c.body != nil {
		b, err := json.Marshal(c.body)
		if err != nil {
			return nil, fmt.Errorf("livestat: %s %s: encoding request: %w", c.vendor, c.endpoint, err)
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(b, &obj); err != nil {
			return nil, fmt.Errorf("livestat: %s %s: the request body is not a JSON object, so the authorizer cannot add fields to it", c.vendor, c.endpoint)
		}
		for k, v := range obj {
			fields[k] = v
		}
	}
	shown := make(map[string]any, len(fields))
	for k, v := range fields {
		shown[k] = v
	}
	for k, v := range ar.body {
		fields[k] = v
		shown[k] = redacted
		// The value as it appears in the body, unquoted when a string,
		// for scrubbing transport errors.
		if b, err := json.Marshal(v); err == nil {
			var s string
			if json.Unmarshal(b, &s) != nil {
				s = string(b)
			}
			cr.addValues(s)
		}
	}
	body, err := json.Marshal(fields)
	if err != nil {
		return nil, fmt.Errorf("livestat: %s %s: encoding request: %w", c.vendor, c.endpoint, err)
	}
	cr.body = body
	return shown, nil
}

// StaticHeaders is a RequestAuthorizer that adds the same headers to every
// request: an API key header, a bearer token, a gateway's app code. Its
// String, Format and LogValue methods print header names only, never
// values, which are usually secrets.
type StaticHeaders struct {
	// h hides the headers in a closure: fmt, printing a struct that holds
	// a StaticHeaders in an unexported field (where it cannot call Format),
	// shows a func's address rather than the values.
	h func() http.Header
}

// NewStaticHeaders returns an authorizer adding h to every request. It
// keeps a copy of h.
func NewStaticHeaders(h http.Header) *StaticHeaders {
	c := h.Clone()
	return &StaticHeaders{h: func() http.Header { return c }}
}

// AuthorizeRequest sets the headers on r.
func (s *StaticHeaders) AuthorizeRequest(_ context.Context, r *AuthRequest) error {
	if s.h == nil {
		return nil
	}
	for k, vs := range s.h() {
		r.Header[k] = slices.Clone(vs)
	}
	return nil
}

// String names the headers with their values redacted.
func (s StaticHeaders) String() string {
	var h http.Header
	if s.h != nil {
		h = s.h()
	}
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k+": REDACTED")
	}
	slices.Sort(names)
	return "StaticHeaders{" + strings.Join(names, ", ") + "}"
}

// Format keeps every fmt verb from printing header values.
func (s StaticHeaders) Format(f fmt.State, verb rune) { formatRedacted(f, verb, s) }

// LogValue keeps log/slog from printing header values.
func (s StaticHeaders) LogValue() slog.Value { return slog.StringValue(s.String()) }

// SignAuthorizer authenticates requests with an app key, a timestamp and a
// signature:
//
//	timestamp = Unix time in milliseconds (13 digits)
//	sign      = lower-case hex of md5(timestamp + key + secret)
//
// sent as the HTTP headers "key", "timestamp" and "sign".
//
// What Nuoyun documents, and what it does not: the formula above (and the
// AppKey as key) is what Nuoyun documents for the webhook pushes it sends.
// Its public docs do not say how requests to its API gateway are
// authenticated, nor where the gateway expects these values or under which
// names: these headers are a guess to be confirmed with Nuoyun for your
// account. For another placement or other names, write the authorizer as a
// RequestAuthorizerFunc (Header, Query, SetBodyField).
//
// Set Now before handing the authorizer to a Client, and do not change it
// afterwards. The secret is never sent, and String, Format and LogValue
// never print it.
type SignAuthorizer struct {
	// Now is the clock for the timestamp; nil means time.Now.
	Now func() time.Time

	key string
	// secret hides the secret in a closure: fmt, printing a struct that
	// holds a SignAuthorizer in an unexported field (where it cannot call
	// Format), shows a func's address rather than the secret.
	secret func() string
}

// NewSignAuthorizer returns a SignAuthorizer for the app key and secret.
func NewSignAuthorizer(key, secret string) *SignAuthorizer {
	return &SignAuthorizer{key: key, secret: func() string { return secret }}
}

// AuthorizeRequest adds the key, a fresh timestamp and its sign to r.
func (s *SignAuthorizer) AuthorizeRequest(_ context.Context, r *AuthRequest) error {
	if s.key == "" || s.secret == nil || s.secret() == "" {
		return errors.New("SignAuthorizer: key or secret is empty (create it with NewSignAuthorizer)")
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	ts := strconv.FormatInt(now().UnixMilli(), 10)
	sign := signMD5(ts, s.key, s.secret())
	r.Header.Set("key", s.key)
	r.Header.Set("timestamp", ts)
	r.Header.Set("sign", sign)
	return nil
}

// signMD5 is md5(timestamp + key + secret) in lower-case hex.
func signMD5(timestamp, key, secret string) string {
	sum := md5.Sum([]byte(timestamp + key + secret))
	return hex.EncodeToString(sum[:])
}

// String describes s with the secret redacted.
func (s SignAuthorizer) String() string {
	return fmt.Sprintf("SignAuthorizer{key: %q, secret: REDACTED}", s.key)
}

// Format keeps every fmt verb (%v, %+v, %#v, %s, %d, ...) from printing the
// secret.
func (s SignAuthorizer) Format(f fmt.State, verb rune) { formatRedacted(f, verb, s) }

// LogValue keeps log/slog from printing the secret.
func (s SignAuthorizer) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("key", s.key),
		slog.String("secret", "REDACTED"),
	)
}

// formatRedacted prints v's String for every verb, prefixed with the
// package name for %#v, so that fmt never falls back to printing fields by
// reflection. It is the Format method of each type holding a secret.
func formatRedacted(f fmt.State, verb rune, v fmt.Stringer) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, "livestat.")
	}
	io.WriteString(f, v.String())
}
