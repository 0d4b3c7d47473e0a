package livestat

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readAheadPlan: which pages an iteration over numbered pages fetches
// ahead, from the first page's count, within the page cap.
func TestReadAheadPlan(t *testing.T) {
	t.Parallel()
	lastPage := func(n int) func(int) int { return func(int) int { return n } }
	for _, tc := range []struct {
		name                                  string
		first, workers, lastOfAll, maxPages   int
		wantLast                              int
		wantAtFirst, wantAtSecond, wantAtLast int
	}{
		{"from page 1", 1, 4, 10, 100, 10, 1, 2, 10},
		{"from page 3: 8 pages", 3, 4, 10, 100, 8, 3, 4, 10},
		{"capped by the page cap", 1, 4, 10, 5, 5, 1, 2, 5},
		{"one page: nothing ahead", 1, 4, 1, 100, 0, 1, 2, 0},
		{"one worker: nothing ahead", 1, 1, 10, 100, 0, 1, 2, 0},
		{"started past the last page", 12, 4, 10, 100, 0, 12, 13, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := numberedReadAhead(tc.first, tc.workers, lastPage(tc.lastOfAll))
			last := p.last(0, tc.maxPages)
			assert.Equal(t, tc.wantLast, last)
			assert.Equal(t, tc.wantAtFirst, p.at(1))
			assert.Equal(t, tc.wantAtSecond, p.at(2))
			if last > 0 {
				assert.Equal(t, tc.wantAtLast, p.at(last), "the last page fetched ahead is the iteration's last")
			}
		})
	}
	var none *readAheadPlan[int, int]
	assert.Zero(t, none.last(0, 100), "no plan, nothing ahead")
}

func snapPage(n, size int, total int64, rows ...UserDuration) *UserDurationPage {
	p := &UserDurationPage{Page: n, PageSize: size}
	p.Data.Total = RowCount(total)
	p.Data.List = rows
	return p
}

func snapRow(id int64) UserDuration {
	return UserDuration{RoomID: 1, WeChatUserSpaceID: FlexInt(id), StayDuration: Seconds(id)}
}

// durationTally drops the exact repeats of the previous page's rows, keeps
// repeats within a page, and fails a pass that cannot be complete.
func TestDurationTally(t *testing.T) {
	t.Parallel()
	t.Run("a row shifted onto the next page is dropped once", func(t *testing.T) {
		d := newDurationTally(1, 2)
		p1 := snapPage(1, 2, 4, snapRow(1), snapRow(2))
		require.NoError(t, d.page(p1))
		p2 := snapPage(2, 2, 4, snapRow(2), snapRow(3))
		err := d.page(p2)
		assert.Equal(t, []UserDuration{snapRow(3)}, p2.Data.List)
		var pe *PaginationError
		require.True(t, errors.As(err, &pe), "4 rows reported, 3 served: %v", err)
		assert.Contains(t, pe.Reason, "repeated 1")
	})
	t.Run("identical rows within a page are rows of their own", func(t *testing.T) {
		d := newDurationTally(1, 3)
		p1 := snapPage(1, 3, 3, snapRow(1), snapRow(1), snapRow(2))
		require.NoError(t, d.page(p1))
		assert.Len(t, p1.Data.List, 3)
	})
	t.Run("a row repeated once more than the page before held it is kept", func(t *testing.T) {
		d := newDurationTally(1, 2)
		require.NoError(t, d.page(snapPage(1, 2, 5, snapRow(1), snapRow(2))))
		p2 := snapPage(2, 2, 5, snapRow(1), snapRow(1))
		require.NoError(t, d.page(p2))
		assert.Equal(t, []UserDuration{snapRow(1)}, p2.Data.List)
	})
	t.Run("a page of only repeats", func(t *testing.T) {
		d := newDurationTally(1, 2)
		require.NoError(t, d.page(snapPage(1, 2, 6, snapRow(1), snapRow(2))))
		err := d.page(snapPage(2, 2, 6, snapRow(1), snapRow(2)))
		assert.ErrorIs(t, err, ErrPagination)
		assert.ErrorContains(t, err, "only rows of earlier pages")
	})
	t.Run("an empty page where the total says rows remain", func(t *testing.T) {
		d := newDurationTally(1, 2)
		assert.ErrorContains(t, d.page(snapPage(1, 2, 3)), "the total (3) says rows remain")
		assert.NoError(t, newDurationTally(1, 2).page(snapPage(3, 2, 4)), "past the total: the end")
	})
	t.Run("complete from a later first page", func(t *testing.T) {
		d := newDurationTally(2, 2)
		assert.NoError(t, d.page(snapPage(2, 2, 4, snapRow(3), snapRow(4))))
	})
	t.Run("short last page", func(t *testing.T) {
		d := newDurationTally(1, 2)
		require.NoError(t, d.page(snapPage(1, 2, 3, snapRow(1), snapRow(2))))
		// Page 2 should hold one row: none of page 1 comes back and the
		// total is met, so it passes; with page 1 cut short it would not.
		assert.NoError(t, d.page(snapPage(2, 2, 3, snapRow(3))))
		d = newDurationTally(1, 2)
		require.NoError(t, d.page(snapPage(1, 2, 4, snapRow(1), snapRow(2))))
		assert.ErrorContains(t, d.page(snapPage(2, 2, 4, snapRow(3))), "reported 4 rows but served 3")
	})
}
