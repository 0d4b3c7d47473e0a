package livestat_test

import (
	"context"
	"errors"
	"testing"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// livestat.Endpoint values are the names livestat's errors carry: an
// APIError provoked at each endpoint through the fake's faults names the
// endpoint exactly as the fault did.
func TestEndpointNamesAreTheErrorsEndpoints(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ep   livestat.Endpoint
		code int
		call func(ctx context.Context, c *livestat.Client) error
	}{
		{livestat.EndpointGetToken, 40013, func(ctx context.Context, c *livestat.Client) error {
			_, err := livestat.Collect(c.Living.Viewers(ctx, livestat.WatchStatRequest{LivingID: "L"}))
			return err
		}},
		{livestat.EndpointWatchStat, 48002, func(ctx context.Context, c *livestat.Client) error {
			_, err := livestat.Collect(c.Living.Viewers(ctx, livestat.WatchStatRequest{LivingID: "L"}))
			return err
		}},
		{livestat.EndpointSchoolWatchStat, 48002, func(ctx context.Context, c *livestat.Client) error {
			_, err := livestat.Collect(c.School.Watchers(ctx, livestat.SchoolStatRequest{LivingID: "S"}))
			return err
		}},
		{livestat.EndpointSchoolUnwatchStat, 48002, func(ctx context.Context, c *livestat.Client) error {
			_, err := livestat.Collect(c.School.Absentees(ctx, livestat.SchoolStatRequest{LivingID: "S"}))
			return err
		}},
		{livestat.EndpointNuoyunUserDurations, 400, func(ctx context.Context, c *livestat.Client) error {
			_, err := livestat.Collect(c.Nuoyun.UserDurations(ctx, livestat.UserDurationRequest{}))
			return err
		}},
	} {
		t.Run(string(tc.ep), func(t *testing.T) {
			srv := livestattest.NewServer(t, livestattest.Options{
				Faults: []livestattest.Fault{{Endpoint: tc.ep, ErrCode: tc.code, Times: -1}},
			})
			err := tc.call(t.Context(), srv.Client())
			ae, ok := errors.AsType[*livestat.APIError](err)
			require.True(t, ok, "want an *APIError, got %T: %v", err, err)
			assert.Equal(t, tc.code, ae.Code, "the fault's error")
			assert.Equal(t, tc.ep, ae.Endpoint)
			assert.Equal(t, 1, srv.Calls(tc.ep))
		})
	}
}
