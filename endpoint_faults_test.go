package livestat_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
)

// The fault-injection suite. Every endpoint of the endpoint table runs
// every fault below, injected with livestattest at a chosen page of a chain
// of faultPages pages. For every endpoint, fault and page the iteration must
// end with either the full result (every row once, in order) or a typed
// error within the caller's deadline, and never with a panic, a hang, a
// leaked goroutine (TestMain), or a token or secret in an error or a log
// line.
//
// Every fault runs against an in-memory livestattest server inside a
// synctest bubble, with the default retry policy and timeouts: their waits
// take no real time. Faults marked real also run against a loopback server
// in real time with short waits, where a reset, a hang or a body cut short
// happen on a real socket.
//
// Run with -v (or set LIVESTAT_FAULT_TABLE=file) to get the results table.

const (
	faultPages   = 4
	faultPerPage = 3
)

// fault is one row of the suite.
type fault struct {
	name string
	// make returns the fault for page n (1-based) of ec. bodies holds the
	// clean reply of every page, for the faults that need them (withBodies).
	make       func(ec endpointCase, n int, bodies map[int][]byte) livestattest.Fault
	withBodies bool
	// at picks the pages (1-based) to inject at; default: first, middle
	// and last.
	at []int
	// real also runs the row against a loopback server; realOnly only
	// there.
	real, realOnly bool
	// styles, if set, are the only paging styles the fault applies to.
	styles []pagingStyle
	want   expect
}

// lists are the WeCom paging styles: the faults of cursors and row lists.
var lists = []pagingStyle{flagged, cursorOnly}

// expect is a row's expected outcome.
type expect struct {
	full bool
	// rows, if set, gives the expected rows in place of all rows (full) or
	// of the rows of the pages before page n (error).
	rows func(n int) []string
	// through: with an error, the rows of page n are delivered too.
	through bool
	as      string  // the error's outer type: "RetryError", "APIError", ...
	is      []error // categories the error must match
	// attempts is the number of requests for the faulted page (0: not
	// checked); getReplays more for a GET endpoint, which net/http's
	// Transport replays on its own once when a reused connection breaks
	// before the reply (GET is idempotent; POSTs are never replayed).
	attempts, getReplays int
	// waits is the least time the iteration must take (honoured
	// Retry-After headers); checked where time is simulated.
	waits time.Duration
}

func full() expect { return expect{full: true} }

// retried: a retryable fault that never heals ends with a *RetryError
// after every attempt the policy allows.
func retried(is ...error) expect {
	return expect{as: "RetryError", is: is, attempts: livestat.DefaultRetryPolicy().MaxAttempts}
}

// replayedGET: the first attempt of a GET went over the connection of
// gettoken, and net/http replayed it once on a new one.
func replayedGET(e expect) expect {
	e.getReplays = 1
	return e
}

// final: a fault that cannot heal is not retried.
func final(as string, is ...error) expect { return expect{as: as, is: is, attempts: 1} }

// times is how many calls a fault spoils: 0 all, else that many.
func spoil(f livestattest.Fault, times int) livestattest.Fault {
	f.Times = times
	if times == 0 {
		f.Times = -1
	}
	return f
}

func httpFault(times, status int, body string, header ...string) func(endpointCase, int, map[int][]byte) livestattest.Fault {
	return func(ec endpointCase, n int, _ map[int][]byte) livestattest.Fault {
		h := http.Header{}
		for i := 0; i+1 < len(header); i += 2 {
			h.Set(header[i], header[i+1])
		}
		return spoil(livestattest.Fault{Endpoint: ec.ep, Page: n, HTTPStatus: status, Body: body, Header: h}, times)
	}
}

func pageFault(times int, f livestattest.Fault) func(endpointCase, int, map[int][]byte) livestattest.Fault {
	return func(ec endpointCase, n int, _ map[int][]byte) livestattest.Fault {
		f.Endpoint, f.Page = ec.ep, n
		return spoil(f, times)
	}
}

