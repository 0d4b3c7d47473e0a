package livestat_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Nuoyun endpoint and its iterators against livestattest: decoding the
// documented replies, validation, and the numbered-page read-ahead (order,
// concurrency, bounds, cancellation, the snapshot time).

const nuoyunEP = livestat.EndpointNuoyunUserDurations

// numberedRows returns Nuoyun rows from..to: row i has room_id 1000+i and
// wechat_user_space_id i.
func numberedRows(from, to int) []livestat.UserDuration {
	rows := make([]livestat.UserDuration, 0, max(to-from+1, 0))
	for i := from; i <= to; i++ {
		rows = append(rows, livestat.UserDuration{
			RoomID: livestat.FlexInt(1000 + i), WeChatUserSpaceID: livestat.FlexInt(i),
			WeChatUserName: fmt.Sprintf("user-%d", i), StayDuration: livestat.Seconds(i % 5000),
		})
	}
	return rows
}

// numberedNuoyun starts a livestattest server holding total numbered rows
// (see numberedRows) and returns it with a client (client-side rate limit
// off; later options win). With memory, it serves in memory, for a
// testing/synctest bubble.
func numberedNuoyun(t *testing.T, total int, memory bool, opts ...livestat.Option) (*livestattest.Server, *livestat.Client) {
	t.Helper()
	srv := livestattest.NewServer(t, livestattest.Options{Nuoyun: numberedRows(1, total), InMemory: memory})
	return srv, srv.Client(append([]livestat.Option{livestat.WithNuoyunRateLimit(0, 0)}, opts...)...)
}

// requestBodies returns the JSON bodies of the Nuoyun requests srv
// received, in order.
func requestBodies(t *testing.T, srv *livestattest.Server) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, r := range srv.Requests(nuoyunEP) {
		var m map[string]any
		require.NoError(t, json.Unmarshal(r.Body, &m), "%s", r.Body)
		out = append(out, m)
	}
	return out
}

// replyWith answers every Nuoyun call with body, as is.
func replyWith(body string) livestattest.Fault {
	return livestattest.Fault{Endpoint: nuoyunEP, Body: body, Times: -1}
}

func TestNuoyunGetUserDurationsSample(t *testing.T) {
	t.Parallel()
	srv := livestattest.NewServer(t, livestattest.Options{Faults: []livestattest.Fault{replyWith(fixture(t, "nuoyun_sample.json"))}})
	c := srv.Client()

	p, err := c.Nuoyun.GetUserDurations(context.Background(), livestat.UserDurationRequest{Page: 1, PageSize: 10, Sort: livestat.SortDesc})
	require.NoError(t, err)

	// The request is the documented JSON body.
	sent, ok := srv.LastRequest(nuoyunEP)
	require.True(t, ok)
	assert.Equal(t, "application/json", sent.Header.Get("Content-Type"))
	assert.Equal(t, []map[string]any{{"page": 1.0, "page_size": 10.0, "sort": "desc", "update_time_start": 0.0, "update_time_end": 0.0}}, requestBodies(t, srv))

	assert.Equal(t, livestat.RowCount(21451), p.Data.Total)
	assert.Equal(t, 1, p.Page)
	assert.Equal(t, 10, p.PageSize)
	assert.True(t, p.More())
	assert.Equal(t, 2146, p.LastPage())
	require.Len(t, p.Data.List, 10)

	first := p.Data.List[0]
	cst := time.FixedZone("", 8*3600)
	assert.Equal(t, livestat.FlexInt(1248039790), first.RoomID)
	assert.Equal(t, livestat.FlexInt(8756), first.WeChatUserSpaceID)
	assert.Equal(t, "CLANNAD", first.WeChatUserName)
	assert.Equal(t, 392*time.Second, first.StayDuration.Duration())
	assert.Equal(t, "123.52.16.175", first.IP)
	assert.Equal(t, "河南 郑州", first.Area)
	assert.False(t, first.ThirdWeChatInfo.Present, "third_wechat_info is {}")
	assert.Equal(t, livestat.ChannelInfo{Present: true, ChannelID: 3128527, ChannelName: "袁"}, first.ChannelInfo)
	assert.True(t, first.FirstVisitTime.Equal(time.Date(2025, 9, 16, 15, 6, 6, 0, cst)))
	assert.Equal(t, "2025-09-16T07:06:06Z", first.FirstVisitTime.UTC().Format(time.RFC3339))
	_, offset := first.FirstVisitTime.Zone()
	assert.Equal(t, 8*3600, offset, "times stay in China Standard Time")
	assert.Equal(t, livestat.DeviceIOS, first.Device.Type())
	assert.Equal(t, `"iOS"`, first.Device.Raw())

	noChannel := p.Data.List[5]
	assert.False(t, noChannel.ChannelInfo.Present, "channel_info is {}")
	assert.Equal(t, livestat.DeviceUnknown, noChannel.Device.Type(), `device ""`)
	assert.Equal(t, `""`, noChannel.Device.Raw())
	assert.Equal(t, livestat.DeviceAndroid, p.Data.List[7].Device.Type())
	assert.Equal(t, 39*time.Second, p.Data.List[6].PlaybackDuration.Duration())
}

