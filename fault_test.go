package livestat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/iotest"
	"testing/synctest"
	"time"

	"github.com/jarcoal/httpmock"
	"go.uber.org/goleak"
)

// The fault-injection suite. Every paged endpoint is one faultEndpoint;
// every fault is one row of a table, injected at a chosen page of a chain of
// faultPages pages. For every endpoint, fault and page the iteration must
// end with either the full result (every row once, in order) or a typed
// error within the caller's deadline, and never with a panic, a hang, a
// leaked goroutine, or a token or secret in an error or a log line.
//
// Faults that need real sockets (a reset connection, a server that hangs, a
// connection cut in the middle of a body) run against a loopback
// httptest.Server in real time with short waits. Every fault also runs
// against httpmock inside a synctest bubble, where the default retry policy's
// waits take no real time.
//
// Run with -v (or set LIVESTAT_FAULT_TABLE=file) to get the results table.

const (
	faultPages   = 4
	faultPerPage = 3
	// faultNuoyunSecret is the Nuoyun signing secret of the suite's
	// clients: like the WeCom secret and tokens, it must never show.
	faultNuoyunSecret = "NUOYUN-SECRET-must-never-leak-91c2"
)

// pageSpec is one page the fault server holds.
type pageSpec struct {
	ids   []string
	next  string // WeCom: the cursor of the following page
	more  bool   // WeCom: the page says more follow
	total int    // Nuoyun: the total the page reports
}

// faultEndpoint describes one paged endpoint to the suite.
type faultEndpoint struct {
	name  string
	short string // for the results table
	path  string
	opts  []Option
	// status and flag are the JSON paths of the reply's status code and
	// of the paging field a success must carry.
	status, flag []string
	// chain returns the pages the server holds, faultPerPage rows each.
	chain func() []pageSpec
	// pageOf returns the index of the page a request body asks for, -1 if
	// the request is for no page of the chain.
	pageOf func(body map[string]any) int
	// render returns the reply holding page i.
	render func(i int, pages []pageSpec) string
	// failure returns the vendor's failure reply for code.
	failure func(code int, msg string) string
	// ids iterates over the row ids of the whole result.
	ids func(ctx context.Context, c *Client) iter.Seq2[string, error]
	// faults are this vendor's own faults, run besides commonFaults.
	faults []fault
}

// answer is what the fault server answers to one request.
type answer struct {
	status int
	header []string // name, value, ...
	body   string
	socket socketFault
}

type socketFault int

const (
	noSocketFault socketFault = iota
	reset                     // the connection is reset before any reply
	hang                      // no reply until the client gives up
	cut                       // headers promise more body than is sent
)

// fault is one row of the table.
type fault struct {
	name string
	// times is how many requests for the page the fault spoils; 0: all.
	times int
	// reply spoils the reply to a request for page k.
	reply func(ep *faultEndpoint, pages []pageSpec, k int) answer
	// gettoken spoils the reply to gettoken instead (k is then ignored).
	gettoken func(ep *faultEndpoint) answer
	// shape changes the pages the server holds, with page k affected.
	shape func(pages []pageSpec, k int)
	// at picks the pages to inject at; default: first, middle and last.
	at []int
	// realOnly runs the row against the loopback server only.
	realOnly bool
	// real also runs the row against the loopback server.
	real bool
	want expect
}

// expect is a row's expected outcome.
type expect struct {
	full bool
	// rows, if set, gives the expected rows in place of all rows (full) or
	// of the rows of the pages before page k (error).
	rows func(pages []pageSpec, k int) []string
	// through: with an error, the rows of page k are delivered too.
	through bool
	as      string  // the error's outer type: "RetryError", "APIError", ...
	is      []error // categories the error must match
	// attempts is the number of requests for the faulted page (0: not
	// checked).
	attempts int
	// waits is the least time the iteration must take (honoured
	// Retry-After headers); checked where time is simulated.
	waits time.Duration
}

func full() expect { return expect{full: true} }

// retried: a retryable fault that never heals ends with a *RetryError
// after every attempt the policy allows.
func retried(is ...error) expect {
	return expect{as: "RetryError", is: is, attempts: DefaultRetryPolicy().MaxAttempts}
}

// final: a fault that cannot heal is not retried.
func final(as string, is ...error) expect { return expect{as: as, is: is, attempts: 1} }

func httpFault(status int, body string, header ...string) func(*faultEndpoint, []pageSpec, int) answer {
	return func(*faultEndpoint, []pageSpec, int) answer {
		return answer{status: status, body: body, header: header}
	}
}

