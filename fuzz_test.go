package livestat

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jarcoal/httpmock"
)

// Fuzz targets. Seeds live in testdata/fuzz/<FuzzName>/ and run with plain
// `go test`; scripts/fuzz.sh runs each target for a set time.
//
// The decoder targets feed a fuzzed reply (status, Retry-After, body)
// through the client's own request path (send → once → decode) for each
// endpoint; the pager targets drive the paging engine with a fuzzed
// sequence of pages.

// checkCallResult holds for every single call: a result or a typed error,
// never both, never neither; an error names the endpoint, shows no secret
// and carries only a short printable snippet of the body.
func checkCallResult(t *testing.T, endpoint Endpoint, ok bool, err error) {
	t.Helper()
	if ok == (err != nil) {
		t.Fatalf("result present = %v with error %v", ok, err)
	}
	if err == nil {
		return
	}
	var (
		ae *APIError
		re *ResponseError
		te *TransportError
		ve *ValidationError
	)
	if !errors.As(err, &ae) && !errors.As(err, &re) && !errors.As(err, &te) && !errors.As(err, &ve) {
		t.Fatalf("untyped error %T: %v", err, err)
	}
	msg := fmt.Sprintf("%v %+v", err, err)
	if strings.Contains(msg, testSecret) || strings.Contains(msg, testToken) {
		t.Fatalf("error leaks a secret: %s", msg)
	}
	if !strings.Contains(msg, string(endpoint)) {
		t.Fatalf("error does not name %s: %s", endpoint, msg)
	}
	if re != nil && (len(re.Snippet) > 120 || !utf8.ValidString(re.Snippet)) {
		t.Fatalf("bad snippet %q", re.Snippet)
	}
	if _, retry := errors.AsType[*RetryError](err); retry && !IsRetryable(err) {
		t.Fatalf("a RetryError around a final error: %v", err)
	}
}

// FuzzDecodeGettoken feeds gettoken replies through the token source the
// client builds from WithWeComApp.
func FuzzDecodeGettoken(f *testing.F) {
	var (
		mu   sync.Mutex
		cur  []byte
		code int
	)
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder(http.MethodGet, testBase+"/cgi-bin/gettoken", func(*http.Request) (*http.Response, error) {
		mu.Lock()
		defer mu.Unlock()
		return httpmock.NewBytesResponse(code, cur), nil
	})
	c, err := NewClient(WithWeComApp(testCorpID, testSecret), WithWeComBaseURL(testBase),
		WithHTTPClient(&http.Client{Transport: mt}), WithoutRetries())
	if err != nil {
		f.Fatal(err)
	}
	src := &gettokenSource{c: c}
	f.Fuzz(func(t *testing.T, status uint16, body []byte) {
		mu.Lock()
		code, cur = 200+int(status)%400, body
		mu.Unlock()
		start := time.Now()
		tok, err := src.Token(context.Background())
		ok := err == nil
		if ok && (tok.AccessToken == "" || !tok.ExpiresAt.After(start)) {
			t.Fatalf("unusable token accepted: %v", tok)
		}
		checkCallResult(t, "gettoken", ok, err)
		// The reply carries the token: it must never be quoted back.
		if re, isRE := errors.AsType[*ResponseError](err); isRE && re.Snippet != "" {
			t.Fatalf("gettoken error quotes the body: %q", re.Snippet)
		}
	})
}

// fuzzPage is one scripted page of the pager targets.
type fuzzPage struct {
	rows   int    // rows on the page
	next   string // the cursor it points to
	more   bool
	fail   bool // the fetch fails instead
	reject bool // onPage rejects the page
}

