package livestat

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A base transport whose error quotes the request URL (a proxy client, a
// mock) cannot leak the token through the error: the message is scrubbed
// and errors.As still reaches the cause.
func TestTransportErrorQuotingTheURLIsScrubbed(t *testing.T) {
	t.Parallel()
	cause := errors.New("cause")
	base := roundTripper(func(r *http.Request) (*http.Response, error) {
		return nil, fmt.Errorf("proxy refused %s: %w", r.URL, cause)
	})
	for _, tc := range []struct {
		name string
		call func(c *Client) error
		opts []Option
	}{
		{"token in the query", func(c *Client) error {
			_, err := c.Living.GetWatchStat(context.Background(), WatchStatRequest{LivingID: "L1"})
			return err
		}, []Option{WithTokenSource(staticToken(testToken))}},
		{"secret in the query", func(c *Client) error {
			_, err := c.Living.GetWatchStat(context.Background(), WatchStatRequest{LivingID: "L1"})
			return err
		}, []Option{WithWeComApp(testCorpID, testSecret)}},
		{"authorizer query", func(c *Client) error {
			_, err := c.Nuoyun.GetUserDurations(context.Background(), UserDurationRequest{Page: 1, PageSize: 10})
			return err
		}, []Option{WithNuoyunAuth(placed("query", "key", "timestamp", "sign"))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewClient(append([]Option{WithWeComBaseURL(testBase), WithNuoyunBaseURL(nuoyunTestBase),
				WithHTTPClient(&http.Client{Transport: base}), WithoutRetries()}, tc.opts...)...)
			require.NoError(t, err)
			err = tc.call(c)
			require.Error(t, err)
			assert.ErrorIs(t, err, cause)
			assert.Contains(t, err.Error(), "proxy refused")
			assertNoSecrets(t, "transport error", err.Error())
			assert.NotContains(t, err.Error(), sign1700000000123)
			assertNoSecrets(t, "transport error %+v", fmt.Sprintf("%+v", err))
		})
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A gateway page echoing the request quotes what the Nuoyun authorizer
// added to it; the error's snippet shows REDACTED instead.
func TestEchoedAuthorizerValuesAreRedactedFromSnippets(t *testing.T) {
	t.Parallel()
	c, mt := newNuoyunClient(t, WithNuoyunAuth(placed("query", "key", "timestamp", "sign")), WithoutRetries())
	mt.RegisterResponder(http.MethodPost, nuoyunTestURL, func(r *http.Request) (*http.Response, error) {
		return httpmock.NewStringResponse(403, "<html>Forbidden: "+r.URL.String()+"</html>"), nil
	})
	_, err := c.Nuoyun.GetUserDurations(context.Background(), UserDurationRequest{Page: 1, PageSize: 10})
	re, ok := errors.AsType[*ResponseError](err)
	require.True(t, ok, "%v", err)
	assert.Contains(t, re.Snippet, "sign=REDACTED")
	assert.NotContains(t, err.Error(), sign1700000000123)
	assert.NotContains(t, err.Error(), testAppKey)
}
