package livestat

import (
	"context"
	"hash/maphash"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// What an iteration drops: only a row that repeats, in every field, a row
// of the previous page; never rows that merely share ids.

// nuoyunPage is a success reply holding rows, given as JSON objects.
func nuoyunPage(total int, rows ...string) string {
	return `{"code":200,"msg":"Success","data":{"total":` + itoa(total) + `,"list":[` + strings.Join(rows, ",") + `]}}`
}

func itoa(n int) string { return strconv.Itoa(n) }

// servePages answers page n with pages[n-1] (an empty page past the end).
func servePages(t *testing.T, mt *httpmock.MockTransport, total int, pages ...[]string) *nuoyunFake {
	t.Helper()
	f := serveNuoyun(mt, total)
	f.hook = func(_ *http.Request, page int) (*http.Response, error) {
		var rows []string
		if page >= 1 && page <= len(pages) {
			rows = pages[page-1]
		}
		return httpmock.NewStringResponse(200, nuoyunPage(total, rows...)), nil
	}
	return f
}

// The repro of the issue: three viewers of room 1 whose ids read as 0.
func TestNuoyunRowsWithoutViewerIDAreAllYielded(t *testing.T) {
	t.Parallel()
	page := []string{
		`{"room_id":1,"wechat_user_space_id":0,"wechat_user_name":"a","stay_duration":10}`,
		`{"room_id":1,"wechat_user_space_id":"","wechat_user_name":"b","stay_duration":20}`,
		`{"room_id":1,"wechat_user_name":"c","stay_duration":30}`,
	}
	for _, workers := range []int{1, 4} {
		c, mt := newNuoyunClient(t, WithNuoyunWorkers(workers))
		servePages(t, mt, 3, page)
		rows, err := Collect(c.Nuoyun.UserDurations(context.Background(), UserDurationRequest{}))
		require.NoError(t, err)
		var names []string
		for _, r := range rows {
			names = append(names, r.WeChatUserName)
		}
		assert.Equal(t, []string{"a", "b", "c"}, names, "ids 0, \"\" and absent are no reason to drop a row")

		var pageRows int
		for p, err := range c.Nuoyun.UserDurationPages(context.Background(), UserDurationRequest{}) {
			require.NoError(t, err)
			pageRows += len(p.Data.List)
		}
		assert.Equal(t, 3, pageRows, "the page iterator keeps them too")
	}
}

// One viewer, one room, several rounds: rows sharing (room, viewer) that
// differ in their round figures are distinct rows, on one page and across
// a page boundary.
func TestNuoyunRoundsOfOneViewerAreAllYielded(t *testing.T) {
	t.Parallel()
	round := func(stay, live int, first, last string) string {
		return `{"room_id":1248039790,"wechat_user_space_id":20401797,"wechat_user_name":":)","stay_duration":` + itoa(stay) +
			`,"live_duration":` + itoa(live) + `,"playback_duration":` + itoa(stay-live) +
			`,"first_visit_time":"` + first + `","last_visit_time":"` + last + `","device":"iOS"}`
	}
	pages := [][]string{
		{round(392, 392, "2025-09-16 15:06:06", "2025-09-16 15:12:38"), round(461, 0, "2025-09-17 15:34:51", "2025-09-17 15:42:32")},
		{round(6413, 6000, "2025-10-28 10:00:00", "2025-10-28 11:36:03"), round(10, 10, "2025-10-29 09:00:00", "2025-10-29 09:00:10")},
		{round(392, 392, "2025-09-16 15:06:06", "2025-09-16 15:12:39")}, // one second apart from page 1's first
	}
	c, mt := newNuoyunClient(t, WithNuoyunWorkers(1))
	servePages(t, mt, 5, pages...)
	rows, err := Collect(c.Nuoyun.UserDurations(context.Background(), UserDurationRequest{PageSize: 2}))
	require.NoError(t, err)
	var stays []int64
	for _, r := range rows {
		stays = append(stays, int64(r.StayDuration))
	}
	assert.Equal(t, []int64{392, 461, 6413, 10, 392}, stays, "every round once, in order")
}

// A row that a page shift repeats comes back identical on the next page:
// it is dropped, as many times as the page before held it, and the rows
// yielded still make the total.
func TestNuoyunExactRepeatsOfThePageBeforeAreDropped(t *testing.T) {
	t.Parallel()
	row := func(id int, name string) string {
		return `{"room_id":7,"wechat_user_space_id":` + itoa(id) + `,"wechat_user_name":"` + name + `","device":"iOS"}`
	}
	twin := row(2, "twin")
	c, mt := newNuoyunClient(t, WithNuoyunWorkers(1))
	servePages(t, mt, 7,
		[]string{row(1, "a"), twin, twin},              // two identical rows on one page: both are rows
		[]string{twin, twin, row(3, "c"), row(4, "d")}, // both repeated, then the page's own rows
		[]string{row(4, "d"), row(5, "e"), row(6, "f")},
	)
	rows, err := Collect(c.Nuoyun.UserDurations(context.Background(), UserDurationRequest{PageSize: 3}))
	require.NoError(t, err)
	var names []string
	for _, r := range rows {
		names = append(names, r.WeChatUserName)
	}
	assert.Equal(t, []string{"a", "twin", "twin", "c", "d", "e", "f"}, names)
}

// A repeat does not count towards the total: in pages of a fixed size, the
// row served twice pushed another one out of the pages served. Here row 6
// moved to the front after page 1 was read: row 3 comes again on page 2,
// and row 6 is never served. (Two rows equal in every field on both sides
// of a boundary look the same, and end the same way: with an error, not a
// quiet loss.)
func TestNuoyunRepeatThatDisplacesARowIsAnError(t *testing.T) {
	t.Parallel()
	row := func(id int) string { return `{"room_id":7,"wechat_user_space_id":` + itoa(id) + `}` }
	c, mt := newNuoyunClient(t, WithNuoyunWorkers(2))
	servePages(t, mt, 6, []string{row(1), row(2), row(3)}, []string{row(3), row(4), row(5)})
	rows, err := Collect(c.Nuoyun.UserDurations(context.Background(), UserDurationRequest{PageSize: 3}))
	var pe *PaginationError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 2, pe.Page)
	assert.Equal(t, "the server reported 6 rows but served 5 and repeated 1 (rows moved between pages during the iteration)", pe.Reason)
	assert.Equal(t, []int64{1, 2, 3}, userIDs(rows), "the rows of page 1, then the error")
}

