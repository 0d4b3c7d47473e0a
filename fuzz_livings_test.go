package livestat

import (
	"context"
	"strings"
	"testing"
)

// Decoder fuzz targets of the discovery endpoints (see fuzz_test.go). Their
// seeds in testdata/fuzz/ hold the docs' samples, the real replies, and the
// shapes the docs leave open: next_cursor absent or null, living_info
// absent or null, replay_status absent, unknown enum values.

func FuzzDecodeUserLivingIDs(f *testing.F) {
	fuzzDecoder(f, EndpointUserLivingIDs, []string{"next_cursor"}, func(t *testing.T, ctx context.Context, c *Client) (bool, error) {
		p, err := c.Living.GetUserLivingIDs(ctx, UserLivingIDsRequest{UserID: "u1"})
		if p != nil && strings.Contains(p.NextCursor, noCursor) {
			t.Fatalf("a page returned with the unset cursor mark: %q", p.NextCursor)
		}
		return p != nil, err
	})
}

func FuzzDecodeLivingInfo(f *testing.F) {
	fuzzDecoder(f, EndpointLivingInfo, []string{"living_info"}, func(t *testing.T, ctx context.Context, c *Client) (bool, error) {
		info, err := c.Living.GetLivingInfo(ctx, "L1")
		if info != nil {
			// Every value has a name, known or not.
			_, _ = info.Status.String(), info.Type.String()
			if rs, ok := info.Replay(); ok && rs.String() == "" {
				t.Fatal("a replay status without a name")
			}
		}
		return info != nil, err
	})
}

func FuzzDecodeSchoolLivingInfo(f *testing.F) {
	fuzzDecoder(f, EndpointSchoolLivingInfo, []string{"living_info"}, func(t *testing.T, ctx context.Context, c *Client) (bool, error) {
		info, err := c.School.GetLivingInfo(ctx, "L1")
		return info != nil, err
	})
}
