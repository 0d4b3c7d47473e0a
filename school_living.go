package livestat

import (
	"context"
	"iter"
	"net/http"

	"github.com/go-json-experiment/json/jsontext"
)

// SchoolService calls WeCom school living (上课直播) statistics.
type SchoolService struct{ c *Client }

// The school living endpoints.
const (
	// EndpointSchoolWatchStat is school/living/get_watch_stat_v2
	// (获取观看直播统计V2).
	EndpointSchoolWatchStat Endpoint = "school/living/get_watch_stat_v2"
	// EndpointSchoolUnwatchStat is school/living/get_unwatch_stat_v2
	// (获取未观看直播统计V2).
	EndpointSchoolUnwatchStat Endpoint = "school/living/get_unwatch_stat_v2"
	// EndpointSchoolLivingInfo is school/living/get_living_info
	// (获取直播详情). The IDs of a teacher's livings come from
	// LivingService.LivingIDs: 获取老师直播ID列表 is
	// living/get_user_all_livingid.
	EndpointSchoolLivingInfo Endpoint = "school/living/get_living_info"
)

func schoolEndpoints(e Endpoint) (endpointInfo, bool) {
	switch e {
	case EndpointSchoolWatchStat:
		return endpointInfo{VendorWeCom, http.MethodPost, "/cgi-bin/school/living/get_watch_stat_v2", "https://developer.work.weixin.qq.com/document/path/39112"}, true
	case EndpointSchoolUnwatchStat:
		return endpointInfo{VendorWeCom, http.MethodPost, "/cgi-bin/school/living/get_unwatch_stat_v2", "https://developer.work.weixin.qq.com/document/path/39116"}, true
	case EndpointSchoolLivingInfo:
		return endpointInfo{VendorWeCom, http.MethodGet, "/cgi-bin/school/living/get_living_info", "https://developer.work.weixin.qq.com/document/path/93740"}, true
	}
	return endpointInfo{}, false
}

// SchoolStatRequest asks for one page of get_watch_stat_v2 or
// get_unwatch_stat_v2.
type SchoolStatRequest struct {
	// LivingID is the broadcast; required.
	LivingID string `json:"livingid"`
	// NextCursor resumes after a page: the NextCursor of the last page you
	// processed. Empty starts at the beginning.
	NextCursor string `json:"next_cursor,omitempty"`
}

func (r *SchoolStatRequest) validate(ep Endpoint) error { return requireLivingID(ep, r.LivingID) }

func (r SchoolStatRequest) cursor() string { return r.NextCursor }

func (r SchoolStatRequest) at(cursor string) SchoolStatRequest {
	r.NextCursor = cursor
	return r
}

// SchoolStatPage is one reply of a school living endpoint: a page of rows
// in StatInfo, and the cursor of the next. Both school endpoints reply in
// it: SchoolWatchStatPage and SchoolUnwatchStatPage.
type SchoolStatPage[Info any] struct {
	wecomStatus
	// HasMore is 1 when more pages follow, 0 on the last. Use More. A
	// reply without it is an error, not the last page.
	HasMore    int    `json:"has_more"`
	NextCursor string `json:"next_cursor"`
	StatInfo   Info   `json:"stat_info"`
}

// More reports whether another page follows.
func (p *SchoolStatPage[Info]) More() bool { return p.HasMore != 0 }

func (p *SchoolStatPage[Info]) nextCursor() (string, bool) { return p.NextCursor, p.More() }

func (p *SchoolStatPage[Info]) unsetPaging() { p.HasMore = noStatus }

func (p *SchoolStatPage[Info]) missingPaging() string {
	return missingIf(p.HasMore == noStatus, "has_more")
}

// SchoolWatchStatPage is one reply of school/living/get_watch_stat_v2.
type SchoolWatchStatPage = SchoolStatPage[SchoolWatchStatInfo]

// SchoolWatchStatInfo lists a page's viewers by kind.
type SchoolWatchStatInfo struct {
	Students []SchoolWatcher `json:"students"`
	Parents  []SchoolWatcher `json:"parents"`
	Visitors []SchoolWatcher `json:"visitors"`
}

