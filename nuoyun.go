package livestat

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"iter"
	"math"
	"net/http"
	"time"

	"golang.org/x/time/rate"
)

// Nuoyun defaults.
const (
	// DefaultNuoyunRateLimit and DefaultNuoyunRatePeriod are the
	// client-side limit on Nuoyun requests: 1000 per 10 s, what
	// getAccountUserDurationList documents.
	DefaultNuoyunRateLimit  = 1000
	DefaultNuoyunRatePeriod = 10 * time.Second
	// DefaultNuoyunWorkers is how many pages an iteration fetches at once
	// once the first page has told how many there are.
	DefaultNuoyunWorkers = 4
	// MaxNuoyunPageSize is the largest page the API serves, and the page
	// size iterators use unless told otherwise.
	MaxNuoyunPageSize = 500
)

// WithNuoyunRateLimit paces Nuoyun requests so that at most n per period
// reach the server, across every goroutine using the Client, and counting
// every attempt (retries included). A request waits for its turn, or until
// its context ends. n = 0 turns the client-side limit off; the server
// still enforces its own.
//
// The server counts arrivals, not sends, and the time a request takes to
// get there varies (scheduling, the network, a new connection). Spaced
// exactly period/n apart, n+1 requests span exactly one period, so any
// such variation can pack n+1 arrivals into one window. So requests are
// spaced with a margin of a twentieth: period/n × 1.05 apart (10.5 ms by
// default, at most 953 requests in any 10 s), through a token bucket with
// a burst of 1. Then no window of length period holds more than n
// arrivals as long as the delays of the requests differ by less than
// period/20 (500 ms by default), whatever the server's window alignment.
// Default: DefaultNuoyunRateLimit per DefaultNuoyunRatePeriod.
func WithNuoyunRateLimit(n int, period time.Duration) Option {
	return func(c *config) { c.nuoyunRateN, c.nuoyunRatePer = n, period }
}

// A Limiter paces requests: Wait blocks until the next request may go, or
// returns an error when ctx ends first. *rate.Limiter (golang.org/x/time/rate)
// and redisstore's shared Limiter implement it.
type Limiter interface {
	Wait(ctx context.Context) error
}

// WithNuoyunLimiter paces Nuoyun requests with l instead of the built-in
// limiter of WithNuoyunRateLimit: for instance a limiter shared by several
// replicas through Redis (redisstore.NewLimiter), so that together they
// stay under the vendor's limit.
func WithNuoyunLimiter(l Limiter) Option { return func(c *config) { c.nuoyunLimiter = l } }

// WithNuoyunWorkers sets how many pages a Nuoyun iteration fetches
// concurrently after the first (default DefaultNuoyunWorkers); 1 fetches
// page after page. Rows are yielded in page order either way.
func WithNuoyunWorkers(n int) Option { return func(c *config) { c.nuoyunWorkers = n } }

func (cfg *config) validateNuoyun() error {
	switch {
	case cfg.nuoyunRateN < 0:
		return errors.New("livestat: WithNuoyunRateLimit: n must not be negative")
	case cfg.nuoyunRateN > 0 && cfg.nuoyunRatePer <= 0:
		return errors.New("livestat: WithNuoyunRateLimit: the period must be positive")
	case cfg.nuoyunWorkers < 1:
		return errors.New("livestat: WithNuoyunWorkers: at least 1 worker is needed")
	}
	return nil
}

// newNuoyunLimiter returns the shared Nuoyun limiter, nil when it is off.
func (cfg *config) newNuoyunLimiter() Limiter {
	if cfg.nuoyunLimiter != nil {
		return cfg.nuoyunLimiter
	}
	if cfg.nuoyunRateN == 0 {
		return nil // an untyped nil: a nil *rate.Limiter would not compare equal
	}
	return rate.NewLimiter(rate.Every(nuoyunInterval(cfg.nuoyunRateN, cfg.nuoyunRatePer)), 1)
}

// nuoyunPaceMargin is the part of the period that WithNuoyunRateLimit adds
// to it before dividing it among the requests: the spread of delays on the
// way to the server that the pacing absorbs.
const nuoyunPaceMargin = 20 // 1/20: 5 %

