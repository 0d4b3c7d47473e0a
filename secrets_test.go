package livestat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Secrets with characters that query, path and JSON escaping change: a
// scrubber that looks for the raw value only misses them.
const (
	escToken  = "TOK+en/with=chars&more-91c2"
	escKey    = "key<&>\"quoted\" 7d1e"
	escSecret = "sec+ret/=3b7f"
)

// encodings returns the forms in which s may appear in a message.
func encodings(s string) []string {
	j := strings.Trim(fmt.Sprintf("%q", s), `"`)
	return []string{s, url.QueryEscape(s), url.PathEscape(s), j,
		strings.NewReplacer("<", `\u003c`, ">", `\u003e`, "&", `\u0026`, `"`, `\"`).Replace(s)}
}

func assertNoEncodedSecret(t *testing.T, what, s string, secrets ...string) {
	t.Helper()
	for _, secret := range secrets {
		for _, enc := range encodings(secret) {
			if strings.Contains(s, enc) {
				t.Errorf("%s leaks %q (as %q):\n%s", what, secret, enc, s)
			}
		}
	}
}

// A trace the caller puts on the context (otelhttptrace, or its own
// httptrace.ClientTrace) sees the credential headers as REDACTED, while its
// hooks keep working and the server gets the real values.
func TestClientTraceNeverSeesCredentialHeaders(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var arrived http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrived = r.Header.Clone()
		mu.Unlock()
		io.WriteString(w, `{"code":200,"msg":"Success","data":{"total":0,"list":[]}}`)
	}))
	defer srv.Close()

	for _, tc := range []struct {
		name string
		auth RequestAuthorizer
		want map[string]string
	}{
		{"SignAuthorizer", &SignAuthorizer{key: testAppKey, secret: func() string { return testSecret }, Now: fixedClock(1700000000123)},
			map[string]string{"Key": testAppKey, "Timestamp": "1700000000123", "Sign": sign1700000000123}},
		{"StaticHeaders", NewStaticHeaders(http.Header{"X-Api-Key": {escKey}, "Authorization": {"Bearer " + escToken}}),
			map[string]string{"X-Api-Key": escKey, "Authorization": "Bearer " + escToken}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewClient(WithNuoyunBaseURL(srv.URL), WithHTTPClient(srv.Client()), WithNuoyunAuth(tc.auth), WithoutRetries())
			require.NoError(t, err)
			var seen bytes.Buffer
			var gotConn, wroteHeaders, wroteRequest int
			trace := &httptrace.ClientTrace{
				GotConn:          func(httptrace.GotConnInfo) { gotConn++ },
				WroteHeaders:     func() { wroteHeaders++ },
				WroteRequest:     func(i httptrace.WroteRequestInfo) { wroteRequest++; fmt.Fprintln(&seen, i.Err) },
				WroteHeaderField: func(k string, vs []string) { fmt.Fprintf(&seen, "%s: %q\n", k, vs) },
			}
			ctx := httptrace.WithClientTrace(context.Background(), trace)
			_, err = c.Nuoyun.GetUserDurations(ctx, UserDurationRequest{Page: 1, PageSize: 10})
			require.NoError(t, err)

			assert.Equal(t, 1, gotConn, "the trace's other hooks still run")
			assert.Equal(t, 1, wroteHeaders)
			assert.Equal(t, 1, wroteRequest)
			for name, v := range tc.want {
				assert.Contains(t, seen.String(), name+`: ["REDACTED"]`)
				assertNoEncodedSecret(t, "the trace", seen.String(), v)
				mu.Lock()
				assert.Equal(t, v, arrived.Get(name), "the server gets the real %s", name)
				mu.Unlock()
			}
			assert.Contains(t, seen.String(), "User-Agent", "headers that are not credentials are reported as they are")
		})
	}
}

