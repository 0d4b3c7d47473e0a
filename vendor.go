package livestat

import (
	"context"
	"log/slog"
)

// Vendor names the service behind an endpoint: VendorWeCom or VendorNuoyun.
type Vendor string

// vendorAPI is what the request path (client.go) needs of a vendor. Each
// vendor implements it in its own file (wecom.go, nuoyun.go) with a
// stateless type; the call's Vendor picks it.
type vendorAPI interface {
	// baseURL is the scheme and host the vendor's paths are appended to.
	baseURL(cfg *config) string
	// limiter paces the vendor's attempts of c; nil when none.
	limiter(cl *Client, c *call) Limiter
	// credential returns what authenticates the attempts of c (an access
	// token), "" when nothing does.
	credential(ctx context.Context, cl *Client, c *call) (string, error)
	// rejected drops a credential the server rejected (ErrTokenInvalid),
	// before the one replay.
	rejected(ctx context.Context, cl *Client, cred string)
	// authorize adds an attempt's credentials to cr, below the user's
	// middleware, and returns the request body the layers above see.
	authorize(ctx context.Context, cl *Client, c *call, cred string, cr *credentials) (any, error)
	// envelope returns an empty status envelope of the vendor's replies.
	envelope() statusReply
	// annotate reads what the vendor appends to its messages into e.
	annotate(e *APIError)
	// classify returns the sentinel category of e, nil when none.
	classify(e *APIError) error
}

// vendors lists every vendor, in the order their settings are checked and
// described.
func vendors() []Vendor { return []Vendor{VendorWeCom, VendorNuoyun} }

// vendorSetup is what NewClient and the Client's print methods need of a
// vendor. Each vendor implements it in its own file, beside vendorAPI.
type vendorSetup interface {
	// validate checks (and normalises) the vendor's settings.
	validate(cfg *config) error
	// wire sets up the vendor's services and state on a new Client.
	wire(cl *Client)
	// describe returns the vendor's settings for String and LogValue,
	// secrets redacted.
	describe(cfg *config) (text string, attrs []slog.Attr)
	// noCredentials tells a caller how to give the Client the vendor's
	// credentials.
	noCredentials() string
}

// setup returns v's part of the Client's wiring.
func (v Vendor) setup() vendorSetup { return v.impl() }

func (noVendor) validate(*config) error                 { return nil }
func (noVendor) wire(*Client)                           {}
func (noVendor) describe(*config) (string, []slog.Attr) { return "", nil }
func (noVendor) noCredentials() string                  { return "" }

// api returns v's part of the request path.
func (v Vendor) api() vendorAPI { return v.impl() }

// vendorImpl is all a vendor implements, in its own file.
type vendorImpl interface {
	vendorAPI
	vendorSetup
}

// impl returns v's implementation; the zero vendor for an unknown v.
func (v Vendor) impl() vendorImpl {
	switch v {
	case VendorWeCom:
		return wecomAPI{}
	case VendorNuoyun:
		return nuoyunAPI{}
	}
	return noVendor{}
}

// noVendor is the zero vendor: no credentials, no categories.
type noVendor struct{}

func (noVendor) baseURL(*config) string         { return "" }
func (noVendor) limiter(*Client, *call) Limiter { return nil }
func (noVendor) credential(context.Context, *Client, *call) (string, error) {
	return "", nil
}
func (noVendor) rejected(context.Context, *Client, string) {}
func (noVendor) authorize(_ context.Context, _ *Client, c *call, _ string, _ *credentials) (any, error) {
	return c.body, nil
}
func (noVendor) envelope() statusReply { return &wecomStatus{} }
func (noVendor) annotate(*APIError)    {}
func (noVendor) classify(*APIError) error {
	return nil
}

// apiStatus is the status a reply's envelope reports.
type apiStatus struct {
	code int // noStatus when the reply had none
	msg  string
	ok   bool
}

// statusReply is a vendor's status envelope. The wrapped page types embed
// theirs, so that a reply is decoded in one pass.
type statusReply interface {
	status() apiStatus
	// unsetStatus sets the status code to noStatus before decoding, so
	// that a reply without one ({} or null from a gateway) is not taken
	// for a success with no rows.
	unsetStatus()
}