// nuoyunInterval returns the spacing of requests for n per period.
//
// Why a token bucket with a burst of 1 and a margin, and not a sliding
// window: the bucket schedules turns at least this interval apart however
// late the goroutines that take them wake up, so a send delayed by d does
// not move the turns after it. The arrivals in a server window of length
// period then come from turns within period + D, where D is the spread of
// the delays, and while D < period/20 that span holds at most n turns. A
// sliding window over sends would need the same margin for what happens
// after the send, and would let n requests go at once.
func nuoyunInterval(n int, period time.Duration) time.Duration {
	span := period + period/nuoyunPaceMargin
	// Rounded up, plus a nanosecond against the limiter's float rounding,
	// so that n+1 turns never fit in span.
	return (span+time.Duration(n)-1)/time.Duration(n) + 1
}

// waitLimiter waits for lim (if any) before an attempt of c.
func waitLimiter(ctx context.Context, lim Limiter, c *call) error {
	if lim == nil {
		return nil
	}
	if err := lim.Wait(ctx); err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		// The limiter refused at once: the turn comes after ctx's deadline.
		return fmt.Errorf("livestat: %s %s: the client-side rate limit would delay the request past the context deadline: %w", c.vendor, c.endpoint, context.DeadlineExceeded)
	}
	return nil
}

// NuoyunService calls Nuoyun (诺云直播) live statistics.
//
// Authentication: the public docs do not say how gateway requests are
// authenticated; configure it with WithNuoyunAuth. Rate limit: requests are
// paced client-side (WithNuoyunRateLimit).
type NuoyunService struct{ c *Client }

// NuoyunStatus is the code/msg pair every Nuoyun reply carries. Code 200 is
// success; any other code is returned as an *APIError with Vendor
// VendorNuoyun. Failures come with HTTP 200 and an empty data object.
type NuoyunStatus struct {
	Code FlexInt `json:"code"`
	Msg  string  `json:"msg"`
}

func (s *NuoyunStatus) apiStatus() (int, string, bool) { return int(s.Code), s.Msg, s.Code == 200 }
func (s *NuoyunStatus) unsetStatus()                   { s.Code = noStatus }

// SortOrder orders Nuoyun rows.
type SortOrder string

// Sort orders. The docs do not say by which field rows are ordered.
const (
	SortAsc  SortOrder = "asc"
	SortDesc SortOrder = "desc"
)

// UserDurationRequest asks for one page of getAccountUserDurationList:
// every viewer's watch durations, across the account's rooms.
type UserDurationRequest struct {
	// Page is the 1-based page number. GetUserDurations requires it;
	// iterators start there, or at 1 when it is 0.
	Page int `json:"page"`
	// PageSize is the number of rows per page, 1 to MaxNuoyunPageSize.
	// GetUserDurations requires it; iterators use MaxNuoyunPageSize when
	// it is 0.
	PageSize int `json:"page_size"`
	// Sort is SortAsc or SortDesc. The API requires it: when it is empty,
	// livestat sends SortAsc.
	Sort SortOrder `json:"sort,omitempty"`
	// UpdateTimeStart and UpdateTimeEnd select rows by update time; 0 is
	// no bound (as in the API's sample request). Iterators pin a zero
	// UpdateTimeEnd to the moment the iteration starts (see UserDurations).
	UpdateTimeStart UnixTime `json:"update_time_start"`
	UpdateTimeEnd   UnixTime `json:"update_time_end"`
	// WeChatUserSpaceID is the 用户id the request is made for. The docs
	// do not say more; their sample asks with 34043700 and gets rows of
	// other viewers back, so it names the account whose rooms are listed,
	// not a viewer. It is optional, so livestat leaves it out of the
	// request when it is 0.
	WeChatUserSpaceID int64 `json:"wechat_user_space_id,omitempty"`
}

const (
	epUserDurations   = "RoomRounds/getAccountUserDurationList"
	pathUserDurations = "/Api/RoomRounds/getAccountUserDurationList/2.0.0"
)

