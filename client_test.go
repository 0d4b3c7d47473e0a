package livestat

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewClientValidatesConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts []Option
		want string // substring of the error; "" means valid
	}{
		{"nothing configured is valid (WeCom calls fail later)", nil, ""},
		{"self-built app", []Option{WithWeComApp("corp", "secret")}, ""},
		{"secret without corp", []Option{WithWeComApp("", "secret")}, "corp ID is empty"},
		{"corp without secret", []Option{WithWeComApp("corp", "")}, "secret is empty"},
		{"both credentials and source", []Option{WithWeComApp("c", "s"), WithTokenSource(TokenSourceFunc(nil))}, "not both"},
		{"http on a public host", []Option{WithWeComBaseURL("http://qyapi.weixin.qq.com")}, "loopback"},
		{"http on a public host, opted in", []Option{WithWeComBaseURL("http://proxy.internal"), WithInsecureHTTP()}, ""},
		{"http on loopback", []Option{WithWeComBaseURL("http://127.0.0.1:8080"), WithNuoyunBaseURL("http://localhost:9")}, ""},
		{"http on IPv6 loopback", []Option{WithWeComBaseURL("http://[::1]:8080")}, ""},
		{"base URL with a path", []Option{WithWeComBaseURL("https://qyapi.weixin.qq.com/cgi-bin")}, "scheme://host"},
		{"base URL with a secret query", []Option{WithWeComBaseURL("https://h.test/?access_token=" + testToken)}, "scheme://host"},
		{"ftp", []Option{WithNuoyunBaseURL("ftp://x.test")}, "unsupported scheme"},
		{"no host", []Option{WithNuoyunBaseURL("https://")}, "scheme://host"},
		{"zero timeout", []Option{WithTimeout(0)}, "timeout"},
		{"zero attempts", []Option{WithRetry(RetryPolicy{})}, "MaxAttempts"},
		{"zero page cap", []Option{WithMaxPages(0)}, "WithMaxPages"},
		{"zero body bound", []Option{WithMaxResponseBytes(0)}, "WithMaxResponseBytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewClient(tc.opts...)
			if tc.want == "" {
				require.NoError(t, err)
				require.NotNil(t, c)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assertNoSecrets(t, "config error", err.Error())
		})
	}
}

// A WeCom call on a Client without WeCom credentials is the program's
// misconfiguration, not a bad request: services that map ErrInvalidArgument
// to HTTP 400 must not blame their caller for it.
func TestWeComCallWithoutCredentials(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	c, err := NewClient(WithHTTPClient(&http.Client{Transport: mt}))
	require.NoError(t, err)
	ctx := context.Background()
	_, err1 := c.Living.GetWatchStat(ctx, WatchStatRequest{LivingID: "L1"})
	_, err2 := Collect(c.School.Absentees(ctx, SchoolStatRequest{LivingID: "L1"}))
	for _, err := range []error{err1, err2} {
		assert.ErrorIs(t, err, ErrNoCredentials)
		assert.NotErrorIs(t, err, ErrInvalidArgument)
		nc, ok := errors.AsType[*NoCredentialsError](err)
		require.True(t, ok, "%T: %v", err, err)
		assert.Equal(t, VendorWeCom, nc.Vendor)
		assert.Contains(t, err.Error(), "WithWeComApp")
		assert.False(t, IsRetryable(err))
	}
	assert.Zero(t, mt.GetTotalCallCount())
}

func TestCallerHTTPClientIsNotModified(t *testing.T) {
	t.Parallel()
	hc := &http.Client{}
	_, err := NewClient(WithHTTPClient(hc), WithTimeout(time.Second))
	require.NoError(t, err)
	assert.Nil(t, hc.Transport)
	assert.Zero(t, hc.Timeout)
}

func TestIntBoolDecoding(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{`1`: true, `0`: false, `"1"`: true, `true`: true, `false`: false, `null`: false} {
		var f IntBool
		require.NoError(t, f.UnmarshalJSON([]byte(in)), in)
		assert.Equal(t, want, bool(f), in)
	}
	var f IntBool
	require.NoError(t, f.UnmarshalJSON([]byte(`2`)))
	assert.True(t, bool(f), "a non-zero value counts as true")
	assert.Error(t, f.UnmarshalJSON([]byte(`"yes"`)))
	b, _ := IntBool(true).MarshalJSON()
	assert.Equal(t, "1", string(b), "flags encode back to the API's 0/1")
}

