package livestat

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/jarcoal/httpmock"
)

// TestCallerRedirectPolicyIsKept: livestat refuses redirects only when the
// caller's http.Client has no policy of its own, and never changes the
// caller's client.
func TestCallerRedirectPolicyIsKept(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		policy func(*http.Request, []*http.Request) error
		moved  int
	}{
		{"no policy: not followed", nil, 0},
		{"the caller's policy: followed", func(*http.Request, []*http.Request) error { return nil }, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mt := httpmock.NewMockTransport()
			mt.RegisterResponder(http.MethodPost, testBase+EndpointNuoyunUserDurations.Path(), respond(307, "", "Location", testBase+"/moved"))
			mt.RegisterResponder(http.MethodPost, testBase+"/moved", respond(200, `{"code":200,"msg":"Success","data":{"total":0,"list":[]}}`))
			hc := &http.Client{Transport: mt, CheckRedirect: tc.policy}
			c, err := NewClient(WithNuoyunBaseURL(testBase), WithHTTPClient(hc), WithoutRetries())
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Nuoyun.GetUserDurations(context.Background(), UserDurationRequest{Page: 1, PageSize: 10})
			if got := mt.GetCallCountInfo()["POST "+testBase+"/moved"]; got != tc.moved {
				t.Errorf("redirect target called %d times, want %d", got, tc.moved)
			}
			if tc.moved == 0 {
				if re, ok := errors.AsType[*ResponseError](err); !ok || re.HTTPStatus != 307 {
					t.Errorf("want a ResponseError for the 307, got %v", err)
				}
			} else if err != nil {
				t.Error(err)
			}
			if tc.policy == nil && hc.CheckRedirect != nil {
				t.Error("the caller's client was modified")
			}
		})
	}
}