func TestNuoyunLenientDecoding(t *testing.T) {
	t.Parallel()
	srv := livestattest.NewServer(t, livestattest.Options{Faults: []livestattest.Fault{replyWith(fixture(t, "nuoyun_lenient.json"))}})
	p, err := srv.Client().Nuoyun.GetUserDurations(context.Background(), livestat.UserDurationRequest{Page: 1, PageSize: 100})
	require.NoError(t, err, "code and total as strings are accepted")
	assert.Equal(t, livestat.RowCount(9), p.Data.Total)
	rows := p.Data.List
	require.Len(t, rows, 13)

	// Ids and nested objects.
	r := rows[0]
	assert.Equal(t, livestat.FlexInt(101), r.RoomID)
	assert.Equal(t, livestat.FlexInt(9001), r.WeChatUserSpaceID)
	assert.Equal(t, livestat.FlexInt(9000), r.InvitedWeChatUserSpaceID)
	assert.Equal(t, livestat.ThirdWeChatInfo{Present: true, AuthorizerAppID: "wx-app", OpenID: "o-1", UnionID: "u-1"}, r.ThirdWeChatInfo)
	assert.Equal(t, livestat.ChannelInfo{Present: true, ChannelID: 77, ChannelName: "store", StoreID: "S-77"}, r.ChannelInfo)
	assert.Equal(t, "2025-01-02 23:59:59", r.LastVisitTime.String())
	assert.False(t, rows[1].ThirdWeChatInfo.Present, "null")
	assert.False(t, rows[1].ChannelInfo.Present, "[]")
	assert.True(t, rows[1].FirstVisitTime.IsZero(), `""`)
	assert.True(t, rows[1].LastVisitTime.IsZero(), "0000-00-00 00:00:00")
	assert.False(t, rows[2].ChannelInfo.Present, "missing")

	// Devices: numbers, numeric strings, names in any case, and unknowns.
	devices := []struct {
		want livestat.DeviceType
		raw  string
	}{
		{livestat.DevicePC, `0`}, {livestat.DeviceAndroid, `1`}, {livestat.DeviceOther, `2`}, {livestat.DeviceIOS, `3`},
		{livestat.DevicePC, `"0"`}, {livestat.DeviceIOS, `"3"`},
		{livestat.DeviceAndroid, `"ANDROID"`}, {livestat.DevicePC, `"pc"`}, {livestat.DeviceOther, `"Other"`},
		{livestat.DeviceUnknown, `7`}, {livestat.DeviceUnknown, `"HarmonyOS"`}, {livestat.DeviceUnknown, `null`},
		{livestat.DeviceUnknown, ``}, // field missing
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

func TestNuoyunAPIError(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"data {}": fixture(t, "nuoyun_error.json"),
		"data []": `{"code":400,"msg":"参数错误:page_size","data":[]}`,
	} {
		t.Run(name, func(t *testing.T) {
			srv := livestattest.NewServer(t, livestattest.Options{Faults: []livestattest.Fault{replyWith(body)}})
			p, err := srv.Client().Nuoyun.GetUserDurations(context.Background(), livestat.UserDurationRequest{Page: 1, PageSize: 10})
			assert.Nil(t, p)
			apiErr, ok := errors.AsType[*livestat.APIError](err)
			require.True(t, ok, "want *APIError, got %T: %v", err, err)
			assert.Equal(t, livestat.VendorNuoyun, apiErr.Vendor)
			assert.Equal(t, 400, apiErr.Code)
			assert.Equal(t, "参数错误:page_size", apiErr.Message)
			assert.Equal(t, 200, apiErr.HTTPStatus)
			assert.False(t, livestat.IsRetryable(err))
			assert.Equal(t, 1, srv.TotalCalls(), "a code 400 is not retried")
		})
	}
}

func TestNuoyunAPIErrorEndsIteration(t *testing.T) {
	t.Parallel()
	srv, c := numberedNuoyun(t, 1000, false, livestat.WithNuoyunWorkers(4))
	srv.Fail(livestattest.Fault{Endpoint: nuoyunEP, Page: 3, Body: fixture(t, "nuoyun_error.json"), Times: -1})
	rows, err := livestat.Collect(c.Nuoyun.UserDurations(context.Background(), livestat.UserDurationRequest{PageSize: 100}))
	var apiErr *livestat.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 400, apiErr.Code)
	assert.Equal(t, seq(1, 200), userIDs(rows), "the rows of pages 1 and 2, then the error")
}