// nuoyunTotal answers page k with its data.total replaced by raw JSON.
func nuoyunTotal(raw string) func(*faultEndpoint, []pageSpec, int) answer {
	return func(ep *faultEndpoint, pages []pageSpec, k int) answer {
		var m map[string]any
		if err := json.Unmarshal([]byte(ep.render(k, pages)), &m); err != nil {
			panic(err)
		}
		m["data"].(map[string]any)["total"] = json.RawMessage(raw)
		return answer{status: 200, body: mustJSON(m)}
	}
}

func socket(s socketFault) func(*faultEndpoint, []pageSpec, int) answer {
	return func(*faultEndpoint, []pageSpec, int) answer { return answer{socket: s} }
}

func vendorFailure(code int, msg string) func(*faultEndpoint, []pageSpec, int) answer {
	return func(ep *faultEndpoint, _ []pageSpec, _ int) answer {
		return answer{status: 200, body: ep.failure(code, msg)}
	}
}

// truncated sends the first half of the page: a complete HTTP reply whose
// JSON ends early.
func truncated(ep *faultEndpoint, pages []pageSpec, k int) answer {
	b := ep.render(k, pages)
	return answer{status: 200, body: b[:len(b)/2]}
}

// commonFaults apply to every endpoint.
var commonFaults = []fault{
	{name: "HTTP 500 once", times: 1, reply: httpFault(500, "Internal Server Error"), want: full()},
	{name: "HTTP 500 always", reply: httpFault(500, "Internal Server Error"), want: retried(ErrServerBusy)},
	{name: "HTTP 502 HTML page once", times: 1, reply: httpFault(502, "<html><body><h1>502 Bad Gateway</h1></body></html>", "Content-Type", "text/html"), want: full()},
	{name: "HTTP 502 HTML page always", reply: httpFault(502, "<html><body><h1>502 Bad Gateway</h1></body></html>", "Content-Type", "text/html"), want: retried(ErrServerBusy)},
	{name: "HTTP 503 + Retry-After: 3, twice", times: 2, reply: httpFault(503, "busy", "Retry-After", "3"), want: expect{full: true, waits: 6 * time.Second}},
	{name: "HTTP 503 always", reply: httpFault(503, "busy"), want: retried(ErrServerBusy), real: true},
	{name: "HTTP 429 + Retry-After: 2 once", times: 1, reply: httpFault(429, "slow down", "Retry-After", "2"), want: expect{full: true, waits: 2 * time.Second}},
	{name: "HTTP 503 + Retry-After: 3600", reply: httpFault(503, "down for maintenance", "Retry-After", "3600"),
		want: expect{as: "RetryError", is: []error{ErrServerBusy}, attempts: 1}},
	{name: "HTTP 404", reply: httpFault(404, "404 page not found"), want: final("ResponseError", ErrBadResponse)},
	{name: "connection reset once", times: 1, reply: socket(reset), want: full(), real: true},
	{name: "connection reset always", reply: socket(reset), want: retried(), real: true},
	{name: "timeout once", times: 1, reply: socket(hang), want: full(), real: true},
	{name: "timeout always", reply: socket(hang), want: retried(context.DeadlineExceeded), real: true},
	{name: "body cut short once", times: 1, reply: socket(cut), want: full(), real: true},
	{name: "body cut short always", reply: socket(cut), want: retried(), real: true},
	{name: "truncated JSON once", times: 1, reply: truncated, want: full()},
	{name: "truncated JSON always", reply: truncated, want: retried(ErrBadResponse)},
	{name: "HTML on HTTP 200 once", times: 1, reply: httpFault(200, "<!DOCTYPE html><html>maintenance</html>", "Content-Type", "text/html"), want: full()},
	{name: "HTML on HTTP 200 always", reply: httpFault(200, "<!DOCTYPE html><html>maintenance</html>", "Content-Type", "text/html"), want: retried(ErrBadResponse)},
	{name: "empty body once", times: 1, reply: httpFault(200, ""), want: full()},
	// A JSON API does not redirect; following one would send the request
	// (its credentials included) somewhere else, perhaps over plain HTTP.
	{name: "HTTP 302 redirect", reply: httpFault(302, "", "Location", "/elsewhere?via=redirect"), want: final("ResponseError", ErrBadResponse), real: true},
	{name: "oversized body", reply: httpFault(200, `{"errcode":0,"pad":"`+strings.Repeat("x", 70<<10)+`"}`), want: final("ResponseError", ErrBadResponse)},
}

