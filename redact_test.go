package livestat

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFormattingNeverPrintsSecrets prints every exported type that holds a
// secret (the Client with its app secret, a token store and a caching source
// holding a live token, a Token) with every fmt verb and through log/slog,
// bare and nested in other values, and scans the output.
func TestFormattingNeverPrintsSecrets(t *testing.T) {
	t.Parallel()
	e := newMockEnv(t)
	ctx := context.Background()
	// Put a live token in the client's cache.
	tok, err := e.c.tokens.Token(ctx)
	require.NoError(t, err)
	require.Equal(t, testToken, tok.AccessToken)

	store := NewMemoryTokenStore()
	require.NoError(t, store.Save(ctx, "k", Token{AccessToken: testToken, ExpiresAt: time.Now().Add(time.Hour)}))

	signed, err := NewClient(WithNuoyunAuth(NewSignAuthorizer("appkey", faultNuoyunSecret)))
	require.NoError(t, err)
	keyed, err := NewClient(WithNuoyunAuth(NewStaticHeaders(http.Header{"X-Api-Key": {faultNuoyunSecret}})))
	require.NoError(t, err)

	values := map[string]any{
		"*Client":             e.c,
		"*Client (signed)":    signed,
		"*Client (api key)":   keyed,
		"*CachingTokenSource": e.c.tokens,
		"*MemoryTokenStore":   store,
		"Token":               tok,
		"*Token":              &tok,
		"nested": struct {
			C *Client
			T Token
			S []Token
			M map[string]Token
		}{e.c, tok, []Token{tok}, map[string]Token{"k": tok}},
		"slice of clients": []*Client{e.c},
	}
	var out bytes.Buffer
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%q", "%T"} {
			fmt.Fprintf(&out, "%s %s: "+verb+"\n", name, verb, v)
		}
		slog.New(slog.NewTextHandler(&out, nil)).Info("text", "v", v)
		if name != "nested" {
			// slog's JSON handler encodes a struct it finds inside another
			// with encoding/json, which writes a Token's AccessToken: that
			// is how a Token is stored, so it is not redacted.
			slog.New(slog.NewJSONHandler(&out, nil)).Info("json", "v", v)
		}
	}
	assertNoSecrets(t, "formatted values", out.String())
	assert.NotContains(t, out.String(), faultNuoyunSecret)
	assert.Contains(t, out.String(), "REDACTED", "the output says that something was hidden")
	assert.Contains(t, fmt.Sprint(e.c), testBase, "the Client's description stays useful")
}

func TestNilRedactingTypesPrint(t *testing.T) {
	t.Parallel()
	var c *Client
	var s *MemoryTokenStore
	var ts *CachingTokenSource
	assert.Equal(t, "Client(nil) MemoryTokenStore(nil) CachingTokenSource(nil)", fmt.Sprint(c, s, ts))
}

// TestClientWithTokenSourcePrints covers the other way of authenticating.
func TestClientWithTokenSourcePrints(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	c, err := NewClient(WithHTTPClient(&http.Client{Transport: mt}),
		WithTokenSource(TokenSourceFunc(func(context.Context) (Token, error) {
			return Token{AccessToken: testToken, ExpiresAt: time.Now().Add(time.Hour)}, nil
		})))
	require.NoError(t, err)
	_, err = c.tokens.Token(context.Background())
	require.NoError(t, err)
	s := fmt.Sprintf("%+v %#v", c, c)
	assert.Contains(t, s, "token source")
	assertNoSecrets(t, "client", s)
}