// A middleware that logs reply bodies never sees the access_token of a
// gettoken reply; livestat still uses the real token.
func TestMiddlewareNeverSeesTheTokenInAReply(t *testing.T) {
	t.Parallel()
	rec := &bodyRecorder{}
	dump := rec.middleware
	e := newMockEnv(t, WithMiddleware(dump))
	var mu sync.Mutex
	var used []string
	e.mt.RegisterResponder(http.MethodPost, testBase+"/cgi-bin/living/get_watch_stat", func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		used = append(used, r.URL.Query().Get("access_token"))
		mu.Unlock()
		return httpmock.NewStringResponse(200, fixture(t, "watch_stat_page2.json")), nil
	})
	_, err := e.c.Living.GetWatchStat(context.Background(), WatchStatRequest{LivingID: "L1"})
	require.NoError(t, err)

	assert.Equal(t, []string{testToken}, used, "livestat read the real token from the reply")
	bodies := rec.all()
	require.Len(t, bodies, 2, "gettoken and the page")
	assert.Contains(t, bodies[0], `"access_token":"REDACTED"`)
	assert.Contains(t, bodies[0], `"expires_in":7200`, "the rest of the reply is untouched")
	for _, b := range bodies {
		assertNoSecrets(t, "a reply body the middleware saw", b)
	}
	tok, err := e.c.tokens.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, testToken, tok.AccessToken)
}

// A transport error that quotes the request (URL, query, body) keeps no
// credential anywhere in its chain: not in any error's message, in any
// *url.Error's URL, nor under %v, %+v or %#v of any error in it. errors.Is
// still reaches the cause, and IsRetryable still sees a transport error.
func TestTransportErrorChainHasNoSecrets(t *testing.T) {
	t.Parallel()
	quoteAll := func(r *http.Request) string {
		var body []byte
		if r.Body != nil {
			body, _ = io.ReadAll(r.Body)
		}
		return fmt.Sprintf("%s headers %v body %s", r.URL, r.Header, body)
	}
	failures := map[string]func(r *http.Request) (*http.Response, error){
		"*url.Error and *net.OpError": func(r *http.Request) (*http.Response, error) {
			return nil, &url.Error{Op: "Post", URL: r.URL.String(), Err: &net.OpError{Op: "dial", Net: "tcp",
				Err: fmt.Errorf("proxy refused %s: %w", quoteAll(r), syscall.ECONNREFUSED)}}
		},
		"reading the body": func(r *http.Request) (*http.Response, error) {
			msg := quoteAll(r)
			return &http.Response{StatusCode: 200, Header: http.Header{}, Request: r,
				Body: io.NopCloser(io.MultiReader(strings.NewReader(`{"errcode":0,`), errReader{&url.Error{Op: "read", URL: r.URL.String(), Err: fmt.Errorf("reset %s: %w", msg, syscall.ECONNRESET)}}))}, nil
		},
	}
	for _, tc := range []struct {
		name    string
		opts    []Option
		call    func(c *Client) error
		secrets []string
	}{
		{"token in the query", []Option{WithTokenSource(staticToken(escToken))}, func(c *Client) error {
			_, err := c.Living.GetWatchStat(context.Background(), WatchStatRequest{LivingID: "L1"})
			return err
		}, []string{escToken}},
		{"secret in the query", []Option{WithWeComApp(testCorpID, escSecret)}, func(c *Client) error {
			_, err := c.Living.GetWatchStat(context.Background(), WatchStatRequest{LivingID: "L1"})
			return err
		}, []string{escSecret}},
		{"authorizer headers", []Option{WithNuoyunAuth(NewStaticHeaders(http.Header{"X-Api-Key": {escKey}}))}, func(c *Client) error {
			_, err := c.Nuoyun.GetUserDurations(context.Background(), UserDurationRequest{Page: 1, PageSize: 10})
			return err
		}, []string{escKey}},
		{"authorizer query", []Option{WithNuoyunAuth(escPlaced("query"))}, func(c *Client) error {
			_, err := c.Nuoyun.GetUserDurations(context.Background(), UserDurationRequest{Page: 1, PageSize: 10})
			return err
		}, []string{escKey, escSign()}},
		{"authorizer body", []Option{WithNuoyunAuth(escPlaced("body"))}, func(c *Client) error {
			_, err := c.Nuoyun.GetUserDurations(context.Background(), UserDurationRequest{Page: 1, PageSize: 10})
			return err
		}, []string{escKey}},
	} {
		for fname, fail := range failures {
			t.Run(tc.name+"/"+fname, func(t *testing.T) {
				c, err := NewClient(append([]Option{WithWeComBaseURL(testBase), WithNuoyunBaseURL(nuoyunTestBase),
					WithHTTPClient(&http.Client{Transport: roundTripper(fail)}), WithoutRetries()}, tc.opts...)...)
				require.NoError(t, err)
				err = tc.call(c)
				require.Error(t, err)
				assert.True(t, errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET), "the cause is still reachable: %v", err)
				assert.True(t, IsRetryable(err), "still a transport error")
				var out strings.Builder
				walkErrors(err, func(e error) {
					fmt.Fprintf(&out, "%T\n%v\n%+v\n%#v\n", e, e, e, e)
					if ue, ok := e.(*url.Error); ok {
						fmt.Fprintf(&out, "URL %s\n", ue.URL)
					}
				})
				for target := error(err); ; {
					var ue *url.Error
					if !errors.As(target, &ue) {
						break
					}
					fmt.Fprintf(&out, "As URL %s\n", ue.URL)
					target = ue.Err
				}
				assert.Contains(t, out.String(), "REDACTED")
				assertNoEncodedSecret(t, "the error chain", out.String(), tc.secrets...)
			})
		}
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// walkErrors calls f on every error in err's tree.
func walkErrors(err error, f func(error)) {
	if err == nil {
		return
	}
	f(err)
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		walkErrors(u.Unwrap(), f)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			walkErrors(e, f)
		}
	}
}

