package livestat

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingTransport counts the attempts that reach the transport.
type countingTransport struct {
	n    atomic.Int32
	base http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.base.RoundTrip(r)
}

func dnsFailure(e net.DNSError) *http.Transport {
	return &http.Transport{DialContext: func(_ context.Context, network, addr string) (net.Conn, error) {
		host, _, _ := net.SplitHostPort(addr)
		e.Name = host
		// As the resolver reports it through net.Dial.
		return nil, &net.OpError{Op: "dial", Net: network, Err: &e}
	}}
}

// A server certificate that does not verify, and a host name that does not
// exist, fail the same way however often they are tried: one attempt, not
// retryable. A DNS timeout may clear and is retried.
func TestTLSAndDNSFailuresAreNotRetried(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `{"errcode":0,"ending":1}`)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshakes are the point
	srv.StartTLS()
	defer srv.Close()
	trusting := srv.Client().Transport.(*http.Transport).Clone() // trusts the test certificate
	port := srv.URL[strings.LastIndexByte(srv.URL, ':')+1:]

	for _, tc := range []struct {
		name     string
		base     http.RoundTripper
		url      string
		attempts int32
		as       func(error) bool // the cause, as a caller finds it with errors.As
	}{
		{"unknown certificate authority", &http.Transport{}, srv.URL, 1, func(err error) bool {
			_, ok := errors.AsType[x509.UnknownAuthorityError](err)
			return ok
		}},
		{"certificate for another host", trusting, "https://localhost:" + port, 1, func(err error) bool {
			_, ok := errors.AsType[x509.HostnameError](err)
			return ok
		}},
		{"DNS: no such host", dnsFailure(net.DNSError{Err: "no such host", IsNotFound: true}), "https://qyapi.example.invalid", 1, func(err error) bool {
			de, ok := errors.AsType[*net.DNSError](err)
			return ok && de.IsNotFound
		}},
		{"DNS: timeout, retried", dnsFailure(net.DNSError{Err: "i/o timeout", IsTimeout: true, IsTemporary: true}), "https://qyapi.example.invalid", 4, func(err error) bool {
			de, ok := errors.AsType[*net.DNSError](err)
			return ok && de.IsTimeout
		}},
		{"sanity: the trusted certificate works", trusting, srv.URL, 1, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ct := &countingTransport{base: tc.base}
			c, err := NewClient(
				WithTokenSource(staticToken(testToken)),
				WithWeComBaseURL(tc.url),
				WithHTTPClient(&http.Client{Transport: ct}),
				WithRetry(fastRetry()),
			)
			require.NoError(t, err)
			_, err = c.Living.GetWatchStat(context.Background(), WatchStatRequest{LivingID: "L1"})
			assert.Equal(t, tc.attempts, ct.n.Load(), "attempts")
			if tc.as == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			_, isTransport := errors.AsType[*TransportError](err)
			assert.True(t, isTransport, "%T: %v", err, err)
			assert.True(t, tc.as(err), "the cause is reachable with errors.As: %v", err)
			assert.Equal(t, tc.attempts > 1, IsRetryable(err), "IsRetryable(%v)", err)
			assertNoSecrets(t, "error", err.Error())
		})
	}
}

