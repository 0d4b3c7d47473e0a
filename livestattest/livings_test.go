package livestattest_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// get_living_info (corp and school) answers with the docs' samples field
// for field when seeded with their values.
func TestLivingInfoRepliesMatchDocsSamples(t *testing.T) {
	for _, tc := range []struct {
		sample, path string
		seed         func(t *testing.T, srv *livestattest.Server, sample string)
	}{
		{"docs_living_info.json", "/cgi-bin/living/get_living_info", func(t *testing.T, srv *livestattest.Server, sample string) {
			var r struct {
				LivingInfo livestat.LivingInfo `json:"living_info"`
			}
			readJSON(t, sample, &r)
			srv.SetLivingInfo("L", r.LivingInfo)
		}},
		{"docs_school_living_info.json", "/cgi-bin/school/living/get_living_info", func(t *testing.T, srv *livestattest.Server, sample string) {
			var r struct {
				LivingInfo livestat.SchoolLivingInfo `json:"living_info"`
			}
			readJSON(t, sample, &r)
			srv.SetSchoolLivingInfo("L", r.LivingInfo)
		}},
	} {
		t.Run(tc.sample, func(t *testing.T) {
			srv := livestattest.NewServer(t, livestattest.Options{})
			tc.seed(t, srv, tc.sample)
			var want map[string]any
			readJSON(t, tc.sample, &want)
			got := getJSON(t, http.MethodGet, srv.URL()+tc.path+"?livingid=L&access_token="+token(t, srv), "")
			wantJSON, _ := json.Marshal(want)
			gotJSON, _ := json.Marshal(got)
			assert.JSONEq(t, string(wantJSON), string(gotJSON))
		})
	}
}

// Details made from the watch statistics agree with them: a corp
// broadcast counts its viewers and lasts as long as anyone watched; a
// school broadcast's range holds every class of its viewers and absentees,
// and every watcher's time falls inside it; and the default anchor's list
// holds every broadcast the server serves statistics for.
func TestGeneratedDetailsAgreeWithWatchStats(t *testing.T) {
	viewers := livestattest.GenerateViewers(120, 3)
	school := livestattest.GenerateSchool(70, 3)
	srv := livestattest.NewServer(t, livestattest.Options{
		Living: map[string][]livestat.LivingViewer{"L1": viewers, "L2": livestattest.GenerateViewers(5, 4)},
		School: map[string]livestattest.School{"S1": school},
	})
	c := srv.Client()
	ctx := t.Context()

	ids, err := livestat.Collect(c.Living.LivingIDs(ctx, livestat.UserLivingIDsRequest{UserID: livestattest.DefaultAnchorUserID}))
	require.NoError(t, err)
	assert.Equal(t, []string{"L1", "L2", "S1"}, ids)

	info, err := c.Living.GetLivingInfo(ctx, "L1")
	require.NoError(t, err)
	assert.Equal(t, len(viewers), info.ViewerNum)
	assert.Equal(t, livestat.LivingEnded, info.Status)
	assert.Equal(t, livestattest.DefaultAnchorUserID, info.AnchorUserID)
	got, err := livestat.Collect(c.Living.Viewers(ctx, livestat.WatchStatRequest{LivingID: "L1"}))
	require.NoError(t, err)
	comments := 0
	for _, v := range got {
		assert.LessOrEqual(t, v.WatchTime, info.LivingDuration, v.ID())
		if v.IsComment {
			comments++
		}
	}
	assert.Equal(t, comments, info.CommentNum)
	if rs, ok := info.Replay(); ok {
		assert.True(t, bool(info.OpenReplay))
		assert.Equal(t, livestat.ReplayReady, rs)
	} else {
		assert.False(t, bool(info.OpenReplay), "replay_status only when open_replay is 1")
	}

	si, err := c.School.GetLivingInfo(ctx, "S1")
	require.NoError(t, err)
	assert.Equal(t, len(school.Watchers), si.ViewerNum)
	watchers, err := livestat.Collect(c.School.Watchers(ctx, livestat.SchoolStatRequest{LivingID: "S1"}))
	require.NoError(t, err)
	end := si.LivingStart.Time().Add(si.LivingDuration.Duration())
	for _, w := range watchers {
		for _, p := range w.PartyIDs {
			assert.Contains(t, si.LivingRange.PartyIDs, p, "%s's class is in the range", w.ID())
		}
		assert.LessOrEqual(t, w.WatchTime, si.LivingDuration, w.ID())
		assert.False(t, w.EnterTime.Time().Before(si.LivingStart.Time()), w.ID())
		assert.False(t, w.LeaveTime.Time().After(end), w.ID())
	}
	absentees, err := livestat.Collect(c.School.Absentees(ctx, livestat.SchoolStatRequest{LivingID: "S1"}))
	require.NoError(t, err)
	for _, a := range absentees {
		for _, p := range a.PartyIDs {
			assert.Contains(t, si.LivingRange.PartyIDs, p, "%s's class is in the range", a.ID())
		}
	}
	assert.True(t, slices.IsSorted(si.LivingRange.PartyIDs))

	// A school livingid is not a corp living, and an unknown one is
	// neither: both get errcode 40058.
	for _, id := range []string{"S1", "nope"} {
		_, err = c.Living.GetLivingInfo(ctx, id)
		ae, ok := err.(*livestat.APIError)
		require.True(t, ok, "%s: %v", id, err)
		assert.Equal(t, 40058, ae.Code)
	}
}

