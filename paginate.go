package livestat

import (
	"context"
	"fmt"
	"iter"
)

// This file holds livestat's only paging loop. Each endpoint describes its
// style as a pager (how to fetch the page at a cursor, how to read the next
// cursor from a reply, how to list a reply's rows); the engine does the rest:
// guards, the page cap, context checks, and the item layer.

// pager describes one paged endpoint. C is the cursor type: a string for
// WeCom's next_key and next_cursor, a page number for Nuoyun.
//
// A pager is a value: iterators copy it, so ranging twice starts again from
// start, and nothing a loop does changes what the next loop sees.
type pager[C comparable, P, T any] struct {
	endpoint string
	start    C
	// fetch sends one request for the page at cursor. It is the place of
	// retries and the token replay, so a failed page is fetched again with
	// the same cursor and the engine only advances after a success.
	fetch func(ctx context.Context, cursor C) (P, error)
	// next reads the following cursor from the page fetched at cursor;
	// more is false on the last page.
	next func(cursor C, page P) (nextCursor C, more bool)
	// rows pushes the page's rows to yield, in order, and reports whether
	// yield always returned true.
	rows     func(page P, yield func(T) bool) bool
	maxPages int
}

// pages iterates over whole pages. It sends no request until the loop
// starts, checks ctx before each page, yields an error at most once and then
// stops, and stops fetching as soon as the loop breaks.
func (p pager[C, P, T]) pages(ctx context.Context) iter.Seq2[P, error] {
	return func(yield func(P, error) bool) {
		var zeroP P
		var zeroC C
		cursor := p.start
		seen := map[C]struct{}{cursor: {}}
		for n := 1; ; n++ {
			if err := ctx.Err(); err != nil {
				yield(zeroP, err)
				return
			}
			if n > p.maxPages {
				yield(zeroP, &PaginationError{Endpoint: p.endpoint, Page: n, Reason: fmt.Sprintf("more than %d pages (see WithMaxPages)", p.maxPages)})
				return
			}
			page, err := p.fetch(ctx, cursor)
			if err != nil {
				yield(zeroP, err)
				return
			}
			next, more := p.next(cursor, page)
			if !yield(page, nil) || !more {
				return
			}
			// Guards against a server that would keep us looping.
			if next == zeroC {
				yield(zeroP, &PaginationError{Endpoint: p.endpoint, Page: n, Reason: "server said there is more but sent no cursor"})
				return
			}
			if _, dup := seen[next]; dup {
				yield(zeroP, &PaginationError{Endpoint: p.endpoint, Page: n, Cursor: fmt.Sprint(next), Reason: "server repeated a cursor"})
				return
			}
			seen[next] = struct{}{}
			cursor = next
		}
	}
}

// items iterates over the rows of every page, in order.
func (p pager[C, P, T]) items(ctx context.Context) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for page, err := range p.pages(ctx) {
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			if !p.rows(page, func(t T) bool { return yield(t, nil) }) {
				return
			}
		}
	}
}

// Collect drains an iterator into a slice. On error it returns the rows
// collected so far together with the error: a non-nil error always means
// the result is incomplete.
func Collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}