func (r *UserDurationRequest) validate() error {
	bad := func(field, reason string) error {
		return &ValidationError{Endpoint: epUserDurations, Field: field, Reason: reason}
	}
	switch {
	case r.Page < 1:
		return bad("Page", fmt.Sprintf("must be at least 1, got %d", r.Page))
	case r.PageSize < 1 || r.PageSize > MaxNuoyunPageSize:
		return bad("PageSize", fmt.Sprintf("must be between 1 and %d, got %d", MaxNuoyunPageSize, r.PageSize))
	case r.Sort != "" && r.Sort != SortAsc && r.Sort != SortDesc:
		return bad("Sort", fmt.Sprintf(`must be "asc", "desc" or empty, got %q`, truncate(string(r.Sort), 20)))
	case r.UpdateTimeStart < 0 || r.UpdateTimeEnd < 0:
		return bad("UpdateTimeStart/UpdateTimeEnd", "must not be negative")
	case r.UpdateTimeEnd != 0 && r.UpdateTimeStart > r.UpdateTimeEnd:
		return bad("UpdateTimeStart", fmt.Sprintf("%d is after UpdateTimeEnd %d", r.UpdateTimeStart, r.UpdateTimeEnd))
	case r.WeChatUserSpaceID < 0:
		return bad("WeChatUserSpaceID", "must not be negative")
	}
	return nil
}

// UserDurationPage is one reply of getAccountUserDurationList.
type UserDurationPage struct {
	NuoyunStatus
	Data UserDurationData `json:"data"`
	// Page and PageSize are those of the request that fetched this page.
	Page     int `json:"-"`
	PageSize int `json:"-"`
	// UpdateTimeEnd is the update_time_end the page was asked with: the
	// iterators pin a zero one to the iteration's start (see UserDurations).
	UpdateTimeEnd UnixTime `json:"-"`
}

// UserDurationData is a page's rows and the total row count.
type UserDurationData struct {
	// Total counts the rows of all pages (用户总数). A reply without it
	// (data {} or null included), with a null one, or with one that is not
	// a count is an error naming data.total: absent is not zero.
	Total RowCount       `json:"total"`
	List  []UserDuration `json:"list"`
}

// More reports whether another page follows: this page was not empty and
// Page × PageSize has not reached Total.
func (p *UserDurationPage) More() bool {
	return len(p.Data.List) > 0 && int64(p.Page)*int64(p.PageSize) < int64(p.Data.Total)
}

// unsetPaging marks the total absent. It stays so when data is {} or null,
// or when total is null: none of these is a count.
func (p *UserDurationPage) unsetPaging() { p.Data.Total = rowCountAbsent }

func (p *UserDurationPage) missingPaging() string {
	if p.Data.Total == rowCountAbsent {
		return "data.total"
	}
	return ""
}

// LastPage returns the number of the last page, as Total and PageSize tell.
func (p *UserDurationPage) LastPage() int {
	if p.PageSize < 1 || p.Data.Total < 1 {
		return 0
	}
	// Divide before rounding up: Total + PageSize - 1 overflows for a
	// total near MaxInt64 (found by FuzzDecodeUserDurations).
	total, size := int64(p.Data.Total), int64(p.PageSize)
	last := total / size
	if total%size != 0 {
		last++
	}
	return int(min(last, math.MaxInt))
}

// UserDuration is one viewer's watch record in one room.
type UserDuration struct {
	RoomID            FlexInt `json:"room_id"`              // 直播间ID
	WeChatUserSpaceID FlexInt `json:"wechat_user_space_id"` // the viewer
	WeChatUserName    string  `json:"wechat_user_name"`     // nickname
	WeChatUserPhoto   string  `json:"wechat_user_photo"`    // avatar URL
	// StayDuration is the time online; LiveDuration the part of it spent
	// on the live broadcast, PlaybackDuration on the replay.
	StayDuration     Seconds `json:"stay_duration"`
	LiveDuration     Seconds `json:"live_duration"`
	PlaybackDuration Seconds `json:"playback_duration"`
	// IP is the last visit's address; Area its location ("河南 郑州").
	IP   string `json:"ip"`
	Area string `json:"area"`
	// ThirdUUID is the viewer's id in a third-party system.
	ThirdUUID       string          `json:"third_uuid"`
	ThirdWeChatInfo ThirdWeChatInfo `json:"third_wechat_info"`
	ChannelInfo     ChannelInfo     `json:"channel_info"`
	// InvitedWeChatUserSpaceID and InvitedName are the viewer who invited
	// this one; 0 and "" when none.
	InvitedWeChatUserSpaceID FlexInt   `json:"invited_wechat_user_space_id"`
	InvitedName              string    `json:"invited_name"`
	FirstVisitTime           ChinaTime `json:"first_visit_time"`
	LastVisitTime            ChinaTime `json:"last_visit_time"`
	Device                   Device    `json:"device"`
}

