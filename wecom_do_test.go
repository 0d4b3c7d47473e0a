package livestat_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/livestat/livestat"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// doServer is a WeCom with gettoken and two endpoints livestat does not
// wrap: GET user/get and POST living/get_user_all_livingid. Tokens are
// token-1, token-2, ...; tokens listed in expired get 42001.
type doServer struct {
	mu       sync.Mutex
	issued   int
	expired  map[string]bool
	errcode  int // user/get's errcode when non-zero
	requests []*http.Request
	bodies   []string
}

func (s *doServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, _ := io.ReadAll(r.Body)
	s.requests = append(s.requests, r)
	s.bodies = append(s.bodies, string(b))
	reply := func(v any) { _ = json.NewEncoder(w).Encode(v) }
	if r.URL.Path == "/cgi-bin/gettoken" {
		s.issued++
		reply(map[string]any{"errcode": 0, "errmsg": "ok", "access_token": fmt.Sprintf("token-%d", s.issued), "expires_in": 7200})
		return
	}
	if s.expired[r.URL.Query().Get("access_token")] {
		reply(map[string]any{"errcode": 42001, "errmsg": "access_token expired"})
		return
	}
	switch {
	case r.URL.Path == "/cgi-bin/user/get" && r.Method == http.MethodGet:
		if s.errcode != 0 {
			reply(map[string]any{"errcode": s.errcode, "errmsg": "api forbidden, hint: [1737-abc], from ip: 203.0.113.7"})
			return
		}
		reply(map[string]any{"errcode": 0, "errmsg": "ok", "userid": r.URL.Query().Get("userid"), "name": "张三"})
	case r.URL.Path == "/cgi-bin/living/get_user_all_livingid" && r.Method == http.MethodPost:
		reply(map[string]any{"errcode": 0, "errmsg": "ok", "next_cursor": "", "livingid_list": []string{"L1", "L2"}})
	default:
		http.NotFound(w, r)
	}
}

func newDoClient(t *testing.T, s *doServer, opts ...livestat.Option) *livestat.Client {
	t.Helper()
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	c, err := livestat.NewClient(append([]livestat.Option{livestat.WithWeComApp("corp", "do-secret-5f1e"), livestat.WithWeComBaseURL(hs.URL)}, opts...)...)
	require.NoError(t, err)
	return c
}

// WeCom.Do reaches endpoints livestat does not wrap: GET with a query,
// POST with a JSON body, the reply decoded without an envelope in resp.
func TestWeComDoReachesUnwrappedEndpoints(t *testing.T) {
	t.Parallel()
	s := &doServer{}
	c := newDoClient(t, s)
	ctx := context.Background()

	var user struct {
		UserID string `json:"userid"`
		Name   string `json:"name"`
	}
	require.NoError(t, c.WeCom.Do(ctx, http.MethodGet, "/cgi-bin/user/get", url.Values{"userid": {"zhangsan"}}, &user))
	assert.Equal(t, "zhangsan", user.UserID)
	assert.Equal(t, "张三", user.Name)

	var ids struct {
		LivingIDs []string `json:"livingid_list"`
	}
	require.NoError(t, c.WeCom.Do(ctx, http.MethodPost, "/cgi-bin/living/get_user_all_livingid", map[string]any{"userid": "zhangsan"}, &ids))
	assert.Equal(t, []string{"L1", "L2"}, ids.LivingIDs)

	require.Len(t, s.requests, 3, "one gettoken, then the two calls with the cached token")
	assert.Equal(t, "token-1", s.requests[1].URL.Query().Get("access_token"))
	assert.Equal(t, "token-1", s.requests[2].URL.Query().Get("access_token"))
	assert.JSONEq(t, `{"userid":"zhangsan"}`, s.bodies[2])
	assert.Equal(t, "application/json", s.requests[2].Header.Get("Content-Type"))

	// resp may be nil: the reply is checked and dropped.
	require.NoError(t, c.WeCom.Do(ctx, http.MethodGet, "/cgi-bin/user/get", url.Values{"userid": {"lisi"}}, nil))
}

// An expired token (42001) is refreshed and the request replayed once, as
// for the wrapped endpoints.
func TestWeComDoReplaysAfterAnExpiredToken(t *testing.T) {
	t.Parallel()
	s := &doServer{expired: map[string]bool{"token-1": true}}
	c := newDoClient(t, s)
	var user struct {
		UserID string `json:"userid"`
	}
	require.NoError(t, c.WeCom.Do(context.Background(), http.MethodGet, "/cgi-bin/user/get", url.Values{"userid": {"zhangsan"}}, &user))
	assert.Equal(t, "zhangsan", user.UserID)
	var paths []string
	for _, r := range s.requests {
		paths = append(paths, r.URL.Path+" "+r.URL.Query().Get("access_token"))
	}
	assert.Equal(t, []string{"/cgi-bin/gettoken ", "/cgi-bin/user/get token-1", "/cgi-bin/gettoken ", "/cgi-bin/user/get token-2"}, paths)
}