func edit(times int, e func(ec endpointCase, r livestattest.Request, m map[string]any)) func(endpointCase, int, map[int][]byte) livestattest.Fault {
	return func(ec endpointCase, n int, _ map[int][]byte) livestattest.Fault {
		return spoil(livestattest.Fault{Endpoint: ec.ep, Page: n, Edit: editJSON(func(r livestattest.Request, m map[string]any) { e(ec, r, m) })}, times)
	}
}

// truncated sends the first half of the page: a complete HTTP reply whose
// JSON ends early.
func truncated(times int) func(endpointCase, int, map[int][]byte) livestattest.Fault {
	return func(ec endpointCase, n int, _ map[int][]byte) livestattest.Fault {
		return spoil(livestattest.Fault{Endpoint: ec.ep, Page: n, Edit: func(_ livestattest.Request, b []byte) []byte { return b[:len(b)/2] }}, times)
	}
}

func gettokenFault(times int, f livestattest.Fault) func(endpointCase, int, map[int][]byte) livestattest.Fault {
	return func(endpointCase, int, map[int][]byte) livestattest.Fault {
		f.Endpoint = livestat.EndpointGetToken
		return spoil(f, times)
	}
}

// commonFaults apply to every endpoint.
var commonFaults = []fault{
	{name: "HTTP 500 once", make: httpFault(1, 500, "Internal Server Error"), want: full()},
	{name: "HTTP 500 always", make: httpFault(0, 500, "Internal Server Error"), want: retried(livestat.ErrServerBusy)},
	{name: "HTTP 502 HTML page once", make: httpFault(1, 502, "<html><body><h1>502 Bad Gateway</h1></body></html>", "Content-Type", "text/html"), want: full()},
	{name: "HTTP 502 HTML page always", make: httpFault(0, 502, "<html><body><h1>502 Bad Gateway</h1></body></html>", "Content-Type", "text/html"), want: retried(livestat.ErrServerBusy)},
	{name: "HTTP 503 + Retry-After: 3, twice", make: httpFault(2, 503, "busy", "Retry-After", "3"), want: expect{full: true, waits: 6 * time.Second}},
	{name: "HTTP 503 always", make: httpFault(0, 503, "busy"), want: retried(livestat.ErrServerBusy), real: true},
	{name: "HTTP 429 + Retry-After: 2 once", make: httpFault(1, 429, "slow down", "Retry-After", "2"), want: expect{full: true, waits: 2 * time.Second}},
	{name: "HTTP 503 + Retry-After: 3600", make: httpFault(0, 503, "down for maintenance", "Retry-After", "3600"),
		want: expect{as: "RetryError", is: []error{livestat.ErrServerBusy}, attempts: 1}},
	{name: "HTTP 404", make: httpFault(0, 404, "404 page not found"), want: final("ResponseError", livestat.ErrBadResponse)},
	{name: "connection reset once", make: pageFault(1, livestattest.Fault{Disconnect: true}), want: full(), real: true},
	{name: "connection reset always", make: pageFault(0, livestattest.Fault{Disconnect: true}), want: replayedGET(retried()), real: true},
	{name: "timeout once", make: pageFault(1, livestattest.Fault{Delay: time.Hour}), want: full(), real: true},
	{name: "timeout always", make: pageFault(0, livestattest.Fault{Delay: time.Hour}), want: retried(context.DeadlineExceeded), real: true},
	{name: "body cut short once", make: pageFault(1, livestattest.Fault{CutShort: true}), want: full(), real: true},
	{name: "body cut short always", make: pageFault(0, livestattest.Fault{CutShort: true}), want: retried(), real: true},
	{name: "truncated JSON once", make: truncated(1), want: full()},
	{name: "truncated JSON always", make: truncated(0), want: retried(livestat.ErrBadResponse)},
	{name: "HTML on HTTP 200 once", make: httpFault(1, 200, "<!DOCTYPE html><html>maintenance</html>", "Content-Type", "text/html"), want: full()},
	{name: "HTML on HTTP 200 always", make: httpFault(0, 200, "<!DOCTYPE html><html>maintenance</html>", "Content-Type", "text/html"), want: retried(livestat.ErrBadResponse)},
	{name: "empty body once", make: pageFault(1, livestattest.Fault{Edit: func(livestattest.Request, []byte) []byte { return nil }}), want: full()},
	// A JSON API does not redirect; following one would send the request
	// (its credentials included) somewhere else, perhaps over plain HTTP.
	{name: "HTTP 302 redirect", make: httpFault(0, 302, "moved", "Location", "/elsewhere?via=redirect"), want: final("ResponseError", livestat.ErrBadResponse), real: true},
	{name: "oversized body", make: httpFault(0, 200, `{"errcode":0,"pad":"`+strings.Repeat("x", 70<<10)+`"}`), want: final("ResponseError", livestat.ErrBadResponse)},
}

