// Package livestattest is an in-process fake of the WeCom and Nuoyun APIs
// that livestat calls, for the unit tests of code that uses livestat.
//
// A Server answers gettoken and the live-statistics endpoints on
// net/http/httptest, from rows the test supplies (the typed rows of the
// livestat package) or generates (GenerateViewers, GenerateSchool,
// GenerateDurations). It pages exactly as the real APIs do: next_key and
// ending for living/get_watch_stat, next_cursor and has_more for the school
// endpoints, page, page_size and total for Nuoyun. It checks the
// access_token of every WeCom call, expires tokens on request, injects
// scripted faults at a chosen page and call (an errcode, an HTTP status and
// headers, an edited or broken body, a reply cut short, a dropped
// connection, latency), and records what was called.
//
//	func TestReport(t *testing.T) {
//		srv := livestattest.NewServer(t, livestattest.Options{
//			Living: map[string][]livestat.LivingViewer{"L1": livestattest.GenerateViewers(250, 1)},
//		})
//		c := srv.Client() // a *livestat.Client pointed at srv, credentials set
//		...
//	}
//
// A Server also works without a testing.TB: New starts one and Close stops
// it (the livestat CLI's demo command does this).
//
// With Options.InMemory the server and its client talk over in-memory
// connections, so a test can run inside a testing/synctest bubble, where
// retry backoffs, Retry-After waits, timeouts and token lifetimes take no
// real time:
//
//	synctest.Test(t, func(t *testing.T) {
//		srv := livestattest.NewServer(t, livestattest.Options{InMemory: true, ...})
//		srv.Fail(livestattest.Fault{Endpoint: livestat.EndpointWatchStat, Page: 2, HTTPStatus: 503, RetryAfter: 30})
//		c := srv.Client(livestat.WithRetry(livestat.DefaultRetryPolicy()))
//		... // the 30 s wait passes at once
//	})
package livestattest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/livestat/livestat"
)

// Default credentials of a Server when Options leave them empty.
const (
	DefaultCorpID     = "wwlivestattest"
	DefaultCorpSecret = "livestattest-corp-secret"
)

// DefaultPageSize is the number of rows per WeCom page when
// Options.PageSize is 0. WeCom does not document its page size.
const DefaultPageSize = 100

// DefaultTokenTTL is the lifetime of the tokens gettoken hands out, what
// WeCom sends as expires_in (7200 s).
const DefaultTokenTTL = 2 * time.Hour

// School is the data of one school broadcast: who watched it and who did
// not. A student or parent should be in one list only.
type School struct {
	Watchers  []livestat.SchoolWatcher  // get_watch_stat_v2: students, parents, visitors
	Absentees []livestat.SchoolAbsentee // get_unwatch_stat_v2: students, parents
}