// parseScript reads pages from data, 3 bytes a page: rows and cursor
// choice, cursor value, flags. Cursors come from a small alphabet, so that
// repeats and empty cursors are common.
func parseScript(data []byte) []fuzzPage {
	var pages []fuzzPage
	for i := 0; i+2 < len(data) && len(pages) < 64; i += 3 {
		p := fuzzPage{rows: int(data[i] & 7)}
		if c := data[i+1] % 12; c != 0 {
			p.next = fmt.Sprintf("k%d", c)
		}
		flags := data[i+2]
		p.more = flags&1 != 0
		p.fail = flags&0x0e == 0x0e // rare-ish
		p.reject = flags&0x70 == 0x70
		pages = append(pages, p)
	}
	return pages
}

type fuzzRow struct{ page, i int }

// FuzzPager runs the cursor-style engine (WeCom's) over a scripted server:
// the n-th fetch gets the n-th scripted page, whatever cursor it asks for.
// It checks that the iteration ends within the page cap, follows each
// page's cursor, never asks for a cursor twice or for an empty one after
// the start, yields every row of every page it fetched exactly once and in
// order (up to a break by the consumer), and yields at most one error, last.
func FuzzPager(f *testing.F) {
	f.Fuzz(func(t *testing.T, script []byte, breakAt uint8, startEmpty bool) {
		pages := parseScript(script)
		const maxPages = 16
		start := "start"
		if startEmpty {
			start = ""
		}
		var asked []string
		fetchErr := errors.New("fetch failed")
		p := pager[string, *fuzzPage, fuzzRow]{
			endpoint: "fuzz",
			start:    start,
			fetch: func(_ context.Context, cursor string) (*fuzzPage, error) {
				asked = append(asked, cursor)
				n := len(asked) - 1
				if n >= len(pages) {
					return &fuzzPage{}, nil // the script ran out: a last empty page
				}
				if pages[n].fail {
					return nil, fetchErr
				}
				return &pages[n], nil
			},
			next:     func(_ string, pg *fuzzPage) (string, bool) { return pg.next, pg.more },
			rows:     fuzzRows(pages),
			onPage:   fuzzOnPage,
			maxPages: maxPages,
		}
		var got []fuzzRow
		var errs []error
		stopped := false
		for r, err := range p.items(context.Background()) {
			if stopped {
				t.Fatal("the iterator yielded after the loop broke")
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if len(errs) > 0 {
				t.Fatalf("row %v after error %v", r, errs[0])
			}
			got = append(got, r)
			if breakAt != 0 && len(got) == int(breakAt) {
				stopped = true
				break
			}
		}
		if len(errs) > 1 {
			t.Fatalf("%d errors: %v", len(errs), errs)
		}
		if len(asked) > maxPages {
			t.Fatalf("%d fetches past the cap of %d", len(asked), maxPages)
		}
		// Replay the protocol to know what should have happened.
		seen := map[string]bool{start: true}
		var want []fuzzRow
		for n, cursor := range asked {
			if n == 0 && cursor != start {
				t.Fatalf("first fetch at %q, want %q", cursor, start)
			}
			if n > 0 {
				prev := pages[n-1]
				if !prev.more || prev.fail || prev.reject {
					t.Fatalf("fetch %d after a page that ended the iteration", n+1)
				}
				if cursor != prev.next {
					t.Fatalf("fetch %d at %q, want the previous page's cursor %q", n+1, cursor, prev.next)
				}
				if cursor == "" || seen[cursor] {
					t.Fatalf("fetch %d at empty or repeated cursor %q", n+1, cursor)
				}
				seen[cursor] = true
			}
			if n < len(pages) && !pages[n].fail && !pages[n].reject {
				for i := range pages[n].rows {
					want = append(want, fuzzRow{n, i})
				}
			}
		}
		if stopped {
			want = want[:min(len(want), int(breakAt))]
		}
		if !equalRows(got, want) {
			t.Fatalf("rows\n got %v\nwant %v", got, want)
		}
		if !stopped && len(errs) == 0 && len(asked) > 0 {
			// A clean end: the last page fetched said there was no more.
			if n := len(asked) - 1; n < len(pages) && pages[n].more {
				t.Fatalf("ended without error after page %d, which said more", n+1)
			}
		}
	})
}

// pageIndex finds pg in pages (pages are scripted by pointer); -1 for the
// synthetic last page.
func pageIndex(pages []fuzzPage, pg *fuzzPage) int {
	for i := range pages {
		if &pages[i] == pg {
			return i
		}
	}
	return -1
}

func equalRows(a, b []fuzzRow) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzPagerReadAhead runs the page-number engine (Nuoyun's) with
// read-ahead: the server answers page n with the n-th scripted page, each
// page's rows being numbered by page, and the first page's count says how
// many pages to fetch ahead. Besides the FuzzPager invariants it checks
// that no fetch is still running when the loop has returned.
func FuzzPagerReadAhead(f *testing.F) {
	f.Fuzz(func(t *testing.T, script []byte, count uint8, workers uint8, breakAt uint8) {
		pages := parseScript(script)
		const maxPages = 16
		var inFlight, calls atomic.Int32
		fetchErr := errors.New("fetch failed")
		get := func(n int) *fuzzPage {
			if n-1 < len(pages) {
				return &pages[n-1]
			}
			return &fuzzPage{}
		}
		p := pager[int, *fuzzPage, fuzzRow]{
			endpoint: "fuzz",
			start:    1,
			fetch: func(ctx context.Context, n int) (*fuzzPage, error) {
				inFlight.Add(1)
				defer inFlight.Add(-1)
				calls.Add(1)
				if n < 1 {
					t.Errorf("fetch of page %d", n)
				}
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				if get(n).fail {
					return nil, fetchErr
				}
				return get(n), nil
			},
			next:   func(n int, pg *fuzzPage) (int, bool) { return n + 1, pg.more },
			rows:   fuzzRows(pages),
			onPage: fuzzOnPage,
			readAhead: &readAheadPlan[int, *fuzzPage]{
				at:      func(n int) int { return n },
				count:   func(*fuzzPage) int { return int(count % 24) },
				workers: 1 + int(workers%5),
			},
			maxPages: maxPages,
		}
		var got []fuzzRow
		var errs []error
		for r, err := range p.items(context.Background()) {
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if len(errs) > 0 {
				t.Fatalf("row after an error")
			}
			got = append(got, r)
			if breakAt != 0 && len(got) == int(breakAt) {
				break
			}
		}
		if n := inFlight.Load(); n != 0 {
			t.Fatalf("%d fetches still running after the loop returned", n)
		}
		if len(errs) > 1 {
			t.Fatalf("%d errors: %v", len(errs), errs)
		}
		// Fetches: the loop's own, plus at most count read-ahead pages.
		if c := int(calls.Load()); c > maxPages+int(count%24) {
			t.Fatalf("%d fetches", c)
		}
		// Rows: page after page from page 1, every row of each page the
		// loop took, in order; a prefix when the consumer broke.
		var want []fuzzRow
		for n := 1; n <= maxPages; n++ {
			pg := get(n)
			if pg.fail || pg.reject {
				break
			}
			for i := range pg.rows {
				want = append(want, fuzzRow{n - 1, i})
			}
			if !pg.more {
				break
			}
		}
		if breakAt != 0 {
			want = want[:min(len(want), int(breakAt))]
		}
		if !equalRows(got, want) {
			t.Fatalf("rows\n got %v\nwant %v (errors %v)", got, want, errs)
		}
	})
}

// fuzzRows lists a fuzzed page's rows as (page index, row index) pairs.
func fuzzRows(pages []fuzzPage) func(*fuzzPage, func(fuzzRow) bool) bool {
	return func(pg *fuzzPage, yield func(fuzzRow) bool) bool {
		n := pageIndex(pages, pg)
		for i := range pg.rows {
			if !yield(fuzzRow{n, i}) {
				return false
			}
		}
		return true
	}
}

// fuzzOnPage rejects the pages the script marks as breaking the protocol.
func fuzzOnPage(pg *fuzzPage) error {
	if pg.reject {
		return &PaginationError{Endpoint: "fuzz", Reason: "rejected"}
	}
	return nil
}