// GetUserDurations fetches one page of viewer durations (POST
// /Api/RoomRounds/getAccountUserDurationList/2.0.0). An invalid request
// returns a *ValidationError and sends nothing. A reply with a code other
// than 200 returns an *APIError.
func (s *NuoyunService) GetUserDurations(ctx context.Context, req UserDurationRequest) (*UserDurationPage, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	if req.Sort == "" {
		req.Sort = SortAsc // required by the API
	}
	p, err := send[UserDurationPage](ctx, s.c, &call{
		vendor: VendorNuoyun, endpoint: epUserDurations, method: http.MethodPost,
		path: pathUserDurations, body: &req,
	})
	if err != nil {
		return nil, err
	}
	p.Page, p.PageSize, p.UpdateTimeEnd = req.Page, req.PageSize, req.UpdateTimeEnd
	return p, nil
}

// iteration prepares one pass over req's pages. The defaults, the pinned
// end time and the set of rows seen are fresh for every pass, so ranging
// over the same iterator twice starts again.
func (s *NuoyunService) iteration(req UserDurationRequest) (pager[int, *UserDurationPage, UserDuration], error) {
	if req.Page == 0 {
		req.Page = 1
	}
	if req.PageSize == 0 {
		req.PageSize = MaxNuoyunPageSize
	}
	if err := req.validate(); err != nil {
		return pager[int, *UserDurationPage, UserDuration]{}, err
	}
	if req.UpdateTimeEnd == 0 {
		req.UpdateTimeEnd = max(UnixTime(time.Now().Unix()), req.UpdateTimeStart)
	}
	first := req.Page
	t := newDurationTally(first, req.PageSize)
	return pager[int, *UserDurationPage, UserDuration]{
		endpoint: epUserDurations,
		start:    first,
		fetch: func(ctx context.Context, page int) (*UserDurationPage, error) {
			r := req
			r.Page = page
			return s.GetUserDurations(ctx, r)
		},
		next: func(page int, p *UserDurationPage) (int, bool) { return page + 1, p.More() },
		rows: func(p *UserDurationPage, yield func(UserDuration) bool) bool {
			return yieldAll(p.Data.List, yield)
		},
		onPage:   t.page,
		at:       func(n int) int { return first + n - 1 },
		count:    func(p *UserDurationPage) int { return p.LastPage() - first + 1 },
		workers:  s.c.cfg.nuoyunWorkers,
		maxPages: s.c.cfg.maxPages,
	}, nil
}

// durationTally is the bookkeeping of one pass over the pages of
// getAccountUserDurationList, shared by UserDurations, UserDurationPages
// and everything built on them. It sees every page in page order (read-ahead
// or not) and enforces what makes a pass complete:
//
//   - the total is the same on every page: a row added or removed during
//     the pass moves the rows after it across page boundaries, so a row
//     may have been skipped or served twice, and the pages no longer add
//     up to anything;
//   - a row is dropped only when it repeats, in every field, a row of the
//     previous page (what a page shift repeats), never for its ids;
//   - no page brings more new rows than page_size;
//   - on the last page, the rows yielded (repeats not counted) are exactly
//     the total from the pass's first page on: fewer means rows were lost,
//     more that the server served rows its total does not count;
//   - an empty page ends the pass only where the total says no rows
//     remain, and a non-empty page of nothing but repeats is an error.
type durationTally struct {
	first, pageSize int
	total           RowCount // the first page's
	totalPage       int      // the page it came from; 0 before the first page
	// The rows of the previous page and of this one. A row shifted across
	// a page boundary comes back identical on the next page, so two pages
	// suffice and memory stays bounded by the page size, not the number
	// of rows. A key such as (room, viewer) would not do: a viewer has a
	// row per round of a room, and ids may be 0, "" or absent.
	prev, cur        *rowSet
	yielded, repeats int64
}

func newDurationTally(first, pageSize int) *durationTally {
	seed := maphash.MakeSeed()
	return &durationTally{first: first, pageSize: pageSize, prev: newRowSet(seed), cur: newRowSet(seed)}
}