// Options configure a Server. The zero value is a server with no data, the
// default credentials and page size, and no faults.
type Options struct {
	// CorpID and CorpSecret are the credentials gettoken accepts (default
	// DefaultCorpID and DefaultCorpSecret).
	CorpID, CorpSecret string
	// PageSize is the number of rows per page of the WeCom endpoints
	// (default DefaultPageSize). A page holds the next PageSize rows, in
	// the order given, sorted into the reply's lists: so within a page a
	// client reads users before external users, and students before
	// parents before visitors. Compare with assert.ElementsMatch, or give
	// the rows in that order.
	PageSize int
	// TokenTTL is the lifetime of a token (default DefaultTokenTTL). Within
	// it gettoken returns the same token, as WeCom does.
	TokenTTL time.Duration
	// Latency delays every reply.
	Latency time.Duration
	// InMemory serves over in-memory connections instead of a loopback
	// socket. Only the HTTP client of ClientOptions and Client reaches the
	// server then (URL names a loopback port where nothing listens). Start
	// such a server inside a testing/synctest bubble to run the client's
	// waits on the bubble's clock; a loopback socket would keep the
	// bubble's clock from moving while a connection is open.
	InMemory bool

	// Living holds the viewers of corp broadcasts, by livingid. A row's
	// Kind says its list (KindUser or KindExternalUser); an empty Kind is
	// read from the row: external when ExternalUserID is set.
	Living map[string][]livestat.LivingViewer
	// School holds school broadcasts, by livingid. An empty Kind is read
	// from the row: visitor when only Nickname is set, parent when
	// ParentUserID is set, student otherwise.
	School map[string]School

	// LivingInfo holds the details living/get_living_info serves, by
	// livingid, as given. A broadcast of Living (or UserLivings) without an
	// entry gets details made from its viewers; see Server.LivingInfo.
	LivingInfo map[string]livestat.LivingInfo
	// SchoolLivingInfo holds the details school/living/get_living_info
	// serves, by livingid, as given. A broadcast of School without an entry
	// gets details made from its watchers and absentees; see
	// Server.SchoolLivingInfo.
	SchoolLivingInfo map[string]livestat.SchoolLivingInfo
	// UserLivings lists the livingids living/get_user_all_livingid serves,
	// by userid, in this order; see Server.UserLivings for the broadcasts
	// added to them.
	UserLivings map[string][]string
	// Live lists the broadcasts (corp or school) still on air. Their
	// generated details say so: a corp broadcast has status 1
	// (livestat.LivingLive) and, like a school one, online_count the
	// number of its viewers, and living_duration the time since it
	// started as far as its viewers show (the longest watch time, at
	// least a minute). Details supplied in LivingInfo or SchoolLivingInfo
	// are served as given.
	Live []string

	// Nuoyun holds the rows of getAccountUserDurationList. The endpoint
	// filters them by update time with LastVisitTime (the rows carry no
	// other update time), and serves them in the order given for sort
	// "asc", reversed for "desc"; a request without sort gets code 400,
	// as the API requires it.
	Nuoyun []livestat.UserDuration
	// NuoyunUserSpaceID, when set, is the wechat_user_space_id every
	// Nuoyun request must carry; others get code 400. The docs call the
	// parameter 用户id, but their sample asks with 34043700 and gets rows
	// of other users, so the fake reads it as naming the account whose
	// viewers are listed, not as a filter on the rows.
	NuoyunUserSpaceID int64
	// NuoyunAppKey and NuoyunAppSecret, when set, make the Nuoyun endpoint
	// require the headers of livestat.NewSignAuthorizer(key, secret) with
	// its defaults (key, timestamp, sign = md5(timestamp+key+secret)), and
	// Client sets that authorizer. Nuoyun does not document how its
	// gateway authenticates; this is livestat's default guess.
	NuoyunAppKey, NuoyunAppSecret string

	// Faults are scripted failures; see Fault. More can be added with
	// Server.Fail.
	Faults []Fault
}