// An errcode is an *APIError of the endpoint, classified and annotated as
// the wrapped endpoints' are; resp is left alone; no secret is in it.
func TestWeComDoErrcodeIsATypedError(t *testing.T) {
	t.Parallel()
	s := &doServer{errcode: 48002}
	c := newDoClient(t, s, livestat.WithoutRetries())
	user := struct {
		Name string `json:"name"`
	}{Name: "unchanged"}
	err := c.WeCom.Do(context.Background(), http.MethodGet, "/cgi-bin/user/get", url.Values{"userid": {"zhangsan"}}, &user)
	ae, ok := errors.AsType[*livestat.APIError](err)
	require.True(t, ok, "want an *APIError, got %T: %v", err, err)
	assert.Equal(t, livestat.VendorWeCom, ae.Vendor)
	assert.Equal(t, livestat.Endpoint("user/get"), ae.Endpoint)
	assert.Equal(t, 48002, ae.Code)
	assert.Equal(t, "203.0.113.7", ae.FromIP)
	assert.ErrorIs(t, err, livestat.ErrPermissionDenied)
	assert.False(t, livestat.IsRetryable(err))
	assert.Equal(t, "unchanged", user.Name)
	assert.NotContains(t, err.Error(), "token-1")
	assert.NotContains(t, err.Error(), "do-secret-5f1e")
}

// Requests Do cannot send right are refused before anything is sent.
func TestWeComDoValidatesItsArguments(t *testing.T) {
	t.Parallel()
	s := &doServer{}
	c := newDoClient(t, s)
	var v struct{}
	for _, tc := range []struct {
		name, method, path string
		req, resp          any
	}{
		{"path outside cgi-bin", http.MethodGet, "/user/get", nil, &v},
		{"query in the path", http.MethodGet, "/cgi-bin/user/get?userid=x", nil, &v},
		{"method", http.MethodDelete, "/cgi-bin/user/get", nil, &v},
		{"a GET query that is not url.Values", http.MethodGet, "/cgi-bin/user/get", map[string]string{"userid": "x"}, &v},
		{"a credential in the query", http.MethodGet, "/cgi-bin/user/get", url.Values{"access_token": {"mine"}}, &v},
		{"resp not a pointer", http.MethodGet, "/cgi-bin/user/get", nil, v},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := c.WeCom.Do(context.Background(), tc.method, tc.path, tc.req, tc.resp)
			_, ok := errors.AsType[*livestat.ValidationError](err)
			assert.True(t, ok, "want a *ValidationError, got %T: %v", err, err)
			assert.ErrorIs(t, err, livestat.ErrInvalidArgument)
		})
	}
	assert.Empty(t, s.requests, "nothing was sent")
}

// Each wrapped endpoint is described once: its vendor, method, path and
// documentation page.
func TestEndpointDescriptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ep           livestat.Endpoint
		vendor       livestat.Vendor
		method, path string
	}{
		{livestat.EndpointGetToken, livestat.VendorWeCom, http.MethodGet, "/cgi-bin/gettoken"},
		{livestat.EndpointWatchStat, livestat.VendorWeCom, http.MethodPost, "/cgi-bin/living/get_watch_stat"},
		{livestat.EndpointSchoolWatchStat, livestat.VendorWeCom, http.MethodPost, "/cgi-bin/school/living/get_watch_stat_v2"},
		{livestat.EndpointSchoolUnwatchStat, livestat.VendorWeCom, http.MethodPost, "/cgi-bin/school/living/get_unwatch_stat_v2"},
		{livestat.EndpointNuoyunUserDurations, livestat.VendorNuoyun, http.MethodPost, "/Api/RoomRounds/getAccountUserDurationList/2.0.0"},
	} {
		assert.Equal(t, tc.vendor, tc.ep.Vendor(), tc.ep)
		assert.Equal(t, tc.method, tc.ep.Method(), tc.ep)
		assert.Equal(t, tc.path, tc.ep.Path(), tc.ep)
		assert.True(t, strings.HasPrefix(tc.ep.DocURL(), "https://"), "%s: doc %q", tc.ep, tc.ep.DocURL())
	}
	unwrapped := livestat.Endpoint("user/get")
	assert.Empty(t, unwrapped.Vendor()+livestat.Vendor(unwrapped.Method()+unwrapped.Path()+unwrapped.DocURL()))
}