// wecomFaults apply to the WeCom endpoints.
var wecomFaults = []fault{
	{name: "errcode -1 once", times: 1, reply: vendorFailure(-1, "system busy"), want: full()},
	{name: "errcode -1 always", reply: vendorFailure(-1, "system busy"), want: retried(ErrServerBusy)},
	// The first two waits after a rate limit are at least RateLimitDelay/2
	// and RateLimitDelay: longer than after a busy server.
	{name: "errcode 45009 twice", times: 2, reply: vendorFailure(45009, "api freq out of limit"),
		want: expect{full: true, waits: DefaultRetryPolicy().RateLimitDelay * 3 / 2}},
	{name: "errcode 45009 always", reply: vendorFailure(45009, "api freq out of limit"), want: retried(ErrRateLimited)},
	{name: "errcode 40014 once (token replay)", times: 1, reply: vendorFailure(40014, "invalid access_token"), want: full()},
	{name: "errcode 42001 once (token replay)", times: 1, reply: vendorFailure(42001, "access_token expired"), want: full()},
	{name: "errcode 40014 always", reply: vendorFailure(40014, "invalid access_token"),
		want: expect{as: "APIError", is: []error{ErrTokenInvalid}, attempts: 2}},
	{name: "errcode 48002 (no permission)", reply: vendorFailure(48002, "api forbidden"), want: final("APIError", ErrPermissionDenied)},
	{name: "errcode 40058 (invalid argument)", reply: vendorFailure(40058, "invalid livingid"), want: final("APIError", ErrInvalidArgument)},
	{name: "repeated cursor", at: []int{1, faultPages / 2, faultPages - 1}, shape: func(pages []pageSpec, k int) {
		pages[k].next, pages[k].more = fmt.Sprintf("c%d", k), true
	}, want: expect{as: "PaginationError", is: []error{ErrPagination}, through: true}},
	{name: `"more" with an empty cursor`, shape: func(pages []pageSpec, k int) {
		pages[k].next, pages[k].more = "", true
	}, want: expect{as: "PaginationError", is: []error{ErrPagination}, through: true}},
	{name: "empty page", shape: func(pages []pageSpec, k int) { pages[k].ids = nil }, want: full()},
	{name: "gettoken errcode -1 once", times: 1, gettoken: func(ep *faultEndpoint) answer {
		return answer{status: 200, body: ep.failure(-1, "system busy")}
	}, at: []int{0}, want: full()},
	{name: "gettoken HTTP 500 always", gettoken: func(*faultEndpoint) answer { return answer{status: 500, body: "oops"} },
		at: []int{0}, want: expect{as: "RetryError", is: []error{ErrServerBusy}}},
	{name: "gettoken 40001 (bad secret)", gettoken: func(ep *faultEndpoint) answer {
		return answer{status: 200, body: ep.failure(40001, "invalid credential")}
	}, at: []int{0}, want: expect{as: "APIError", is: []error{ErrInvalidCredentials}}},
	{name: "gettoken reset always", gettoken: func(*faultEndpoint) answer { return answer{socket: reset} },
		at: []int{0}, realOnly: true, want: expect{as: "RetryError"}},
}

// wecomFaultEndpoints makes suite endpoints of the WeCom styles of
// paginate_test.go: page i is served at cursor "" (i = 0) or "c<i>".
func wecomFaultEndpoints() []*faultEndpoint {
	var eps []*faultEndpoint
	for _, st := range wecomStyles {
		eps = append(eps, &faultEndpoint{
			name:  st.name,
			short: map[Endpoint]string{EndpointWatchStat: "living", EndpointSchoolWatchStat: "school watch", EndpointSchoolUnwatchStat: "school unwatch"}[Endpoint(st.name)],
			path:  st.path,
			chain: func() []pageSpec {
				pages := make([]pageSpec, faultPages)
				for i := range pages {
					for j := range faultPerPage {
						pages[i].ids = append(pages[i].ids, fmt.Sprintf("u%d_%d", i, j))
					}
					pages[i].next, pages[i].more = fmt.Sprintf("c%d", i+1), i < faultPages-1
				}
				return pages
			},
			pageOf: func(body map[string]any) int {
				cursor, _ := body[st.field].(string)
				if cursor == "" {
					return 0
				}
				var i int
				if _, err := fmt.Sscanf(cursor, "c%d", &i); err != nil {
					return -1
				}
				return i
			},
			render: func(i int, pages []pageSpec) string { return st.page(pages[i].ids, pages[i].next, pages[i].more) },
			failure: func(code int, msg string) string {
				return mustJSON(map[string]any{"errcode": code, "errmsg": msg})
			},
			ids:    func(ctx context.Context, c *Client) iter.Seq2[string, error] { return st.ids(ctx, c, "") },
			faults: wecomFaults,
			status: []string{"errcode"},
			flag:   []string{st.flag},
		})
	}
	return eps
}