// Fault is a scripted failure of one endpoint. When a call matches, the
// server waits Delay, then, in this order: drops the connection
// (Disconnect), or answers with HTTPStatus and/or Body, or with the errcode
// ErrCode in the endpoint's JSON envelope. Otherwise the call proceeds:
// ExpireToken expires its token first, so it fails with 42001 as an expired
// token does; OmitPaging removes the paging fields from its reply; Edit
// rewrites the reply; CutShort sends only the first half of it. Header is
// added to any reply. Delay alone only slows the call down.
type Fault struct {
	// Endpoint is the endpoint that fails, such as
	// livestat.EndpointWatchStat; required.
	Endpoint livestat.Endpoint
	// Page, if set, restricts the fault to the calls for that page (see
	// Request.Page). Pages may be fetched concurrently, so call numbers
	// alone do not say which page a call is for.
	Page int
	// When, if set, restricts the fault to the calls it returns true for.
	// It runs in the server's goroutine for the call, possibly for several
	// calls at once.
	When func(Request) bool
	// Call says which matching call fails first: 1 (or 0) is the next one
	// after the fault was added, 2 the one after it, and so on. Calls are
	// counted whether they succeed or not.
	Call int
	// Times is how many consecutive matching calls fail from Call on: 0
	// means 1, a negative number every call from Call on.
	Times int

	// ErrCode and ErrMsg make the call answer HTTP 200 with this error in
	// the endpoint's envelope: a WeCom errcode and errmsg, or a Nuoyun code
	// and msg with "data": {} (a default message when ErrMsg is empty).
	ErrCode int
	ErrMsg  string
	// HTTPStatus makes the call answer with this status; Body, if set, is
	// the reply body (with HTTP 200 when HTTPStatus is 0), sent as is.
	HTTPStatus int
	Body       string
	// RetryAfter, in seconds, is sent as the Retry-After header.
	RetryAfter int
	// Header holds headers added to the reply, such as a Content-Type or
	// the Location of a redirect (with HTTPStatus 302).
	Header http.Header
	// Disconnect drops the connection without a reply: a TCP reset on a
	// loopback server (ECONNRESET), a closed pipe in memory. The client
	// sees a transport error.
	Disconnect bool
	// CutShort sends the status and headers of the reply, with a
	// Content-Length of the whole body, then half the body, and closes the
	// connection: the client's read of the body fails with an unexpected
	// EOF.
	CutShort bool
	// Edit, if set, rewrites the body of the reply the server would send
	// (a JSON document; after OmitPaging) for the request r: to change a
	// cursor or a total, repeat or drop rows, or end the JSON early.
	Edit func(r Request, body []byte) []byte
	// ExpireToken expires the token the call presents (and every token
	// issued before it), so the call fails with errcode 42001 and the
	// next gettoken issues a new token.
	ExpireToken bool
	// OmitPaging sends the page without its paging fields: ending and
	// next_key, has_more and next_cursor, or Nuoyun's data.total. The
	// rows stay. Only those fields tell whether more pages follow, so a
	// client must not take such a reply for the last page.
	OmitPaging bool
	// Delay is waited before the reply, or until the client gives up.
	Delay time.Duration
}

// Request is a call the server received.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
	// Page is the 1-based page the call asks for: Nuoyun's page, or for a
	// WeCom endpoint the page the server's own cursor points at (the
	// cursor counts rows, so Page assumes the page size — PageSize, or
	// the limit of get_user_all_livingid — has not changed since the
	// cursor was made). It is 1 for an endpoint that is not paged
	// (get_living_info), and 0 for gettoken and for a request the server
	// cannot read.
	Page int
	// Time is when the call arrived, by the server's clock (the fake clock
	// of a testing/synctest bubble the server was started in): to check
	// the spacing of calls, such as a rate limit.
	Time time.Time
}

// Server is a fake of the WeCom and Nuoyun endpoints. Its methods are safe
// for concurrent use, also while a client is calling it.
type Server struct {
	hs  *httptest.Server
	mem *memListener // with Options.InMemory
	tb  testing.TB   // nil when started with New

	mu       sync.Mutex
	opts     Options
	living   map[string][]livestat.LivingViewer
	school   map[string]School
	livings  livings // livings.go
	nuoyun   []livestat.UserDuration
	faults   []*fault
	calls    map[livestat.Endpoint]int
	requests map[livestat.Endpoint][]Request
	inFlight map[livestat.Endpoint]int // calls being answered now
	peak     map[livestat.Endpoint]int // the most calls answered at once
	tokens   map[string]*token
	issued   int
	current  string // the token gettoken hands out while it is valid
}

type token struct {
	expires time.Time
	expired bool // expired on purpose (ExpireTokens, Fault.ExpireToken)
}

