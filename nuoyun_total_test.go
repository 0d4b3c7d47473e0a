package livestat_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/livestat/livestat"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// What an iteration guarantees about data.total: the total is the same on
// every page, the rows yielded make it exactly, and a total that is absent,
// null or not a count is an error naming the field, while 0 is an empty
// result.

// totalPage is one reply: data.total as raw JSON ("" leaves it out) and the
// rows.
type totalPage struct {
	total string
	rows  []string
}

// totalPages answers page n with pages[n-1], and an empty page with the
// last page's total past the end.
func totalPages(pages ...totalPage) func(int) string {
	return func(page int) string {
		p := totalPage{total: pages[len(pages)-1].total}
		if page >= 1 && page <= len(pages) {
			p = pages[page-1]
		}
		data := `"list":[` + strings.Join(p.rows, ",") + `]`
		if p.total != "" {
			data = `"total":` + p.total + `,` + data
		}
		return `{"code":200,"msg":"Success","data":{` + data + `}}`
	}
}

// A row added or removed while the iteration runs changes the total: the
// pages no longer line up, so a row may have been skipped or served twice.
// The iteration ends with a *PaginationError naming both totals and the
// page, after the rows of the pages before it: never a partial result
// reported as complete.
func TestNuoyunTotalChangeIsAnError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		pages  []totalPage
		page   int     // the page the error names
		before []int64 // the rows yielded before the error
		reason string
	}{
		{"a row added after page 1", []totalPage{{"6", idRows(1, 3)}, {"7", idRows(4, 6)}, {"7", idRows(7, 7)}},
			2, seq(1, 3), "the total changed from 6 (page 1) to 7 (page 2): rows were added or removed during the iteration"},
		{"a row removed after page 1 (the last page comes short)", []totalPage{{"7", idRows(1, 3)}, {"6", idRows(5, 7)}},
			2, seq(1, 3), "the total changed from 7 (page 1) to 6 (page 2): rows were added or removed during the iteration"},
		{"a row removed before the last page", []totalPage{{"7", idRows(1, 3)}, {"7", idRows(4, 6)}, {"6", nil}},
			3, seq(1, 6), "the total changed from 7 (page 1) to 6 (page 3): rows were added or removed during the iteration"},
		{"the total shrinks to what was read (an empty page)", []totalPage{{"9", idRows(1, 3)}, {"9", idRows(4, 6)}, {"6", nil}},
			3, seq(1, 6), "the total changed from 9 (page 1) to 6 (page 3): rows were added or removed during the iteration"},
		{"rows removed and as many added", []totalPage{{"6", idRows(1, 3)}, {"5", idRows(4, 5)}, {"6", idRows(6, 6)}},
			2, seq(1, 3), "the total changed from 6 (page 1) to 5 (page 2): rows were added or removed during the iteration"},
	} {
		for _, workers := range []int{1, 4} {
			t.Run(fmt.Sprintf("%s/%d workers", tc.name, workers), func(t *testing.T) {
				_, c := scriptedNuoyun(t, totalPages(tc.pages...), livestat.WithNuoyunWorkers(workers))
				rows, err := livestat.Collect(c.Nuoyun.UserDurations(context.Background(), livestat.UserDurationRequest{PageSize: 3}))
				var pe *livestat.PaginationError
				require.ErrorAs(t, err, &pe, "rows: %v", userIDs(rows))
				assert.Equal(t, tc.page, pe.Page)
				assert.Equal(t, tc.reason, pe.Reason)
				assert.Equal(t, tc.before, userIDs(rows), "the rows of the pages before, once")

				// The page iterator, and so the CLI, ends the same way.
				var pages []int
				var perr error
				for p, err := range c.Nuoyun.UserDurationPages(context.Background(), livestat.UserDurationRequest{PageSize: 3}) {
					if err != nil {
						perr = err
						break
					}
					pages = append(pages, p.Page)
				}
				require.ErrorAs(t, perr, &pe)
				assert.Equal(t, tc.page-1, len(pages), "no page from the changed one on")
			})
		}
	}
}