// page checks p, the next page of the pass, and removes from its List the
// exact repeats of the previous page's rows. An error ends the pass before
// any row of p is yielded.
func (t *durationTally) page(p *UserDurationPage) error {
	fail := func(format string, args ...any) error {
		return &PaginationError{Endpoint: epUserDurations, Page: p.Page, Reason: fmt.Sprintf(format, args...)}
	}
	if t.totalPage == 0 {
		t.total, t.totalPage = p.Data.Total, p.Page
	} else if p.Data.Total != t.total {
		return fail("the total changed from %d (page %d) to %d (page %d): rows were added or removed during the iteration",
			t.total, t.totalPage, p.Data.Total, p.Page)
	}
	// The rows from this pass's first page on that the total accounts for.
	want := max(int64(t.total)-int64(t.first-1)*int64(t.pageSize), 0)
	if len(p.Data.List) == 0 {
		// An empty page ends the pass, unless the total says rows exist
		// from its offset on: then the server failed to serve them, and
		// ending quietly would lose them.
		if int64(p.Page-1)*int64(t.pageSize) < int64(t.total) {
			return fail("the page is empty, but the total (%d) says rows remain", t.total)
		}
		return nil
	}
	// Drop each row that repeats, exactly, a row of the previous page, as
	// many times as that page held it. Identical rows within one page are
	// kept: a shift cannot repeat a row inside one reply, so they are rows
	// of their own, counted in the total.
	t.prev, t.cur = t.cur, t.prev
	t.cur.reset()
	kept := p.Data.List[:0]
	for _, r := range p.Data.List {
		t.cur.add(&r)
		if t.prev.take(&r) {
			t.repeats++
			continue
		}
		kept = append(kept, r)
	}
	clear(p.Data.List[len(kept):])
	p.Data.List = kept
	switch {
	case len(kept) == 0:
		// With the end time pinned, a whole page of rows seen before
		// means the server is not serving the page asked for (it ignores
		// the page number, say): going on would end "successfully" with
		// rows missing.
		return fail("the page holds only rows of earlier pages")
	case len(kept) > t.pageSize:
		return fail("the page holds %d new rows, more than the page_size of %d asked for", len(kept), t.pageSize)
	}
	t.yielded += int64(len(kept))
	if p.More() {
		return nil
	}
	// The last page: the rows yielded must make the total from this
	// pass's first page on, exactly. A repeat does not count: in pages of
	// a fixed size, a row served twice pushed another one out of the
	// pages served. Short pages (a server capping page_size, say) fail
	// here too, and so do rows the total does not count.
	if t.yielded != want {
		if t.repeats > 0 && t.yielded < want {
			return fail("the server reported %d rows but served %d and repeated %d (rows moved between pages during the iteration)", want, t.yielded, t.repeats)
		}
		return fail("the server reported %d rows but served %d", want, t.yielded)
	}
	return nil
}

// rowSet is the multiset of the rows of one page, for finding rows that a
// later page repeats exactly. Rows are compared whole (==, every field); the
// hash only narrows the search, so a collision costs a comparison, never a
// row. Once its buffers have grown to a page, it allocates nothing: a map
// keyed by the rows themselves would, as they are too large to be stored
// in the map inline.
type rowSet struct {
	seed  maphash.Seed
	head  map[uint64]int32 // hash → index in rows of the last row added with it
	rows  []UserDuration   // copies: the page's own List goes to the caller
	next  []int32          // index of the previous row with the same hash, or -1
	taken []bool
}

func newRowSet(seed maphash.Seed) *rowSet {
	return &rowSet{seed: seed, head: make(map[uint64]int32)}
}

func (s *rowSet) reset() {
	clear(s.head)
	clear(s.rows) // drop the strings of the page before
	s.rows, s.next, s.taken = s.rows[:0], s.next[:0], s.taken[:0]
}

func (s *rowSet) add(r *UserDuration) {
	h := s.hash(r)
	prev, ok := s.head[h]
	if !ok {
		prev = -1
	}
	s.head[h] = int32(len(s.rows))
	s.rows = append(s.rows, *r)
	s.next = append(s.next, prev)
	s.taken = append(s.taken, false)
}

