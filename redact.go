package livestat

import (
	"fmt"
	"log/slog"
	"time"
)

// This file keeps fmt and log/slog from printing secrets held by exported
// types. fmt prints a struct's fields by reflection, unexported ones
// included (a Client's app secret, a token store's tokens), unless the
// type formats itself: each type here implements fmt.Formatter (every verb,
// %d and %x included, through formatRedacted), fmt.GoStringer and
// slog.LogValuer.

// String describes the Client's configuration without its secrets.
func (c *Client) String() string {
	if c == nil {
		return "Client(nil)"
	}
	auth := "none"
	switch {
	case c.cfg.secret() != "":
		auth = fmt.Sprintf("app %q of corp %q, secret REDACTED", c.cfg.appKey(), c.cfg.corpID)
	case c.cfg.tokenSource != nil:
		auth = "token source"
	}
	return fmt.Sprintf("Client{wecom: %s (%s), nuoyun: %s, timeout: %v, retry: %+v}",
		c.cfg.wecomBase, auth, c.cfg.nuoyunBase, c.cfg.timeout, c.cfg.retry)
}

// GoString keeps %#v from printing the app secret.
func (c *Client) GoString() string { return "livestat." + c.String() }

// Format keeps every fmt verb from printing the app secret.
func (c *Client) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c) }

// LogValue keeps log/slog from printing the app secret.
func (c *Client) LogValue() slog.Value {
	if c == nil {
		return slog.StringValue("Client(nil)")
	}
	attrs := []slog.Attr{
		slog.String("wecom_base_url", c.cfg.wecomBase),
		slog.String("nuoyun_base_url", c.cfg.nuoyunBase),
		slog.Duration("timeout", c.cfg.timeout),
	}
	if c.cfg.secret() != "" {
		attrs = append(attrs, slog.String("corp_id", c.cfg.corpID), slog.String("app", c.cfg.appKey()), slog.String("secret", "REDACTED"))
	}
	return slog.GroupValue(attrs...)
}

// String describes the store with its tokens redacted.
func (s *MemoryTokenStore) String() string {
	if s == nil {
		return "MemoryTokenStore(nil)"
	}
	s.mu.Lock()
	n := len(s.m)
	s.mu.Unlock()
	return fmt.Sprintf("MemoryTokenStore{%d tokens, REDACTED}", n)
}

// GoString keeps %#v from printing tokens.
func (s *MemoryTokenStore) GoString() string { return "livestat." + s.String() }

// Format keeps every fmt verb from printing tokens.
func (s *MemoryTokenStore) Format(f fmt.State, verb rune) { formatRedacted(f, verb, s) }

// LogValue keeps log/slog from printing tokens.
func (s *MemoryTokenStore) LogValue() slog.Value { return slog.StringValue(s.String()) }

// String describes the source and its cached token, redacted.
func (s *CachingTokenSource) String() string {
	if s == nil {
		return "CachingTokenSource(nil)"
	}
	cached := "none"
	if t := s.cur.Load(); t != nil {
		cached = "REDACTED, expires " + t.ExpiresAt.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("CachingTokenSource{key: %q, margin: %v, cached: %s}", s.key, s.margin, cached)
}

// GoString keeps %#v from printing the cached token.
func (s *CachingTokenSource) GoString() string { return "livestat." + s.String() }

// Format keeps every fmt verb from printing the cached token.
func (s *CachingTokenSource) Format(f fmt.State, verb rune) { formatRedacted(f, verb, s) }

// LogValue keeps log/slog from printing the cached token.
func (s *CachingTokenSource) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Format keeps every fmt verb, %d and %x included, from printing the token.
func (t Token) Format(f fmt.State, verb rune) { formatRedacted(f, verb, t) }
