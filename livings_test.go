package livestat_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tests of the endpoints that find broadcasts: living/get_user_all_livingid,
// living/get_living_info and school/living/get_living_info, beyond the
// endpoint table's (paging, paging fields, token and faults): the page size
// by default, real replies and the docs' samples field by field, unknown
// enum values, validation.

func livingIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("lvLST%06d", i)
	}
	return out
}

func readFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return string(b)
}

// A member with 1000 livings is listed in 10 requests at the default limit,
// every ID once, in the API's order, each request asking for 100.
func TestLivingIDsThousandInTenRequests(t *testing.T) {
	want := livingIDs(1000)
	srv := livestattest.NewServer(t, livestattest.Options{UserLivings: map[string][]string{"zhangsan": want}})
	got, err := livestat.Collect(srv.Client().Living.LivingIDs(t.Context(), livestat.UserLivingIDsRequest{UserID: "zhangsan"}))
	require.NoError(t, err)
	assert.Equal(t, want, got)
	reqs := srv.Requests(livestat.EndpointUserLivingIDs)
	require.Len(t, reqs, 10)
	for i, r := range reqs {
		assert.Equal(t, http.MethodPost, r.Method)
		var body map[string]any
		require.NoError(t, json.Unmarshal(r.Body, &body))
		assert.Equal(t, "zhangsan", body["userid"], "request %d", i+1)
		assert.EqualValues(t, 100, body["limit"], "request %d", i+1)
		_, hasCursor := body["cursor"]
		assert.Equal(t, i > 0, hasCursor, "only the first request goes without a cursor")
	}
}

// The real last page (next_cursor present and "") ends the iteration.
func TestLivingIDsRealLastPage(t *testing.T) {
	srv := livestattest.NewServer(t, livestattest.Options{
		Faults: []livestattest.Fault{{Endpoint: livestat.EndpointUserLivingIDs, Body: readFixture(t, "user_all_livingid.json")}},
	})
	got, err := livestat.Collect(srv.Client().Living.LivingIDs(t.Context(), livestat.UserLivingIDsRequest{UserID: "u1", Limit: 20}))
	require.NoError(t, err)
	assert.Len(t, got, 6)
	assert.Equal(t, "lvd9BGagAAS8LrF_KrjKM9e9pibprzVQ", got[0])
	assert.Equal(t, 1, srv.Calls(livestat.EndpointUserLivingIDs))
}

// Invalid requests are refused before anything is sent.
func TestDiscoveryValidationSendsNothing(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ep    livestat.Endpoint
		field string
		call  func(c *livestat.Client) error
	}{
		{"no userid", livestat.EndpointUserLivingIDs, "UserID", func(c *livestat.Client) error {
			_, err := c.Living.GetUserLivingIDs(t.Context(), livestat.UserLivingIDsRequest{})
			return err
		}},
		{"limit 101", livestat.EndpointUserLivingIDs, "Limit", func(c *livestat.Client) error {
			_, err := livestat.Collect(c.Living.LivingIDs(t.Context(), livestat.UserLivingIDsRequest{UserID: "u", Limit: 101}))
			return err
		}},
		{"limit -1", livestat.EndpointUserLivingIDs, "Limit", func(c *livestat.Client) error {
			_, err := livestat.Collect(c.Living.UserLivingIDPages(t.Context(), livestat.UserLivingIDsRequest{UserID: "u", Limit: -1}))
			return err
		}},
		{"no livingid", livestat.EndpointLivingInfo, "LivingID", func(c *livestat.Client) error {
			_, err := c.Living.GetLivingInfo(t.Context(), "")
			return err
		}},
		{"no school livingid", livestat.EndpointSchoolLivingInfo, "LivingID", func(c *livestat.Client) error {
			_, err := c.School.GetLivingInfo(t.Context(), "")
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := livestattest.NewServer(t, livestattest.Options{})
			err := tc.call(srv.Client())
			assert.ErrorIs(t, err, livestat.ErrInvalidArgument)
			ve, ok := errors.AsType[*livestat.ValidationError](err)
			require.True(t, ok, "want a *ValidationError, got %T: %v", err, err)
			assert.Equal(t, tc.ep, ve.Endpoint)
			assert.Equal(t, tc.field, ve.Field)
			assert.Zero(t, srv.TotalCalls(), "nothing sent, not even gettoken")
		})
	}
}

