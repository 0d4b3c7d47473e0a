package livestat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strconv"
	"sync"
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
// URL it built, and the request sent to another URL fails with a
// *MiddlewareError before it is sent. A request a middleware builds on its
// own (with any context) is sent as it is, with no credentials.
//
// Below the middleware, credentials never travel up: the reply's body has
// the access_token of a gettoken reply as REDACTED (livestat reads the
// real one), transport errors are scrubbed, and an httptrace.ClientTrace
// on the request's context (the caller's, or otelhttptrace's) gets the
// credential headers as REDACTED in WroteHeaderField.
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
	vendor             Vendor
	endpoint           Endpoint
	scheme, host, path string // the URL the attempt was built for

	query  url.Values
	header http.Header
	body   []byte // the real request body; nil when it has no credentials

	// replyFields names the top-level string fields of the reply that are
	// credentials livestat obtains (gettoken's access_token). The layer
	// takes them out of the reply before it goes up through the
	// middleware, keeping the real values in reply; maxReply bounds the
	// body it reads for that.
	replyFields []string
	maxReply    int64

	mu     sync.Mutex
	reply  map[string]json.RawMessage // the real values of replyFields
	values []string                   // every secret value, to scrub from errors and snippets
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
	cr.addValues(vs...)
}

// addHeader records a header holding a credential.
func (cr *credentials) addHeader(name string, vs ...string) {
	if cr.header == nil {
		cr.header = http.Header{}
	}
	cr.header[http.CanonicalHeaderKey(name)] = vs
	cr.addValues(vs...)
}

// addValues records secret values to scrub.
func (cr *credentials) addValues(vs ...string) {
	cr.mu.Lock()
	cr.values = append(cr.values, vs...)
	cr.mu.Unlock()
}

// forms returns every encoding of every secret value (see secretForms).
func (cr *credentials) forms() []string {
	if cr == nil {
		return nil
	}
	cr.mu.Lock()
	defer cr.mu.Unlock()
	return secretForms(cr.values)
}

// scrubError returns err without any of the attempt's credentials in its
// tree (see scrubError). cr may be nil.
func (cr *credentials) scrubError(err error) error { return scrubError(err, cr.forms()) }

// scrubString returns s without any of the attempt's credentials.
func (cr *credentials) scrubString(s string) string { return scrubString(s, cr.forms()) }

// replyCredentials returns the credential fields taken out of the reply,
// as a JSON object to decode over the reply, or nil.
func (cr *credentials) replyCredentials() []byte {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	if len(cr.reply) == 0 {
		return nil
	}
	b, err := json.Marshal(cr.reply)
	if err != nil {
		return nil
	}
	return b
}

func (cr *credentials) empty() bool {
	return len(cr.query) == 0 && len(cr.header) == 0 && cr.body == nil && len(cr.replyFields) == 0
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
// the way to base, the transport of WithHTTPClient, and keeps them out of
// what goes back up: the reply's Request, credentials the reply carries,
// errors, and the hooks of an httptrace.ClientTrace on the context.
type credentialsTransport struct{ base http.RoundTripper }

func (t *credentialsTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	cr, _ := req.Context().Value(credentialsKey{}).(*credentials)
	if cr == nil {
		return t.base.RoundTrip(req) // a middleware's own request
	}
	if req.URL.Scheme != cr.scheme || req.URL.Host != cr.host || req.URL.Path != cr.path {
		marked, req := cr.marked(req)
		if !marked {
			// A request the middleware built itself, with the call's
			// context: not livestat's, so it gets no credentials.
			return t.base.RoundTrip(req)
		}
		// livestat's request sent elsewhere would reach the server with
		// REDACTED for its credentials.
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, &MiddlewareError{Vendor: cr.vendor, Endpoint: cr.endpoint,
			Want: cr.scheme + "://" + cr.host + cr.path, Got: req.URL.Scheme + "://" + req.URL.Host + req.URL.Path}
	}
	ctx := req.Context()
	if tr := httptrace.ContextClientTrace(ctx); tr != nil {
		ctx = httptrace.WithClientTrace(withoutTrace{ctx}, cr.redactTrace(tr))
	}
	out := req.Clone(ctx)
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
		return nil, cr.scrubError(err)
	}
	// The reply travels back up through the middleware: it must point at
	// the request they saw, not at the one with the credentials.
	resp.Request = req
	if len(cr.replyFields) > 0 || resp.StatusCode < 200 || resp.StatusCode > 299 {
		cr.rewriteReply(resp)
	}
	resp.Body = &scrubbingBody{ReadCloser: resp.Body, cr: cr}
	return resp, nil
}

// marked reports whether req, sent to another URL than cr's, is livestat's
// request: it carries REDACTED where livestat's credentials go (query,
// headers, or, for body credentials only, a "REDACTED" in the body). It
// returns req with its body readable again when it had to read it.
func (cr *credentials) marked(req *http.Request) (bool, *http.Request) {
	if len(cr.query) > 0 {
		q := req.URL.Query()
		for k := range cr.query {
			if slices.Contains(q[k], redacted) {
				return true, req
			}
		}
	}
	for k := range cr.header {
		if slices.Contains(req.Header[k], redacted) {
			return true, req
		}
	}
	if cr.body == nil || len(cr.query) > 0 || len(cr.header) > 0 || req.Body == nil || req.Body == http.NoBody {
		return false, req
	}
	b, err := io.ReadAll(req.Body)
	req.Body.Close()
	r2 := req.Clone(req.Context())
	r2.Body = io.NopCloser(bytes.NewReader(b))
	if err != nil {
		r2.Body = io.NopCloser(io.MultiReader(bytes.NewReader(b), failingReader{err}))
	}
	return bytes.Contains(b, []byte(`"`+redacted+`"`)), r2
}