// A gateway page that echoes the request quotes the credentials escaped
// (query escaping in the URL, JSON escaping in the body): the snippet
// shows none of them in any encoding.
func TestSnippetsScrubEscapedSecrets(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"query", "body"} {
		t.Run(p, func(t *testing.T) {
			a := escPlaced(p)
			c, mt := newNuoyunClient(t, WithNuoyunAuth(a), WithoutRetries())
			mt.RegisterResponder(http.MethodPost, nuoyunTestURL, func(r *http.Request) (*http.Response, error) {
				b, _ := io.ReadAll(r.Body)
				return httpmock.NewStringResponse(403, "<p>"+r.URL.RawQuery+" "+string(b)+" "+url.PathEscape(escKey)+"</p>"), nil
			})
			_, err := c.Nuoyun.GetUserDurations(context.Background(), UserDurationRequest{Page: 1, PageSize: 10})
			re, ok := errors.AsType[*ResponseError](err)
			require.True(t, ok, "%v", err)
			assert.Contains(t, re.Snippet, "REDACTED")
			assertNoEncodedSecret(t, "the snippet", re.Snippet, escKey, escSign())
			assertNoEncodedSecret(t, "the error", fmt.Sprintf("%v %+v", err, err), escKey, escSign())
		})
	}
}

