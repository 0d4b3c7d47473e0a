package livestat

import (
	"context"
	"fmt"
	"iter"
	"math"
	"net/http"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// EndpointNuoyunUserDurations is Nuoyun's getAccountUserDurationList.
const EndpointNuoyunUserDurations Endpoint = "RoomRounds/getAccountUserDurationList"

func nuoyunEndpoints(e Endpoint) (endpointInfo, bool) {
	switch e {
	case EndpointNuoyunUserDurations:
		return endpointInfo{VendorNuoyun, http.MethodPost, "/Api/RoomRounds/getAccountUserDurationList/2.0.0",
			"https://openapi-doc.nuoyun.tv/api/user/getAccountUserDurationList.html"}, true
	}
	return endpointInfo{}, false
}

// MaxNuoyunPageSize is the largest page getAccountUserDurationList serves,
// and the page size iterators use unless told otherwise.
const MaxNuoyunPageSize = 500

// NuoyunService calls Nuoyun (诺云直播) live statistics.
//
// Authentication: the public docs do not say how gateway requests are
// authenticated; configure it with WithNuoyunAuth. Rate limit: requests are
// paced client-side (WithNuoyunRateLimit).
type NuoyunService struct{ c *Client }

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

func (r *UserDurationRequest) validate() error {
	bad := func(field, reason string) error {
		return &ValidationError{Endpoint: EndpointNuoyunUserDurations, Field: field, Reason: reason}
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
	nuoyunStatus
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

// UnmarshalJSONFrom decodes the page's data from dec (the
// encoding/json/v2 interface) as encoding/json decodes it into the struct;
// see readRows.
func (d *UserDurationData) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	return readObject(dec, func(dec *jsontext.Decoder, name []byte) (bool, error) {
		switch string(name) {
		case "total":
			return true, readRaw(dec, d.Total.UnmarshalJSON)
		case "list":
			return true, readRows(dec, &d.List)
		}
		return false, nil
	})
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
	return missingIf(p.Data.Total == rowCountAbsent, "data.total")
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

// UnmarshalJSONFrom decodes the row from dec (the encoding/json/v2
// interface) as encoding/json decodes it into the struct; see scanObject.
func (d *UserDuration) UnmarshalJSONFrom(dec *jsontext.Decoder) error { return unmarshalFrom(dec, d) }

func (d *UserDuration) decodeRow(value []byte, strs *rowStrings) error {
	return scanObject(value, func(name, value []byte) (bool, error) {
		switch string(name) {
		case "room_id":
			return true, d.RoomID.UnmarshalJSON(value)
		case "wechat_user_space_id":
			return true, d.WeChatUserSpaceID.UnmarshalJSON(value)
		case "wechat_user_name":
			return true, strs.add(value, &d.WeChatUserName)
		case "wechat_user_photo":
			return true, strs.add(value, &d.WeChatUserPhoto)
		case "stay_duration":
			return true, setInt(value, &d.StayDuration)
		case "live_duration":
			return true, setInt(value, &d.LiveDuration)
		case "playback_duration":
			return true, setInt(value, &d.PlaybackDuration)
		case "ip":
			return true, strs.add(value, &d.IP)
		case "area":
			return true, strs.add(value, &d.Area)
		case "third_uuid":
			return true, strs.add(value, &d.ThirdUUID)
		case "third_wechat_info":
			return true, d.ThirdWeChatInfo.decodeRow(value, strs)
		case "channel_info":
			return true, d.ChannelInfo.decodeRow(value, strs)
		case "invited_wechat_user_space_id":
			return true, d.InvitedWeChatUserSpaceID.UnmarshalJSON(value)
		case "invited_name":
			return true, strs.add(value, &d.InvitedName)
		case "first_visit_time":
			return true, d.FirstVisitTime.UnmarshalJSON(value)
		case "last_visit_time":
			return true, d.LastVisitTime.UnmarshalJSON(value)
		case "device":
			return true, d.Device.UnmarshalJSON(value)
		}
		return false, nil
	})
}

// GetUserDurations fetches one page of viewer durations (POST
// /Api/RoomRounds/getAccountUserDurationList/2.0.0, 获取所有用户观看数据:
// https://openapi-doc.nuoyun.tv/api/user/getAccountUserDurationList.html).
// An invalid request
// returns a *ValidationError and sends nothing. A reply with a code other
// than 200 returns an *APIError.
func (s *NuoyunService) GetUserDurations(ctx context.Context, req UserDurationRequest) (*UserDurationPage, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	if req.Sort == "" {
		req.Sort = SortAsc // required by the API
	}
	ep := EndpointNuoyunUserDurations
	p, err := send[UserDurationPage](ctx, s.c, &call{vendor: VendorNuoyun, endpoint: ep, method: ep.Method(), path: ep.Path(), body: &req})
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
		endpoint: EndpointNuoyunUserDurations,
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
		onPage:    t.page,
		readAhead: numberedReadAhead(first, s.c.cfg.nuoyunWorkers, (*UserDurationPage).LastPage),
		maxPages:  s.c.cfg.maxPages,
	}, nil
}

// UserDurationPages iterates over the pages of viewer durations, starting
// at req.Page (default 1) with req.PageSize rows each (default
// MaxNuoyunPageSize). It follows the same rules as UserDurations, and each
// page's List has the exact repeats of the previous page's rows removed
// (Total is left as the server sent it). To resume later, save a page's
// Page and UpdateTimeEnd after processing it, and start again with Page+1
// and the same UpdateTimeEnd, so that the pages line up with the first
// run's.
//
// Nuoyun's doc: https://openapi-doc.nuoyun.tv/api/user/getAccountUserDurationList.html
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
//
// Nuoyun's doc: https://openapi-doc.nuoyun.tv/api/user/getAccountUserDurationList.html
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