// nuoyunFaults apply to the Nuoyun endpoint, whose pages are numbered and
// whose replies say how many rows there are in all.
var nuoyunFaults = []fault{
	{name: "code 500 envelope once", times: 1, reply: vendorFailure(500, "服务器繁忙"), want: full()},
	{name: "code 500 envelope always", reply: vendorFailure(500, "服务器繁忙"), want: retried(ErrServerBusy)},
	{name: "code 400 envelope", reply: vendorFailure(400, "参数错误"), want: final("APIError")},
	{name: "code 400 with data [] (PHP)", reply: httpFault(200, `{"code":400,"msg":"参数错误","data":[]}`), want: final("APIError")},
	{name: "rows past the total", at: []int{0}, shape: func(pages []pageSpec, _ int) {
		for i := range pages {
			pages[i].total = (faultPages - 1) * faultPerPage
		}
	}, want: expect{full: true, rows: func(pages []pageSpec, _ int) []string { return allIDs(pages[:faultPages-1]) }}},
	// A total that changes during the iteration (rows added or removed)
	// means the pages no longer line up: an error after the rows of the
	// pages before, never a result reported as complete.
	{name: "total grows after page 1", at: []int{0}, shape: func(pages []pageSpec, _ int) {
		pages[0].total = (faultPages - 1) * faultPerPage
	}, want: expect{as: "PaginationError", is: []error{ErrPagination}, rows: func(pages []pageSpec, _ int) []string { return allIDs(pages[:1]) }}},
	{name: "total changes on a later page", at: []int{1, faultPages / 2, faultPages - 1}, shape: func(pages []pageSpec, k int) {
		pages[k].total++
	}, want: expect{as: "PaginationError", is: []error{ErrPagination}}},
	{name: "total shrinks to the rows before an empty page", at: []int{1, faultPages / 2, faultPages - 1}, shape: func(pages []pageSpec, k int) {
		pages[k].ids, pages[k].total = nil, k*faultPerPage
	}, want: expect{as: "PaginationError", is: []error{ErrPagination}}},
	{name: "a row more than the total on the last page", at: []int{faultPages - 1}, shape: func(pages []pageSpec, _ int) {
		for i := range pages {
			pages[i].total = faultPages*faultPerPage - 1
		}
	}, want: expect{as: "PaginationError", is: []error{ErrPagination}}},
	{name: "data.total \"\" (not a count)", reply: nuoyunTotal(`""`), want: final("ResponseError", ErrBadResponse)},
	{name: "data.total negative", reply: nuoyunTotal(`-1`), want: final("ResponseError", ErrBadResponse)},
	{name: "data.total 0 with rows", at: []int{0}, shape: func(pages []pageSpec, _ int) {
		for i := range pages {
			pages[i].total = 0
		}
	}, want: expect{as: "PaginationError", is: []error{ErrPagination}}},
	{name: "rows of the page before repeated", at: []int{1, faultPages / 2, faultPages - 1}, shape: func(pages []pageSpec, k int) {
		pages[k].ids = append(slices.Clone(pages[k-1].ids), pages[k].ids...)
	}, want: expect{full: true, rows: func(pages []pageSpec, _ int) []string { return uniq(allIDs(pages)) }}},
	// Paging by number, an empty page would end the iteration: while the
	// total says rows remain, that would lose them.
	{name: "empty page", shape: func(pages []pageSpec, k int) { pages[k].ids = nil },
		want: expect{as: "PaginationError", is: []error{ErrPagination}}},
	{name: "page number ignored (page 1 every time)", at: []int{1}, shape: func(pages []pageSpec, _ int) {
		for i := range pages {
			pages[i].ids = pages[0].ids
		}
	}, want: expect{as: "PaginationError", is: []error{ErrPagination}}},
}

