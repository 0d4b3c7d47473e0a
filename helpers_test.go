package livestat

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"
)

// Credentials used by every test. The redaction tests scan outputs for them.
const (
	testCorpID = "wwcorp-test"
	testSecret = "SECRET-must-never-leak-7f3a"
	testToken  = "TEST-ACCESS-TOKEN-abc123"
	testBase   = "https://qyapi.example.test"
)

// fixture reads testdata/name.
func fixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return string(b)
}

// fastRetry keeps retry tests quick without turning retries off.
func fastRetry() RetryPolicy {
	return RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, RateLimitDelay: 2 * time.Millisecond}
}

// mockEnv is a client wired to a fresh httpmock transport, with a gettoken
// responder that counts calls and hands out testToken, then testToken-2, ...
type mockEnv struct {
	t        *testing.T
	c        *Client
	mt       *httpmock.MockTransport
	gettoken atomic.Int32
	logs     *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newMockEnv(t *testing.T, opts ...Option) *mockEnv {
	t.Helper()
	e := &mockEnv{t: t, mt: httpmock.NewMockTransport(), logs: &syncBuffer{}}
	e.mt.RegisterResponder(http.MethodGet, testBase+"/cgi-bin/gettoken", func(r *http.Request) (*http.Response, error) {
		if r.URL.Query().Get("corpsecret") != testSecret || r.URL.Query().Get("corpid") != testCorpID {
			return httpmock.NewStringResponse(200, `{"errcode":40001,"errmsg":"invalid credential"}`), nil
		}
		n := e.gettoken.Add(1)
		tok := testToken
		if n > 1 {
			tok = testToken + "-" + string(rune('0'+n))
		}
		return httpmock.NewJsonResponse(200, map[string]any{"errcode": 0, "errmsg": "ok", "access_token": tok, "expires_in": 7200})
	})
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	base := []Option{
		WithWeComApp(testCorpID, testSecret),
		WithWeComBaseURL(testBase),
		WithHTTPClient(&http.Client{Transport: e.mt}),
		WithRetry(fastRetry()),
		WithLogger(logger),
	}
	c, err := NewClient(append(base, opts...)...)
	require.NoError(t, err)
	e.c = c
	return e
}

// pageScript answers a paged endpoint from a map of cursor → body, reading
// the cursor from the JSON request field. It records the cursors asked for
// and the tokens used.
type pageScript struct {
	mu      sync.Mutex
	field   string
	pages   map[string]string
	cursors []string
	tokens  []string
	// hook may replace the reply for a call (n counts from 1).
	hook func(n int, cursor string) (*http.Response, error)
}

func (p *pageScript) respond(r *http.Request) (*http.Response, error) {
	b, _ := io.ReadAll(r.Body)
	var body map[string]any
	if err := json.Unmarshal(b, &body); err != nil {
		return httpmock.NewStringResponse(200, `{"errcode":47001,"errmsg":"data format error"}`), nil
	}
	cursor, _ := body[p.field].(string)
	p.mu.Lock()
	p.cursors = append(p.cursors, cursor)
	p.tokens = append(p.tokens, r.URL.Query().Get("access_token"))
	n := len(p.cursors)
	hook := p.hook
	p.mu.Unlock()
	if hook != nil {
		if resp, err := hook(n, cursor); resp != nil || err != nil {
			return resp, err
		}
	}
	page, ok := p.pages[cursor]
	if !ok {
		return httpmock.NewStringResponse(200, `{"errcode":40058,"errmsg":"invalid cursor `+cursor+`"}`), nil
	}
	return httpmock.NewStringResponse(200, page), nil
}

func (p *pageScript) calls() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.cursors...)
}

func (e *mockEnv) script(path, field string, pages map[string]string) *pageScript {
	s := &pageScript{field: field, pages: pages}
	e.mt.RegisterResponder(http.MethodPost, testBase+path, s.respond)
	return s
}

// assertNoSecrets fails if s contains the secret or any issued token.
func assertNoSecrets(t *testing.T, what, s string) {
	t.Helper()
	for _, secret := range []string{testSecret, testToken} {
		if strings.Contains(s, secret) {
			t.Errorf("%s leaks a secret %q:\n%s", what, secret, s)
		}
	}
}

// faultNuoyunSecret is a Nuoyun signing secret: like the WeCom secret and
// tokens, it must never show.
const faultNuoyunSecret = "NUOYUN-SECRET-must-never-leak-91c2"

const (
	nuoyunTestBase = "https://nuoyun.example.test"
	nuoyunTestURL  = nuoyunTestBase + "/Api/RoomRounds/getAccountUserDurationList/2.0.0"
)

// newNuoyunClient returns a client wired to a fresh httpmock transport, with
// quick retries and the client-side rate limit off (tests that need it turn
// it on again: later options win).
func newNuoyunClient(t testing.TB, opts ...Option) (*Client, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	base := []Option{
		WithNuoyunBaseURL(nuoyunTestBase),
		WithHTTPClient(&http.Client{Transport: mt}),
		WithRetry(fastRetry()),
		WithNuoyunRateLimit(0, 0),
	}
	c, err := NewClient(append(base, opts...)...)
	require.NoError(t, err)
	return c, mt
}

// deviceOf returns a Device of type t, as if Nuoyun had sent its code.
func deviceOf(t DeviceType) Device {
	var d Device
	if err := d.UnmarshalJSON([]byte(strconv.Itoa(int(t)))); err != nil {
		panic(err)
	}
	return d
}