// get_living_info is a GET with the livingid in the query, and the docs'
// sample decodes field by field into typed values.
func TestGetLivingInfoDocsSample(t *testing.T) {
	srv := livestattest.NewServer(t, livestattest.Options{
		Faults: []livestattest.Fault{{Endpoint: livestat.EndpointLivingInfo, Body: readFixture(t, "living_info.json")}},
	})
	info, err := srv.Client().Living.GetLivingInfo(t.Context(), "lv/1 +x")
	require.NoError(t, err)
	r, ok := srv.LastRequest(livestat.EndpointLivingInfo)
	require.True(t, ok)
	assert.Equal(t, http.MethodGet, r.Method)
	assert.Equal(t, "lv/1 +x", r.Query.Get("livingid"), "the livingid travels escaped in the query")
	assert.Empty(t, r.Body)

	assert.Equal(t, "直角三角形讲解", info.Theme)
	assert.Equal(t, time.Unix(1586405229, 0), info.LivingStart.Time())
	assert.Equal(t, 30*time.Minute, info.LivingDuration.Duration())
	assert.Equal(t, livestat.LivingExpired, info.Status)
	assert.Equal(t, "expired", info.Status.String())
	assert.Equal(t, time.Unix(1586405239, 0), info.ReserveStart.Time())
	assert.Equal(t, 1600*time.Second, info.ReserveLivingDuration.Duration())
	assert.Equal(t, "小学数学精选课程", info.Description)
	assert.Equal(t, "zhangsan", info.AnchorUserID)
	assert.Equal(t, int64(1), info.MainDepartment)
	assert.Equal(t, [3]int{100, 110, 120}, [3]int{info.ViewerNum, info.CommentNum, info.MicNum})
	assert.True(t, bool(info.OpenReplay))
	rs, ok := info.Replay()
	assert.True(t, ok)
	assert.Equal(t, livestat.ReplayDeleted, rs)
	assert.Equal(t, livestat.LivingTypeGeneral, info.Type)
	assert.Equal(t, "https://www.qq.test.com", info.PushStreamURL)
	assert.Equal(t, [2]int{1, 1}, [2]int{info.OnlineCount, info.SubscribeCount})
}

// The real reply of a living without replay has no replay_status: absent,
// not "ready" (0).
func TestGetLivingInfoWithoutReplayStatus(t *testing.T) {
	srv := livestattest.NewServer(t, livestattest.Options{
		Faults: []livestattest.Fault{{Endpoint: livestat.EndpointLivingInfo, Body: readFixture(t, "living_info_real.json")}},
	})
	info, err := srv.Client().Living.GetLivingInfo(t.Context(), "lvd9BGagAAS8LrF_KrjKM9e9pibprzVQ")
	require.NoError(t, err)
	_, ok := info.Replay()
	assert.False(t, ok)
	assert.Nil(t, info.ReplayStatus)
	assert.Equal(t, livestat.LivingEnded, info.Status)
	assert.Equal(t, 143*time.Second, info.LivingDuration.Duration())
	assert.Empty(t, info.PushStreamURL)
}

// Enum values the docs do not list are kept and printed with their number.
func TestGetLivingInfoKeepsUnknownEnumValues(t *testing.T) {
	srv := livestattest.NewServer(t, livestattest.Options{
		Faults: []livestattest.Fault{{Endpoint: livestat.EndpointLivingInfo,
			Body: `{"errcode":0,"errmsg":"ok","living_info":{"status":7,"type":9,"open_replay":1,"replay_status":5}}`}},
	})
	info, err := srv.Client().Living.GetLivingInfo(t.Context(), "L")
	require.NoError(t, err)
	assert.Equal(t, livestat.LivingStatus(7), info.Status)
	assert.Equal(t, "LivingStatus(7)", info.Status.String())
	assert.Equal(t, "LivingType(9)", info.Type.String())
	rs, ok := info.Replay()
	assert.True(t, ok)
	assert.Equal(t, "ReplayStatus(5)", rs.String())
}

// The school reply's living_range decodes with its classes and group chats.
func TestSchoolGetLivingInfoDocsSample(t *testing.T) {
	srv := livestattest.NewServer(t, livestattest.Options{
		Faults: []livestattest.Fault{{Endpoint: livestat.EndpointSchoolLivingInfo, Body: readFixture(t, "school_living_info.json")}},
	})
	info, err := srv.Client().School.GetLivingInfo(t.Context(), "L")
	require.NoError(t, err)
	r, _ := srv.LastRequest(livestat.EndpointSchoolLivingInfo)
	assert.Equal(t, http.MethodGet, r.Method)
	assert.Equal(t, "L", r.Query.Get("livingid"))
	assert.Equal(t, []int64{1, 4, 9}, info.LivingRange.PartyIDs)
	assert.Equal(t, []string{"group_name1", "group_name2"}, info.LivingRange.GroupNames)
	assert.Equal(t, "zhangsan", info.AnchorUserID)
	assert.Equal(t, 30*time.Minute, info.LivingDuration.Duration())
	assert.True(t, bool(info.OpenReplay))
	assert.Equal(t, [4]int{100, 110, 1, 1}, [4]int{info.ViewerNum, info.CommentNum, info.OnlineCount, info.SubscribeCount})
}