// uniq keeps the first of equal ids.
func uniq(ids []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// nuoyunFaultEndpoint serves getAccountUserDurationList: page i of the
// chain is page number i+1, with faultPerPage rows a page; row "u<i>_<j>"
// is viewer (i+1)*100+j.
func nuoyunFaultEndpoint() *faultEndpoint {
	return &faultEndpoint{
		name:  "RoomRounds/getAccountUserDurationList",
		short: "nuoyun",
		path:  EndpointNuoyunUserDurations.Path(),
		opts:  []Option{WithNuoyunAuth(NewSignAuthorizer("appkey-test", faultNuoyunSecret))},
		chain: func() []pageSpec {
			pages := make([]pageSpec, faultPages)
			for i := range pages {
				for j := range faultPerPage {
					pages[i].ids = append(pages[i].ids, fmt.Sprintf("u%d_%d", i, j))
				}
				pages[i].total = faultPages * faultPerPage
			}
			return pages
		},
		pageOf: func(body map[string]any) int {
			page, _ := body["page"].(float64)
			if size, _ := body["page_size"].(float64); size != faultPerPage {
				return -1
			}
			return int(page) - 1
		},
		render: func(i int, pages []pageSpec) string {
			list := []map[string]any{}
			for _, id := range pages[i].ids {
				var p, j int
				fmt.Sscanf(id, "u%d_%d", &p, &j)
				list = append(list, map[string]any{
					"room_id": 7, "wechat_user_space_id": (p+1)*100 + j, "wechat_user_name": id,
					"stay_duration": 60, "third_wechat_info": map[string]any{}, "channel_info": map[string]any{},
					"first_visit_time": "2025-09-16 15:06:06", "last_visit_time": "2025-09-16 15:07:06", "device": "iOS",
				})
			}
			return mustJSON(map[string]any{"code": 200, "msg": "Success", "data": map[string]any{"total": pages[i].total, "list": list}})
		},
		failure: func(code int, msg string) string {
			return mustJSON(map[string]any{"code": code, "msg": msg, "data": map[string]any{}})
		},
		ids: func(ctx context.Context, c *Client) iter.Seq2[string, error] {
			return mapIDs(c.Nuoyun.UserDurations(ctx, UserDurationRequest{PageSize: faultPerPage}), func(r *UserDuration) string {
				return fmt.Sprintf("u%d_%d", r.WeChatUserSpaceID/100-1, r.WeChatUserSpaceID%100)
			})
		},
		faults: nuoyunFaults,
		status: []string{"code"},
		flag:   []string{"data", "total"},
	}
}

// faultEndpoints lists every paged endpoint of the suite.
func faultEndpoints() []*faultEndpoint {
	return append(wecomFaultEndpoints(), nuoyunFaultEndpoint())
}

func allIDs(pages []pageSpec) []string {
	var ids []string
	for _, p := range pages {
		ids = append(ids, p.ids...)
	}
	return ids
}

// faultServer serves one row: the chain with the fault at page k.
type faultServer struct {
	ep    *faultEndpoint
	f     fault
	k     int
	pages []pageSpec

	mu        sync.Mutex
	hits      map[int]int // requests per page
	gettokens int
	stray     []string // requests for other paths
}

func newFaultServer(ep *faultEndpoint, f fault, k int) *faultServer {
	s := &faultServer{ep: ep, f: f, k: k, pages: ep.chain(), hits: map[int]int{}}
	if f.shape != nil {
		f.shape(s.pages, k)
	}
	return s
}

func (s *faultServer) spoils(n int) bool { return s.f.times == 0 || n <= s.f.times }

// serveToken answers gettoken: testToken, then testToken-2, ...
func (s *faultServer) serveToken() answer {
	s.mu.Lock()
	s.gettokens++
	n := s.gettokens
	s.mu.Unlock()
	if s.f.gettoken != nil && s.spoils(n) {
		return s.f.gettoken(s.ep)
	}
	tok := testToken
	if n > 1 {
		tok = fmt.Sprintf("%s-%d", testToken, n)
	}
	return answer{status: 200, body: mustJSON(map[string]any{"errcode": 0, "errmsg": "ok", "access_token": tok, "expires_in": 7200})}
}

// servePage answers a request for a page.
func (s *faultServer) servePage(body []byte) answer {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return answer{status: 400, body: "bad request body"}
	}
	i := s.ep.pageOf(m)
	s.mu.Lock()
	s.hits[i]++
	n := s.hits[i]
	s.mu.Unlock()
	if i == s.k && s.f.reply != nil && s.spoils(n) {
		return s.f.reply(s.ep, s.pages, i)
	}
	if i < 0 || i >= len(s.pages) {
		return answer{status: 200, body: s.ep.failure(40058, "no such page")}
	}
	return answer{status: 200, body: s.ep.render(i, s.pages)}
}

