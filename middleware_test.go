package livestat_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seenRequest is what a tracing or logging middleware can read of one
// attempt: the request on the way down, the reply's Request on the way up,
// and the error.
type seenRequest struct {
	method, url, body, ctx string
	header                 http.Header
	replyURL               string
	replyHeader            http.Header
	err                    string
}

// dump is everything the middleware saw, as text.
func (s seenRequest) dump() string {
	return fmt.Sprintf("%s %s\n%v\n%s\nctx: %s\nreply request: %s %v\nerr: %s", s.method, s.url, s.header, s.body, s.ctx, s.replyURL, s.replyHeader, s.err)
}

// recorder is a middleware that records every attempt, as otelhttp or a
// request logger would: URL, headers, body (read and put back), context.
type recorder struct {
	mu   sync.Mutex
	seen []seenRequest
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func (rec *recorder) middleware(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		s := seenRequest{method: r.Method, url: r.URL.String(), header: r.Header.Clone(), ctx: fmt.Sprintf("%v %+v %#v", r.Context(), r.Context(), r.Context())}
		if r.Body != nil {
			b, err := io.ReadAll(r.Body)
			if err != nil {
				return nil, err
			}
			r.Body.Close()
			s.body = string(b)
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		resp, err := next.RoundTrip(r)
		if resp != nil && resp.Request != nil {
			s.replyURL, s.replyHeader = resp.Request.URL.String(), resp.Request.Header.Clone()
		}
		if err != nil {
			s.err = err.Error()
		}
		rec.mu.Lock()
		rec.seen = append(rec.seen, s)
		rec.mu.Unlock()
		return resp, err
	})
}

func (rec *recorder) requests() []seenRequest {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]seenRequest(nil), rec.seen...)
}

var issuedToken = regexp.MustCompile(`livestattest-token-\d+`)

const (
	mwCorpSecret   = "mw-corp-secret-8c2f"
	mwNuoyunKey    = "mw-nuoyun-app-key-51d0"
	mwNuoyunSecret = "mw-nuoyun-app-secret-e93a"
	mwAPIKey       = "mw-static-api-key-77b4"
	mwClockMillis  = 1700000000123
)

func mwSign() string {
	sum := md5.Sum([]byte(strconv.FormatInt(mwClockMillis, 10) + mwNuoyunKey + mwNuoyunSecret))
	return hex.EncodeToString(sum[:])
}

func newSign() *livestat.SignAuthorizer {
	a := livestat.NewSignAuthorizer(mwNuoyunKey, mwNuoyunSecret)
	a.Now = func() time.Time { return time.UnixMilli(mwClockMillis) }
	return a
}

// placedSign is an authorizer of the same key, timestamp and sign placed
// in the query or the body (a RequestAuthorizerFunc, as for a gateway
// scheme SignAuthorizer does not cover).
func placedSign(where string) livestat.RequestAuthorizer {
	return livestat.RequestAuthorizerFunc(func(_ context.Context, r *livestat.AuthRequest) error {
		ts := strconv.FormatInt(mwClockMillis, 10)
		if where == "query" {
			r.Query.Set("key", mwNuoyunKey)
			r.Query.Set("timestamp", ts)
			r.Query.Set("sign", mwSign())
			return nil
		}
		r.SetBodyField("key", mwNuoyunKey)
		r.SetBodyField("timestamp", int64(mwClockMillis))
		r.SetBodyField("sign", mwSign())
		return nil
	})
}

