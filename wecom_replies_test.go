package livestat_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The WeCom endpoints against livestattest answering with the docs' sample
// replies (testdata/), and their validation.

// byCursor answers calls of ep with replies[cursor], the cursor being the
// request's next_key or next_cursor ("" for the first page).
func byCursor(t *testing.T, ep livestat.Endpoint, replies map[string]string) livestattest.Fault {
	return livestattest.Fault{Endpoint: ep, Times: -1, Edit: func(r livestattest.Request, _ []byte) []byte {
		var req struct {
			NextKey    string `json:"next_key"`
			NextCursor string `json:"next_cursor"`
		}
		if err := json.Unmarshal(r.Body, &req); err != nil {
			t.Errorf("request body: %v", err)
		}
		reply, ok := replies[req.NextKey+req.NextCursor]
		if !ok {
			t.Errorf("no reply scripted for %s", r.Body)
		}
		return []byte(reply)
	}}
}

func TestDecodesDocumentedShapes(t *testing.T) {
	t.Parallel()
	srv := livestattest.NewServer(t, livestattest.Options{Faults: []livestattest.Fault{
		byCursor(t, livestat.EndpointWatchStat, map[string]string{"": fixture(t, "watch_stat_page1.json")}),
		byCursor(t, livestat.EndpointSchoolWatchStat, map[string]string{"": fixture(t, "school_watch_page1.json")}),
		byCursor(t, livestat.EndpointSchoolUnwatchStat, map[string]string{"": fixture(t, "school_unwatch_page1.json")}),
	}})
	c := srv.Client()
	ctx := context.Background()

	lp, err := c.Living.GetWatchStat(ctx, livestat.WatchStatRequest{LivingID: "L1"})
	require.NoError(t, err)
	assert.True(t, lp.More())
	assert.Equal(t, "KEY1", lp.NextKey)
	assert.Equal(t, livestat.LivingViewer{Kind: livestat.KindUser, UserID: "zhangsan", WatchTime: 30, IsComment: true, IsMic: true, InvitorUserID: "lisi"}, lp.StatInfo.Users[0])
	ext := lp.StatInfo.ExternalUsers[1]
	assert.Equal(t, livestat.KindExternalUser, ext.Kind)
	assert.Equal(t, livestat.ExternalUserWeCom, ext.Type)
	assert.Equal(t, "external_userid2", ext.ID())
	assert.Equal(t, "wmEXT", ext.InvitorExternalUserID)
	assert.Equal(t, livestat.ExternalUserWeChat, lp.StatInfo.ExternalUsers[0].Type)

	sp, err := c.School.GetWatchStatV2(ctx, livestat.SchoolStatRequest{LivingID: "L1"})
	require.NoError(t, err)
	st := sp.StatInfo.Students[0]
	assert.Equal(t, livestat.KindStudent, st.Kind)
	assert.Equal(t, []int64{10, 11}, st.PartyIDs)
	assert.Equal(t, 30*time.Second, st.WatchTime.Duration())
	assert.True(t, st.EnterTime.Time().Equal(time.Date(2020, 4, 9, 12, 5, 4, 0, time.UTC)), st.EnterTime.Time().UTC())
	assert.True(t, bool(st.IsComment))
	assert.False(t, bool(sp.StatInfo.Students[1].IsComment))
	par := sp.StatInfo.Parents[0]
	assert.Equal(t, livestat.KindParent, par.Kind)
	assert.Equal(t, "zhangsan", par.ID())
	assert.Equal(t, "zhansan_child", par.StudentUserID)
	vis := sp.StatInfo.Visitors[1]
	assert.Equal(t, livestat.KindVisitor, vis.Kind)
	assert.Equal(t, "wx_nickname2", vis.ID())

	up, err := c.School.GetUnwatchStatV2(ctx, livestat.SchoolStatRequest{LivingID: "L1"})
	require.NoError(t, err)
	assert.Equal(t, livestat.SchoolAbsentee{Kind: livestat.KindStudent, StudentUserID: "lisi_child", PartyIDs: []int64{5}}, up.StatInfo.Students[1])
	assert.Equal(t, livestat.SchoolAbsentee{Kind: livestat.KindParent, ParentUserID: "lisi", StudentUserID: "lisi_child", PartyIDs: []int64{5}}, up.StatInfo.Parents[1])
}

func TestPagesLayerExposesCursors(t *testing.T) {
	t.Parallel()
	srv := livestattest.NewServer(t, livestattest.Options{Faults: []livestattest.Fault{
		byCursor(t, livestat.EndpointWatchStat, map[string]string{
			"": fixture(t, "watch_stat_page1.json"), "KEY1": fixture(t, "watch_stat_page2.json"),
		}),
	}})
	var keys []string
	for p, err := range srv.Client().Living.WatchStatPages(context.Background(), livestat.WatchStatRequest{LivingID: "L1"}) {
		require.NoError(t, err)
		keys = append(keys, p.NextKey)
	}
	assert.Equal(t, []string{"KEY1", "KEY2"}, keys)
}

func TestEmptyLivingIDSendsNothing(t *testing.T) {
	t.Parallel()
	srv := livestattest.NewServer(t, livestattest.Options{})
	c := srv.Client()
	ctx := context.Background()
	checks := map[string]error{}
	_, checks["GetWatchStat"] = c.Living.GetWatchStat(ctx, livestat.WatchStatRequest{})
	_, checks["GetWatchStatV2"] = c.School.GetWatchStatV2(ctx, livestat.SchoolStatRequest{})
	_, checks["GetUnwatchStatV2"] = c.School.GetUnwatchStatV2(ctx, livestat.SchoolStatRequest{NextCursor: "x"})
	_, checks["Viewers"] = livestat.Collect(c.Living.Viewers(ctx, livestat.WatchStatRequest{}))
	_, checks["Watchers"] = livestat.Collect(c.School.Watchers(ctx, livestat.SchoolStatRequest{}))
	_, checks["Absentees"] = livestat.Collect(c.School.Absentees(ctx, livestat.SchoolStatRequest{}))
	for name, err := range checks {
		var ve *livestat.ValidationError
		assert.ErrorAs(t, err, &ve, name)
		assert.ErrorIs(t, err, livestat.ErrInvalidArgument, name)
		assert.Contains(t, err.Error(), "LivingID", name)
	}
	assert.Zero(t, srv.TotalCalls(), "validation happens before any request, gettoken included")
}