// UnmarshalJSONFrom decodes the lists from dec (the encoding/json/v2
// interface) as encoding/json decodes them into the struct; see readRows.
func (s *SchoolWatchStatInfo) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	return readObject(dec, func(dec *jsontext.Decoder, name []byte) (bool, error) {
		switch string(name) {
		case "students":
			return true, readRows(dec, &s.Students)
		case "parents":
			return true, readRows(dec, &s.Parents)
		case "visitors":
			return true, readRows(dec, &s.Visitors)
		}
		return false, nil
	})
}

// SchoolWatcher is one viewer of a school broadcast: a student, a parent
// (with the student they belong to) or a visitor (a WeChat nickname only).
type SchoolWatcher struct {
	Kind          ViewerKind `json:"kind,omitempty"`
	StudentUserID string     `json:"student_userid,omitempty"` // students and parents
	ParentUserID  string     `json:"parent_userid,omitempty"`  // parents
	Nickname      string     `json:"nickname,omitempty"`       // visitors
	// PartyIDs are the student's classes (department ids).
	PartyIDs  []int64  `json:"partyids,omitempty"`
	WatchTime Seconds  `json:"watch_time"`
	EnterTime UnixTime `json:"enter_time"` // first entered
	LeaveTime UnixTime `json:"leave_time"` // last left
	IsComment IntBool  `json:"is_comment"`
}

func (w *SchoolWatcher) setKind(k ViewerKind) { w.Kind = k }

// UnmarshalJSONFrom decodes the row from dec (the encoding/json/v2
// interface) as encoding/json decodes it into the struct; see scanObject.
func (w *SchoolWatcher) UnmarshalJSONFrom(dec *jsontext.Decoder) error { return unmarshalFrom(dec, w) }

func (w *SchoolWatcher) decodeRow(value []byte, strs *rowStrings) error {
	return scanObject(value, func(name, value []byte) (bool, error) {
		switch string(name) {
		case "kind":
			return true, setString(value, &w.Kind)
		case "student_userid":
			return true, strs.add(value, &w.StudentUserID)
		case "parent_userid":
			return true, strs.add(value, &w.ParentUserID)
		case "nickname":
			return true, strs.add(value, &w.Nickname)
		case "partyids":
			return true, setInts(value, &w.PartyIDs)
		case "watch_time":
			return true, setInt(value, &w.WatchTime)
		case "enter_time":
			return true, setInt(value, &w.EnterTime)
		case "leave_time":
			return true, setInt(value, &w.LeaveTime)
		case "is_comment":
			return true, w.IsComment.UnmarshalJSON(value)
		}
		return false, nil
	})
}

// ID returns the row's identity: ParentUserID for parents, Nickname for
// visitors, StudentUserID for students.
func (w *SchoolWatcher) ID() string {
	switch w.Kind {
	case KindParent:
		return w.ParentUserID
	case KindVisitor:
		return w.Nickname
	}
	return w.StudentUserID
}

// SchoolUnwatchStatPage is one reply of school/living/get_unwatch_stat_v2.
type SchoolUnwatchStatPage = SchoolStatPage[SchoolUnwatchStatInfo]

// SchoolUnwatchStatInfo lists a page's absentees by kind.
type SchoolUnwatchStatInfo struct {
	Students []SchoolAbsentee `json:"students"`
	Parents  []SchoolAbsentee `json:"parents"`
}

// UnmarshalJSONFrom decodes the lists from dec (the encoding/json/v2
// interface) as encoding/json decodes them into the struct; see readRows.
func (s *SchoolUnwatchStatInfo) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	return readObject(dec, func(dec *jsontext.Decoder, name []byte) (bool, error) {
		switch string(name) {
		case "students":
			return true, readRows(dec, &s.Students)
		case "parents":
			return true, readRows(dec, &s.Parents)
		}
		return false, nil
	})
}