// A middleware installed with WithMiddleware (tracing, logging, metrics)
// never sees the app secret, a token or anything a Nuoyun authorizer adds:
// not in the URL, the headers, the body, the context or the reply's
// Request, on gettoken, on every page of every endpoint, on retries and on
// the replay after a rejected token. The server still gets the real
// credentials.
func TestMiddlewareNeverSeesCredentials(t *testing.T) {
	t.Parallel()
	sign := mwSign()
	// secrets that no middleware may see, per case (tokens are matched by
	// issuedToken).
	wecomSecrets := []string{mwCorpSecret}
	nuoyunSecrets := []string{mwNuoyunKey, mwNuoyunSecret, sign, strconv.FormatInt(mwClockMillis, 10)}

	type arrival struct{ header, query, body map[string]string }
	for _, tc := range []struct {
		name    string
		auth    livestat.RequestAuthorizer
		secrets []string
		// where the credentials must arrive at the server, by name
		want arrival
	}{
		{"wecom", nil, wecomSecrets, arrival{}},
		{"nuoyun SignAuthorizer in headers", newSign(), nuoyunSecrets,
			arrival{header: map[string]string{"key": mwNuoyunKey, "timestamp": strconv.FormatInt(mwClockMillis, 10), "sign": sign}}},
		{"nuoyun authorizer in the query", placedSign("query"), nuoyunSecrets,
			arrival{query: map[string]string{"key": mwNuoyunKey, "timestamp": strconv.FormatInt(mwClockMillis, 10), "sign": sign}}},
		{"nuoyun authorizer in the body", placedSign("body"), nuoyunSecrets,
			arrival{body: map[string]string{"key": `"` + mwNuoyunKey + `"`, "timestamp": strconv.FormatInt(mwClockMillis, 10), "sign": `"` + sign + `"`}}},
		{"nuoyun StaticHeaders", livestat.NewStaticHeaders(http.Header{"X-Api-Key": {mwAPIKey}}), []string{mwAPIKey},
			arrival{header: map[string]string{"X-Api-Key": mwAPIKey}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const rows = 7 // 4 pages of 2
			srv := livestattest.NewServer(t, livestattest.Options{
				CorpSecret: mwCorpSecret,
				PageSize:   2,
				Living:     map[string][]livestat.LivingViewer{"L": livestattest.GenerateViewers(rows, 1)},
				School:     map[string]livestattest.School{"S": livestattest.GenerateSchool(rows, 2)},
				Nuoyun:     livestattest.GenerateDurations(rows, 3),
			})
			rec := &recorder{}
			opts := []livestat.Option{livestat.WithMiddleware(rec.middleware)}
			if tc.auth != nil {
				opts = append(opts, livestat.WithNuoyunAuth(tc.auth))
			}
			c := srv.Client(opts...)
			ctx := context.Background()

			if tc.auth == nil {
				// A retried page and a rejected token's replay, besides
				// gettoken and the pages.
				srv.Fail(livestattest.Fault{Endpoint: livestat.EndpointWatchStat, Call: 2, HTTPStatus: 502})
				srv.Fail(livestattest.Fault{Endpoint: livestat.EndpointSchoolWatchStat, Call: 2, ExpireToken: true})
				viewers, err := livestat.Collect(c.Living.Viewers(ctx, livestat.WatchStatRequest{LivingID: "L"}))
				require.NoError(t, err)
				assert.Len(t, viewers, rows)
				watchers, err := livestat.Collect(c.School.Watchers(ctx, livestat.SchoolStatRequest{LivingID: "S"}))
				require.NoError(t, err)
				assert.NotEmpty(t, watchers)
				_, err = livestat.Collect(c.School.Absentees(ctx, livestat.SchoolStatRequest{LivingID: "S"}))
				require.NoError(t, err)
				assert.Equal(t, 2, srv.TokensIssued(), "the replay fetched a second token")
				assert.Greater(t, srv.Calls(livestat.EndpointWatchStat), 1)
			} else {
				srv.Fail(livestattest.Fault{Endpoint: livestat.EndpointNuoyunUserDurations, Call: 2, HTTPStatus: 503})
				got, err := livestat.Collect(c.Nuoyun.UserDurations(ctx, livestat.UserDurationRequest{PageSize: 2}))
				require.NoError(t, err)
				assert.Len(t, got, rows)
			}

			seen := rec.requests()
			require.GreaterOrEqual(t, len(seen), srv.TotalCalls(), "every attempt passed through the middleware")
			for _, s := range seen {
				d := s.dump()
				for _, secret := range tc.secrets {
					assert.NotContains(t, d, secret, "the middleware saw a credential")
				}
				assert.False(t, issuedToken.MatchString(d), "the middleware saw a token:\n%s", d)
				assert.Equal(t, s.url, s.replyURL, "the reply's Request is the one the middleware sent")
				assert.Equal(t, s.header, s.replyHeader)
			}
			if tc.auth == nil {
				for _, s := range seen {
					if strings.Contains(s.url, "/cgi-bin/gettoken") {
						assert.Contains(t, s.url, "corpsecret=REDACTED")
					} else {
						assert.Contains(t, s.url, "access_token=REDACTED")
					}
				}
				// The server got the real ones.
				for _, r := range srv.Requests(livestat.EndpointGetToken) {
					assert.Equal(t, mwCorpSecret, r.Query.Get("corpsecret"))
				}
				for _, ep := range []livestat.Endpoint{livestat.EndpointWatchStat, livestat.EndpointSchoolWatchStat, livestat.EndpointSchoolUnwatchStat} {
					for _, r := range srv.Requests(ep) {
						assert.Regexp(t, issuedToken, r.Query.Get("access_token"))
					}
				}
				return
			}
			for _, s := range seen {
				var body map[string]json.RawMessage
				require.NoError(t, json.Unmarshal([]byte(s.body), &body), s.body)
				for name := range tc.want.header {
					assert.Equal(t, "REDACTED", s.header.Get(name))
				}
				for name := range tc.want.query {
					assert.Contains(t, s.url, name+"=REDACTED")
				}
				for name := range tc.want.body {
					assert.Equal(t, `"REDACTED"`, string(body[name]))
				}
				assert.Contains(t, s.body, `"page_size":2`, "the request's own fields are visible")
			}
			arrived := srv.Requests(livestat.EndpointNuoyunUserDurations)
			require.NotEmpty(t, arrived)
			for _, r := range arrived {
				for name, v := range tc.want.header {
					assert.Equal(t, v, r.Header.Get(name))
				}
				for name, v := range tc.want.query {
					assert.Equal(t, v, r.Query.Get(name))
				}
				var body map[string]json.RawMessage
				require.NoError(t, json.Unmarshal(r.Body, &body))
				for name, v := range tc.want.body {
					assert.Equal(t, v, string(body[name]))
				}
			}
		})
	}
}