// New starts a Server. Call Close when done with it.
func New(opts Options) *Server {
	if opts.CorpID == "" {
		opts.CorpID = DefaultCorpID
	}
	if opts.CorpSecret == "" {
		opts.CorpSecret = DefaultCorpSecret
	}
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = DefaultTokenTTL
	}
	s := &Server{
		opts:     opts,
		living:   make(map[string][]livestat.LivingViewer),
		school:   make(map[string]School),
		calls:    make(map[livestat.Endpoint]int),
		requests: make(map[livestat.Endpoint][]Request),
		inFlight: make(map[livestat.Endpoint]int),
		peak:     make(map[livestat.Endpoint]int),
		tokens:   make(map[string]*token),
	}
	for id, rows := range opts.Living {
		s.living[id] = slices.Clone(rows)
	}
	for id, sc := range opts.School {
		s.school[id] = School{Watchers: slices.Clone(sc.Watchers), Absentees: slices.Clone(sc.Absentees)}
	}
	s.nuoyun = slices.Clone(opts.Nuoyun)
	s.livings = newLivings(opts)
	s.opts.Living, s.opts.School, s.opts.Nuoyun, s.opts.Faults = nil, nil, nil, nil
	s.opts.LivingInfo, s.opts.SchoolLivingInfo, s.opts.UserLivings, s.opts.Live = nil, nil, nil, nil
	for _, f := range opts.Faults {
		s.addFault(f)
	}
	mux := http.NewServeMux()
	// Each endpoint at the path and with the method livestat describes.
	for ep, h := range map[livestat.Endpoint]handler{
		livestat.EndpointGetToken:            s.gettoken,
		livestat.EndpointWatchStat:           s.withToken(s.watchStat),
		livestat.EndpointSchoolWatchStat:     s.withToken(s.schoolWatchStat),
		livestat.EndpointSchoolUnwatchStat:   s.withToken(s.schoolUnwatchStat),
		livestat.EndpointUserLivingIDs:       s.withToken(s.userLivingIDs),
		livestat.EndpointLivingInfo:          s.withToken(s.livingInfo),
		livestat.EndpointSchoolLivingInfo:    s.withToken(s.schoolLivingInfo),
		livestat.EndpointNuoyunUserDurations: s.userDurations,
	} {
		mux.HandleFunc(ep.Path(), s.handle(ep, h))
	}
	if opts.InMemory {
		s.mem = newMemListener()
		s.hs = &httptest.Server{Listener: s.mem, Config: &http.Server{Handler: mux}}
		s.hs.Start()
		s.hs.Client().Transport.(*http.Transport).DialContext = s.mem.dial
	} else {
		s.hs = httptest.NewServer(mux)
	}
	return s
}

// NewServer starts a Server that tb's Cleanup closes. Client reports its
// errors through tb.
func NewServer(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s := New(opts)
	s.tb = tb
	tb.Cleanup(s.Close)
	return s
}

// NuoyunAppKey returns the Nuoyun app key the server expects ("" when it
// checks no signature).
func (s *Server) NuoyunAppKey() string { return s.opts.NuoyunAppKey }

// NuoyunAppSecret returns the Nuoyun app secret the server expects.
func (s *Server) NuoyunAppSecret() string { return s.opts.NuoyunAppSecret }

// Close shuts the server down, waiting for calls in progress. Clients made
// by Client stop working; their idle connections are closed.
func (s *Server) Close() { s.hs.Close() }

// URL returns the server's base URL (scheme and loopback host), for both
// livestat.WithWeComBaseURL and livestat.WithNuoyunBaseURL.
func (s *Server) URL() string { return s.hs.URL }

// CorpID returns the corp ID gettoken accepts.
func (s *Server) CorpID() string { return s.opts.CorpID }

// CorpSecret returns the app secret gettoken accepts.
func (s *Server) CorpSecret() string { return s.opts.CorpSecret }

// ClientOptions returns the livestat options that point a client at the
// server: base URLs, credentials, an HTTP client whose idle connections
// Close closes, and a retry policy with the default number of attempts but
// millisecond backoffs, so tests of retries run fast. Options passed after
// them override them.
func (s *Server) ClientOptions() []livestat.Option {
	opts := []livestat.Option{
		livestat.WithWeComBaseURL(s.hs.URL),
		livestat.WithNuoyunBaseURL(s.hs.URL),
		livestat.WithWeComApp(s.opts.CorpID, s.opts.CorpSecret),
		livestat.WithHTTPClient(s.hs.Client()),
		livestat.WithRetry(livestat.RetryPolicy{
			MaxAttempts:    livestat.DefaultRetryPolicy().MaxAttempts,
			BaseDelay:      time.Millisecond,
			MaxDelay:       10 * time.Millisecond,
			RateLimitDelay: 2 * time.Millisecond,
		}),
	}
	if s.opts.NuoyunAppKey != "" {
		opts = append(opts, livestat.WithNuoyunAuth(livestat.NewSignAuthorizer(s.opts.NuoyunAppKey, s.opts.NuoyunAppSecret)))
	}
	return opts
}