// wecomFaults apply to the WeCom endpoints.
var wecomFaults = []fault{
	{name: "errcode -1 once", make: pageFault(1, livestattest.Fault{ErrCode: -1, ErrMsg: "system busy"}), want: full()},
	{name: "errcode -1 always", make: pageFault(0, livestattest.Fault{ErrCode: -1, ErrMsg: "system busy"}), want: retried(livestat.ErrServerBusy)},
	// The first two waits after a rate limit are at least RateLimitDelay/2
	// and RateLimitDelay: longer than after a busy server.
	{name: "errcode 45009 twice", make: pageFault(2, livestattest.Fault{ErrCode: 45009}),
		want: expect{full: true, waits: livestat.DefaultRetryPolicy().RateLimitDelay * 3 / 2}},
	{name: "errcode 45009 always", make: pageFault(0, livestattest.Fault{ErrCode: 45009}), want: retried(livestat.ErrRateLimited)},
	// 45033: too many concurrent calls; retried like 45009.
	{name: "errcode 45033 twice", make: pageFault(2, livestattest.Fault{ErrCode: 45033}),
		want: expect{full: true, waits: livestat.DefaultRetryPolicy().RateLimitDelay * 3 / 2}},
	{name: "errcode 40014 once (token replay)", make: pageFault(1, livestattest.Fault{ErrCode: 40014}), want: full()},
	{name: "errcode 42001 once (token replay)", make: pageFault(1, livestattest.Fault{ExpireToken: true}), want: full()},
	{name: "errcode 40014 always", make: pageFault(0, livestattest.Fault{ErrCode: 40014}),
		want: expect{as: "APIError", is: []error{livestat.ErrTokenInvalid}, attempts: 2}},
	{name: "errcode 48002 (no permission)", make: pageFault(0, livestattest.Fault{ErrCode: 48002}), want: final("APIError", livestat.ErrPermissionDenied)},
	{name: "errcode 40058 (invalid argument)", make: pageFault(0, livestattest.Fault{ErrCode: 40058, ErrMsg: "invalid livingid"}), want: final("APIError", livestat.ErrInvalidArgument)},
	{name: "repeated cursor", styles: lists, at: []int{2, faultPages/2 + 1, faultPages}, make: edit(1, func(ec endpointCase, r livestattest.Request, m map[string]any) {
		ec.setNext(m, ec.requestCursor(r))
	}), want: expect{as: "PaginationError", is: []error{livestat.ErrPagination}, through: true}},
	// Without a flag, an empty cursor is the end: flagged only.
	{name: `"more" with an empty cursor`, styles: []pagingStyle{flagged}, make: edit(1, func(ec endpointCase, _ livestattest.Request, m map[string]any) {
		ec.setNext(m, "")
	}), want: expect{as: "PaginationError", is: []error{livestat.ErrPagination}, through: true}},
	{name: "empty page", styles: lists, make: edit(0, func(ec endpointCase, _ livestattest.Request, m map[string]any) { ec.setRows(m, []any{}) }),
		want: expect{full: true, rows: func(n int) []string {
			return slices.Delete(tableIDs(faultPages, faultPerPage), (n-1)*faultPerPage, n*faultPerPage)
		}}},
	{name: "gettoken errcode -1 once", make: gettokenFault(1, livestattest.Fault{ErrCode: -1}), at: []int{1}, want: full()},
	{name: "gettoken HTTP 500 always", make: gettokenFault(0, livestattest.Fault{HTTPStatus: 500, Body: "oops"}),
		at: []int{1}, want: expect{as: "RetryError", is: []error{livestat.ErrServerBusy}}},
	{name: "gettoken 40001 (bad secret)", make: gettokenFault(0, livestattest.Fault{ErrCode: 40001}),
		at: []int{1}, want: expect{as: "APIError", is: []error{livestat.ErrInvalidCredentials}}},
	{name: "gettoken reset always", make: gettokenFault(0, livestattest.Fault{Disconnect: true}),
		at: []int{1}, realOnly: true, want: expect{as: "RetryError"}},
}