// respond returns a responder for a fixed status, header and body.
func respond(status int, body string, header ...string) httpmock.Responder {
	return func(*http.Request) (*http.Response, error) {
		r := httpmock.NewStringResponse(status, body)
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		return r, nil
	}
}

func TestBadRepliesBecomeClearErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		resp      httpmock.Responder
		reason    string
		retryable bool
		is        error
	}{
		{"HTTP 502 gateway page", respond(502, "<html><body>502 Bad Gateway</body></html>"), "http status", true, ErrServerBusy},
		{"HTTP 404", respond(404, "not found"), "http status", false, ErrBadResponse},
		{"HTTP 429", respond(429, "slow down"), "http status", true, ErrRateLimited},
		{"HTML on 200", respond(200, "<!DOCTYPE html><html>maintenance</html>"), "not json", true, ErrBadResponse},
		{"truncated JSON", respond(200, `{"errcode":0,"errmsg":"ok","ending":0,"stat_info":{"users":[{"userid":"a"`), "malformed json", true, ErrBadResponse},
		{"truncated array", respond(200, `[{"errcode":0`), "malformed json", true, ErrBadResponse},
		{"garbled JSON", respond(200, `{"errcode":0,"ending":1,,}`), "malformed json", true, ErrBadResponse},
		// Valid JSON of another shape: asking again gets the same reply.
		{"wrong types", respond(200, `{"errcode":"zero"}`), "wrong shape", false, ErrBadResponse},
		{"a list where an object belongs", respond(200, `{"errcode":0,"ending":1,"stat_info":{"users":{"userid":"a"}}}`), "wrong shape", false, ErrBadResponse},
		{"an array reply", respond(200, `[]`), "wrong shape", false, ErrBadResponse},
		{"a number reply", respond(200, `42`), "wrong shape", false, ErrBadResponse},
		{"empty body", respond(200, ""), "not json", true, ErrBadResponse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newMockEnv(t, WithoutRetries())
			e.mt.RegisterResponder(http.MethodPost, testBase+"/cgi-bin/living/get_watch_stat", tc.resp)
			_, err := e.c.Living.GetWatchStat(context.Background(), WatchStatRequest{LivingID: "L1"})
			var re *ResponseError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tc.reason, re.Reason)
			assert.Equal(t, EndpointWatchStat, re.Endpoint)
			assert.ErrorIs(t, err, tc.is)
			assert.Equal(t, tc.retryable, IsRetryable(err))
			assert.Contains(t, err.Error(), "living/get_watch_stat")
			assert.LessOrEqual(t, len(re.Snippet), 120)
			assertNoSecrets(t, "error", err.Error())
		})
	}
}

func TestResponseSizeIsBounded(t *testing.T) {
	t.Parallel()
	e := newMockEnv(t, WithMaxResponseBytes(1024))
	e.mt.RegisterResponder(http.MethodPost, testBase+"/cgi-bin/living/get_watch_stat", respond(200, `{"errmsg":"`+strings.Repeat("x", 4096)+`"}`))
	_, err := e.c.Living.GetWatchStat(context.Background(), WatchStatRequest{LivingID: "L1"})
	var re *ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "too large", re.Reason)
	assert.False(t, IsRetryable(err))
}

