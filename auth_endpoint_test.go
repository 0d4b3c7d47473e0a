package livestat_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Where the Nuoyun request authorizers put their values, and when they
// run, as livestattest sees the requests.

func TestSignAuthorizerPlacement(t *testing.T) {
	t.Parallel()
	sign := livestat.NewSignAuthorizer(livestat.TestAppKey, livestat.TestSecret)
	sign.Now = livestat.FixedClock(1700000000123)
	placed := livestat.Placed
	tests := []struct {
		name string
		auth livestat.RequestAuthorizer
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
			srv, c := numberedNuoyun(t, 3, false, livestat.WithNuoyunAuth(tt.auth))
			_, err := c.Nuoyun.GetUserDurations(context.Background(), livestat.UserDurationRequest{Page: 1, PageSize: 10})
			require.NoError(t, err)

			sent, ok := srv.LastRequest(nuoyunEP)
			require.True(t, ok)
			h, query := sent.Header, sent.Query
			var body map[string]any
			require.NoError(t, json.Unmarshal(sent.Body, &body))
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
			want := [3]any{livestat.TestAppKey, "1700000000123", livestat.Sign1700000000123}
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
	a := livestat.NewSignAuthorizer(livestat.TestAppKey, livestat.TestSecret)
	a.Now = livestat.FixedClock(1700000000123, 1700000001123)
	srv, c := numberedNuoyun(t, 3, false, livestat.WithNuoyunAuth(a))
	srv.Fail(livestattest.Fault{Endpoint: nuoyunEP, HTTPStatus: 503, Body: "busy"})
	_, err := c.Nuoyun.GetUserDurations(context.Background(), livestat.UserDurationRequest{Page: 1, PageSize: 10})
	require.NoError(t, err)
	sent := srv.Requests(nuoyunEP)
	require.Len(t, sent, 2)
	assert.Equal(t, []string{"1700000000123", livestat.Sign1700000000123}, []string{sent[0].Header.Get("timestamp"), sent[0].Header.Get("sign")})
	assert.Equal(t, []string{"1700000001123", livestat.Sign1700000001123}, []string{sent[1].Header.Get("timestamp"), sent[1].Header.Get("sign")}, "the retry is signed afresh")
}

func TestStaticHeaders(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Set("X-Api-Key", livestat.TestSecret)
	a := livestat.NewStaticHeaders(h)
	h.Set("X-Api-Key", "changed later") // the authorizer keeps its own copy

	srv := livestattest.NewServer(t, livestattest.Options{
		Nuoyun: numberedRows(1, 3),
		Living: map[string][]livestat.LivingViewer{"L1": livestattest.GenerateViewers(3, 1)},
		Faults: []livestattest.Fault{{Endpoint: nuoyunEP, HTTPStatus: 502, Body: "bad gateway"}},
	})
	c := srv.Client(livestat.WithNuoyunAuth(a), livestat.WithNuoyunRateLimit(0, 0))
	_, err := c.Nuoyun.GetUserDurations(context.Background(), livestat.UserDurationRequest{Page: 1, PageSize: 10})
	require.NoError(t, err)
	sent := srv.Requests(nuoyunEP)
	require.Len(t, sent, 2)
	for _, r := range sent {
		assert.Equal(t, livestat.TestSecret, r.Header.Get("X-Api-Key"), "on every attempt")
	}

	// WeCom requests do not get Nuoyun's credentials.
	_, err = c.Living.GetWatchStat(context.Background(), livestat.WatchStatRequest{LivingID: "L1"})
	require.NoError(t, err)
	wecom, ok := srv.LastRequest(livestat.EndpointWatchStat)
	require.True(t, ok)
	assert.Empty(t, wecom.Header.Get("X-Api-Key"))
	gettoken, ok := srv.LastRequest(livestat.EndpointGetToken)
	require.True(t, ok)
	assert.Empty(t, gettoken.Header.Get("X-Api-Key"))
}

func TestAuthorizerErrorStopsTheRequest(t *testing.T) {
	t.Parallel()
	srv, c := numberedNuoyun(t, 3, false, livestat.WithNuoyunAuth(livestat.NewSignAuthorizer("", "")))
	_, err := c.Nuoyun.GetUserDurations(context.Background(), livestat.UserDurationRequest{Page: 1, PageSize: 10})
	require.ErrorContains(t, err, "request authorizer")
	assert.False(t, livestat.IsRetryable(err))
	assert.Zero(t, srv.TotalCalls(), "nothing is sent without credentials")
}