// nuoyunFaults apply to the Nuoyun endpoint, whose pages are numbered and
// whose replies say how many rows there are in all.
var nuoyunFaults = []fault{
	{name: "code 500 envelope once", make: pageFault(1, livestattest.Fault{ErrCode: 500, ErrMsg: "服务器繁忙"}), want: full()},
	{name: "code 500 envelope always", make: pageFault(0, livestattest.Fault{ErrCode: 500, ErrMsg: "服务器繁忙"}), want: retried(livestat.ErrServerBusy)},
	{name: "code 400 envelope", make: pageFault(0, livestattest.Fault{ErrCode: 400, ErrMsg: "参数错误"}), want: final("APIError")},
	{name: "code 400 with data [] (PHP)", make: httpFault(0, 200, `{"code":400,"msg":"参数错误","data":[]}`), want: final("APIError")},
	{name: "rows past the total", at: []int{1}, make: func(ec endpointCase, _ int, _ map[int][]byte) livestattest.Fault {
		return livestattest.Fault{Endpoint: ec.ep, Times: -1, Edit: editJSON(func(_ livestattest.Request, m map[string]any) {
			setTotal(m, (faultPages-1)*faultPerPage)
		})}
	}, want: expect{full: true, rows: func(int) []string { return tableIDs(faultPages-1, faultPerPage) }}},
	// A total that changes during the iteration (rows added or removed)
	// means the pages no longer line up: an error after the rows of the
	// pages before, never a result reported as complete.
	{name: "total grows after page 1", at: []int{1}, make: edit(1, func(_ endpointCase, _ livestattest.Request, m map[string]any) {
		setTotal(m, (faultPages-1)*faultPerPage)
	}), want: expect{as: "PaginationError", is: []error{livestat.ErrPagination}, rows: func(int) []string { return tableIDs(1, faultPerPage) }}},
	{name: "total changes on a later page", at: []int{2, faultPages/2 + 1, faultPages}, make: edit(0, func(_ endpointCase, _ livestattest.Request, m map[string]any) {
		setTotal(m, faultPages*faultPerPage+1)
	}), want: expect{as: "PaginationError", is: []error{livestat.ErrPagination}}},
	{name: "total shrinks to the rows before an empty page", at: []int{2, faultPages/2 + 1, faultPages}, make: func(ec endpointCase, n int, _ map[int][]byte) livestattest.Fault {
		return livestattest.Fault{Endpoint: ec.ep, Page: n, Times: -1, Edit: editJSON(func(_ livestattest.Request, m map[string]any) {
			ec.setRows(m, []any{})
			setTotal(m, (n-1)*faultPerPage)
		})}
	}, want: expect{as: "PaginationError", is: []error{livestat.ErrPagination}}},
	{name: "a row more than the total on the last page", at: []int{faultPages}, make: func(ec endpointCase, _ int, _ map[int][]byte) livestattest.Fault {
		return livestattest.Fault{Endpoint: ec.ep, Times: -1, Edit: editJSON(func(_ livestattest.Request, m map[string]any) { setTotal(m, faultPages*faultPerPage-1) })}
	}, want: expect{as: "PaginationError", is: []error{livestat.ErrPagination}}},
	{name: `data.total "" (not a count)`, make: edit(0, func(_ endpointCase, _ livestattest.Request, m map[string]any) { setTotal(m, "") }),
		want: final("ResponseError", livestat.ErrBadResponse)},
	{name: "data.total negative", make: edit(0, func(_ endpointCase, _ livestattest.Request, m map[string]any) { setTotal(m, -1) }),
		want: final("ResponseError", livestat.ErrBadResponse)},
	{name: "data.total 0 with rows", at: []int{1}, make: func(ec endpointCase, _ int, _ map[int][]byte) livestattest.Fault {
		return livestattest.Fault{Endpoint: ec.ep, Times: -1, Edit: editJSON(func(_ livestattest.Request, m map[string]any) { setTotal(m, 0) })}
	}, want: expect{as: "PaginationError", is: []error{livestat.ErrPagination}}},
	{name: "rows of the page before repeated", at: []int{2, faultPages/2 + 1, faultPages}, withBodies: true,
		make: func(ec endpointCase, n int, bodies map[int][]byte) livestattest.Fault {
			var before []any
			editJSON(func(_ livestattest.Request, m map[string]any) { before = ec.rowsOf(m) })(livestattest.Request{}, bodies[n-1])
			return livestattest.Fault{Endpoint: ec.ep, Page: n, Times: -1, Edit: editJSON(func(_ livestattest.Request, m map[string]any) {
				ec.setRows(m, append(slices.Clone(before), ec.rowsOf(m)...))
			})}
		}, want: full()},
	// Paging by number, an empty page would end the iteration: while the
	// total says rows remain, that would lose them.
	{name: "empty page", make: edit(0, func(ec endpointCase, _ livestattest.Request, m map[string]any) { ec.setRows(m, []any{}) }),
		want: expect{as: "PaginationError", is: []error{livestat.ErrPagination}}},
	{name: "page number ignored (page 1 every time)", at: []int{2}, withBodies: true,
		make: func(ec endpointCase, _ int, bodies map[int][]byte) livestattest.Fault {
			return livestattest.Fault{Endpoint: ec.ep, Times: -1, Edit: func(livestattest.Request, []byte) []byte { return bodies[1] }}
		}, want: expect{as: "PaginationError", is: []error{livestat.ErrPagination}}},
}