func TestAPIErrorCategories(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		vendor   Vendor
		endpoint Endpoint
		code     int
		status   int
		is       error
		retry    bool
	}{
		{VendorWeCom, "living/get_watch_stat", -1, 200, ErrServerBusy, true},
		{VendorWeCom, "living/get_watch_stat", 45009, 200, ErrRateLimited, true},
		{VendorWeCom, "school/living/get_watch_stat_v2", 45033, 200, ErrRateLimited, true}, // too many concurrent calls
		{VendorWeCom, "living/get_watch_stat", 40014, 200, ErrTokenInvalid, false},
		{VendorWeCom, "living/get_watch_stat", 42001, 200, ErrTokenInvalid, false},
		{VendorWeCom, "living/get_watch_stat", 41001, 200, ErrTokenInvalid, false},
		{VendorWeCom, "gettoken", 40001, 200, ErrInvalidCredentials, false},
		{VendorWeCom, "living/get_watch_stat", 48002, 200, ErrPermissionDenied, false},
		{VendorWeCom, "living/get_watch_stat", 40058, 200, ErrInvalidArgument, false},
		{VendorNuoyun, "x", 400, 200, nil, false},
		{VendorNuoyun, "x", 500, 200, ErrServerBusy, true},
	} {
		err := error(&APIError{Vendor: tc.vendor, Endpoint: tc.endpoint, Code: tc.code, Message: "m", HTTPStatus: tc.status})
		name := fmt.Sprintf("%s %s %d", tc.vendor, tc.endpoint, tc.code)
		if tc.is != nil {
			assert.ErrorIs(t, fmt.Errorf("wrapped: %w", err), tc.is, name)
		}
		for _, other := range []error{ErrServerBusy, ErrRateLimited, ErrTokenInvalid, ErrInvalidCredentials, ErrPermissionDenied, ErrInvalidArgument} {
			if other != tc.is {
				assert.NotErrorIs(t, err, other, name)
			}
		}
		assert.Equal(t, tc.retry, IsRetryable(err), name)
	}
}