// A middleware that sends livestat's request to another URL gets a
// *MiddlewareError before anything is sent (the server would only get
// REDACTED), which is not retried; a request a middleware makes on its own
// passes untouched.
func TestMiddlewareChangingTheURLFails(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(u *url.URL)
	}{
		{"host", func(u *url.URL) { u.Host = "other.example.test" }},
		{"scheme", func(u *url.URL) { u.Scheme = "http" }},
		{"path", func(u *url.URL) { u.Path = "/v2" + u.Path }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var attempts int
			rewrite := func(next http.RoundTripper) http.RoundTripper {
				return roundTripper(func(r *http.Request) (*http.Response, error) {
					attempts++
					r2 := r.Clone(r.Context())
					tc.change(r2.URL)
					return next.RoundTrip(r2)
				})
			}
			var sent []string
			base := roundTripper(func(r *http.Request) (*http.Response, error) {
				sent = append(sent, r.URL.String())
				return httpmock.NewStringResponse(200, `{"errcode":0,"errmsg":"ok","access_token":"x","expires_in":7200}`), nil
			})
			c, err := NewClient(WithWeComBaseURL(testBase), WithTokenSource(staticToken(testToken)),
				WithHTTPClient(&http.Client{Transport: base}), WithMiddleware(rewrite), WithRetry(fastRetry()))
			require.NoError(t, err)
			_, err = c.Living.GetWatchStat(context.Background(), WatchStatRequest{LivingID: "L1"})
			me, ok := errors.AsType[*MiddlewareError](err)
			require.True(t, ok, "%T %v", err, err)
			assert.Empty(t, sent, "nothing was sent")
			assert.Equal(t, 1, attempts, "not retried")
			assert.False(t, IsRetryable(err))
			assert.Equal(t, EndpointWatchStat, me.Endpoint)
			assert.Contains(t, err.Error(), "middleware changed the URL")
			assertNoSecrets(t, "the error", fmt.Sprintf("%v %+v %#v", err, err, me))
		})
	}

	// Requests a middleware makes itself, with the call's context or
	// another, are sent as they are.
	var sent []string
	base := roundTripper(func(r *http.Request) (*http.Response, error) {
		sent = append(sent, r.URL.String())
		return httpmock.NewStringResponse(200, fixture(t, "watch_stat_page2.json")), nil
	})
	side := func(next http.RoundTripper) http.RoundTripper {
		return roundTripper(func(r *http.Request) (*http.Response, error) {
			for _, ctx := range []context.Context{r.Context(), context.Background()} {
				probe, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://metrics.example.test/probe?x=1", nil)
				require.NoError(t, err)
				resp, err := next.RoundTrip(probe)
				require.NoError(t, err)
				resp.Body.Close()
			}
			return next.RoundTrip(r)
		})
	}
	c, err := NewClient(WithWeComBaseURL(testBase), WithTokenSource(staticToken(testToken)),
		WithHTTPClient(&http.Client{Transport: base}), WithMiddleware(side))
	require.NoError(t, err)
	_, err = c.Living.GetWatchStat(context.Background(), WatchStatRequest{LivingID: "L1"})
	require.NoError(t, err)
	require.Len(t, sent, 3)
	assert.Equal(t, "https://metrics.example.test/probe?x=1", sent[0])
	assert.Equal(t, "https://metrics.example.test/probe?x=1", sent[1])
	assert.Contains(t, sent[2], "access_token="+testToken)
}

