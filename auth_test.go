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