// The last page must hold exactly the rows the total leaves for it, no
// more: rows past the total are rows the server did not count (an extra or
// doubled row), not a complete result. And no page may bring more new rows
// than page_size asked for.
func TestNuoyunRowCountMustMatchTheTotalExactly(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		pages  []totalPage
		page   int
		reason string
	}{
		{"a row more on the last page", []totalPage{{"5", idRows(1, 3)}, {"5", idRows(4, 6)}},
			2, "the server reported 5 rows but served 6"},
		{"rows on a single page past its total", []totalPage{{"2", idRows(1, 3)}},
			1, "the server reported 2 rows but served 3"},
		{"rows with a total of 0", []totalPage{{"0", idRows(1, 1)}},
			1, "the server reported 0 rows but served 1"},
		{"more rows than page_size on a page", []totalPage{{"8", idRows(1, 4)}, {"8", idRows(5, 7)}, {"8", idRows(8, 8)}},
			1, "the page holds 4 new rows, more than the page_size of 3 asked for"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, c := scriptedNuoyun(t, totalPages(tc.pages...), livestat.WithNuoyunWorkers(1))
			rows, err := livestat.Collect(c.Nuoyun.UserDurations(context.Background(), livestat.UserDurationRequest{PageSize: 3}))
			var pe *livestat.PaginationError
			require.ErrorAs(t, err, &pe, "rows: %v", userIDs(rows))
			assert.Equal(t, tc.page, pe.Page)
			assert.Equal(t, tc.reason, pe.Reason)
			assert.Len(t, rows, 3*(tc.page-1), "no row of the failing page")
		})
	}
}

// data.total: 0 is an empty room; absent, null or not a count is an error
// naming the field, on the first page and on a later one, and not retried.
func TestNuoyunTotalAbsentZeroWrongType(t *testing.T) {
	t.Parallel()
	t.Run("zero is an empty result", func(t *testing.T) {
		for _, total := range []string{`0`, `"0"`} {
			srv, c := scriptedNuoyun(t, totalPages(totalPage{total, nil}))
			rows, err := livestat.Collect(c.Nuoyun.UserDurations(context.Background(), livestat.UserDurationRequest{}))
			require.NoError(t, err, total)
			assert.Empty(t, rows)
			assert.Equal(t, []int{1}, requestedPages(srv))
		}
	})
	t.Run("a numeric string counts", func(t *testing.T) {
		_, c := scriptedNuoyun(t, totalPages(totalPage{`"3"`, idRows(1, 3)}))
		rows, err := livestat.Collect(c.Nuoyun.UserDurations(context.Background(), livestat.UserDurationRequest{}))
		require.NoError(t, err)
		assert.Equal(t, seq(1, 3), userIDs(rows))
	})
	for _, tc := range []struct{ total, want string }{
		{"", "no data.total field"},
		{`null`, "no data.total field"},
		{`""`, "data.total: want a non-negative integer"},
		{`"abc"`, "data.total: want a non-negative integer"},
		{`"-3"`, "data.total: want a non-negative integer"},
		{`-3`, "data.total: want a non-negative integer"},
		{`3.5`, "data.total: want a non-negative integer"},
		{`1e2`, "data.total: want a non-negative integer"},
		{`true`, "data.total: want a non-negative integer"},
		{`{}`, "data.total: want a non-negative integer"},
		{`[]`, "data.total: want a non-negative integer"},
		{`-2147483648`, "data.total: want a non-negative integer"},
	} {
		for _, page := range []int{1, 2} {
			t.Run(fmt.Sprintf("total %s on page %d", tc.total, page), func(t *testing.T) {
				pages := []totalPage{{"6", idRows(1, 3)}, {"6", idRows(4, 6)}}
				pages[page-1].total = tc.total
				srv, c := scriptedNuoyun(t, totalPages(pages...), livestat.WithNuoyunWorkers(1))
				rows, err := livestat.Collect(c.Nuoyun.UserDurations(context.Background(), livestat.UserDurationRequest{PageSize: 3}))
				require.Error(t, err, "rows: %v", userIDs(rows))
				re, ok := errors.AsType[*livestat.ResponseError](err)
				require.True(t, ok, "want a *ResponseError, got %T: %v", err, err)
				assert.Equal(t, "wrong shape", re.Reason)
				assert.ErrorContains(t, err, tc.want)
				assert.False(t, livestat.IsRetryable(err), "asking again does not change the shape")
				assert.Len(t, requestedPages(srv), page, "one request for the page, no retries")
				assert.Len(t, rows, 3*(page-1), "the rows of the pages before")
			})
		}
	}
}
