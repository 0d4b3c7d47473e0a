package livestat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testAppKey = "app-key-1"

// fixedClock returns the given instants in turn, repeating the last one.
func fixedClock(ms ...int64) func() time.Time {
	var mu sync.Mutex
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t := time.UnixMilli(ms[0])
		if len(ms) > 1 {
			ms = ms[1:]
		}
		return t
	}
}

// Expected signs, computed outside Go: md5(timestamp + key + secret).
const (
	sign1700000000123 = "d49b285e5232c5738dd51fad17afa10c"
	sign1700000001123 = "8134e53b3a6ed293615d380416f5477d"
)

// placed is a RequestAuthorizerFunc putting what SignAuthorizer computes
// for 1700000000123 under other names or in another place, as an
// authorizer for another gateway scheme would.
func placed(where, keyF, timeF, signF string) RequestAuthorizer {
	return RequestAuthorizerFunc(func(_ context.Context, r *AuthRequest) error {
		switch where {
		case "header":
			r.Header.Set(keyF, testAppKey)
			r.Header.Set(timeF, "1700000000123")
			r.Header.Set(signF, sign1700000000123)
		case "query":
			r.Query.Set(keyF, testAppKey)
			r.Query.Set(timeF, "1700000000123")
			r.Query.Set(signF, sign1700000000123)
		case "body":
			r.SetBodyField(keyF, testAppKey)
			r.SetBodyField(timeF, int64(1700000000123))
			r.SetBodyField(signF, sign1700000000123)
		}
		return nil
	})
}

func TestSignAuthorizerPlacement(t *testing.T) {
	t.Parallel()
	sign := NewSignAuthorizer(testAppKey, testSecret)
	sign.Now = fixedClock(1700000000123)
	tests := []struct {
		name string
		auth RequestAuthorizer
		// where the three values are expected, under which names
		where                  string
		keyF, timeF, signField string
	}{
		{"SignAuthorizer: headers", sign, "header", "key", "timestamp", "sign"},
		{"query", placed("query", "key", "timestamp", "sign"), "query", "key", "timestamp", "sign"},
		{"body", placed("body", "key", "timestamp", "sign"), "body", "key", "timestamp", "sign"},
		{"custom header names", placed("header", "X-App-Key", "X-Timestamp", "X-Sign"), "header", "X-App-Key", "X-Timestamp", "X-Sign"},
		{"custom body names", placed("body", "appkey", "ts", "signature"), "body", "appkey", "ts", "signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := newNuoyunClient(t, WithNuoyunAuth(tt.auth))
			f := serveNuoyun(mt, 3)
			_, err := c.Nuoyun.GetUserDurations(context.Background(), UserDurationRequest{Page: 1, PageSize: 10})
			require.NoError(t, err)

			h, query := f.headers[0], f.queries[0]
			body := f.requestBodies()[0]
			var got [3]any
			switch tt.where {
			case "header":
				got = [3]any{h.Get(tt.keyF), h.Get(tt.timeF), h.Get(tt.signField)}
				assert.NotContains(t, body, tt.keyF)
			case "query":
				assert.Empty(t, h.Get(tt.signField))
				got = [3]any{query.Get(tt.keyF), query.Get(tt.timeF), query.Get(tt.signField)}
			case "body":
				got = [3]any{body[tt.keyF], body[tt.timeF], body[tt.signField]}
				assert.Equal(t, 1.0, body["page"], "the request's own fields are kept")
				assert.Equal(t, 10.0, body["page_size"])
			}
			want := [3]any{testAppKey, "1700000000123", sign1700000000123}
			if tt.where == "body" {
				want[1] = 1700000000123.0 // a JSON number in the body
			}
			assert.Equal(t, want, got)
			assert.Empty(t, h.Get("secret"))
		})
	}
}

func TestAuthorizerRunsOnEveryAttempt(t *testing.T) {
	t.Parallel()
	a := NewSignAuthorizer(testAppKey, testSecret)
	a.Now = fixedClock(1700000000123, 1700000001123)
	c, mt := newNuoyunClient(t, WithNuoyunAuth(a))
	f := serveNuoyun(mt, 3)
	f.hook = func(_ *http.Request, _ int) (*http.Response, error) {
		if len(f.requested()) == 1 {
			return httpmock.NewStringResponse(503, "busy"), nil
		}
		return nil, nil
	}
	_, err := c.Nuoyun.GetUserDurations(context.Background(), UserDurationRequest{Page: 1, PageSize: 10})
	require.NoError(t, err)
	require.Len(t, f.headers, 2)
	assert.Equal(t, []string{"1700000000123", sign1700000000123}, []string{f.headers[0].Get("timestamp"), f.headers[0].Get("sign")})
	assert.Equal(t, []string{"1700000001123", sign1700000001123}, []string{f.headers[1].Get("timestamp"), f.headers[1].Get("sign")}, "the retry is signed afresh")
}

