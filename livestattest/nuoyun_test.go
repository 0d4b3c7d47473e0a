package livestattest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const durationsPath = "/Api/RoomRounds/getAccountUserDurationList/2.0.0"

// Seeded with the rows of the docs' sample, the fake answers with that very
// sample (total aside: the sample is page 1 of 21451 rows).
func TestNuoyunReplyMatchesDocsSample(t *testing.T) {
	t.Parallel()
	var page livestat.UserDurationPage
	raw := readJSON(t, "docs_nuoyun_user_durations.json", &page)
	srv := livestattest.NewServer(t, livestattest.Options{Nuoyun: page.Data.List})

	got := getJSON(t, http.MethodPost, srv.URL()+durationsPath, `{"page":1,"page_size":10,"sort":"asc"}`)
	var want map[string]any
	require.NoError(t, json.Unmarshal(raw, &want))
	want["data"].(map[string]any)["total"] = 10.0
	wantJSON, _ := json.Marshal(want)
	gotJSON, _ := json.Marshal(got)
	assert.JSONEq(t, string(wantJSON), string(gotJSON))
}

func TestNuoyunPagingDeliversEveryRowOnce(t *testing.T) {
	t.Parallel()
	rows := livestattest.GenerateDurations(103, 1)
	for _, size := range []int{1, 10, 103, 500} {
		t.Run(fmt.Sprint("page size ", size), func(t *testing.T) {
			srv := livestattest.NewServer(t, livestattest.Options{Nuoyun: rows})
			c := srv.Client(livestat.WithNuoyunRateLimit(0, 0))
			got, err := livestat.Collect(c.Nuoyun.UserDurations(context.Background(), livestat.UserDurationRequest{PageSize: size}))
			require.NoError(t, err)
			assert.Equal(t, rows, got)
			assert.Equal(t, (len(rows)+size-1)/size, srv.Calls(livestat.EndpointNuoyunUserDurations))
		})
	}
}

func TestNuoyunFiltersAndSorts(t *testing.T) {
	t.Parallel()
	rows := livestattest.GenerateDurations(60, 2)
	srv := livestattest.NewServer(t, livestattest.Options{Nuoyun: rows})
	c := srv.Client(livestat.WithNuoyunRateLimit(0, 0))
	ctx := context.Background()

	// An update-time window, by last_visit_time, ends included; asc is
	// the order given.
	sorted := slices.Clone(rows)
	slices.SortStableFunc(sorted, func(a, b livestat.UserDuration) int { return a.LastVisitTime.Compare(b.LastVisitTime.Time) })
	start, end := sorted[10].LastVisitTime.Unix(), sorted[40].LastVisitTime.Unix()
	var want []livestat.UserDuration
	for _, r := range rows {
		if ts := r.LastVisitTime.Unix(); ts >= start && ts <= end {
			want = append(want, r)
		}
	}
	require.Len(t, want, 31)
	got, err := livestat.Collect(c.Nuoyun.UserDurations(ctx, livestat.UserDurationRequest{
		PageSize: 7, Sort: livestat.SortAsc, UpdateTimeStart: livestat.UnixTime(start), UpdateTimeEnd: livestat.UnixTime(end),
	}))
	require.NoError(t, err)
	assert.Equal(t, want, got)

	// desc: the reverse.
	desc, err := livestat.Collect(c.Nuoyun.UserDurations(ctx, livestat.UserDurationRequest{PageSize: 7, Sort: livestat.SortDesc}))
	require.NoError(t, err)
	reversed := slices.Clone(rows)
	slices.Reverse(reversed)
	assert.Equal(t, reversed, desc)
}

// wechat_user_space_id names the account, not a viewer: with
// NuoyunUserSpaceID set, requests must carry it, and get every row.
func TestNuoyunUserSpaceID(t *testing.T) {
	t.Parallel()
	rows := livestattest.GenerateDurations(5, 2)
	srv := livestattest.NewServer(t, livestattest.Options{Nuoyun: rows, NuoyunUserSpaceID: 34043700})
	c := srv.Client(livestat.WithNuoyunRateLimit(0, 0))
	ctx := context.Background()

	got, err := livestat.Collect(c.Nuoyun.UserDurations(ctx, livestat.UserDurationRequest{WeChatUserSpaceID: 34043700}))
	require.NoError(t, err)
	assert.Equal(t, rows, got)

	for _, id := range []int64{0, int64(rows[0].WeChatUserSpaceID)} {
		_, err = livestat.Collect(c.Nuoyun.UserDurations(ctx, livestat.UserDurationRequest{WeChatUserSpaceID: id}))
		var apiErr *livestat.APIError
		require.ErrorAs(t, err, &apiErr, id)
		assert.Equal(t, 400, apiErr.Code)
	}
}