// SchoolAbsentee is a student or parent who did not watch. Only those who
// follow 「学校通知」 are counted.
type SchoolAbsentee struct {
	Kind          ViewerKind `json:"kind,omitempty"`
	StudentUserID string     `json:"student_userid"`
	ParentUserID  string     `json:"parent_userid,omitempty"` // parents
	PartyIDs      []int64    `json:"partyids,omitempty"`
}

func (a *SchoolAbsentee) setKind(k ViewerKind) { a.Kind = k }

// UnmarshalJSONFrom decodes the row from dec (the encoding/json/v2
// interface) as encoding/json decodes it into the struct; see scanObject.
func (a *SchoolAbsentee) UnmarshalJSONFrom(dec *jsontext.Decoder) error { return unmarshalFrom(dec, a) }

func (a *SchoolAbsentee) decodeRow(value []byte, strs *rowStrings) error {
	return scanObject(value, func(name, value []byte) (bool, error) {
		switch string(name) {
		case "kind":
			return true, setString(value, &a.Kind)
		case "student_userid":
			return true, strs.add(value, &a.StudentUserID)
		case "parent_userid":
			return true, strs.add(value, &a.ParentUserID)
		case "partyids":
			return true, setInts(value, &a.PartyIDs)
		}
		return false, nil
	})
}

// ID returns ParentUserID for parents and StudentUserID for students.
func (a *SchoolAbsentee) ID() string {
	if a.Kind == KindParent {
		return a.ParentUserID
	}
	return a.StudentUserID
}

// GetWatchStatV2 fetches one page of a school broadcast's viewers (POST
// /cgi-bin/school/living/get_watch_stat_v2, 获取观看直播统计V2:
// https://developer.work.weixin.qq.com/document/path/39112). Rows are
// tagged with their Kind.
func (s *SchoolService) GetWatchStatV2(ctx context.Context, req SchoolStatRequest) (*SchoolWatchStatPage, error) {
	p, err := wecomCall[SchoolWatchStatPage](ctx, s.c, EndpointSchoolWatchStat, &req)
	if err != nil {
		return nil, err
	}
	tagKind(p.StatInfo.Students, KindStudent)
	tagKind(p.StatInfo.Parents, KindParent)
	tagKind(p.StatInfo.Visitors, KindVisitor)
	return p, nil
}

// GetUnwatchStatV2 fetches one page of a school broadcast's absentees (POST
// /cgi-bin/school/living/get_unwatch_stat_v2, 获取未观看直播统计V2:
// https://developer.work.weixin.qq.com/document/path/39116). Rows are
// tagged with their Kind.
func (s *SchoolService) GetUnwatchStatV2(ctx context.Context, req SchoolStatRequest) (*SchoolUnwatchStatPage, error) {
	p, err := wecomCall[SchoolUnwatchStatPage](ctx, s.c, EndpointSchoolUnwatchStat, &req)
	if err != nil {
		return nil, err
	}
	tagKind(p.StatInfo.Students, KindStudent)
	tagKind(p.StatInfo.Parents, KindParent)
	return p, nil
}

func (s *SchoolService) watchPager(req SchoolStatRequest) pager[string, *SchoolWatchStatPage, SchoolWatcher] {
	return cursorPager(s.c, EndpointSchoolWatchStat, req, s.GetWatchStatV2,
		func(p *SchoolWatchStatPage, yield func(SchoolWatcher) bool) bool {
			return yieldAll(p.StatInfo.Students, yield) && yieldAll(p.StatInfo.Parents, yield) && yieldAll(p.StatInfo.Visitors, yield)
		})
}

func (s *SchoolService) unwatchPager(req SchoolStatRequest) pager[string, *SchoolUnwatchStatPage, SchoolAbsentee] {
	return cursorPager(s.c, EndpointSchoolUnwatchStat, req, s.GetUnwatchStatV2,
		func(p *SchoolUnwatchStatPage, yield func(SchoolAbsentee) bool) bool {
			return yieldAll(p.StatInfo.Students, yield) && yieldAll(p.StatInfo.Parents, yield)
		})
}