// take reports whether the set holds a row equal to r not taken yet, and
// takes it.
func (s *rowSet) take(r *UserDuration) bool {
	i, ok := s.head[s.hash(r)]
	for ok && i >= 0 {
		if !s.taken[i] && s.rows[i] == *r {
			s.taken[i] = true
			return true
		}
		i = s.next[i]
	}
	return false
}

// hash mixes the fields most likely to tell rows apart; equal rows have
// equal hashes, as == compares every field.
func (s *rowSet) hash(r *UserDuration) uint64 {
	var h maphash.Hash
	h.SetSeed(s.seed)
	var b [6 * 8]byte
	for i, v := range [...]int64{
		int64(r.RoomID), int64(r.WeChatUserSpaceID), int64(r.StayDuration),
		int64(r.LiveDuration), int64(r.PlaybackDuration), r.LastVisitTime.UnixNano(),
	} {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(v))
	}
	h.Write(b[:])
	h.WriteString(r.WeChatUserName)
	return h.Sum64()
}

// UserDurationPages iterates over the pages of viewer durations, starting
// at req.Page (default 1) with req.PageSize rows each (default
// MaxNuoyunPageSize). It follows the same rules as UserDurations, and each
// page's List has the exact repeats of the previous page's rows removed
// (Total is left as the server sent it). To resume later, save a page's
// Page and UpdateTimeEnd after processing it, and start again with Page+1
// and the same UpdateTimeEnd, so that the pages line up with the first
// run's.
func (s *NuoyunService) UserDurationPages(ctx context.Context, req UserDurationRequest) iter.Seq2[*UserDurationPage, error] {
	return func(yield func(*UserDurationPage, error) bool) {
		p, err := s.iteration(req)
		if err != nil {
			yield(nil, err)
			return
		}
		p.pages(ctx)(yield)
	}
}

// UserDurations iterates over every viewer-duration row, in page order.
//
// Pages: it asks for req.PageSize rows a page (default MaxNuoyunPageSize,
// the fewest requests), from req.Page (default 1), and stops after an empty
// page or when Page × PageSize reaches the total. An empty page whose total
// says rows remain, or a page holding only rows of earlier pages, ends the
// iteration with a *PaginationError instead, as rows would be missing. A
// data.total that is absent, null or not a count ends it with a
// *ResponseError naming the field; a total of 0 is an empty result.
// Once the first page tells the total, the following pages are fetched
// concurrently by up to
// WithNuoyunWorkers requests (default 4), within the client's rate limit;
// rows are still yielded strictly in page order, and at most that many
// pages are held in memory. When the loop breaks or ctx ends, requests in
// flight are cancelled, and no goroutine outlives the loop.
//
// A stable snapshot: paging by page number skips or repeats rows when
// rows change during the iteration. To limit this, when req.UpdateTimeEnd
// is 0 every page is asked with UpdateTimeEnd pinned to the time the
// iteration started, so that rows updated meanwhile leave the window
// rather than enter it (Sort, SortAsc unless set, is sent on every page).
// A row that a shift between two pages repeats comes back identical, so
// a row equal in every field to a row of the previous page is dropped
// (as many times as that page held it); rows are never dropped for
// sharing ids (a viewer has a row per round of a room, and ids may be 0).
// Only two pages of rows are kept, so memory does not grow with the
// number of rows.
//
// Complete or an error: the total must be the same on
// every page, since a row added or removed during the iteration (or
// updated past the pinned end) moves the rows after it across page
// boundaries; and on the last page the rows yielded (repeats not counted)
// must be exactly the total from req.Page on: fewer means pages came back
// short or rows moved ahead of the pages already read (a repeat is the row
// that pushed another out of reach), more means rows the total does not
// count. Otherwise, or when a page brings more new rows than PageSize, the
// iteration ends with a *PaginationError instead of finishing quietly with
// rows missing or doubled; run again for a complete result.
//
// Errors end the iteration: an invalid request yields a *ValidationError
// before any request, a failed page its error after the rows of the pages
// before it.
func (s *NuoyunService) UserDurations(ctx context.Context, req UserDurationRequest) iter.Seq2[UserDuration, error] {
	return func(yield func(UserDuration, error) bool) {
		p, err := s.iteration(req)
		if err != nil {
			yield(UserDuration{}, err)
			return
		}
		p.items(ctx)(yield)
	}
}