// setTotal sets a Nuoyun reply's data.total.
func setTotal(m map[string]any, total any) { m["data"].(map[string]any)["total"] = total }

// faults returns the faults that apply to ec.
func (ec endpointCase) faults() []fault {
	all := append(slices.Clone(commonFaults), wecomFaults...)
	if ec.style == numbered {
		all = append(slices.Clone(commonFaults), nuoyunFaults...)
	}
	return slices.DeleteFunc(all, func(f fault) bool { return f.styles != nil && !slices.Contains(f.styles, ec.style) })
}

// pagesAt returns the pages to inject f at: its own, or the first, a
// middle and the last page; a single call has one.
func (ec endpointCase) pagesAt(f fault) []int {
	switch {
	case !ec.paged():
		return []int{1}
	case f.at != nil:
		return f.at
	}
	return []int{1, faultPages/2 + 1, faultPages}
}

// outcome is what one row observed.
type outcome struct {
	rows    []string
	errs    []error
	elapsed time.Duration
	logs    string
}

// faultRun is one row at one page.
type faultRun struct {
	ec  endpointCase
	f   fault
	n   int // the faulted page, 1-based
	srv *livestattest.Server
}

func (r faultRun) wantRows() []string {
	if r.f.want.rows != nil {
		return r.f.want.rows(r.n)
	}
	n := faultPages
	if !r.f.want.full {
		n = r.n - 1
		if r.f.want.through {
			n++
		}
	}
	return r.ec.wantIDs(n, faultPerPage)
}

// faultClient returns the client of a row.
func faultClient(srv *livestattest.Server, ec endpointCase, logs *syncBuffer, extra ...livestat.Option) *livestat.Client {
	opts := []livestat.Option{
		livestat.WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		livestat.WithMaxResponseBytes(64 << 10),
	}
	return srv.Client(append(opts, extra...)...)
}

// drain runs the iteration and records what it yields.
func drain(seq func(yield func(string, error) bool)) (out outcome) {
	start := time.Now()
	for id, err := range seq {
		if err != nil {
			out.errs = append(out.errs, err)
			continue
		}
		out.rows = append(out.rows, id)
		if len(out.errs) > 0 {
			out.errs = append(out.errs, fmt.Errorf("row %q after an error", id))
		}
	}
	out.elapsed = time.Since(start)
	return out
}