func TestNuoyunValidation(t *testing.T) {
	t.Parallel()
	ok := livestat.UserDurationRequest{Page: 1, PageSize: 10}
	tests := []struct {
		name  string
		edit  func(r *livestat.UserDurationRequest)
		field string
		iter  bool // also invalid for the iterators (which default Page and PageSize)
	}{
		{"page 0", func(r *livestat.UserDurationRequest) { r.Page = 0 }, "Page", false},
		{"negative page", func(r *livestat.UserDurationRequest) { r.Page = -1 }, "Page", true},
		{"page size 0", func(r *livestat.UserDurationRequest) { r.PageSize = 0 }, "PageSize", false},
		{"page size 501", func(r *livestat.UserDurationRequest) { r.PageSize = 501 }, "PageSize", true},
		{"negative page size", func(r *livestat.UserDurationRequest) { r.PageSize = -5 }, "PageSize", true},
		{"unknown sort", func(r *livestat.UserDurationRequest) { r.Sort = "DESC" }, "Sort", true},
		{"start after end", func(r *livestat.UserDurationRequest) { r.UpdateTimeStart, r.UpdateTimeEnd = 200, 100 }, "UpdateTimeStart", true},
		{"negative time", func(r *livestat.UserDurationRequest) { r.UpdateTimeStart = -1 }, "UpdateTimeStart/UpdateTimeEnd", true},
		{"negative user", func(r *livestat.UserDurationRequest) { r.WeChatUserSpaceID = -1 }, "WeChatUserSpaceID", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := numberedNuoyun(t, 10, false)
			req := ok
			tt.edit(&req)

			_, err := c.Nuoyun.GetUserDurations(context.Background(), req)
			ve, isVE := errors.AsType[*livestat.ValidationError](err)
			require.True(t, isVE, "want *ValidationError, got %v", err)
			assert.Equal(t, tt.field, ve.Field)
			assert.ErrorIs(t, err, livestat.ErrInvalidArgument)
			assert.Zero(t, srv.TotalCalls(), "nothing is sent")

			_, iterErr := livestat.Collect(c.Nuoyun.UserDurations(context.Background(), req))
			_, pagesErr := livestat.Collect(c.Nuoyun.UserDurationPages(context.Background(), req))
			if tt.iter {
				assert.ErrorIs(t, iterErr, livestat.ErrInvalidArgument)
				assert.ErrorIs(t, pagesErr, livestat.ErrInvalidArgument)
				assert.Zero(t, srv.TotalCalls(), "nothing is sent")
			} else {
				assert.NoError(t, iterErr, "iterators default Page to 1 and PageSize to 500")
				assert.NoError(t, pagesErr)
			}
		})
	}
	t.Run("valid edges", func(t *testing.T) {
		_, c := numberedNuoyun(t, 10, false)
		for _, req := range []livestat.UserDurationRequest{
			{Page: 1, PageSize: 1}, {Page: 7, PageSize: 500, Sort: livestat.SortAsc},
			{Page: 1, PageSize: 10, UpdateTimeStart: 100, UpdateTimeEnd: 100},
			{Page: 1, PageSize: 10, UpdateTimeStart: 100}, // no end: unbounded
		} {
			_, err := c.Nuoyun.GetUserDurations(context.Background(), req)
			assert.NoError(t, err, "%+v", req)
		}
	})
	t.Run("options", func(t *testing.T) {
		for _, o := range []livestat.Option{livestat.WithNuoyunWorkers(0), livestat.WithNuoyunRateLimit(-1, time.Second), livestat.WithNuoyunRateLimit(10, 0)} {
			_, err := livestat.NewClient(o)
			assert.Error(t, err)
		}
	})
}