// Client returns a *livestat.Client configured with ClientOptions followed
// by opts. If opts are invalid, it fails the test of a server made by
// NewServer, and panics for one made by New (use ClientOptions with
// livestat.NewClient to handle the error yourself).
func (s *Server) Client(opts ...livestat.Option) *livestat.Client {
	c, err := livestat.NewClient(append(s.ClientOptions(), opts...)...)
	if err != nil {
		if s.tb != nil {
			s.tb.Helper()
			s.tb.Fatalf("livestattest: %v", err)
		}
		panic("livestattest: " + err.Error())
	}
	return c
}

// SetLiving replaces the viewers of the corp broadcast livingID.
func (s *Server) SetLiving(livingID string, viewers []livestat.LivingViewer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.living[livingID] = slices.Clone(viewers)
}

// SetSchool replaces the data of the school broadcast livingID.
func (s *Server) SetSchool(livingID string, sc School) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.school[livingID] = School{Watchers: slices.Clone(sc.Watchers), Absentees: slices.Clone(sc.Absentees)}
}

// Fail adds a scripted fault.
func (s *Server) Fail(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addFault(f)
}

// fault is a Fault and the number of calls it has matched.
type fault struct {
	Fault
	seen int
}

func (s *Server) addFault(f Fault) {
	f.Call = max(f.Call, 1)
	if f.Times == 0 {
		f.Times = 1
	}
	s.faults = append(s.faults, &fault{Fault: f})
}

// ExpireTokens expires every token issued so far: calls presenting one fail
// with errcode 42001, and the next gettoken issues a new token.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireTokens()
}

func (s *Server) expireTokens() {
	for _, t := range s.tokens {
		t.expired = true
	}
	s.current = ""
}

// TokensIssued returns how many distinct tokens gettoken has handed out.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued
}

// Calls returns how many calls ep has received, failed ones included.
func (s *Server) Calls(ep livestat.Endpoint) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[ep]
}

// TotalCalls returns how many calls all endpoints have received.
func (s *Server) TotalCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		n += c
	}
	return n
}

// Requests returns the calls ep has received, in order.
func (s *Server) Requests(ep livestat.Endpoint) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests[ep])
}

// InFlight returns how many calls of ep the server is answering now: calls
// that have arrived and whose handler has not returned, such as calls held
// by a Fault's Delay. A call the client gave up on leaves when the server
// notices, which may be a moment after the client's call returned.
func (s *Server) InFlight(ep livestat.Endpoint) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inFlight[ep]
}

// MaxInFlight returns the most calls of ep the server has answered at
// once: to check that a client's concurrency stays within its limit.
func (s *Server) MaxInFlight(ep livestat.Endpoint) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak[ep]
}

// LastRequest returns the last call ep received; ok is false if none.
func (s *Server) LastRequest(ep livestat.Endpoint) (r Request, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := s.requests[ep]
	if len(rs) == 0 {
		return Request{}, false
	}
	return rs[len(rs)-1], true
}

// handler answers one call whose request has been recorded; it returns
// the JSON reply.
type handler func(r *http.Request, body []byte) any