// WatchStatV2Pages iterates over the pages of a school broadcast's viewers
// (get_watch_stat_v2: https://developer.work.weixin.qq.com/document/path/39112),
// starting at req.NextCursor.
func (s *SchoolService) WatchStatV2Pages(ctx context.Context, req SchoolStatRequest) iter.Seq2[*SchoolWatchStatPage, error] {
	return s.watchPager(req).pages(ctx)
}

// Watchers iterates over every viewer of a school broadcast
// (get_watch_stat_v2: https://developer.work.weixin.qq.com/document/path/39112): on each page
// students, then parents, then visitors.
func (s *SchoolService) Watchers(ctx context.Context, req SchoolStatRequest) iter.Seq2[SchoolWatcher, error] {
	return s.watchPager(req).items(ctx)
}

// UnwatchStatV2Pages iterates over the pages of a school broadcast's
// absentees (get_unwatch_stat_v2:
// https://developer.work.weixin.qq.com/document/path/39116), starting at
// req.NextCursor.
func (s *SchoolService) UnwatchStatV2Pages(ctx context.Context, req SchoolStatRequest) iter.Seq2[*SchoolUnwatchStatPage, error] {
	return s.unwatchPager(req).pages(ctx)
}

// Absentees iterates over every student and parent who did not watch a
// school broadcast (get_unwatch_stat_v2:
// https://developer.work.weixin.qq.com/document/path/39116): on each page
// students, then parents.
func (s *SchoolService) Absentees(ctx context.Context, req SchoolStatRequest) iter.Seq2[SchoolAbsentee, error] {
	return s.unwatchPager(req).items(ctx)
}

// SchoolLivingInfo is a school living's details (living_info of
// school/living/get_living_info). Fields the reply leaves out read as zero.
type SchoolLivingInfo struct {
	Theme          string   `json:"theme"`
	LivingStart    UnixTime `json:"living_start"`
	LivingDuration Seconds  `json:"living_duration"`
	AnchorUserID   string   `json:"anchor_userid"` // the teacher
	// LivingRange is who the living was for: the denominator of
	// attendance.
	LivingRange LivingRange `json:"living_range"`
	ViewerNum   int         `json:"viewer_num"`  // viewers in all
	CommentNum  int         `json:"comment_num"` // comments
	OpenReplay  IntBool     `json:"open_replay"`
	// PushStreamURL is the ingest URL; "" when the reply has none.
	PushStreamURL  string `json:"push_stream_url,omitempty"`
	OnlineCount    int    `json:"online_count"`    // viewers online now
	SubscribeCount int    `json:"subscribe_count"` // people who booked
}

// LivingRange is the audience of a school living. Per the docs a class's
// group chat (班级群) is listed as the class's partyid, any other group chat
// by its name. Either list may be nil; nil and empty mean the same.
type LivingRange struct {
	PartyIDs   []int64  `json:"partyids"`    // classes (department IDs)
	GroupNames []string `json:"group_names"` // group chats that are no class's
}

// schoolLivingInfoReply is the reply of school/living/get_living_info.
type schoolLivingInfoReply struct {
	wecomStatus
	LivingInfo *SchoolLivingInfo `json:"living_info"`
}

// A success must carry living_info (see livingInfoReply).
func (r *schoolLivingInfoReply) unsetPaging() { r.LivingInfo = nil }

func (r *schoolLivingInfoReply) missingPaging() string {
	return missingIf(r.LivingInfo == nil, "living_info")
}

// GetLivingInfo fetches a school living's details (GET
// /cgi-bin/school/living/get_living_info, 获取直播详情:
// https://developer.work.weixin.qq.com/document/path/93740), with the
// classes and group chats it was for. Only livings created by the calling
// app can be read.
func (s *SchoolService) GetLivingInfo(ctx context.Context, livingID string) (*SchoolLivingInfo, error) {
	r, err := wecomCall[schoolLivingInfoReply](ctx, s.c, EndpointSchoolLivingInfo, &livingIDQuery{LivingID: livingID})
	if err != nil {
		return nil, err
	}
	return r.LivingInfo, nil
}
