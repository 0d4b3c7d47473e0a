package livestat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNuoyunGetUserDurationsSample(t *testing.T) {
	t.Parallel()
	c, mt := newNuoyunClient(t)
	var sent map[string]any
	var contentType string
	mt.RegisterResponder(http.MethodPost, nuoyunTestURL, func(r *http.Request) (*http.Response, error) {
		contentType = r.Header.Get("Content-Type")
		require.NoError(t, json.NewDecoder(r.Body).Decode(&sent))
		return httpmock.NewStringResponse(200, fixture(t, "nuoyun_sample.json")), nil
	})

	p, err := c.Nuoyun.GetUserDurations(context.Background(), UserDurationRequest{Page: 1, PageSize: 10, Sort: SortDesc})
	require.NoError(t, err)

	// The request is the documented JSON body.
	assert.Equal(t, "application/json", contentType)
	assert.Equal(t, map[string]any{"page": 1.0, "page_size": 10.0, "sort": "desc", "update_time_start": 0.0, "update_time_end": 0.0}, sent)

	assert.Equal(t, RowCount(21451), p.Data.Total)
	assert.Equal(t, 1, p.Page)
	assert.Equal(t, 10, p.PageSize)
	assert.True(t, p.More())
	assert.Equal(t, 2146, p.LastPage())
	require.Len(t, p.Data.List, 10)

	first := p.Data.List[0]
	cst := time.FixedZone("", 8*3600)
	assert.Equal(t, FlexInt(1248039790), first.RoomID)
	assert.Equal(t, FlexInt(8756), first.WeChatUserSpaceID)
	assert.Equal(t, "CLANNAD", first.WeChatUserName)
	assert.Equal(t, 392*time.Second, first.StayDuration.Duration())
	assert.Equal(t, "123.52.16.175", first.IP)
	assert.Equal(t, "河南 郑州", first.Area)
	assert.False(t, first.ThirdWeChatInfo.Present, "third_wechat_info is {}")
	assert.Equal(t, ChannelInfo{Present: true, ChannelID: 3128527, ChannelName: "袁"}, first.ChannelInfo)
	assert.True(t, first.FirstVisitTime.Equal(time.Date(2025, 9, 16, 15, 6, 6, 0, cst)))
	assert.Equal(t, "2025-09-16T07:06:06Z", first.FirstVisitTime.UTC().Format(time.RFC3339))
	_, offset := first.FirstVisitTime.Zone()
	assert.Equal(t, 8*3600, offset, "times stay in China Standard Time")
	assert.Equal(t, DeviceIOS, first.Device.Type())
	assert.Equal(t, `"iOS"`, first.Device.Raw())

	noChannel := p.Data.List[5]
	assert.False(t, noChannel.ChannelInfo.Present, "channel_info is {}")
	assert.Equal(t, DeviceUnknown, noChannel.Device.Type(), `device ""`)
	assert.Equal(t, `""`, noChannel.Device.Raw())
	assert.Equal(t, DeviceAndroid, p.Data.List[7].Device.Type())
	assert.Equal(t, 39*time.Second, p.Data.List[6].PlaybackDuration.Duration())
}