func TestNuoyunIteratesPagesInOrder(t *testing.T) {
	t.Parallel()
	for _, workers := range []int{1, 2, 4, 8} {
		t.Run(fmt.Sprint("workers=", workers), func(t *testing.T) {
			// 44 pages of 10, the last one partial; in memory, as it is quicker
			srv, c := numberedNuoyun(t, 431, true, livestat.WithNuoyunWorkers(workers))
			req := livestat.UserDurationRequest{PageSize: 10, Sort: livestat.SortAsc}
			var seqPages []int
			for p, err := range c.Nuoyun.UserDurationPages(context.Background(), req) {
				require.NoError(t, err)
				seqPages = append(seqPages, p.Page)
			}
			rows, err := livestat.Collect(c.Nuoyun.UserDurations(context.Background(), req))
			require.NoError(t, err)

			assert.Equal(t, seq(1, 431), userIDs(rows), "every row once, in page order")
			want := make([]int, 44)
			for i := range want {
				want[i] = i + 1
			}
			assert.Equal(t, want, seqPages)
			assert.ElementsMatch(t, slices.Concat(want, want), requestedPages(srv), "each page fetched once per pass, none past the last")
			assert.LessOrEqual(t, srv.MaxInFlight(nuoyunEP), workers, "never more requests in flight than workers")
			for _, b := range requestBodies(t, srv) {
				assert.Equal(t, 10.0, b["page_size"])
				assert.Equal(t, "asc", b["sort"])
			}
		})
	}
}

// With several workers, the pages after the first really are in flight
// together: pages 2..5 each take a second (on the bubble's clock), and the
// iteration takes one second, not four.
func TestNuoyunFetchesConcurrently(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv, c := numberedNuoyun(t, 1000, true, livestat.WithNuoyunWorkers(4))
		srv.Fail(livestattest.Fault{Endpoint: nuoyunEP, Times: -1, Delay: time.Second,
			When: func(r livestattest.Request) bool { return r.Page >= 2 && r.Page <= 5 }})
		start := time.Now()
		rows, err := livestat.Collect(c.Nuoyun.UserDurations(context.Background(), livestat.UserDurationRequest{PageSize: 100}))
		require.NoError(t, err)
		assert.Equal(t, seq(1, 1000), userIDs(rows))
		assert.Equal(t, 4, srv.MaxInFlight(nuoyunEP), "pages 2..5 in flight together")
		assert.Equal(t, time.Second, time.Since(start), "their delays overlap")
	})
}

// Memory stays bounded by the worker count: while the loop holds page 1,
// only the 4 following pages are fetched, however many there are.
func TestNuoyunReadAheadIsBounded(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv, c := numberedNuoyun(t, 50_000, true, livestat.WithNuoyunWorkers(4)) // 100 pages of 500
		n := 0
		for row, err := range c.Nuoyun.UserDurations(context.Background(), livestat.UserDurationRequest{}) {
			require.NoError(t, err)
			n++
			if row.WeChatUserSpaceID == 1 || row.WeChatUserSpaceID == 501 {
				synctest.Wait() // let every other goroutine run as far as it can
				if row.WeChatUserSpaceID == 1 {
					assert.Equal(t, []int{1, 2, 3, 4, 5}, slices.Sorted(slices.Values(requestedPages(srv))), "page 1 plus 4 ahead")
				} else {
					assert.Equal(t, []int{1, 2, 3, 4, 5, 6}, slices.Sorted(slices.Values(requestedPages(srv))), "one more page once page 2 is taken")
					break
				}
			}
		}
		assert.Equal(t, 501, n)
	})
}