// Middleware runs in order, the first outermost, and a request a
// middleware makes on its own (to another URL) gets no credentials.
func TestMiddlewareOrderAndForeignRequests(t *testing.T) {
	t.Parallel()
	srv := livestattest.NewServer(t, livestattest.Options{CorpSecret: mwCorpSecret, Living: map[string][]livestat.LivingViewer{"L": livestattest.GenerateViewers(3, 1)}})
	var mu sync.Mutex
	var order []string
	var foreign *http.Request
	tag := func(name string) func(http.RoundTripper) http.RoundTripper {
		return func(next http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(r *http.Request) (*http.Response, error) {
				mu.Lock()
				order = append(order, name)
				mu.Unlock()
				return next.RoundTrip(r)
			})
		}
	}
	// side sends, with the call's context, a request of its own to the
	// same host on another path before passing the call on. (livestat's
	// own request, REDACTED placeholders and all, sent to another path is a
	// *MiddlewareError: see TestMiddlewareChangingTheURLFails.)
	side := func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if foreign == nil && !strings.Contains(r.URL.Path, "gettoken") {
				u := url.URL{Scheme: r.URL.Scheme, Host: r.URL.Host, Path: "/metrics-probe"}
				probe, err := http.NewRequestWithContext(r.Context(), http.MethodGet, u.String(), nil)
				require.NoError(t, err)
				resp, err := next.RoundTrip(probe)
				require.NoError(t, err)
				resp.Body.Close()
				foreign = resp.Request
			}
			return next.RoundTrip(r)
		})
	}
	c := srv.Client(livestat.WithMiddleware(tag("outer"), tag("inner")), livestat.WithMiddleware(side))
	_, err := c.Living.GetWatchStat(context.Background(), livestat.WatchStatRequest{LivingID: "L"})
	require.NoError(t, err)
	assert.Equal(t, []string{"outer", "inner", "outer", "inner"}, order, "gettoken, then the page")
	require.NotNil(t, foreign)
	assert.Empty(t, foreign.URL.RawQuery, "a request to another path gets no credentials")
	_, err = livestat.NewClient(livestat.WithMiddleware(func(http.RoundTripper) http.RoundTripper { return nil }))
	assert.ErrorContains(t, err, "nil http.RoundTripper")
}