// A decoded row encodes back to the JSON the API sent.
func TestNuoyunRowRoundTrip(t *testing.T) {
	t.Parallel()
	var reply struct {
		Data struct {
			List []json.RawMessage `json:"list"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(fixture(t, "nuoyun_sample.json")), &reply))
	for _, raw := range reply.Data.List {
		var row UserDuration
		require.NoError(t, json.Unmarshal(raw, &row))
		back, err := json.Marshal(row)
		require.NoError(t, err)
		assert.JSONEq(t, string(raw), string(back))
	}
}

func TestNuoyunLenientDecoding(t *testing.T) {
	t.Parallel()
	c, mt := newNuoyunClient(t)
	mt.RegisterResponder(http.MethodPost, nuoyunTestURL, httpmock.NewStringResponder(200, fixture(t, "nuoyun_lenient.json")))
	p, err := c.Nuoyun.GetUserDurations(context.Background(), UserDurationRequest{Page: 1, PageSize: 100})
	require.NoError(t, err, "code and total as strings are accepted")
	assert.Equal(t, RowCount(9), p.Data.Total)
	rows := p.Data.List
	require.Len(t, rows, 13)

	// Ids and nested objects.
	r := rows[0]
	assert.Equal(t, FlexInt(101), r.RoomID)
	assert.Equal(t, FlexInt(9001), r.WeChatUserSpaceID)
	assert.Equal(t, FlexInt(9000), r.InvitedWeChatUserSpaceID)
	assert.Equal(t, ThirdWeChatInfo{Present: true, AuthorizerAppID: "wx-app", OpenID: "o-1", UnionID: "u-1"}, r.ThirdWeChatInfo)
	assert.Equal(t, ChannelInfo{Present: true, ChannelID: 77, ChannelName: "store", StoreID: "S-77"}, r.ChannelInfo)
	assert.Equal(t, "2025-01-02 23:59:59", r.LastVisitTime.String())
	assert.False(t, rows[1].ThirdWeChatInfo.Present, "null")
	assert.False(t, rows[1].ChannelInfo.Present, "[]")
	assert.True(t, rows[1].FirstVisitTime.IsZero(), `""`)
	assert.True(t, rows[1].LastVisitTime.IsZero(), "0000-00-00 00:00:00")
	assert.False(t, rows[2].ChannelInfo.Present, "missing")

	// Devices: numbers, numeric strings, names in any case, and unknowns.
	devices := []struct {
		want DeviceType
		raw  string
	}{
		{DevicePC, `0`}, {DeviceAndroid, `1`}, {DeviceOther, `2`}, {DeviceIOS, `3`},
		{DevicePC, `"0"`}, {DeviceIOS, `"3"`},
		{DeviceAndroid, `"ANDROID"`}, {DevicePC, `"pc"`}, {DeviceOther, `"Other"`},
		{DeviceUnknown, `7`}, {DeviceUnknown, `"HarmonyOS"`}, {DeviceUnknown, `null`},
		{DeviceUnknown, ``}, // field missing
	}
	for i, d := range devices {
		got := rows[i].Device
		assert.Equal(t, d.want, got.Type(), "row %d device %s", i, d.raw)
		assert.Equal(t, d.raw, got.Raw(), "row %d", i)
		if d.raw != "" {
			b, err := json.Marshal(got)
			require.NoError(t, err)
			assert.Equal(t, d.raw, string(b), "row %d encodes back to the raw value", i)
		}
	}
}

func TestNuoyunValueTypes(t *testing.T) {
	t.Parallel()
	t.Run("FlexInt", func(t *testing.T) {
		for in, want := range map[string]int64{`12`: 12, `"12"`: 12, `""`: 0, `null`: 0, `-3`: -3, `"9223372036854775807"`: 9223372036854775807} {
			var n FlexInt
			require.NoError(t, json.Unmarshal([]byte(in), &n), in)
			assert.Equal(t, FlexInt(want), n, in)
		}
		for _, in := range []string{`"12a"`, `1.5`, `"9223372036854775808"`, `true`, `"-"`} {
			var n FlexInt
			assert.Error(t, json.Unmarshal([]byte(in), &n), in)
		}
	})
	t.Run("ChinaTime", func(t *testing.T) {
		var ct ChinaTime
		require.NoError(t, json.Unmarshal([]byte(`"2025-10-28 11:36:03"`), &ct))
		assert.Equal(t, time.Date(2025, 10, 28, 3, 36, 3, 0, time.UTC), ct.UTC())
		b, err := json.Marshal(ChinaTime{time.Date(2025, 10, 28, 3, 36, 3, 0, time.UTC)})
		require.NoError(t, err)
		assert.Equal(t, `"2025-10-28 11:36:03"`, string(b), "encodes in UTC+8 whatever the zone")
		b, err = json.Marshal(ChinaTime{})
		require.NoError(t, err)
		assert.Equal(t, `""`, string(b))
		for _, in := range []string{`"2025-10-28T11:36:03Z"`, `1700000000`, `"yesterday"`} {
			assert.Error(t, json.Unmarshal([]byte(in), &ct), in)
		}
	})
	t.Run("Device", func(t *testing.T) {
		var zero Device
		assert.Equal(t, DeviceUnknown, zero.Type(), "the zero Device is unknown, not pc")
		assert.Equal(t, DeviceIOS, deviceOf(DeviceIOS).Type())
		assert.Equal(t, "ios", deviceOf(DeviceIOS).String())
		b, err := json.Marshal(deviceOf(DeviceAndroid))
		require.NoError(t, err)
		assert.Equal(t, `1`, string(b))
	})
}

func TestNuoyunAPIError(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"data {}": fixture(t, "nuoyun_error.json"),
		"data []": `{"code":400,"msg":"参数错误:page_size","data":[]}`,
	} {
		t.Run(name, func(t *testing.T) {
			c, mt := newNuoyunClient(t)
			mt.RegisterResponder(http.MethodPost, nuoyunTestURL, httpmock.NewStringResponder(200, body))
			p, err := c.Nuoyun.GetUserDurations(context.Background(), UserDurationRequest{Page: 1, PageSize: 10})
			assert.Nil(t, p)
			apiErr, ok := errors.AsType[*APIError](err)
			require.True(t, ok, "want *APIError, got %T: %v", err, err)
			assert.Equal(t, VendorNuoyun, apiErr.Vendor)
			assert.Equal(t, 400, apiErr.Code)
			assert.Equal(t, "参数错误:page_size", apiErr.Message)
			assert.Equal(t, 200, apiErr.HTTPStatus)
			assert.False(t, IsRetryable(err))
			assert.Equal(t, 1, mt.GetTotalCallCount(), "a code 400 is not retried")
		})
	}
}

func TestNuoyunAPIErrorEndsIteration(t *testing.T) {
	t.Parallel()
	c, mt := newNuoyunClient(t, WithNuoyunWorkers(4))
	f := serveNuoyun(mt, 1000)
	f.hook = func(_ *http.Request, page int) (*http.Response, error) {
		if page == 3 {
			return httpmock.NewStringResponse(200, fixture(t, "nuoyun_error.json")), nil
		}
		return nil, nil
	}
	rows, err := Collect(c.Nuoyun.UserDurations(context.Background(), UserDurationRequest{PageSize: 100}))
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 400, apiErr.Code)
	assert.Equal(t, seq(1, 200), userIDs(rows), "the rows of pages 1 and 2, then the error")
}

func TestNuoyunValidation(t *testing.T) {
	t.Parallel()
	ok := UserDurationRequest{Page: 1, PageSize: 10}
	tests := []struct {
		name  string
		edit  func(r *UserDurationRequest)
		field string
		iter  bool // also invalid for the iterators (which default Page and PageSize)
	}{
		{"page 0", func(r *UserDurationRequest) { r.Page = 0 }, "Page", false},
		{"negative page", func(r *UserDurationRequest) { r.Page = -1 }, "Page", true},
		{"page size 0", func(r *UserDurationRequest) { r.PageSize = 0 }, "PageSize", false},
		{"page size 501", func(r *UserDurationRequest) { r.PageSize = 501 }, "PageSize", true},
		{"negative page size", func(r *UserDurationRequest) { r.PageSize = -5 }, "PageSize", true},
		{"unknown sort", func(r *UserDurationRequest) { r.Sort = "DESC" }, "Sort", true},
		{"start after end", func(r *UserDurationRequest) { r.UpdateTimeStart, r.UpdateTimeEnd = 200, 100 }, "UpdateTimeStart", true},
		{"negative time", func(r *UserDurationRequest) { r.UpdateTimeStart = -1 }, "UpdateTimeStart/UpdateTimeEnd", true},
		{"negative user", func(r *UserDurationRequest) { r.WeChatUserSpaceID = -1 }, "WeChatUserSpaceID", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := newNuoyunClient(t)
			serveNuoyun(mt, 10)
			req := ok
			tt.edit(&req)

			_, err := c.Nuoyun.GetUserDurations(context.Background(), req)
			ve, isVE := errors.AsType[*ValidationError](err)
			require.True(t, isVE, "want *ValidationError, got %v", err)
			assert.Equal(t, tt.field, ve.Field)
			assert.ErrorIs(t, err, ErrInvalidArgument)

			_, iterErr := Collect(c.Nuoyun.UserDurations(context.Background(), req))
			_, pagesErr := Collect(c.Nuoyun.UserDurationPages(context.Background(), req))
			if tt.iter {
				assert.ErrorIs(t, iterErr, ErrInvalidArgument)
				assert.ErrorIs(t, pagesErr, ErrInvalidArgument)
				assert.Zero(t, mt.GetTotalCallCount(), "nothing is sent")
			} else {
				assert.NoError(t, iterErr, "iterators default Page to 1 and PageSize to 500")
				assert.NoError(t, pagesErr)
			}
		})
	}
	t.Run("valid edges", func(t *testing.T) {
		c, mt := newNuoyunClient(t)
		serveNuoyun(mt, 10)
		for _, req := range []UserDurationRequest{
			{Page: 1, PageSize: 1}, {Page: 7, PageSize: 500, Sort: SortAsc},
			{Page: 1, PageSize: 10, UpdateTimeStart: 100, UpdateTimeEnd: 100},
			{Page: 1, PageSize: 10, UpdateTimeStart: 100}, // no end: unbounded
		} {
			_, err := c.Nuoyun.GetUserDurations(context.Background(), req)
			assert.NoError(t, err, "%+v", req)
		}
	})
	t.Run("options", func(t *testing.T) {
		for _, o := range []Option{WithNuoyunWorkers(0), WithNuoyunRateLimit(-1, time.Second), WithNuoyunRateLimit(10, 0)} {
			_, err := NewClient(o)
			assert.Error(t, err)
		}
	})
}

func TestNuoyunIteratesPagesInOrder(t *testing.T) {
	t.Parallel()
	for _, workers := range []int{1, 2, 4, 8} {
		t.Run(fmt.Sprint("workers=", workers), func(t *testing.T) {
			c, mt := newNuoyunClient(t, WithNuoyunWorkers(workers))
			f := serveNuoyun(mt, 4321) // 44 pages of 100, the last one partial
			var seqPages []int
			for p, err := range c.Nuoyun.UserDurationPages(context.Background(), UserDurationRequest{PageSize: 100, Sort: SortAsc}) {
				require.NoError(t, err)
				seqPages = append(seqPages, p.Page)
			}
			rows, err := Collect(c.Nuoyun.UserDurations(context.Background(), UserDurationRequest{PageSize: 100, Sort: SortAsc}))
			require.NoError(t, err)

			assert.Equal(t, seq(1, 4321), userIDs(rows), "every row once, in page order")
			want := make([]int, 44)
			for i := range want {
				want[i] = i + 1
			}
			assert.Equal(t, want, seqPages)
			assert.ElementsMatch(t, append(append([]int(nil), want...), want...), f.requested(), "each page fetched once per pass, none past the last")
			assert.LessOrEqual(t, f.maxInFlight, workers, "never more requests in flight than workers")
			for _, b := range f.requestBodies() {
				assert.Equal(t, 100.0, b["page_size"])
				assert.Equal(t, "asc", b["sort"])
			}
		})
	}
}

// With several workers, the pages after the first really are in flight
// together: pages 2..5 each wait until all four have arrived.
func TestNuoyunFetchesConcurrently(t *testing.T) {
	c, mt := newNuoyunClient(t, WithNuoyunWorkers(4))
	f := serveNuoyun(mt, 1000)
	arrived := make(chan struct{})
	var closeArrived sync.Once
	var seen [4]bool
	f.hook = func(r *http.Request, page int) (*http.Response, error) {
		if page < 2 || page > 5 {
			return nil, nil
		}
		f.mu.Lock()
		seen[page-2] = true
		all := seen == [4]bool{true, true, true, true}
		f.mu.Unlock()
		if all {
			closeArrived.Do(func() { close(arrived) })
		}
		select {
		case <-arrived:
			return nil, nil
		case <-r.Context().Done():
			return nil, r.Context().Err()
		case <-time.After(10 * time.Second):
			return httpmock.NewStringResponse(200, `{"code":500,"msg":"pages 2..5 were not in flight together","data":{}}`), nil
		}
	}
	rows, err := Collect(c.Nuoyun.UserDurations(context.Background(), UserDurationRequest{PageSize: 100}))
	require.NoError(t, err)
	assert.Equal(t, seq(1, 1000), userIDs(rows))
}

// Memory stays bounded by the worker count: while the loop holds page 1,
// only the 4 following pages are fetched, however many there are.
func TestNuoyunReadAheadIsBounded(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, mt := newNuoyunClient(t, WithNuoyunWorkers(4))
		f := serveNuoyun(mt, 50_000) // 100 pages of 500
		n := 0
		for row, err := range c.Nuoyun.UserDurations(context.Background(), UserDurationRequest{}) {
			require.NoError(t, err)
			n++
			if row.WeChatUserSpaceID == 1 || row.WeChatUserSpaceID == 501 {
				synctest.Wait() // let every other goroutine run as far as it can
				if row.WeChatUserSpaceID == 1 {
					assert.Equal(t, []int{1, 2, 3, 4, 5}, slices.Sorted(slices.Values(f.requested())), "page 1 plus 4 ahead")
				} else {
					assert.Equal(t, []int{1, 2, 3, 4, 5, 6}, slices.Sorted(slices.Values(f.requested())), "one more page once page 2 is taken")
					break
				}
			}
		}
		assert.Equal(t, 501, n)
	})
}

// Breaking out of the loop cancels the requests in flight and leaves no
// goroutine behind.
func TestNuoyunBreakCancelsOutstanding(t *testing.T) {
	t.Parallel()
	c, mt := newNuoyunClient(t, WithNuoyunWorkers(4))
	f := serveNuoyun(mt, 10_000)
	started := make(chan int, 100)
	cancelled := make(chan int, 100)
	f.hook = func(r *http.Request, page int) (*http.Response, error) {
		if page == 1 {
			return nil, nil
		}
		started <- page
		<-r.Context().Done() // hold the request until the client gives up
		cancelled <- page
		return nil, r.Context().Err()
	}
	for row, err := range c.Nuoyun.UserDurations(context.Background(), UserDurationRequest{PageSize: 100}) {
		require.NoError(t, err)
		require.Equal(t, FlexInt(1), row.WeChatUserSpaceID)
		for range 4 {
			<-started // pages 2..5 are in flight
		}
		break
	}
	// The loop has returned: every request in flight was cancelled (the
	// responders see it), and nothing more was asked.
	for range 4 {
		select {
		case <-cancelled:
		case <-time.After(5 * time.Second):
			t.Fatal("a request in flight was not cancelled")
		}
	}
	assert.ElementsMatch(t, []int{1, 2, 3, 4, 5}, f.requested())
}

func TestNuoyunContextCancel(t *testing.T) {
	t.Parallel()
	c, mt := newNuoyunClient(t, WithNuoyunWorkers(4))
	f := serveNuoyun(mt, 10_000)
	f.hook = func(r *http.Request, page int) (*http.Response, error) {
		if page > 2 {
			<-r.Context().Done()
			return nil, r.Context().Err()
		}
		return nil, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var rows int
	var gotErr error
	for row, err := range c.Nuoyun.UserDurations(ctx, UserDurationRequest{PageSize: 100}) {
		if err != nil {
			gotErr = err
			continue // the iterator must stop by itself
		}
		rows++
		if row.WeChatUserSpaceID == 150 {
			cancel()
		}
	}
	assert.ErrorIs(t, gotErr, context.Canceled)
	assert.Equal(t, 200, rows, "pages 1 and 2 were fetched before the cancel")
}

func TestNuoyunStopsAtEmptyPage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		total  int // the total that the empty pages report
		reason string
	}{
		// The data shrank while the iteration ran: rows before the
		// pages read may have gone, moving others back out of reach, so
		// 200 rows are not known to be all of them.
		{"the total shrank too", 200, "the total changed from 1000 (page 1) to 200 (page 3): rows were added or removed during the iteration"},
		// The empty page's own total says rows remain: ending quietly
		// would lose them.
		{"the total says rows remain", 1000, "the page is empty, but the total (1000) says rows remain"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mt := newNuoyunClient(t, WithNuoyunWorkers(4))
			f := serveNuoyun(mt, 1000) // total says 10 pages
			f.hook = func(_ *http.Request, page int) (*http.Response, error) {
				if page < 3 {
					return nil, nil
				}
				return httpmock.NewJsonResponse(200, map[string]any{
					"code": 200, "msg": "Success", "data": map[string]any{"total": tc.total, "list": []any{}}})
			}
			rows, err := Collect(c.Nuoyun.UserDurations(context.Background(), UserDurationRequest{PageSize: 100}))
			assert.Equal(t, seq(1, 200), userIDs(rows), "the rows before the empty page, once")
			var pe *PaginationError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, 3, pe.Page)
			assert.Equal(t, tc.reason, pe.Reason)
		})
	}
}

func TestNuoyunMaxPagesWithReadAhead(t *testing.T) {
	t.Parallel()
	c, mt := newNuoyunClient(t, WithNuoyunWorkers(4), WithMaxPages(3))
	f := serveNuoyun(mt, 1000)
	rows, err := Collect(c.Nuoyun.UserDurations(context.Background(), UserDurationRequest{PageSize: 100}))
	assert.ErrorIs(t, err, ErrPagination)
	assert.Equal(t, seq(1, 300), userIDs(rows))
	assert.ElementsMatch(t, []int{1, 2, 3}, f.requested(), "the read-ahead respects the page cap")
}

func TestNuoyunResumesFromPage(t *testing.T) {
	t.Parallel()
	c, mt := newNuoyunClient(t, WithNuoyunWorkers(3))
	f := serveNuoyun(mt, 1000)
	rows, err := Collect(c.Nuoyun.UserDurations(context.Background(), UserDurationRequest{Page: 7, PageSize: 100}))
	require.NoError(t, err)
	assert.Equal(t, seq(601, 1000), userIDs(rows))
	assert.ElementsMatch(t, []int{7, 8, 9, 10}, f.requested())
}

func TestNuoyunSnapshot(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		// The fake clock starts at 2000-01-01 00:00:00 UTC.
		start := time.Now().Unix()
		c, mt := newNuoyunClient(t, WithNuoyunWorkers(2))
		f := serveNuoyun(mt, 450)
		f.hook = func(*http.Request, int) (*http.Response, error) {
			time.Sleep(3 * time.Second) // the clock moves during the iteration
			return nil, nil
		}
		f.rows = func(page, size int) []fakeRow {
			// Page 2 repeats the last row of page 1, as when a row moves
			// between the two requests.
			from := (page-1)*size + 1
			if page == 2 {
				from--
			}
			var rows []fakeRow
			for i := from; i <= min(450, page*size); i++ {
				rows = append(rows, syntheticRow(i))
			}
			return rows
		}

		rows, err := Collect(c.Nuoyun.UserDurations(context.Background(), UserDurationRequest{PageSize: 100, UpdateTimeStart: 5}))
		require.NoError(t, err)
		assert.Equal(t, seq(1, 450), userIDs(rows), "the repeated row is dropped")
		bodies := f.requestBodies()
		require.Len(t, bodies, 5)
		for _, b := range bodies {
			assert.Equal(t, float64(start), b["update_time_end"], "every page pinned to the start of the iteration")
			assert.Equal(t, 5.0, b["update_time_start"])
		}

		// The page iterator drops it too; a second pass pins a new time.
		var pageLens []int
		for p, err := range c.Nuoyun.UserDurationPages(context.Background(), UserDurationRequest{PageSize: 100}) {
			require.NoError(t, err)
			pageLens = append(pageLens, len(p.Data.List))
		}
		assert.Equal(t, []int{100, 100, 100, 100, 50}, pageLens)
		bodies = f.requestBodies()[5:]
		assert.Greater(t, bodies[0]["update_time_end"], float64(start))

		// An explicit end is kept.
		_, err = Collect(c.Nuoyun.UserDurations(context.Background(), UserDurationRequest{PageSize: 500, UpdateTimeEnd: 1234}))
		require.NoError(t, err)
		bodies = f.requestBodies()
		assert.Equal(t, 1234.0, bodies[len(bodies)-1]["update_time_end"])
	})
}

func TestNuoyunShortPagesAreAnErrorNotASilentLoss(t *testing.T) {
	t.Parallel()
	// The server quietly caps pages at 200 rows while the total says 2000:
	// finishing "successfully" with 800 rows would lose 1200.
	c, mt := newNuoyunClient(t)
	f := serveNuoyun(mt, 2000)
	f.rows = func(page, size int) []fakeRow { return synthetic((page-1)*size+1, min(size, 200)) }
	rows, err := Collect(c.Nuoyun.UserDurations(context.Background(), UserDurationRequest{PageSize: 500}))
	var pe *PaginationError
	require.ErrorAs(t, err, &pe)
	assert.Contains(t, pe.Reason, "reported 2000 rows but served 800")
	assert.Less(t, len(rows), 2000)
}

func TestNuoyunDuplicateFilterIsBoundedToTwoPages(t *testing.T) {
	t.Parallel()
	// A row that repeats on the next page is dropped; the filter keeps the
	// keys of two pages only, so memory does not grow with the rows.
	c, mt := newNuoyunClient(t, WithNuoyunWorkers(1))
	f := serveNuoyun(mt, 30)
	f.rows = func(page, size int) []fakeRow {
		rows := synthetic((page-1)*size+1, min(size, 30-(page-1)*size))
		if page == 2 {
			rows = append([]fakeRow{syntheticRow(size)}, rows...) // the last row of page 1 again
		}
		return rows
	}
	rows, err := Collect(c.Nuoyun.UserDurations(context.Background(), UserDurationRequest{PageSize: 10}))
	require.NoError(t, err)
	assert.Len(t, rows, 30, "every row once: the repeat on page 2 is dropped")
	seen := map[int64]bool{}
	for _, r := range rows {
		assert.False(t, seen[int64(r.WeChatUserSpaceID)], "row %d doubled", r.WeChatUserSpaceID)
		seen[int64(r.WeChatUserSpaceID)] = true
	}
}

// synthetic returns n synthetic rows from row from on.
func synthetic(from, n int) []fakeRow {
	rows := make([]fakeRow, 0, max(n, 0))
	for i := from; i < from+n; i++ {
		rows = append(rows, syntheticRow(i))
	}
	return rows
}