// Breaking out of the loop cancels the requests in flight and leaves no
// goroutine behind: the pages after the first are held for an hour (on the
// bubble's clock), and the loop returns at once, the server's calls gone.
func TestNuoyunBreakCancelsOutstanding(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv, c := numberedNuoyun(t, 10_000, true, livestat.WithNuoyunWorkers(4))
		srv.Fail(livestattest.Fault{Endpoint: nuoyunEP, Times: -1, Delay: time.Hour,
			When: func(r livestattest.Request) bool { return r.Page > 1 }})
		start := time.Now()
		for row, err := range c.Nuoyun.UserDurations(context.Background(), livestat.UserDurationRequest{PageSize: 100}) {
			require.NoError(t, err)
			require.Equal(t, livestat.FlexInt(1), row.WeChatUserSpaceID)
			synctest.Wait()
			require.Equal(t, 4, srv.InFlight(nuoyunEP), "pages 2..5 are in flight")
			break
		}
		// The loop has returned: every request in flight was cancelled
		// (the server saw each go), and nothing more was asked.
		synctest.Wait()
		assert.Zero(t, srv.InFlight(nuoyunEP), "a request in flight was not cancelled")
		assert.Less(t, time.Since(start), time.Hour, "the loop did not wait for the held pages")
		assert.ElementsMatch(t, []int{1, 2, 3, 4, 5}, requestedPages(srv))
	})
}

func TestNuoyunContextCancel(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv, c := numberedNuoyun(t, 10_000, true, livestat.WithNuoyunWorkers(4))
		srv.Fail(livestattest.Fault{Endpoint: nuoyunEP, Times: -1, Delay: time.Hour,
			When: func(r livestattest.Request) bool { return r.Page > 2 }})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		start := time.Now()
		var rows int
		var gotErr error
		for row, err := range c.Nuoyun.UserDurations(ctx, livestat.UserDurationRequest{PageSize: 100}) {
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
		assert.Less(t, time.Since(start), time.Hour, "the held pages were given up")
	})
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
			// Pages 1 and 2 of 10 (the total says 1000 rows), then empty
			// pages.
			_, c := scriptedNuoyun(t, func(page int) string {
				if page < 3 {
					return nuoyunPage(1000, idRows((page-1)*100+1, page*100)...)
				}
				return nuoyunPage(tc.total)
			}, livestat.WithNuoyunWorkers(4))
			rows, err := livestat.Collect(c.Nuoyun.UserDurations(context.Background(), livestat.UserDurationRequest{PageSize: 100}))
			assert.Equal(t, seq(1, 200), userIDs(rows), "the rows before the empty page, once")
			var pe *livestat.PaginationError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, 3, pe.Page)
			assert.Equal(t, tc.reason, pe.Reason)
		})
	}
}

func TestNuoyunMaxPagesWithReadAhead(t *testing.T) {
	t.Parallel()
	srv, c := numberedNuoyun(t, 1000, false, livestat.WithNuoyunWorkers(4), livestat.WithMaxPages(3))
	rows, err := livestat.Collect(c.Nuoyun.UserDurations(context.Background(), livestat.UserDurationRequest{PageSize: 100}))
	assert.ErrorIs(t, err, livestat.ErrPagination)
	assert.Equal(t, seq(1, 300), userIDs(rows))
	assert.ElementsMatch(t, []int{1, 2, 3}, requestedPages(srv), "the read-ahead respects the page cap")
}

func TestNuoyunResumesFromPage(t *testing.T) {
	t.Parallel()
	srv, c := numberedNuoyun(t, 1000, false, livestat.WithNuoyunWorkers(3))
	rows, err := livestat.Collect(c.Nuoyun.UserDurations(context.Background(), livestat.UserDurationRequest{Page: 7, PageSize: 100}))
	require.NoError(t, err)
	assert.Equal(t, seq(601, 1000), userIDs(rows))
	assert.ElementsMatch(t, []int{7, 8, 9, 10}, requestedPages(srv))
}