// failingReader fails every read with err.
type failingReader struct{ err error }

func (r failingReader) Read([]byte) (int, error) { return 0, r.err }

// rewriteReply keeps credentials out of resp's body on its way up: it
// replaces the values of cr.replyFields with REDACTED, keeping the real
// ones in cr, which livestat decodes over the reply; and in a reply with a
// status other than 2xx (a gateway page may echo the request) it replaces
// every credential value sent, in any encoding. A body over cr.maxReply is
// not passed up at all. 2xx replies without replyFields, the pages, are
// left alone: the vendors do not echo credentials in them.
func (cr *credentials) rewriteReply(resp *http.Response) {
	body, err := io.ReadAll(io.LimitReader(resp.Body, cr.maxReply+1))
	resp.Body.Close()
	switch {
	case err != nil:
		resp.Body = io.NopCloser(failingReader{err}) // scrubbed by scrubbingBody
		return
	case int64(len(body)) > cr.maxReply:
		resp.Body = io.NopCloser(failingReader{fmt.Errorf("reply exceeds %d bytes", cr.maxReply)})
		return
	}
	body, taken := takeFields(body, cr.replyFields)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		body = scrubBytes(body, cr.forms())
	}
	if len(taken) > 0 {
		cr.mu.Lock()
		cr.reply = taken
		for _, raw := range taken {
			var s string
			if json.Unmarshal(raw, &s) == nil {
				cr.values = append(cr.values, s)
			}
		}
		cr.mu.Unlock()
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	if resp.Header.Get("Content-Length") != "" {
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	}
}

// takeFields returns body, a JSON object, with the string values of its
// top-level fields named in fields replaced by "REDACTED", and those
// values as they were. A body that is not a JSON object is returned as it
// is.
func takeFields(body []byte, fields []string) ([]byte, map[string]json.RawMessage) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return body, nil
	}
	type span struct{ start, end int64 }
	var spans []span
	taken := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return body, nil
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return body, nil
		}
		if slices.Contains(fields, key) && len(raw) > 0 && raw[0] == '"' {
			end := dec.InputOffset()
			spans = append(spans, span{end - int64(len(raw)), end})
			taken[key] = bytes.Clone(raw)
		}
	}
	if len(spans) == 0 {
		return body, nil
	}
	out := make([]byte, 0, len(body))
	last := int64(0)
	for _, s := range spans {
		out = append(out, body[last:s.start]...)
		out = append(out, `"`+redacted+`"`...)
		last = s.end
	}
	return append(out, body[last:]...), taken
}

// scrubbingBody is a reply body whose read errors carry no credential.
type scrubbingBody struct {
	io.ReadCloser
	cr *credentials
}

func (b *scrubbingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = b.cr.scrubError(err)
	}
	return n, err
}

// withoutTrace hides the httptrace.ClientTrace of the context it wraps, so
// that the redacting copy that credentialsTransport installs over it is
// the only one the transport calls (httptrace.WithClientTrace would call
// the original's hooks too).
type withoutTrace struct{ context.Context }

func (c withoutTrace) Value(key any) any {
	v := c.Context.Value(key)
	if _, ok := v.(*httptrace.ClientTrace); ok {
		return nil
	}
	return v
}

// redactTrace returns a copy of tr whose hooks get the credential headers
// as REDACTED and errors scrubbed; its other hooks are tr's.
func (cr *credentials) redactTrace(tr *httptrace.ClientTrace) *httptrace.ClientTrace {
	c := *tr
	if f := tr.WroteHeaderField; f != nil {
		forms := cr.forms()
		c.WroteHeaderField = func(key string, vs []string) {
			if _, ok := cr.header[http.CanonicalHeaderKey(key)]; ok {
				f(key, placeholders(len(vs)))
				return
			}
			if slices.ContainsFunc(vs, func(v string) bool { return hasForm(v, forms) }) {
				scrubbed := make([]string, len(vs))
				for i, v := range vs {
					scrubbed[i] = scrubString(v, forms)
				}
				vs = scrubbed
			}
			f(key, vs)
		}
	}
	if f := tr.WroteRequest; f != nil {
		c.WroteRequest = func(info httptrace.WroteRequestInfo) {
			info.Err = cr.scrubError(info.Err)
			f(info)
		}
	}
	return &c
}

// redact returns the head of a reply body, enough for a snippet, with
// every credential value in it, in any encoding, replaced by REDACTED.
func (cr *credentials) redact(body []byte) []byte {
	forms := cr.forms()
	n := snippetLen
	for _, f := range forms {
		n += len(f) // room for each value before it shrinks to REDACTED
	}
	return scrubBytes(bytes.Clone(body[:min(len(body), n)]), forms)
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