// bodies returns the clean reply of every page of a server made from opts.
func pageBodies(t *testing.T, ec endpointCase, opts livestattest.Options) map[int][]byte {
	var mu sync.Mutex
	out := map[int][]byte{}
	opts.Faults = []livestattest.Fault{{Endpoint: ec.ep, Times: -1, Edit: func(r livestattest.Request, b []byte) []byte {
		mu.Lock()
		defer mu.Unlock()
		out[r.Page] = b
		return b
	}}}
	srv := livestattest.NewServer(t, opts)
	if _, err := livestat.Collect(ec.iterate(t.Context(), srv.Client(ec.opts...), faultPerPage, "")); err != nil {
		t.Fatal(err)
	}
	return out
}

// run plays the row and judges it; it returns a short description for the
// results table.
func (r faultRun) run(t *testing.T, inMemory bool, deadline time.Duration, extra ...livestat.Option) string {
	opts := r.ec.options(faultPages, faultPerPage, inMemory)
	var bodies map[int][]byte
	if r.f.withBodies {
		bodies = pageBodies(t, r.ec, opts)
	}
	opts.Faults = []livestattest.Fault{r.f.make(r.ec, r.n, bodies)}
	r.srv = livestattest.NewServer(t, opts)
	var logs syncBuffer
	c := faultClient(r.srv, r.ec, &logs, extra...) // Nuoyun with its read-ahead
	ctx, cancel := context.WithTimeout(t.Context(), deadline)
	defer cancel()
	out := drain(r.ec.iterate(ctx, c, faultPerPage, ""))
	out.logs = logs.String()
	return r.check(t, out, deadline)
}