// A vendor message that echoes the credential it rejects (a proxy or
// gateway quoting the token or the sign) reaches neither the *APIError,
// nor its %v/%+v/%#v, nor the Debug log of the token replay.
func TestAPIErrorMessageEchoingACredentialIsScrubbed(t *testing.T) {
	t.Parallel()
	e := newMockEnv(t)
	e.mt.RegisterResponder(http.MethodPost, testBase+"/cgi-bin/living/get_watch_stat", func(r *http.Request) (*http.Response, error) {
		tok := r.URL.Query().Get("access_token")
		return httpmock.NewStringResponse(200, `{"errcode":40014,"errmsg":"invalid access_token `+tok+` (`+url.QueryEscape(tok)+`), hint: [17370001]"}`), nil
	})
	_, err := e.c.Living.GetWatchStat(context.Background(), WatchStatRequest{LivingID: "L1"})
	ae, ok := errors.AsType[*APIError](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, "17370001", ae.Hint, "the rest of the message is kept")
	assert.Contains(t, ae.Message, "invalid access_token REDACTED")
	out := fmt.Sprintf("%v\n%+v\n%#v\n%s\n", err, err, ae, e.logs.String())
	assert.Contains(t, e.logs.String(), "token rejected", "the replay was logged at Debug")
	assert.NotContains(t, out, testToken) // testToken and its successor testToken-2

	a := NewSignAuthorizer(testAppKey, testSecret)
	a.Now = fixedClock(1700000000123)
	c, mt := newNuoyunClient(t, WithNuoyunAuth(a), WithoutRetries())
	mt.RegisterResponder(http.MethodPost, nuoyunTestURL, func(r *http.Request) (*http.Response, error) {
		return httpmock.NewStringResponse(200, `{"code":400,"msg":"签名验证失败: sign `+r.Header.Get("sign")+`","data":{}}`), nil
	})
	_, err = c.Nuoyun.GetUserDurations(context.Background(), UserDurationRequest{Page: 1, PageSize: 10})
	ae, ok = errors.AsType[*APIError](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, "签名验证失败: sign REDACTED", ae.Message)
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v", err, err, ae), sign1700000000123)
}

// A gateway page that echoes the request, credentials included, reaches a
// middleware that logs reply bodies with the credentials REDACTED.
func TestMiddlewareNeverSeesAnEchoedCredential(t *testing.T) {
	t.Parallel()
	rec := &bodyRecorder{}
	dump := rec.middleware
	a := escPlaced("query")
	c, mt := newNuoyunClient(t, WithNuoyunAuth(a), WithoutRetries(), WithMiddleware(dump))
	mt.RegisterResponder(http.MethodPost, nuoyunTestURL, func(r *http.Request) (*http.Response, error) {
		return httpmock.NewStringResponse(403, "<p>Forbidden: "+r.URL.String()+"</p>"), nil
	})
	_, err := c.Nuoyun.GetUserDurations(context.Background(), UserDurationRequest{Page: 1, PageSize: 10})
	re, ok := errors.AsType[*ResponseError](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, 403, re.HTTPStatus)
	bodies := rec.all()
	require.Len(t, bodies, 1)
	assert.Contains(t, bodies[0], "sign=REDACTED")
	assertNoEncodedSecret(t, "the reply body the middleware saw", bodies[0], escKey, escSign())
}

// escPlaced is an authorizer putting escKey, the timestamp 1700000000123
// and escSign in the query or the body, as SignAuthorizer computes them.
func escPlaced(where string) RequestAuthorizer {
	return RequestAuthorizerFunc(func(_ context.Context, r *AuthRequest) error {
		if where == "query" {
			r.Query.Set("key", escKey)
			r.Query.Set("timestamp", "1700000000123")
			r.Query.Set("sign", escSign())
			return nil
		}
		r.SetBodyField("key", escKey)
		r.SetBodyField("timestamp", int64(1700000000123))
		r.SetBodyField("sign", escSign())
		return nil
	})
}

// escSign is the sign SignAuthorizer computes for escKey at 1700000000123.
func escSign() string { return signMD5("1700000000123", escKey, testSecret) }

// bodyRecorder is a middleware that logs every reply body it passes up, as
// a logging middleware would.
type bodyRecorder struct {
	mu     sync.Mutex
	bodies []string
}

func (rec *bodyRecorder) middleware(next http.RoundTripper) http.RoundTripper {
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		resp, err := next.RoundTrip(r)
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, err
		}
		resp.Body.Close()
		rec.mu.Lock()
		rec.bodies = append(rec.bodies, string(b))
		rec.mu.Unlock()
		resp.Body = io.NopCloser(bytes.NewReader(b))
		return resp, nil
	})
}

// all returns the bodies recorded so far.
func (rec *bodyRecorder) all() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]string(nil), rec.bodies...)
}
