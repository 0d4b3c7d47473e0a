package livestat_test

import (
	"context"
	"testing"

	"github.com/livestat/livestat"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// What an iteration drops: only a row that repeats, in every field, a row
// of the previous page; never rows that merely share ids. Replies scripted
// on livestattest.

// The repro of the issue: three viewers of room 1 whose ids read as 0.
func TestNuoyunRowsWithoutViewerIDAreAllYielded(t *testing.T) {
	t.Parallel()
	page := []string{
		`{"room_id":1,"wechat_user_space_id":0,"wechat_user_name":"a","stay_duration":10}`,
		`{"room_id":1,"wechat_user_space_id":"","wechat_user_name":"b","stay_duration":20}`,
		`{"room_id":1,"wechat_user_name":"c","stay_duration":30}`,
	}
	for _, workers := range []int{1, 4} {
		_, c := scriptedNuoyun(t, nuoyunPages(3, page), livestat.WithNuoyunWorkers(workers))
		rows, err := livestat.Collect(c.Nuoyun.UserDurations(context.Background(), livestat.UserDurationRequest{}))
		require.NoError(t, err)
		var names []string
		for _, r := range rows {
			names = append(names, r.WeChatUserName)
		}
		assert.Equal(t, []string{"a", "b", "c"}, names, "ids 0, \"\" and absent are no reason to drop a row")

		var pageRows int
		for p, err := range c.Nuoyun.UserDurationPages(context.Background(), livestat.UserDurationRequest{}) {
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
	_, c := scriptedNuoyun(t, nuoyunPages(5, pages...), livestat.WithNuoyunWorkers(1))
	rows, err := livestat.Collect(c.Nuoyun.UserDurations(context.Background(), livestat.UserDurationRequest{PageSize: 2}))
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
	_, c := scriptedNuoyun(t, nuoyunPages(7,
		[]string{row(1, "a"), twin, twin},              // two identical rows on one page: both are rows
		[]string{twin, twin, row(3, "c"), row(4, "d")}, // both repeated, then the page's own rows
		[]string{row(4, "d"), row(5, "e"), row(6, "f")},
	), livestat.WithNuoyunWorkers(1))
	rows, err := livestat.Collect(c.Nuoyun.UserDurations(context.Background(), livestat.UserDurationRequest{PageSize: 3}))
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
	_, c := scriptedNuoyun(t, nuoyunPages(6, []string{row(1), row(2), row(3)}, []string{row(3), row(4), row(5)}), livestat.WithNuoyunWorkers(2))
	rows, err := livestat.Collect(c.Nuoyun.UserDurations(context.Background(), livestat.UserDurationRequest{PageSize: 3}))
	var pe *livestat.PaginationError
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
	_, c := scriptedNuoyun(t, nuoyunPages(9, first, first, first), livestat.WithNuoyunWorkers(1))
	rows, err := livestat.Collect(c.Nuoyun.UserDurations(context.Background(), livestat.UserDurationRequest{PageSize: 3}))
	var pe *livestat.PaginationError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "the page holds only rows of earlier pages", pe.Reason)
	assert.Equal(t, []int64{1, 2, 3}, userIDs(rows))
}