func TestStaticHeaders(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Set("X-Api-Key", testSecret)
	a := NewStaticHeaders(h)
	h.Set("X-Api-Key", "changed later") // the authorizer keeps its own copy

	e := newMockEnv(t, WithNuoyunAuth(a), WithNuoyunBaseURL(nuoyunTestBase), WithNuoyunRateLimit(0, 0))
	f := serveNuoyun(e.mt, 3)
	f.hook = func(_ *http.Request, _ int) (*http.Response, error) {
		if len(f.requested()) == 1 {
			return httpmock.NewStringResponse(502, "bad gateway"), nil
		}
		return nil, nil
	}
	_, err := e.c.Nuoyun.GetUserDurations(context.Background(), UserDurationRequest{Page: 1, PageSize: 10})
	require.NoError(t, err)
	require.Len(t, f.headers, 2)
	for _, h := range f.headers {
		assert.Equal(t, testSecret, h.Get("X-Api-Key"), "on every attempt")
	}

	// WeCom requests do not get Nuoyun's credentials.
	var wecomHeader http.Header
	e.mt.RegisterResponder(http.MethodPost, testBase+"/cgi-bin/living/get_watch_stat", func(r *http.Request) (*http.Response, error) {
		wecomHeader = r.Header.Clone()
		return httpmock.NewStringResponse(200, fixture(t, "watch_stat_page2.json")), nil
	})
	_, err = e.c.Living.GetWatchStat(context.Background(), WatchStatRequest{LivingID: "L1"})
	require.NoError(t, err)
	assert.Empty(t, wecomHeader.Get("X-Api-Key"))
}

func TestAuthorizerErrorStopsTheRequest(t *testing.T) {
	t.Parallel()
	c, mt := newNuoyunClient(t, WithNuoyunAuth(NewSignAuthorizer("", "")))
	serveNuoyun(mt, 3)
	_, err := c.Nuoyun.GetUserDurations(context.Background(), UserDurationRequest{Page: 1, PageSize: 10})
	require.ErrorContains(t, err, "request authorizer")
	assert.False(t, IsRetryable(err))
	assert.Zero(t, mt.GetTotalCallCount(), "nothing is sent without credentials")
}

func TestAuthorizersNeverPrintSecrets(t *testing.T) {
	t.Parallel()
	sa := NewSignAuthorizer(testAppKey, testSecret)
	_ = sa // the sign goes in the headers (SignAuthorizer has no other placement)
	h := http.Header{}
	h.Set("Authorization", "Bearer "+testSecret)
	sh := NewStaticHeaders(h)

	type holder struct { // unexported fields: fmt cannot call their methods
		sign   SignAuthorizer
		static StaticHeaders
	}
	var out []string
	for _, v := range []any{sa, *sa, sh, *sh, holder{*sa, *sh}, struct{ A, B any }{sa, sh}} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%q"} {
			out = append(out, fmt.Sprintf(verb, v))
		}
	}
	var logs bytes.Buffer
	for _, hd := range []slog.Handler{slog.NewTextHandler(&logs, nil), slog.NewJSONHandler(&logs, nil)} {
		slog.New(hd).Info("auth", "sign", sa, "sign_value", *sa, "static", sh, "static_value", *sh)
	}
	out = append(out, logs.String())

	// Errors of failed requests, with the sign in the query.
	c, mt := newNuoyunClient(t, WithNuoyunAuth(sa), WithoutRetries())
	mt.RegisterResponder(http.MethodPost, nuoyunTestURL, httpmock.NewErrorResponder(errors.New("connection reset")))
	_, err := c.Nuoyun.GetUserDurations(context.Background(), UserDurationRequest{Page: 1, PageSize: 10})
	require.Error(t, err)
	out = append(out, err.Error(), fmt.Sprintf("%+v", err))

	all := strings.Join(out, "\n")
	assertNoSecrets(t, "authorizer output", all)
	assert.Contains(t, all, "REDACTED")
	assert.Contains(t, all, testAppKey, "the key is not a secret and helps debugging")
}

func TestAuthorizerBodyNeedsAnObject(t *testing.T) {
	t.Parallel()
	// An authorizer adding body fields to a request without a JSON object
	// body gets a clear error instead of a malformed request.
	_, err := authorize(context.Background(), bodyAdder{}, &call{vendor: VendorNuoyun, endpoint: "x", body: []int{1}}, &credentials{})
	assert.ErrorContains(t, err, "not a JSON object")

	cr := &credentials{}
	b, err := authorize(context.Background(), bodyAdder{}, &call{vendor: VendorNuoyun, endpoint: "x", body: &UserDurationRequest{Page: 2, PageSize: 3}}, cr)
	require.NoError(t, err)
	enc, err := json.Marshal(b)
	require.NoError(t, err)
	// Above the credentials layer the added field is REDACTED; the body
	// sent is the real one.
	assert.JSONEq(t, `{"page":2,"page_size":3,"update_time_start":0,"update_time_end":0,"app":"REDACTED"}`, string(enc))
	assert.JSONEq(t, `{"page":2,"page_size":3,"update_time_start":0,"update_time_end":0,"app":"x"}`, string(cr.body))
}

type bodyAdder struct{}

func (bodyAdder) AuthorizeRequest(_ context.Context, r *AuthRequest) error {
	r.SetBodyField("app", "x")
	return nil
}