func TestNuoyunSnapshot(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		// The fake clock starts at 2000-01-01 00:00:00 UTC.
		start := time.Now().Unix()
		const total = 450
		// Every call takes 3 s, so the clock moves during the iteration;
		// page 2 repeats the last row of page 1, as when a row moves
		// between the two requests. The server's own update-time filter
		// is not what this is about: the reply is scripted.
		srv := livestattest.NewServer(t, livestattest.Options{InMemory: true, Faults: []livestattest.Fault{{
			Endpoint: nuoyunEP, Times: -1, Delay: 3 * time.Second,
			Edit: func(r livestattest.Request, _ []byte) []byte {
				var req struct {
					PageSize int `json:"page_size"`
				}
				if err := json.Unmarshal(r.Body, &req); err != nil || req.PageSize < 1 {
					return []byte(`{"code":400,"msg":"page_size","data":{}}`)
				}
				from := (r.Page-1)*req.PageSize + 1
				if r.Page == 2 {
					from--
				}
				return []byte(nuoyunPage(total, idRows(from, min(total, r.Page*req.PageSize))...))
			},
		}}})
		c := srv.Client(livestat.WithNuoyunRateLimit(0, 0), livestat.WithNuoyunWorkers(2))

		rows, err := livestat.Collect(c.Nuoyun.UserDurations(context.Background(), livestat.UserDurationRequest{PageSize: 100, UpdateTimeStart: 5}))
		require.NoError(t, err)
		assert.Equal(t, seq(1, total), userIDs(rows), "the repeated row is dropped")
		bodies := requestBodies(t, srv)
		require.Len(t, bodies, 5)
		for _, b := range bodies {
			assert.Equal(t, float64(start), b["update_time_end"], "every page pinned to the start of the iteration")
			assert.Equal(t, 5.0, b["update_time_start"])
		}

		// The page iterator drops it too; a second pass pins a new time.
		var pageLens []int
		for p, err := range c.Nuoyun.UserDurationPages(context.Background(), livestat.UserDurationRequest{PageSize: 100}) {
			require.NoError(t, err)
			pageLens = append(pageLens, len(p.Data.List))
		}
		assert.Equal(t, []int{100, 100, 100, 100, 50}, pageLens)
		bodies = requestBodies(t, srv)[5:]
		assert.Greater(t, bodies[0]["update_time_end"], float64(start))

		// An explicit end is kept.
		_, err = livestat.Collect(c.Nuoyun.UserDurations(context.Background(), livestat.UserDurationRequest{PageSize: 500, UpdateTimeEnd: 1234}))
		require.NoError(t, err)
		bodies = requestBodies(t, srv)
		assert.Equal(t, 1234.0, bodies[len(bodies)-1]["update_time_end"])
	})
}

func TestNuoyunShortPagesAreAnErrorNotASilentLoss(t *testing.T) {
	t.Parallel()
	// The server quietly caps pages at 200 rows while the total says 2000:
	// finishing "successfully" with 800 rows would lose 1200.
	_, c := scriptedNuoyun(t, func(page int) string {
		from := (page-1)*500 + 1
		return nuoyunPage(2000, idRows(from, from+199)...)
	})
	rows, err := livestat.Collect(c.Nuoyun.UserDurations(context.Background(), livestat.UserDurationRequest{PageSize: 500}))
	var pe *livestat.PaginationError
	require.ErrorAs(t, err, &pe)
	assert.Contains(t, pe.Reason, "reported 2000 rows but served 800")
	assert.Less(t, len(rows), 2000)
}

func TestNuoyunDuplicateFilterIsBoundedToTwoPages(t *testing.T) {
	t.Parallel()
	// A row that repeats on the next page is dropped; the filter keeps the
	// keys of two pages only, so memory does not grow with the rows.
	_, c := scriptedNuoyun(t, func(page int) string {
		if page < 1 || page > 3 {
			return nuoyunPage(30)
		}
		rows := idRows((page-1)*10+1, page*10)
		if page == 2 {
			rows = append(idRows(10, 10), rows...) // the last row of page 1 again
		}
		return nuoyunPage(30, rows...)
	}, livestat.WithNuoyunWorkers(1))
	rows, err := livestat.Collect(c.Nuoyun.UserDurations(context.Background(), livestat.UserDurationRequest{PageSize: 10}))
	require.NoError(t, err)
	assert.Len(t, rows, 30, "every row once: the repeat on page 2 is dropped")
	seen := map[int64]bool{}
	for _, r := range rows {
		assert.False(t, seen[int64(r.WeChatUserSpaceID)], "row %d doubled", r.WeChatUserSpaceID)
		seen[int64(r.WeChatUserSpaceID)] = true
	}
}