// A server that ignores the page number serves page 1 again: a page that
// holds only rows of the page before is an error, not the end.
func TestNuoyunPageOfOnlyRepeatsIsAnError(t *testing.T) {
	t.Parallel()
	row := func(id int) string { return `{"room_id":7,"wechat_user_space_id":` + itoa(id) + `}` }
	first := []string{row(1), row(2), row(3)}
	c, mt := newNuoyunClient(t, WithNuoyunWorkers(1))
	servePages(t, mt, 9, first, first, first)
	rows, err := Collect(c.Nuoyun.UserDurations(context.Background(), UserDurationRequest{PageSize: 3}))
	var pe *PaginationError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "the page holds only rows of earlier pages", pe.Reason)
	assert.Equal(t, []int64{1, 2, 3}, userIDs(rows))
}

// The hash of a rowSet only narrows the search: rows that differ in a field
// it skips are still told apart, and equal rows are counted.
func TestNuoyunRowSetComparesWholeRows(t *testing.T) {
	t.Parallel()
	s := newRowSet(maphash.MakeSeed())
	a := UserDuration{RoomID: 1, WeChatUserSpaceID: 2, IP: "10.0.0.1"}
	b := a
	b.IP = "10.0.0.2" // the hash skips IP: a and b collide
	c := a
	c.Device = deviceOf(DeviceIOS)
	require.Equal(t, s.hash(&a), s.hash(&b))
	for _, r := range []UserDuration{a, a, b} {
		s.add(&r)
	}
	assert.False(t, s.take(&c), "never added")
	assert.True(t, s.take(&b))
	assert.False(t, s.take(&b), "added once, taken once")
	assert.True(t, s.take(&a))
	assert.True(t, s.take(&a), "added twice")
	assert.False(t, s.take(&a))

	s.reset()
	assert.False(t, s.take(&a), "empty after reset")
	s.add(&c)
	assert.True(t, s.take(&c))
}