// handle wraps h with what every endpoint does: method check, recording,
// latency, and scripted faults.
func (s *Server) handle(ep livestat.Endpoint, h handler) http.HandlerFunc {
	method := ep.Method()
	return func(w http.ResponseWriter, r *http.Request) {
		arrived := time.Now()
		s.mu.Lock()
		s.inFlight[ep]++
		s.peak[ep] = max(s.peak[ep], s.inFlight[ep])
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.inFlight[ep]--
			s.mu.Unlock()
		}()
		body, err := readBody(r)
		if err != nil {
			http.Error(w, "bad request body", http.StatusBadRequest)
			return
		}
		req := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body, Time: arrived}
		req.Page = s.pageOf(ep, body)
		s.mu.Lock()
		s.calls[ep]++
		s.requests[ep] = append(s.requests[ep], req)
		faults := slices.Clone(s.faults)
		s.mu.Unlock()
		// When runs outside the lock: it is the test's code, and may
		// call the Server's methods.
		matched := make([]bool, len(faults))
		for i, f := range faults {
			matched[i] = f.Endpoint == ep && (f.Page == 0 || f.Page == req.Page) && (f.When == nil || f.When(req))
		}
		s.mu.Lock()
		f, faulty := fire(faults, matched)
		// A fault that has spoiled all its calls is done: drop it, so that
		// a long run adding faults (a fuzzer) does not slow down.
		s.faults = slices.DeleteFunc(s.faults, (*fault).done)
		delay := s.opts.Latency
		if faulty && f.ExpireToken {
			s.expireTokens()
		}
		s.mu.Unlock()

		if faulty {
			delay += f.Delay
		}
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		if r.Method != method {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if faulty {
			for k, vs := range f.Header {
				w.Header()[k] = slices.Clone(vs)
			}
			if s.writeFault(w, ep, f) {
				return
			}
		}
		rep := h(r, body)
		if !faulty {
			writeJSON(w, rep)
			return
		}
		if f.OmitPaging {
			rep = omitPaging(rep)
		}
		b, err := json.Marshal(rep)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if f.Edit != nil {
			b = f.Edit(req, b)
		}
		if f.CutShort {
			cutShort(w, b)
			return
		}
		writeBody(w, b)
	}
}

// pageOf returns the page a request body of ep asks for (see Request.Page).
func (s *Server) pageOf(ep livestat.Endpoint, body []byte) int {
	switch ep {
	case livestat.EndpointLivingInfo, livestat.EndpointSchoolLivingInfo:
		return 1 // one call, one "page"
	}
	var req struct {
		wecomRequest
		userLivingIDsRequest
		Page int `json:"page"`
	}
	if json.Unmarshal(body, &req) != nil {
		return 0
	}
	s.mu.Lock()
	size := s.opts.PageSize
	s.mu.Unlock()
	cursor := req.NextCursor
	switch ep {
	case livestat.EndpointNuoyunUserDurations:
		return max(req.Page, 0)
	case livestat.EndpointWatchStat:
		cursor = req.NextKey
	case livestat.EndpointSchoolWatchStat, livestat.EndpointSchoolUnwatchStat:
	case livestat.EndpointUserLivingIDs:
		// Its page size is the request's limit.
		cursor, size = req.Cursor, cmp.Or(req.Limit, maxLivingIDsLimit)
		if size < 0 || size > maxLivingIDsLimit {
			return 0
		}
	default:
		return 0
	}
	off, ok := decodeCursor(cursor)
	if !ok {
		return 0
	}
	return off/size + 1
}

// cutShort sends b's headers and half of b, then drops the connection.
func cutShort(w http.ResponseWriter, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b[:len(b)/2])
	if err := http.NewResponseController(w).Flush(); err != nil {
		panic(http.ErrAbortHandler)
	}
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		conn.Close()
		return
	}
	panic(http.ErrAbortHandler) // closes the connection
}

// omitPaging returns rep without its paging fields (see Fault.OmitPaging).
func omitPaging(rep any) any {
	b, err := json.Marshal(rep)
	if err != nil {
		return rep
	}
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber() // ids beyond 2^53 stay exact
	if d.Decode(&m) != nil {
		return rep // not an object: nothing to omit
	}
	for _, k := range []string{"ending", "next_key", "has_more", "next_cursor"} {
		delete(m, k)
	}
	if data, ok := m["data"].(map[string]any); ok {
		delete(data, "total")
	}
	return m
}

// done reports whether f can match no more calls.
func (f *fault) done() bool { return f.Times >= 0 && f.seen >= f.Call+f.Times-1 }

// fire counts a call against the faults it matched and returns the first
// one that applies to it. Callers hold mu.
func fire(faults []*fault, matched []bool) (Fault, bool) {
	var out Fault
	found := false
	for i, f := range faults {
		if !matched[i] {
			continue
		}
		f.seen++
		if !found && f.seen >= f.Call && (f.Times < 0 || f.seen < f.Call+f.Times) {
			out, found = f.Fault, true
		}
	}
	return out, found
}