func TestNuoyunRejectsBadPages(t *testing.T) {
	t.Parallel()
	srv := livestattest.NewServer(t, livestattest.Options{Nuoyun: livestattest.GenerateDurations(3, 1)})
	for _, body := range []string{
		`{"page":0,"page_size":10,"sort":"asc"}`, `{"page":1,"page_size":501,"sort":"asc"}`, `{"page":1,"sort":"asc"}`,
		`{"page":1,"page_size":10,"sort":"up"}`, `not json`,
		// sort is required, like page and page_size.
		`{"page":1,"page_size":10}`, `{"page":1,"page_size":10,"sort":""}`, `{"page":1,"page_size":10,"sort":null}`,
	} {
		r := getJSON(t, http.MethodPost, srv.URL()+durationsPath, body)
		assert.EqualValues(t, 400, r["code"], body)
		assert.NotEmpty(t, r["msg"], body)
		assert.Equal(t, map[string]any{}, r["data"], "failures carry an empty data object")
	}
	// Past the last page: an empty list, the total still there.
	r := getJSON(t, http.MethodPost, srv.URL()+durationsPath, `{"page":9,"page_size":10,"sort":"desc"}`)
	assert.Equal(t, map[string]any{"total": 3.0, "list": []any{}}, r["data"])
}

func TestNuoyunSignature(t *testing.T) {
	t.Parallel()
	srv := livestattest.NewServer(t, livestattest.Options{
		Nuoyun: livestattest.GenerateDurations(3, 1), NuoyunAppKey: "app-key", NuoyunAppSecret: "app-secret",
	})
	ctx := context.Background()
	req := livestat.UserDurationRequest{Page: 1, PageSize: 10}

	_, err := srv.Client().Nuoyun.GetUserDurations(ctx, req)
	require.NoError(t, err, "Client signs its requests")

	for name, opt := range map[string]livestat.Option{
		"unsigned":     livestat.WithNuoyunAuth(livestat.NewStaticHeaders(http.Header{})),
		"wrong secret": livestat.WithNuoyunAuth(livestat.NewSignAuthorizer("app-key", "nope")),
	} {
		_, err := srv.Client(opt).Nuoyun.GetUserDurations(ctx, req)
		var apiErr *livestat.APIError
		require.ErrorAs(t, err, &apiErr, name)
		assert.Equal(t, livestat.VendorNuoyun, apiErr.Vendor)
		assert.Equal(t, 400, apiErr.Code)
	}
}

func TestNuoyunFaults(t *testing.T) {
	t.Parallel()
	rows := livestattest.GenerateDurations(30, 3)
	srv := livestattest.NewServer(t, livestattest.Options{Nuoyun: rows, Faults: []livestattest.Fault{
		{Endpoint: livestat.EndpointNuoyunUserDurations, Call: 2, HTTPStatus: 502},
	}})
	c := srv.Client(livestat.WithNuoyunRateLimit(0, 0), livestat.WithNuoyunWorkers(1))
	got, err := livestat.Collect(c.Nuoyun.UserDurations(context.Background(), livestat.UserDurationRequest{PageSize: 10}))
	require.NoError(t, err, "a 502 is retried")
	assert.Equal(t, rows, got)
	assert.Equal(t, 4, srv.Calls(livestat.EndpointNuoyunUserDurations))

	srv.Fail(livestattest.Fault{Endpoint: livestat.EndpointNuoyunUserDurations, ErrCode: 400, ErrMsg: "账号不存在"})
	_, err = c.Nuoyun.GetUserDurations(context.Background(), livestat.UserDurationRequest{Page: 1, PageSize: 10})
	var apiErr *livestat.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 400, apiErr.Code)
	assert.Equal(t, "账号不存在", apiErr.Message)
	last, _ := srv.LastRequest(livestat.EndpointNuoyunUserDurations)
	assert.JSONEq(t, `{"page":1,"page_size":10,"sort":"asc","update_time_start":0,"update_time_end":0}`, string(last.Body), "sort is sent, asc when none is set")
}

func TestGenerateDurationsIsDeterministic(t *testing.T) {
	t.Parallel()
	a := livestattest.GenerateDurations(40, 9)
	assert.Equal(t, a, livestattest.GenerateDurations(40, 9))
	keys := map[[2]livestat.FlexInt]bool{}
	for _, r := range a {
		k := [2]livestat.FlexInt{r.RoomID, r.WeChatUserSpaceID}
		assert.False(t, keys[k], "duplicate row %v", k)
		keys[k] = true
		assert.Equal(t, r.StayDuration, r.LiveDuration+r.PlaybackDuration)
		assert.False(t, r.LastVisitTime.Before(r.FirstVisitTime.Time))
	}
}

// When picks a call by its request, which call numbers cannot do when pages
// are fetched concurrently.
func TestFaultWhenPicksAPage(t *testing.T) {
	t.Parallel()
	rows := livestattest.GenerateDurations(50, 4)
	srv := livestattest.NewServer(t, livestattest.Options{Nuoyun: rows, Faults: []livestattest.Fault{{
		Endpoint: livestat.EndpointNuoyunUserDurations, Times: -1, ErrCode: 400, ErrMsg: "第3页失败",
		When: func(r livestattest.Request) bool {
			var body struct{ Page int }
			return json.Unmarshal(r.Body, &body) == nil && body.Page == 3
		},
	}}})
	c := srv.Client(livestat.WithNuoyunRateLimit(0, 0), livestat.WithNuoyunWorkers(4))
	var got []livestat.UserDuration
	var err error
	for row, e := range c.Nuoyun.UserDurations(context.Background(), livestat.UserDurationRequest{PageSize: 10}) {
		if e != nil {
			err = e
			break
		}
		got = append(got, row)
	}
	require.ErrorContains(t, err, "第3页失败")
	assert.Equal(t, rows[:20], got, "the rows of pages 1 and 2, then the error")
}
