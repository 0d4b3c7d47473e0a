package livestat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// WithMiddleware wraps livestat's HTTP transport in mw, for tracing,
// logging and metrics: otelhttp.NewTransport, say, as
//
//	livestat.WithMiddleware(func(next http.RoundTripper) http.RoundTripper {
//		return otelhttp.NewTransport(next)
//	})
//
// livestat runs mw above the layer where it adds credentials: where a
// request carries the WeCom access_token or corpsecret, or anything a
// RequestAuthorizer adds (headers, query parameters, fields of the JSON
// body), a middleware sees the value REDACTED, in the request and in the
// reply's Request; the server gets the real values. Every attempt, retries
// included, passes through mw. The first middleware is the outermost: it
// sees a request first; a later WithMiddleware adds middleware inside the
// earlier ones. A middleware must pass the request on with its context (or
// one derived from it), which carries the credentials down, and with its
// scheme, host and path unchanged: livestat adds credentials only to the
// URL it built, so a request a middleware sends to another URL gets none.
//
// Put middleware here rather than in the transport of WithHTTPClient, which
// sees the credentials.
func WithMiddleware(mw ...func(http.RoundTripper) http.RoundTripper) Option {
	return func(c *config) { c.middleware = append(c.middleware, mw...) }
}

// redacted stands in for a credential wherever code other than the
// credentials layer can see a request.
const redacted = "REDACTED"

// credentials are the secret parts of one attempt, which the request
// carries only as REDACTED until credentialsTransport, below any user
// middleware, puts them in. Resty, which builds the request, and the
// http.Client, whose errors quote the URL, never see them.
type credentials struct {
	scheme, host, path string // the URL the attempt was built for

	query  url.Values
	header http.Header
	body   []byte // the real request body; nil when it has no credentials

	values []string // every secret value, to scrub from transport errors
}

// String keeps the credentials out of anything that prints a context.
func (*credentials) String() string { return "livestat.credentials(REDACTED)" }

type credentialsKey struct{}

// addQuery records a query parameter holding a credential.
func (cr *credentials) addQuery(name string, vs ...string) {
	if cr.query == nil {
		cr.query = url.Values{}
	}
	cr.query[name] = vs
	cr.values = append(cr.values, vs...)
}

// addHeader records a header holding a credential.
func (cr *credentials) addHeader(name string, vs ...string) {
	if cr.header == nil {
		cr.header = http.Header{}
	}
	cr.header[http.CanonicalHeaderKey(name)] = vs
	cr.values = append(cr.values, vs...)
}

func (cr *credentials) empty() bool {
	return len(cr.query) == 0 && len(cr.header) == 0 && cr.body == nil
}

// placeholders returns n copies of REDACTED.
func placeholders(n int) []string {
	vs := make([]string, n)
	for i := range vs {
		vs[i] = redacted
	}
	return vs
}

// withCredentials returns ctx carrying cr for the request to rawURL, or
// ctx itself when cr is empty.
func withCredentials(ctx context.Context, cr *credentials, rawURL string) (context.Context, error) {
	if cr.empty() {
		return ctx, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("livestat: invalid request URL %q", redactURL(rawURL))
	}
	cr.scheme, cr.host, cr.path = u.Scheme, u.Host, u.Path
	return context.WithValue(ctx, credentialsKey{}, cr), nil
}

// credentialsTransport puts an attempt's credentials into its request on
// the way to base, the transport of WithHTTPClient.
type credentialsTransport struct{ base http.RoundTripper }

func (t *credentialsTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	cr, _ := req.Context().Value(credentialsKey{}).(*credentials)
	if cr == nil || req.URL.Scheme != cr.scheme || req.URL.Host != cr.host || req.URL.Path != cr.path {
		// Not a request livestat built (a middleware's own, or one
		// sent elsewhere): it gets no credentials.
		return t.base.RoundTrip(req)
	}
	out := req.Clone(req.Context())
	if len(cr.query) > 0 {
		q := out.URL.Query()
		for k, vs := range cr.query {
			q[k] = vs
		}
		out.URL.RawQuery = q.Encode()
	}
	for k, vs := range cr.header {
		out.Header[k] = vs
	}
	if cr.body != nil {
		if req.Body != nil {
			req.Body.Close() // a RoundTripper closes the body it was given
		}
		body := cr.body
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		out.ContentLength = int64(len(body))
	}
	resp, err := t.base.RoundTrip(out)
	if err != nil {
		return nil, scrub(err, cr.values)
	}
	// The reply travels back up through the middleware: it must point at
	// the request they saw, not at the one with the credentials.
	resp.Request = req
	return resp, nil
}

// scrubbedError is a transport error whose message quoted a credential
// (a transport that names the URL it failed on). Unwrap keeps the error
// itself for errors.As.
type scrubbedError struct {
	err error
	msg string
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// minScrubLen is the shortest value scrubbed from messages: replacing a
// one- or two-character value everywhere would garble the message, and
// such a value protects nothing.
const minScrubLen = 4

// scrub returns err with every secret value in its message replaced by
// REDACTED; it keeps err itself when the message has none.
func scrub(err error, secrets []string) error {
	msg := err.Error()
	changed := false
	for _, s := range secrets {
		if len(s) >= minScrubLen && strings.Contains(msg, s) {
			msg = strings.ReplaceAll(msg, s, redacted)
			changed = true
		}
	}
	if !changed {
		return err
	}
	return &scrubbedError{err: err, msg: msg}
}

// redact returns the head of a reply body, enough for a snippet, with
// every credential value in it replaced by REDACTED.
func (cr *credentials) redact(body []byte) []byte {
	n := snippetLen
	for _, v := range cr.values {
		n += len(v) // room for each value before it shrinks to REDACTED
	}
	head := body[:min(len(body), n)]
	for _, v := range cr.values {
		if len(v) >= minScrubLen && bytes.Contains(head, []byte(v)) {
			head = bytes.ReplaceAll(head, []byte(v), []byte(redacted))
		}
	}
	return head
}

// transportStack is the client's RoundTripper: the user's middleware, the
// first outermost, above the credentials layer above base.
func transportStack(base http.RoundTripper, mw []func(http.RoundTripper) http.RoundTripper) (http.RoundTripper, error) {
	var rt http.RoundTripper = &credentialsTransport{base: base}
	for i := len(mw) - 1; i >= 0; i-- {
		if mw[i] == nil {
			continue
		}
		if rt = mw[i](rt); rt == nil {
			return nil, errors.New("livestat: WithMiddleware: a middleware returned a nil http.RoundTripper")
		}
	}
	return rt, nil
}
