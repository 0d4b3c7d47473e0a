package livestat

import (
	"context"
	"fmt"
	"iter"
	"sync"
)

// This file holds livestat's only paging loop. Each endpoint describes its
// style as a pager (how to fetch the page at a cursor, how to read the next
// cursor from a reply, how to list a reply's rows); the engine does the rest:
// guards, the page cap, context checks, and the item layer.

// pager describes one paged endpoint. C is the cursor type: a string for
// opaque cursors, an int for numbered pages.
//
// A pager is a value: iterators copy it, so ranging twice starts again from
// start, and nothing a loop does changes what the next loop sees.
type pager[C comparable, P, T any] struct {
	endpoint Endpoint
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

	// onPage, if set, runs on each page in page order, after next has read
	// it and before it is yielded: the place for per-iteration bookkeeping
	// such as dropping rows an earlier page already produced. An error from
	// it (a page that breaks the endpoint's protocol in a way only the
	// iteration's state shows) ends the iteration as a failed fetch does.
	onPage func(page P) error

	// readAhead, if set, fetches numbered pages ahead of the loop.
	readAhead *readAheadPlan[C, P]
}

// readAheadPlan lets an iteration over numbered pages fetch them ahead of
// the loop: once the first page tells how many pages there are, the engine
// keeps up to workers of the following pages in flight while the loop still
// yields pages strictly in order. Everything else — next, the guards, the
// page cap, the error handling — is the same as without read-ahead: fetched
// pages only replace the loop's own fetch when their cursor is the one the
// loop asks for.
type readAheadPlan[C comparable, P any] struct {
	// at returns the cursor of the n-th page of the iteration (at(1) is
	// the pager's start).
	at func(n int) C
	// count returns how many pages the iteration has, the first included,
	// as the first page tells.
	count   func(first P) int
	workers int
}

// last returns the number of the last page to fetch ahead after first, the
// iteration's first page, within the page cap; 0 when nothing is to be
// fetched ahead. A nil plan fetches nothing ahead.
func (r *readAheadPlan[C, P]) last(first P, maxPages int) int {
	if r == nil || r.workers < 2 {
		return 0
	}
	if n := min(r.count(first), maxPages); n >= 2 {
		return n
	}
	return 0
}

// numberedReadAhead is the plan of pages numbered from first on, whose
// first page tells the number of the last (lastPage).
func numberedReadAhead[P any](first, workers int, lastPage func(P) int) *readAheadPlan[int, P] {
	return &readAheadPlan[int, P]{
		at:      func(n int) int { return first + n - 1 },
		count:   func(p P) int { return lastPage(p) - first + 1 },
		workers: workers,
	}
}

// pages iterates over whole pages. It sends no request until the loop
// starts, checks ctx before each page, yields an error at most once and then
// stops, and stops fetching as soon as the loop breaks: read-ahead requests
// still in flight are cancelled and waited for before it returns.
func (p pager[C, P, T]) pages(ctx context.Context) iter.Seq2[P, error] {
	return func(yield func(P, error) bool) {
		var zeroP P
		var zeroC C
		var ra *readAhead[C, P]
		// However the loop ends, no read-ahead request outlives it.
		defer func() { ra.stop() }()
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
			page, err := ra.take(ctx, n, cursor, p.fetch)
			if err != nil {
				yield(zeroP, err)
				return
			}
			next, more := p.next(cursor, page)
			if n == 1 && more {
				ra = p.startReadAhead(ctx, page)
			}
			if p.onPage != nil {
				if err := p.onPage(page); err != nil {
					yield(zeroP, err)
					return
				}
			}
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

// startReadAhead begins fetching pages 2..last of the iteration, as its
// plan says, with at most workers requests in flight; nil when the plan
// fetches nothing ahead.
func (p pager[C, P, T]) startReadAhead(ctx context.Context, first P) *readAhead[C, P] {
	last := p.readAhead.last(first, p.maxPages)
	if last == 0 {
		return nil
	}
	rctx, cancel := context.WithCancel(ctx)
	ra := &readAhead[C, P]{ctx: rctx, cancel: cancel, fetch: p.fetch, at: p.readAhead.at, next: 2, last: last}
	for range p.readAhead.workers {
		ra.launch()
	}
	return ra
}

// readAhead fetches numbered pages ahead of the paging loop. It keeps a
// window of futures in page order: each page the loop takes frees a slot for
// the next page, so at most workers requests are in flight and at most
// workers fetched pages wait for the loop, however many pages there are.
type readAhead[C comparable, P any] struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	fetch  func(ctx context.Context, cursor C) (P, error)
	at     func(n int) C
	next   int // number of the next page to launch
	last   int // number of the last page to launch
	queue  []*future[C, P]
}

type future[C comparable, P any] struct {
	n      int
	cursor C
	done   chan struct{}
	page   P
	err    error
}

func (ra *readAhead[C, P]) launch() {
	if ra.next > ra.last {
		return
	}
	f := &future[C, P]{n: ra.next, cursor: ra.at(ra.next), done: make(chan struct{})}
	ra.next++
	ra.queue = append(ra.queue, f)
	ra.wg.Go(func() {
		defer close(f.done)
		f.page, f.err = ra.fetch(ra.ctx, f.cursor)
	})
}

// take returns page n of the iteration, whose cursor is cursor: from the
// read-ahead when it fetched that page, else by calling fetch itself. A nil
// *readAhead always fetches.
func (ra *readAhead[C, P]) take(ctx context.Context, n int, cursor C, fetch func(context.Context, C) (P, error)) (P, error) {
	if ra == nil || len(ra.queue) == 0 {
		return fetch(ctx, cursor)
	}
	f := ra.queue[0]
	if f.n != n || f.cursor != cursor {
		// The loop went somewhere the read-ahead did not foresee: drop
		// it and carry on page by page.
		ra.stop()
		return fetch(ctx, cursor)
	}
	ra.queue[0] = nil
	ra.queue = ra.queue[1:]
	// The future ends soon after ctx does: its fetch runs under a child
	// of ctx. Only then is its slot free for the next page.
	<-f.done
	if f.err == nil { // after an error the loop stops
		ra.launch()
	}
	return f.page, f.err
}

// stop cancels the requests still in flight and waits for their goroutines.
// It is safe on a nil or stopped readAhead.
func (ra *readAhead[C, P]) stop() {
	if ra == nil {
		return
	}
	ra.cancel()
	ra.wg.Wait()
	ra.queue = nil
	ra.next = ra.last + 1
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