func (s *faultServer) serve(r *http.Request) answer {
	if r.URL.Path == "/cgi-bin/gettoken" {
		return s.serveToken()
	}
	if r.URL.Path != s.ep.path {
		s.mu.Lock()
		s.stray = append(s.stray, r.Method+" "+r.URL.Path)
		s.mu.Unlock()
		return answer{status: 404, body: "not found"}
	}
	b, _ := io.ReadAll(r.Body)
	return s.servePage(b)
}

// mockResponder plays the server through httpmock: a reset is a transport
// error, a hang waits for the request's context, a cut body fails mid-read.
func (s *faultServer) mockResponder(r *http.Request) (*http.Response, error) {
	rep := s.serve(r)
	switch rep.socket {
	case reset:
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	case hang:
		<-r.Context().Done()
		return nil, r.Context().Err()
	case cut:
		return &http.Response{StatusCode: 200, Status: "200 OK", Header: http.Header{"Content-Type": {"application/json"}}, ContentLength: -1, Request: r,
			Body: io.NopCloser(io.MultiReader(strings.NewReader(`{"errcode":0,"errmsg":"ok","stat_`), iotest.ErrReader(io.ErrUnexpectedEOF)))}, nil
	}
	resp := httpmock.NewStringResponse(rep.status, rep.body)
	for i := 0; i+1 < len(rep.header); i += 2 {
		resp.Header.Set(rep.header[i], rep.header[i+1])
	}
	return resp, nil
}