// A member's list is Options.UserLivings as given, then the broadcasts whose
// details name the member; a listed broadcast's made-up details name the
// member as anchor.
func TestUserLivingsListAndAnchors(t *testing.T) {
	srv := livestattest.NewServer(t, livestattest.Options{
		Living:      map[string][]livestat.LivingViewer{"L1": livestattest.GenerateViewers(3, 1), "L9": nil},
		UserLivings: map[string][]string{"zhangsan": {"L9", "L1", "L5"}},
		LivingInfo:  map[string]livestat.LivingInfo{"L7": {Theme: "given", AnchorUserID: "zhangsan"}},
	})
	assert.Equal(t, []string{"L9", "L1", "L5", "L7"}, srv.UserLivings("zhangsan"))
	assert.Equal(t, []string{}, srv.UserLivings(livestattest.DefaultAnchorUserID))
	for _, id := range []string{"L1", "L5", "L9"} {
		info, ok := srv.LivingInfo(id)
		require.True(t, ok, id)
		assert.Equal(t, "zhangsan", info.AnchorUserID, id)
	}
	info, ok := srv.LivingInfo("L7")
	require.True(t, ok)
	assert.Equal(t, "given", info.Theme)

	// The endpoint pages as the API does: limit out of range is refused,
	// the last page has next_cursor "".
	tok := token(t, srv)
	rep := getJSON(t, http.MethodPost, srv.URL()+"/cgi-bin/living/get_user_all_livingid?access_token="+tok, `{"userid":"zhangsan","limit":3}`)
	assert.Equal(t, []any{"L9", "L1", "L5"}, rep["livingid_list"])
	next, _ := rep["next_cursor"].(string)
	require.NotEmpty(t, next)
	rep = getJSON(t, http.MethodPost, srv.URL()+"/cgi-bin/living/get_user_all_livingid?access_token="+tok, `{"userid":"zhangsan","limit":3,"cursor":"`+next+`"}`)
	assert.Equal(t, []any{"L7"}, rep["livingid_list"])
	assert.Equal(t, "", rep["next_cursor"])
	rep = getJSON(t, http.MethodPost, srv.URL()+"/cgi-bin/living/get_user_all_livingid?access_token="+tok, `{"userid":"zhangsan","limit":101}`)
	assert.EqualValues(t, 40058, rep["errcode"])
}

// Options.Live: a broadcast still on air has, in its generated details,
// status live (corp), viewers online (both) and a duration as long as the
// longest watch; the others have ended.
func TestLiveBroadcasts(t *testing.T) {
	viewers := livestattest.GenerateViewers(12, 5)
	sc := livestattest.GenerateSchool(20, 5)
	srv := livestattest.NewServer(t, livestattest.Options{
		Living: map[string][]livestat.LivingViewer{"CL": viewers, "CE": viewers},
		School: map[string]livestattest.School{"SL": sc, "SE": sc},
		Live:   []string{"CL", "SL"},
	})
	c := srv.Client()
	live, err := c.Living.GetLivingInfo(t.Context(), "CL")
	require.NoError(t, err)
	assert.Equal(t, livestat.LivingLive, live.Status)
	assert.Equal(t, 12, live.OnlineCount)
	var longest livestat.Seconds
	for _, v := range viewers {
		longest = max(longest, v.WatchTime)
	}
	assert.Equal(t, longest, live.LivingDuration)
	ended, err := c.Living.GetLivingInfo(t.Context(), "CE")
	require.NoError(t, err)
	assert.Equal(t, livestat.LivingEnded, ended.Status)
	assert.Zero(t, ended.OnlineCount)

	slive, err := c.School.GetLivingInfo(t.Context(), "SL")
	require.NoError(t, err)
	assert.Equal(t, len(sc.Watchers), slive.OnlineCount)
	sended, err := c.School.GetLivingInfo(t.Context(), "SE")
	require.NoError(t, err)
	assert.Zero(t, sended.OnlineCount)
	assert.GreaterOrEqual(t, sended.LivingDuration, slive.LivingDuration)
}

// GenerateSchoolLivings: a lesson a day, in ID order, each the generated
// school of its seed moved by its day; the server's details start that day.
func TestGenerateSchoolLivings(t *testing.T) {
	ids, school := livestattest.GenerateSchoolLivings("L", 3, 10, 9)
	assert.Equal(t, []string{"L001", "L002", "L003"}, ids)
	srv := livestattest.NewServer(t, livestattest.Options{School: school})
	for i, id := range ids {
		base := livestattest.GenerateSchool(10, 9+uint64(i+1))
		require.Len(t, school[id].Watchers, len(base.Watchers))
		assert.Equal(t, base.Absentees, school[id].Absentees)
		for j, w := range school[id].Watchers {
			assert.Equal(t, base.Watchers[j].EnterTime+livestat.UnixTime(i*24*3600), w.EnterTime)
		}
		info, ok := srv.SchoolLivingInfo(id)
		require.True(t, ok)
		assert.Equal(t, 2025, info.LivingStart.Time().Year())
		assert.Equal(t, 1+i, info.LivingStart.Time().In(time.FixedZone("CST", 8*3600)).Day())
	}
}