func (r faultRun) check(t *testing.T, out outcome, deadline time.Duration) string {
	t.Helper()
	want := r.f.want
	if out.elapsed > deadline {
		t.Errorf("took %v, past the %v deadline", out.elapsed, deadline)
	}
	if w := r.wantRows(); !slices.Equal(out.rows, w) {
		t.Errorf("rows:\n got %v\nwant %v", out.rows, w)
	}
	if out.elapsed < want.waits {
		t.Errorf("took %v, want at least %v (Retry-After)", out.elapsed, want.waits)
	}
	if len(out.errs) > 1 {
		t.Errorf("%d errors yielded, want at most 1: %v", len(out.errs), out.errs)
	}
	var texts []string
	for _, err := range out.errs {
		texts = append(texts, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
	}
	for _, secret := range []string{r.srv.CorpSecret(), "livestattest-token-", nuoyunTableSecret} {
		for what, text := range map[string]string{"error": strings.Join(texts, "\n"), "logs": out.logs} {
			if strings.Contains(text, secret) {
				t.Errorf("%s leak a secret %q:\n%s", what, secret, text)
			}
		}
	}
	attempts := want.attempts
	if r.ec.ep.Method() == http.MethodGet {
		attempts += want.getReplays
	}
	if hits := r.ec.calls(r.srv, r.n); attempts > 0 && hits != attempts {
		t.Errorf("page %d was requested %d times, want %d", r.n, hits, attempts)
	}
	if want.full {
		if len(out.errs) > 0 {
			t.Errorf("want the full result, got error %v", out.errs[0])
		}
		if len(out.rows) == 1 {
			return "full, 1 row"
		}
		return fmt.Sprintf("full, %d rows", len(out.rows))
	}
	if len(out.errs) == 0 {
		t.Errorf("want a %s error, got none (%d rows)", want.as, len(out.rows))
		return "no error"
	}
	err := out.errs[0]
	desc := errorShape(err)
	if !strings.HasPrefix(desc, want.as) {
		t.Errorf("want a *%s, got %T: %v", want.as, err, err)
	}
	for _, is := range want.is {
		if !errors.Is(err, is) {
			t.Errorf("error does not match %v: %v", is, err)
		}
	}
	if pe, ok := errors.AsType[*livestat.PaginationError](err); ok && string(pe.Endpoint) != r.ec.name {
		t.Errorf("PaginationError.Endpoint = %q, want %q", pe.Endpoint, r.ec.name)
	}
	if ae, ok := errors.AsType[*livestat.APIError](err); ok && string(ae.Endpoint) != r.ec.name && ae.Endpoint != livestat.EndpointGetToken {
		t.Errorf("APIError.Endpoint = %q, want %q", ae.Endpoint, r.ec.name)
	}
	return desc
}

// errorShape describes an error by type, attempts and category.
func errorShape(err error) string {
	var b strings.Builder
	if re, ok := errors.AsType[*livestat.RetryError](err); ok {
		fmt.Fprintf(&b, "RetryError(%d) ← ", re.Attempts)
		err = re.Err
	}
	switch e := err.(type) {
	case *livestat.APIError:
		fmt.Fprintf(&b, "APIError %d", e.Code)
	case *livestat.ResponseError:
		fmt.Fprintf(&b, "ResponseError %q", e.Reason)
		if e.HTTPStatus != 200 {
			fmt.Fprintf(&b, " %d", e.HTTPStatus)
		}
	case *livestat.TransportError:
		b.WriteString("TransportError")
		if errors.Is(e, context.DeadlineExceeded) {
			b.WriteString(" (timeout)")
		}
	case *livestat.PaginationError:
		fmt.Fprintf(&b, "PaginationError %q", e.Reason)
	default:
		fmt.Fprintf(&b, "%T", err)
	}
	for _, cat := range []error{livestat.ErrTokenInvalid, livestat.ErrInvalidCredentials, livestat.ErrRateLimited, livestat.ErrServerBusy, livestat.ErrInvalidArgument, livestat.ErrPermissionDenied} {
		if errors.Is(err, cat) {
			fmt.Fprintf(&b, ", %s", strings.TrimPrefix(cat.Error(), "livestat: "))
		}
	}
	return b.String()
}

// faultTable collects the results for the report.
type faultTable struct {
	mu   sync.Mutex
	rows map[[2]string][]string // fault, endpoint → cells
	eps  []string               // in the order of the endpoint table
	fs   []string               // in the order of the fault tables
}

func newFaultTable() *faultTable {
	ft := &faultTable{rows: map[[2]string][]string{}}
	for _, ec := range endpointCases() {
		ft.eps = append(ft.eps, ec.name)
		for _, f := range ec.faults() {
			if !slices.Contains(ft.fs, f.name) {
				ft.fs = append(ft.fs, f.name)
			}
		}
	}
	return ft
}

func (ft *faultTable) add(ep, f, harness string, n int, desc string, failed bool) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	mark := ""
	if failed {
		mark = " **FAILED**"
	}
	key := [2]string{f, ep}
	ft.rows[key] = append(ft.rows[key], fmt.Sprintf("p%d%s: %s%s", n, harness, desc, mark))
}

// markdown renders one line per fault. Endpoints with the same outcome
// share a cell, and so do pages with the same outcome.
func (ft *faultTable) markdown() string {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	var b strings.Builder
	b.WriteString("| fault | outcome (pN: fault injected at page N of 4) |\n|---|---|\n")
	for _, f := range ft.fs {
		var order []string
		eps := map[string][]string{}
		for _, ep := range ft.eps {
			cells := ft.rows[[2]string{f, ep}]
			if len(cells) == 0 {
				continue
			}
			slices.SortFunc(cells, func(a, b string) int { // pages in order, the socket runs last
				return strings.Compare(fmt.Sprint(strings.Contains(a, "(socket)"), a), fmt.Sprint(strings.Contains(b, "(socket)"), b))
			})
			c := mergeCells(cells)
			if _, ok := eps[c]; !ok {
				order = append(order, c)
			}
			eps[c] = append(eps[c], ep)
		}
		var parts []string
		for _, c := range order {
			parts = append(parts, ft.who(eps[c])+": "+c)
		}
		fmt.Fprintf(&b, "| %s | %s |\n", f, strings.Join(parts, "<br>"))
	}
	return b.String()
}

// endpointGroup names a set of endpoints of the table in the results.
type endpointGroup struct {
	name string
	eps  []string
}