// handler plays the server on real sockets.
func (s *faultServer) handler(stop <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep := s.serve(r)
		switch rep.socket {
		case reset:
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				panic(err)
			}
			if tc, ok := conn.(*net.TCPConn); ok {
				tc.SetLinger(0) // close with RST, not FIN
			}
			conn.Close()
			return
		case hang:
			select {
			case <-r.Context().Done():
			case <-stop:
			}
			return
		case cut:
			conn, buf, err := http.NewResponseController(w).Hijack()
			if err != nil {
				panic(err)
			}
			fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n%s", `{"errcode":0,"errmsg":"ok","stat_`)
			buf.Flush()
			conn.Close()
			return
		}
		for i := 0; i+1 < len(rep.header); i += 2 {
			w.Header().Set(rep.header[i], rep.header[i+1])
		}
		w.WriteHeader(rep.status)
		io.WriteString(w, rep.body)
	})
}

// outcome is what one row observed.
type outcome struct {
	rows    []string
	errs    []error
	elapsed time.Duration
	logs    string
}

// wantRows is the rows the row expects.
func (f fault) wantRows(s *faultServer) []string {
	if f.want.rows != nil {
		return f.want.rows(s.pages, s.k)
	}
	n := len(s.pages)
	if !f.want.full {
		n = s.k
		if f.want.through {
			n++
		}
	}
	return allIDs(s.pages[:n])
}

// faultClient builds the client a row uses against base.
func faultClient(t *testing.T, ep *faultEndpoint, base string, hc *http.Client, logs io.Writer, extra ...Option) *Client {
	opts := []Option{
		WithWeComApp(testCorpID, testSecret),
		WithWeComBaseURL(base),
		WithNuoyunBaseURL(base),
		WithHTTPClient(hc),
		WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		WithMaxResponseBytes(64 << 10),
	}
	opts = append(opts, ep.opts...)
	c, err := NewClient(append(opts, extra...)...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

// drain runs the iteration under a deadline and records what it yields.
func drain(ctx context.Context, seq iter.Seq2[string, error]) (out outcome) {
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

// check judges one row's outcome and returns a short description for the
// results table.
func check(t *testing.T, s *faultServer, out outcome, deadline time.Duration) string {
	t.Helper()
	f := s.f
	if out.elapsed > deadline {
		t.Errorf("took %v, past the %v deadline", out.elapsed, deadline)
	}
	if want := f.wantRows(s); !slices.Equal(out.rows, want) {
		t.Errorf("rows:\n got %s\nwant %s", short(out.rows), short(want))
	}
	if out.elapsed < f.want.waits {
		t.Errorf("took %v, want at least %v (Retry-After)", out.elapsed, f.want.waits)
	}
	if len(out.errs) > 1 {
		t.Errorf("%d errors yielded, want at most 1: %v", len(out.errs), out.errs)
	}
	var texts []string
	for _, err := range out.errs {
		texts = append(texts, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
	}
	for _, secret := range []string{testSecret, testToken, faultNuoyunSecret} {
		for what, text := range map[string]string{"error": strings.Join(texts, "\n"), "logs": out.logs} {
			if strings.Contains(text, secret) {
				t.Errorf("%s leak a secret %q:\n%s", what, secret, text)
			}
		}
	}
	s.mu.Lock()
	hits, stray := s.hits[s.k], s.stray
	s.mu.Unlock()
	if len(stray) > 0 {
		t.Errorf("the client sent requests elsewhere: %v", stray)
	}
	if f.want.attempts > 0 && f.gettoken == nil && hits != f.want.attempts {
		t.Errorf("page %d was requested %d times, want %d", s.k+1, hits, f.want.attempts)
	}
	if f.want.full {
		if len(out.errs) > 0 {
			t.Errorf("want the full result, got error %v", out.errs[0])
		}
		return fmt.Sprintf("full, %d rows", len(out.rows))
	}
	if len(out.errs) == 0 {
		t.Errorf("want a %s error, got none (%d rows)", f.want.as, len(out.rows))
		return "no error"
	}
	err := out.errs[0]
	desc := errorShape(err)
	if !strings.HasPrefix(desc, f.want.as) {
		t.Errorf("want a *%s, got %T: %v", f.want.as, err, err)
	}
	for _, is := range f.want.is {
		if !errors.Is(err, is) {
			t.Errorf("error does not match %v: %v", is, err)
		}
	}
	return desc
}

// short prints a row list, abridged when long.
func short(rows []string) string {
	if len(rows) <= 20 {
		return fmt.Sprint(rows)
	}
	return fmt.Sprintf("%v ... %v (%d rows)", rows[:10], rows[len(rows)-5:], len(rows))
}

// errorShape describes an error by type, attempts and category.
func errorShape(err error) string {
	var b strings.Builder
	if re, ok := errors.AsType[*RetryError](err); ok {
		fmt.Fprintf(&b, "RetryError(%d) ← ", re.Attempts)
		err = re.Err
	}
	switch e := err.(type) {
	case *APIError:
		fmt.Fprintf(&b, "APIError %d", e.Code)
	case *ResponseError:
		fmt.Fprintf(&b, "ResponseError %q", e.Reason)
		if e.HTTPStatus != 200 {
			fmt.Fprintf(&b, " %d", e.HTTPStatus)
		}
	case *TransportError:
		b.WriteString("TransportError")
		if errors.Is(e, context.DeadlineExceeded) {
			b.WriteString(" (timeout)")
		}
	case *PaginationError:
		fmt.Fprintf(&b, "PaginationError %q", e.Reason)
	default:
		fmt.Fprintf(&b, "%T", err)
	}
	for _, cat := range []error{ErrTokenInvalid, ErrInvalidCredentials, ErrRateLimited, ErrServerBusy, ErrInvalidArgument, ErrPermissionDenied} {
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
	eps  []string
	fs   []string
}

func (ft *faultTable) add(ep, f, harness string, k int, desc string, failed bool) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	if !slices.Contains(ft.eps, ep) {
		ft.eps = append(ft.eps, ep)
	}
	if !slices.Contains(ft.fs, f) {
		ft.fs = append(ft.fs, f)
	}
	mark := ""
	if failed {
		mark = " **FAILED**"
	}
	key := [2]string{f, ep}
	ft.rows[key] = append(ft.rows[key], fmt.Sprintf("p%d%s: %s%s", k+1, harness, desc, mark))
}

// markdown renders one line per fault. Endpoints with the same outcome
// share a cell, and so do pages with the same outcome.
func (ft *faultTable) markdown() string {
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
			c := mergeCells(cells)
			if _, ok := eps[c]; !ok {
				order = append(order, c)
			}
			eps[c] = append(eps[c], ep)
		}
		var parts []string
		for _, c := range order {
			who := strings.Join(eps[c], ", ")
			if len(eps[c]) == len(ft.eps) {
				who = "all"
			}
			who = strings.Replace(who, "living, school watch, school unwatch", "WeCom ×3", 1)
			parts = append(parts, who+": "+c)
		}
		fmt.Fprintf(&b, "| %s | %s |\n", f, strings.Join(parts, "<br>"))
	}
	return b.String()
}

// mergeCells turns ["p1: x", "p2: x", "p4: y"] into "p1,p2: x; p4: y".
func mergeCells(cells []string) string {
	if len(cells) == 0 {
		return "n/a"
	}
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
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	table := &faultTable{rows: map[[2]string][]string{}}
	for _, ep := range faultEndpoints() {
		t.Run(ep.name, func(t *testing.T) {
			for _, f := range append(slices.Clone(commonFaults), ep.faults...) {
				at := f.at
				if at == nil {
					at = []int{0, faultPages / 2, faultPages - 1}
				}
				t.Run(f.name, func(t *testing.T) {
					if !f.realOnly {
						for _, k := range at {
							t.Run(fmt.Sprintf("mock/page%d", k+1), func(t *testing.T) {
								desc := runMockRow(t, ep, f, k)
								table.add(ep.short, f.name, "", k, desc, t.Failed())
							})
						}
					}
					if f.real || f.realOnly {
						k := at[len(at)/2]
						t.Run(fmt.Sprintf("socket/page%d", k+1), func(t *testing.T) {
							desc := runSocketRow(t, ep, f, k)
							table.add(ep.short, f.name, " (socket)", k, desc, t.Failed())
						})
					}
				})
			}
		})
	}
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

// runMockRow plays a row through httpmock in a synctest bubble, with the
// default retry policy and timeouts: its waits take no real time.
func runMockRow(t *testing.T, ep *faultEndpoint, f fault, k int) (desc string) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	const deadline = 2 * time.Minute
	synctest.Test(t, func(t *testing.T) {
		s := newFaultServer(ep, f, k)
		mt := httpmock.NewMockTransport()
		mt.RegisterNoResponder(s.mockResponder)
		var logs syncBuffer
		c := faultClient(t, ep, testBase, &http.Client{Transport: mt}, &logs, WithTimeout(5*time.Second))
		ctx, cancel := context.WithTimeout(t.Context(), deadline)
		defer cancel()
		out := drain(ctx, ep.ids(ctx, c))
		out.logs = logs.String()
		desc = check(t, s, out, deadline)
	})
	return desc
}

// runSocketRow plays a row against a loopback server in real time, with
// short waits.
func runSocketRow(t *testing.T, ep *faultEndpoint, f fault, k int) string {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	const deadline = 10 * time.Second
	s := newFaultServer(ep, f, k)
	stop := make(chan struct{})
	srv := httptest.NewServer(s.handler(stop))
	defer srv.Close()
	defer close(stop)
	var logs syncBuffer
	c := faultClient(t, ep, srv.URL, srv.Client(), &logs,
		WithTimeout(400*time.Millisecond), // generous for a loaded CI machine; a hang costs 4 of these
		WithRetry(RetryPolicy{MaxAttempts: DefaultRetryPolicy().MaxAttempts, BaseDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond, RateLimitDelay: 5 * time.Millisecond}))
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	done := make(chan outcome, 1)
	go func() { done <- drain(ctx, ep.ids(ctx, c)) }()
	select {
	case out := <-done:
		out.logs = logs.String()
		return check(t, s, out, deadline)
	case <-time.After(deadline + 5*time.Second):
		t.Fatal("the iteration hung past its deadline")
		return ""
	}
}

// TestCallerRedirectPolicyIsKept: livestat refuses redirects only when the
// caller's http.Client has no policy of its own, and never changes the
// caller's client.
func TestCallerRedirectPolicyIsKept(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy func(*http.Request, []*http.Request) error
		moved  int
	}{
		{"no policy: not followed", nil, 0},
		{"the caller's policy: followed", func(*http.Request, []*http.Request) error { return nil }, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mt := httpmock.NewMockTransport()
			mt.RegisterResponder(http.MethodPost, testBase+EndpointNuoyunUserDurations.Path(), respond(307, "", "Location", testBase+"/moved"))
			mt.RegisterResponder(http.MethodPost, testBase+"/moved", respond(200, `{"code":200,"msg":"Success","data":{"total":0,"list":[]}}`))
			hc := &http.Client{Transport: mt, CheckRedirect: tc.policy}
			c, err := NewClient(WithNuoyunBaseURL(testBase), WithHTTPClient(hc), WithoutRetries())
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Nuoyun.GetUserDurations(context.Background(), UserDurationRequest{Page: 1, PageSize: 10})
			if got := mt.GetCallCountInfo()["POST "+testBase+"/moved"]; got != tc.moved {
				t.Errorf("redirect target called %d times, want %d", got, tc.moved)
			}
			if tc.moved == 0 {
				if re, ok := errors.AsType[*ResponseError](err); !ok || re.HTTPStatus != 307 {
					t.Errorf("want a ResponseError for the 307, got %v", err)
				}
			} else if err != nil {
				t.Error(err)
			}
			if tc.policy == nil && hc.CheckRedirect != nil {
				t.Error("the caller's client was modified")
			}
		})
	}
}