func TestAPIErrorHintAndFromIP(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		msg, hint, ip string
	}{
		// A real 60020 reply.
		{"not allow to access from your ip, hint: [1741842467591810604040261], from ip: 139.215.46.96, more info at https://open.work.weixin.qq.com/devtool/query?e=60020",
			"1741842467591810604040261", "139.215.46.96"},
		{"invalid credential, access_token is invalid or not latest, hint: [1737000000_12_abc], more info at https://open.work.weixin.qq.com/devtool/query?e=40001",
			"1737000000_12_abc", ""},
		{"from ip: 10.0.0.1, hint: [h-2], not allow to access from your ip", "h-2", "10.0.0.1"},
		{"Hint:[X1],From IP:1.2.3.4", "X1", "1.2.3.4"},
		{"hint: 17370000, from ip: 2001:db8::1, more info at https://x", "17370000", "2001:db8::1"},
		{"not allow to access from your ip, from ip: [198.51.100.7]", "", "198.51.100.7"},
		{"not allow to access from your ip, from ip: unknown, hint: [h]", "h", ""},
		{"not allow to access from your ip", "", ""},
		{"invalid credential", "", ""},
		{"thinthint: [no], from ipx: 1.2.3.4", "", ""},
		{"", "", ""},
	} {
		e := newAPIError(VendorWeCom, "living/get_watch_stat", 60020, tc.msg, 200)
		assert.Equal(t, tc.hint, e.Hint, tc.msg)
		assert.Equal(t, tc.ip, e.FromIP, tc.msg)
		assert.Equal(t, tc.msg, e.Message, "Message is kept as sent")
	}
	assert.Empty(t, newAPIError(VendorNuoyun, "x", 400, "hint: [1], from ip: 1.2.3.4", 200).FromIP, "WeCom's format only")

	// Through the request path.
	e := newMockEnv(t)
	var n atomic.Int32
	e.mt.RegisterResponder(http.MethodPost, testBase+"/cgi-bin/living/get_watch_stat", func(r *http.Request) (*http.Response, error) {
		n.Add(1)
		return respond(200, `{"errcode":60020,"errmsg":"not allow to access from your ip, hint: [1741842467591810604040261], from ip: 139.215.46.96, more info at https://open.work.weixin.qq.com/devtool/query?e=60020"}`)(r)
	})
	_, err := e.c.Living.GetWatchStat(context.Background(), WatchStatRequest{LivingID: "L1"})
	apiErr, ok := errors.AsType[*APIError](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, "139.215.46.96", apiErr.FromIP)
	assert.Equal(t, "1741842467591810604040261", apiErr.Hint)
	assert.ErrorIs(t, err, ErrPermissionDenied)
	assert.EqualValues(t, 1, n.Load(), "not retried")
}

// gettoken's reply before 2017 had no errcode (wechatpy's fixtures still
// have that shape); a token with its lifetime is a success.
func TestGettokenWithoutErrcode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body string
		want       string // "" for success, else the error's Reason or category
	}{
		{"token and expiry, no errcode", `{"access_token": "` + testToken + `", "expires_in": 7200}`, ""},
		{"token without expiry", `{"access_token": "` + testToken + `"}`, "no access_token or expires_in in reply"},
		{"expiry without token", `{"expires_in": 7200}`, "wrong shape"},
		{"empty object", `{}`, "wrong shape"},
		{"a failure still fails", `{"errcode":40013,"errmsg":"invalid corpid"}`, "code 40013"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newMockEnv(t)
			e.mt.RegisterResponder(http.MethodGet, testBase+"/cgi-bin/gettoken", respond(200, tc.body))
			s := e.script("/cgi-bin/living/get_watch_stat", "next_key", map[string]string{"": `{"errcode":0,"ending":1,"stat_info":{"users":[{"userid":"a"}]}}`})
			p, err := e.c.Living.GetWatchStat(context.Background(), WatchStatRequest{LivingID: "L1"})
			if tc.want == "" {
				require.NoError(t, err)
				assert.Len(t, p.StatInfo.Users, 1)
				assert.Equal(t, []string{testToken}, s.tokens)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assertNoSecrets(t, "error", err.Error())
		})
	}
}

// 92006, 92007 and 92008 are the living codes; 92008 (this app may not
// operate the broadcast) is a permission error.
func TestLivingErrcodes(t *testing.T) {
	t.Parallel()
	for code, want := range map[int]error{92006: nil, 92007: nil, 92008: ErrPermissionDenied, 60020: ErrPermissionDenied} {
		err := newAPIError(VendorWeCom, "living/get_watch_stat", code, "m", 200)
		for _, cat := range []error{ErrServerBusy, ErrRateLimited, ErrTokenInvalid, ErrInvalidCredentials, ErrPermissionDenied, ErrInvalidArgument, ErrNoCredentials} {
			assert.Equal(t, cat == want, errors.Is(err, cat), "%d is %v", code, cat)
		}
		assert.False(t, IsRetryable(err), code)
	}
}

// staticToken is a TokenSource that always returns tok, valid for an hour.
func staticToken(tok string) TokenSource {
	return TokenSourceFunc(func(context.Context) (Token, error) {
		return Token{AccessToken: tok, ExpiresAt: time.Now().Add(time.Hour)}, nil
	})
}