// groups returns the named sets of endpoints, largest first.
func endpointGroups() []endpointGroup {
	in := func(name string, keep func(endpointCase) bool) endpointGroup {
		g := endpointGroup{}
		for _, ec := range endpointCases() {
			if keep(ec) {
				g.eps = append(g.eps, ec.name)
			}
		}
		g.name = fmt.Sprintf("%s ×%d", name, len(g.eps))
		return g
	}
	return []endpointGroup{
		in("WeCom", func(ec endpointCase) bool { return ec.style != numbered }),
		in("paged", endpointCase.paged),
		in("WeCom lists", func(ec endpointCase) bool { return ec.style == flagged || ec.style == cursorOnly }),
		in("WeCom stats", func(ec endpointCase) bool { return ec.style == flagged }),
		in("get_living_info", func(ec endpointCase) bool { return ec.style == single }),
	}
}

// who names eps: "all", the groups it holds whole, and the others.
func (ft *faultTable) who(eps []string) string {
	if len(eps) == len(ft.eps) {
		return "all"
	}
	left := slices.Clone(eps)
	var parts []string
	for _, g := range endpointGroups() {
		holds := len(g.eps) > 1
		for _, ep := range g.eps {
			holds = holds && slices.Contains(left, ep)
		}
		if holds {
			parts = append(parts, g.name)
			left = slices.DeleteFunc(left, func(ep string) bool { return slices.Contains(g.eps, ep) })
		}
	}
	for _, ep := range left {
		parts = append(parts, strings.Replace(ep, string(livestat.EndpointNuoyunUserDurations), "nuoyun", 1))
	}
	return strings.Join(parts, ", ")
}

// mergeCells turns ["p1: x", "p2: x", "p4: y"] into "p1,p2: x; p4: y".
func mergeCells(cells []string) string {
	var order []string
	where := map[string][]string{}
	for _, c := range cells {
		pos, desc, _ := strings.Cut(c, ": ")
		if _, ok := where[desc]; !ok {
			order = append(order, desc)
		}
		where[desc] = append(where[desc], pos)
	}
	var parts []string
	for _, d := range order {
		parts = append(parts, strings.Join(where[d], ",")+": "+d)
	}
	return strings.Join(parts, "; ")
}

func TestFaultInjection(t *testing.T) {
	t.Parallel()
	table := newFaultTable()
	t.Run("endpoints", func(t *testing.T) {
		for _, ec := range endpointCases() {
			t.Run(ec.name, func(t *testing.T) {
				t.Parallel()
				for _, f := range ec.faults() {
					at := ec.pagesAt(f)
					t.Run(f.name, func(t *testing.T) {
						t.Parallel()
						if !f.realOnly {
							for _, n := range at {
								t.Run(fmt.Sprintf("memory/page%d", n), func(t *testing.T) {
									var desc string
									synctest.Test(t, func(t *testing.T) {
										r := faultRun{ec: ec, f: f, n: n}
										desc = r.run(t, true, 2*time.Minute,
											livestat.WithRetry(livestat.DefaultRetryPolicy()), livestat.WithTimeout(5*time.Second))
									})
									table.add(ec.name, f.name, "", n, desc, t.Failed())
								})
							}
						}
						if f.real || f.realOnly {
							n := at[len(at)/2]
							t.Run(fmt.Sprintf("socket/page%d", n), func(t *testing.T) {
								r := faultRun{ec: ec, f: f, n: n}
								desc := r.run(t, false, 10*time.Second,
									livestat.WithTimeout(400*time.Millisecond), // generous for a loaded CI machine; a hang costs 4 of these
									livestat.WithRetry(livestat.RetryPolicy{MaxAttempts: livestat.DefaultRetryPolicy().MaxAttempts, BaseDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond, RateLimitDelay: 5 * time.Millisecond}))
								table.add(ec.name, f.name, " (socket)", n, desc, t.Failed())
							})
						}
					})
				}
			})
		}
	})
	md := table.markdown()
	if testing.Verbose() {
		t.Log("fault table:\n" + md)
	}
	if path := os.Getenv("LIVESTAT_FAULT_TABLE"); path != "" {
		if err := os.WriteFile(path, []byte(md), 0o644); err != nil {
			t.Error(err)
		}
	}
}