// writeFault answers with f if f replaces the reply, and reports whether it
// did.
func (s *Server) writeFault(w http.ResponseWriter, ep livestat.Endpoint, f Fault) bool {
	switch {
	case f.Disconnect:
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // close with RST, not FIN
			}
			conn.Close()
			return true
		}
		panic(http.ErrAbortHandler) // closes the connection without a reply
	case f.HTTPStatus != 0 || f.Body != "":
		status := f.HTTPStatus
		if status == 0 {
			status = http.StatusOK
		}
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", fmt.Sprint(f.RetryAfter))
		}
		body := f.Body
		if body == "" {
			body = http.StatusText(status)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
		return true
	case f.ErrCode != 0:
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", fmt.Sprint(f.RetryAfter))
		}
		writeJSON(w, s.errorReply(ep, f.ErrCode, f.ErrMsg))
		return true
	}
	return false
}

// errorReply is the envelope of a failed call of ep.
func (s *Server) errorReply(ep livestat.Endpoint, code int, msg string) any {
	if ep.Vendor() == livestat.VendorNuoyun {
		if msg == "" {
			msg = "请求失败"
		}
		return nuoyunFail(code, msg)
	}
	if msg == "" {
		msg = defaultMessage(code)
	}
	return wecomStatus{ErrCode: code, ErrMsg: msg}
}

func defaultMessage(code int) string {
	switch code {
	case -1:
		return "system is busy"
	case 40001:
		return "invalid credential"
	case 40014:
		return "invalid access_token"
	case 41001:
		return "access_token missing"
	case 42001:
		return "access_token expired"
	case 45009:
		return "api freq out of limit"
	case 48002:
		return "api forbidden"
	}
	return fmt.Sprintf("error %d", code)
}

// withToken checks the access_token of a WeCom call before h.
func (s *Server) withToken(h handler) handler {
	return func(r *http.Request, body []byte) any {
		tok := r.URL.Query().Get("access_token")
		if tok == "" {
			return wecomStatus{ErrCode: 41001, ErrMsg: defaultMessage(41001)}
		}
		s.mu.Lock()
		t, ok := s.tokens[tok]
		expired := ok && (t.expired || !time.Now().Before(t.expires))
		s.mu.Unlock()
		switch {
		case !ok:
			return wecomStatus{ErrCode: 40014, ErrMsg: defaultMessage(40014)}
		case expired:
			return wecomStatus{ErrCode: 42001, ErrMsg: defaultMessage(42001)}
		}
		return h(r, body)
	}
}

func (s *Server) gettoken(r *http.Request, _ []byte) any {
	q := r.URL.Query()
	if q.Get("corpid") != s.opts.CorpID || q.Get("corpsecret") != s.opts.CorpSecret {
		return wecomStatus{ErrCode: 40001, ErrMsg: defaultMessage(40001)}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tok, ttl := s.issue()
	return gettokenReply{wecomStatus: success(), AccessToken: tok, ExpiresIn: ttl}
}

// Token returns the access token gettoken hands out now, and its lifetime
// left: for a client whose tokens come from elsewhere
// (livestat.WithTokenSource). Like a token from gettoken, it expires after
// TokenTTL or with ExpireTokens.
func (s *Server) Token() (token string, expiresIn time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok, ttl := s.issue()
	return tok, time.Duration(ttl) * time.Second
}

// issue returns the current token and its seconds left, issuing a new one
// when there is none or it has expired. Callers hold mu.
func (s *Server) issue() (string, int64) {
	now := time.Now()
	if t := s.tokens[s.current]; s.current != "" && !t.expired && now.Before(t.expires) {
		return s.current, max(1, int64(t.expires.Sub(now)/time.Second))
	}
	s.issued++
	s.current = fmt.Sprintf("livestattest-token-%d", s.issued)
	s.tokens[s.current] = &token{expires: now.Add(s.opts.TokenTTL)}
	return s.current, int64(s.opts.TokenTTL / time.Second)
}

// readBody reads a request body of reasonable size.
func readBody(r *http.Request) ([]byte, error) {
	const max = 1 << 20
	b, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err == nil && len(b) > max {
		err = errors.New("request body too large")
	}
	return b, err
}