func TestRetries(t *testing.T) {
	t.Parallel()
	okPage := `{"errcode":0,"errmsg":"ok","ending":1,"next_key":"","stat_info":{"users":[{"userid":"a"}]}}`
	for _, tc := range []struct {
		name     string
		failures []httpmock.Responder
		wantErr  error
		calls    int
	}{
		{"busy -1 then ok", []httpmock.Responder{respond(200, `{"errcode":-1,"errmsg":"system busy"}`)}, nil, 2},
		{"45009 then ok", []httpmock.Responder{respond(200, `{"errcode":45009,"errmsg":"api freq out of limit"}`)}, nil, 2},
		{"500, 503 then ok", []httpmock.Responder{respond(500, "oops"), respond(503, "busy")}, nil, 3},
		{"connection reset then ok", []httpmock.Responder{httpmock.NewErrorResponder(&net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")})}, nil, 2},
		{"truncated then ok", []httpmock.Responder{respond(200, `{"errcode":0,"stat_info":{"us`)}, nil, 2},
		{"wrong shape is not retried", []httpmock.Responder{respond(200, `{"errcode":0,"ending":1,"stat_info":{"users":"a"}}`)}, ErrBadResponse, 1},
		{"busy forever: gives up after MaxAttempts", []httpmock.Responder{
			respond(200, `{"errcode":-1}`), respond(200, `{"errcode":-1}`), respond(200, `{"errcode":-1}`), respond(200, `{"errcode":-1}`)}, ErrServerBusy, 4},
		{"invalid argument is not retried", []httpmock.Responder{respond(200, `{"errcode":40058,"errmsg":"invalid livingid"}`)}, ErrInvalidArgument, 1},
		{"permission is not retried", []httpmock.Responder{respond(200, `{"errcode":48002,"errmsg":"api forbidden"}`)}, ErrPermissionDenied, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newMockEnv(t)
			var n atomic.Int32
			e.mt.RegisterResponder(http.MethodPost, testBase+"/cgi-bin/living/get_watch_stat", func(r *http.Request) (*http.Response, error) {
				i := int(n.Add(1)) - 1
				if i < len(tc.failures) {
					return tc.failures[i](r)
				}
				return httpmock.NewStringResponse(200, okPage), nil
			})
			p, err := e.c.Living.GetWatchStat(context.Background(), WatchStatRequest{LivingID: "L1"})
			if tc.wantErr != nil {
				assert.ErrorIs(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
				assert.Equal(t, "a", p.StatInfo.Users[0].UserID)
			}
			assert.EqualValues(t, tc.calls, n.Load())
			assertNoSecrets(t, "logs", e.logs.String())
		})
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := newMockEnv(t, WithRetry(RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Minute}))
		var n atomic.Int32
		var times []time.Time
		e.mt.RegisterResponder(http.MethodPost, testBase+"/cgi-bin/living/get_watch_stat", func(r *http.Request) (*http.Response, error) {
			times = append(times, time.Now())
			if n.Add(1) == 1 {
				return respond(429, "slow down", "Retry-After", "7")(r)
			}
			return httpmock.NewStringResponse(200, `{"errcode":0,"ending":1}`), nil
		})
		_, err := e.c.Living.GetWatchStat(context.Background(), WatchStatRequest{LivingID: "L1"})
		require.NoError(t, err)
		require.Len(t, times, 2)
		assert.GreaterOrEqual(t, times[1].Sub(times[0]), 7*time.Second)
	})
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	t.Parallel()
	p := RetryPolicy{MaxAttempts: 10, BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second, RateLimitDelay: 500 * time.Millisecond}
	busy := &APIError{Vendor: VendorWeCom, Code: -1}
	limited := &APIError{Vendor: VendorWeCom, Code: 45009}
	for i := 0; i < 50; i++ {
		d1 := p.backoff(1, busy, 0)
		assert.True(t, d1 >= 50*time.Millisecond && d1 <= 100*time.Millisecond, d1)
		d3 := p.backoff(3, busy, 0)
		assert.True(t, d3 >= 200*time.Millisecond && d3 <= 400*time.Millisecond, d3)
		d9 := p.backoff(9, busy, 0)
		assert.True(t, d9 <= time.Second, d9)
		assert.GreaterOrEqual(t, p.backoff(1, limited, 0), 250*time.Millisecond, "rate limits wait longer")
	}
}

func TestHungServerNeverHoldsTheCallerPastItsDeadline(t *testing.T) {
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/cgi-bin/gettoken" {
			fmt.Fprint(w, `{"errcode":0,"access_token":"t","expires_in":7200}`)
			return
		}
		select { // hang until the test ends
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer srv.Close()
	defer close(stop)
	for _, tc := range []struct {
		name string
		opts []Option
		ctx  time.Duration
	}{
		{"per-attempt timeout", []Option{WithTimeout(50 * time.Millisecond), WithoutRetries()}, time.Minute},
		{"caller deadline", []Option{WithTimeout(time.Minute)}, 80 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewClient(append([]Option{WithWeComApp(testCorpID, testSecret), WithWeComBaseURL(srv.URL)}, tc.opts...)...)
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), tc.ctx)
			defer cancel()
			done := make(chan error, 1)
			go func() {
				_, err := c.Living.GetWatchStat(ctx, WatchStatRequest{LivingID: "L1"})
				done <- err
			}()
			select {
			case err := <-done:
				assert.ErrorIs(t, err, context.DeadlineExceeded)
			case <-time.After(10 * time.Second):
				t.Fatal("the call hung")
			}
		})
	}
}

func TestRedaction(t *testing.T) {
	t.Parallel()
	// A transport failure: the *url.Error carries the full URL, token
	// included, unless livestat redacts it.
	e := newMockEnv(t)
	e.mt.RegisterResponder(http.MethodPost, testBase+"/cgi-bin/living/get_watch_stat",
		httpmock.NewErrorResponder(errors.New("connection refused")))
	_, err := e.c.Living.GetWatchStat(context.Background(), WatchStatRequest{LivingID: "L1"})
	require.Error(t, err)
	var te *TransportError
	require.ErrorAs(t, err, &te)
	assert.Contains(t, err.Error(), "access_token=REDACTED")
	assertNoSecrets(t, "transport error", err.Error())
	assertNoSecrets(t, "transport error %+v", fmt.Sprintf("%+v %#v", err, err))

	// gettoken failing at the transport: its URL holds the secret.
	e2 := newMockEnv(t)
	e2.mt.RegisterResponder(http.MethodGet, testBase+"/cgi-bin/gettoken", httpmock.NewErrorResponder(errors.New("connection reset")))
	_, err = e2.c.Living.GetWatchStat(context.Background(), WatchStatRequest{LivingID: "L1"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "corpsecret=REDACTED")
	assertNoSecrets(t, "gettoken error", err.Error())

	// gettoken answering garbage that contains the token: no snippet.
	e3 := newMockEnv(t)
	e3.mt.RegisterResponder(http.MethodGet, testBase+"/cgi-bin/gettoken", respond(200, `{"errcode":0,"access_token":"`+testToken+`","expires_in":72`))
	_, err = e3.c.Living.GetWatchStat(context.Background(), WatchStatRequest{LivingID: "L1"})
	require.Error(t, err)
	assertNoSecrets(t, "gettoken decode error", err.Error())

	for _, env := range []*mockEnv{e, e2, e3} {
		assert.NotEmpty(t, env.logs.String(), "debug logs were written")
		assertNoSecrets(t, "logs", env.logs.String())
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://h/cgi-bin/x?access_token=abc":             "https://h/cgi-bin/x?access_token=REDACTED",
		"https://h/cgi-bin/gettoken?corpid=c&corpsecret=s": "https://h/cgi-bin/gettoken?corpid=c&corpsecret=REDACTED",
		"https://user:pw@h/x":                              "https://REDACTED@h/x",
		"https://h/x?a=1":                                  "https://h/x?a=1",
	} {
		assert.Equal(t, want, redactURL(in))
	}
}

func TestReplyWithoutStatusIsNotASuccess(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`{}`, `null`, `{"errmsg":"gateway"}`} {
		t.Run(body, func(t *testing.T) {
			e := newMockEnv(t)
			var n atomic.Int32
			e.mt.RegisterResponder(http.MethodPost, testBase+"/cgi-bin/school/living/get_watch_stat_v2", func(*http.Request) (*http.Response, error) {
				n.Add(1)
				return httpmock.NewStringResponse(200, body), nil
			})
			rows, err := Collect(e.c.School.Watchers(context.Background(), SchoolStatRequest{LivingID: "L1"}))
			assert.Empty(t, rows)
			var re *ResponseError
			require.ErrorAs(t, err, &re, "an empty reply must not end the iteration as complete")
			assert.Contains(t, re.Error(), "no status code")
			assert.Equal(t, "wrong shape", re.Reason)
			assert.EqualValues(t, 1, n.Load(), "valid JSON: asking again gets the same reply")
		})
	}
}

func TestEchoedTokenIsRedactedFromSnippets(t *testing.T) {
	t.Parallel()
	e := newMockEnv(t, WithoutRetries())
	e.mt.RegisterResponder(http.MethodPost, testBase+"/cgi-bin/living/get_watch_stat", func(r *http.Request) (*http.Response, error) {
		return httpmock.NewStringResponse(403, "<html>Forbidden: "+r.URL.String()+"</html>"), nil
	})
	_, err := e.c.Living.GetWatchStat(context.Background(), WatchStatRequest{LivingID: "L1"})
	var re *ResponseError
	require.ErrorAs(t, err, &re)
	assert.Contains(t, re.Snippet, "access_token=REDACTED")
	assertNoSecrets(t, "error echoing the URL", err.Error())
}

func TestRetryPolicyZeroDelaysTakeDefaults(t *testing.T) {
	t.Parallel()
	c, err := NewClient(WithRetry(RetryPolicy{MaxAttempts: 5, BaseDelay: time.Second}))
	require.NoError(t, err)
	assert.Equal(t, RetryPolicy{MaxAttempts: 5, BaseDelay: time.Second, MaxDelay: 10 * time.Second, RateLimitDelay: 2 * time.Second}, c.cfg.retry)
	_, err = NewClient(WithRetry(RetryPolicy{MaxAttempts: 3, BaseDelay: time.Minute, MaxDelay: time.Second}))
	assert.ErrorContains(t, err, "MaxDelay")
}

func TestClientValueDoesNotPrintTheSecret(t *testing.T) {
	t.Parallel()
	c, err := NewClient(WithWeComApp(testCorpID, testSecret))
	require.NoError(t, err)
	type holder struct{ C Client }
	for _, s := range []string{fmt.Sprintf("%+v", *c), fmt.Sprintf("%#v", holder{*c}), fmt.Sprintf("%v %+v %s", c, c, c)} { //nolint:govet // copying on purpose
		assertNoSecrets(t, "formatted client", s)
	}
}
