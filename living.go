package livestat

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"

	"github.com/go-json-experiment/json/jsontext"
)

// LivingService calls WeCom corp living (直播) statistics.
type LivingService struct{ c *Client }

// The corp living endpoints.
const (
	// EndpointWatchStat is living/get_watch_stat (获取直播观看明细).
	EndpointWatchStat Endpoint = "living/get_watch_stat"
	// EndpointUserLivingIDs is living/get_user_all_livingid
	// (获取成员直播ID列表; for school apps 获取老师直播ID列表, the same URL).
	EndpointUserLivingIDs Endpoint = "living/get_user_all_livingid"
	// EndpointLivingInfo is living/get_living_info (获取直播详情).
	EndpointLivingInfo Endpoint = "living/get_living_info"
)

func livingEndpoints(e Endpoint) (endpointInfo, bool) {
	switch e {
	case EndpointWatchStat:
		return endpointInfo{VendorWeCom, http.MethodPost, "/cgi-bin/living/get_watch_stat", "https://developer.work.weixin.qq.com/document/path/96836"}, true
	case EndpointUserLivingIDs:
		return endpointInfo{VendorWeCom, http.MethodPost, "/cgi-bin/living/get_user_all_livingid", "https://developer.work.weixin.qq.com/document/path/96834"}, true
	case EndpointLivingInfo:
		return endpointInfo{VendorWeCom, http.MethodGet, "/cgi-bin/living/get_living_info", "https://developer.work.weixin.qq.com/document/path/96835"}, true
	}
	return endpointInfo{}, false
}

// WatchStatRequest asks for one page of living/get_watch_stat.
type WatchStatRequest struct {
	// LivingID is the broadcast; required.
	LivingID string `json:"livingid"`
	// NextKey resumes after a page: the NextKey of the last page you
	// processed. Empty starts at the beginning.
	NextKey string `json:"next_key,omitempty"`
}

func (r *WatchStatRequest) validate(ep Endpoint) error { return requireLivingID(ep, r.LivingID) }

func (r WatchStatRequest) cursor() string { return r.NextKey }

func (r WatchStatRequest) at(cursor string) WatchStatRequest {
	r.NextKey = cursor
	return r
}

// WatchStatPage is one reply of living/get_watch_stat.
type WatchStatPage struct {
	wecomStatus
	// Ending is 1 on the last page, 0 when more follow. Use More. A reply
	// without it is an error, not the last page.
	Ending int `json:"ending"`
	// NextKey is the cursor of the following page.
	NextKey  string        `json:"next_key"`
	StatInfo WatchStatInfo `json:"stat_info"`
}

// More reports whether another page follows. Per the API docs only ending
// tells that; the number of rows does not.
func (p *WatchStatPage) More() bool { return p.Ending != 1 }

func (p *WatchStatPage) nextCursor() (string, bool) { return p.NextKey, p.More() }

func (p *WatchStatPage) unsetPaging() { p.Ending = noStatus }

func (p *WatchStatPage) missingPaging() string { return missingIf(p.Ending == noStatus, "ending") }

// WatchStatInfo lists a page's viewers.
type WatchStatInfo struct {
	Users         []LivingViewer `json:"users"`          // corp members
	ExternalUsers []LivingViewer `json:"external_users"` // external contacts
}

// UnmarshalJSONFrom decodes the lists from dec (the encoding/json/v2
// interface) as encoding/json decodes them into the struct; see readRows.
func (s *WatchStatInfo) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	return readObject(dec, func(dec *jsontext.Decoder, name []byte) (bool, error) {
		switch string(name) {
		case "users":
			return true, readRows(dec, &s.Users)
		case "external_users":
			return true, readRows(dec, &s.ExternalUsers)
		}
		return false, nil
	})
}

// ExternalUserType tells what kind of account an external viewer has.
type ExternalUserType int

// External user types.
const (
	ExternalUserWeChat ExternalUserType = 1 // a WeChat user
	ExternalUserWeCom  ExternalUserType = 2 // a WeCom user of another corp
)

// LivingViewer is one viewer of a corp broadcast: a corp member (Kind
// KindUser, UserID set) or an external contact (Kind KindExternalUser,
// ExternalUserID, Type and Name set).
type LivingViewer struct {
	Kind           ViewerKind       `json:"kind,omitempty"`
	UserID         string           `json:"userid,omitempty"`
	ExternalUserID string           `json:"external_userid,omitempty"`
	Type           ExternalUserType `json:"type,omitempty"`
	Name           string           `json:"name,omitempty"`
	WatchTime      Seconds          `json:"watch_time"`
	IsComment      IntBool          `json:"is_comment"`
	IsMic          IntBool          `json:"is_mic"`
	// InvitorUserID is the corp member whose card or QR code brought the
	// viewer in; InvitorExternalUserID an external inviter. Only for
	// "推广产品" broadcasts.
	InvitorUserID         string `json:"invitor_userid,omitempty"`
	InvitorExternalUserID string `json:"invitor_external_userid,omitempty"`
}

func (v *LivingViewer) setKind(k ViewerKind) { v.Kind = k }

// UnmarshalJSONFrom decodes the row from dec (the encoding/json/v2
// interface) as encoding/json decodes it into the struct; see scanObject.
func (v *LivingViewer) UnmarshalJSONFrom(dec *jsontext.Decoder) error { return unmarshalFrom(dec, v) }

func (v *LivingViewer) decodeRow(value []byte, strs *rowStrings) error {
	return scanObject(value, func(name, value []byte) (bool, error) {
		switch string(name) {
		case "kind":
			return true, setString(value, &v.Kind)
		case "userid":
			return true, strs.add(value, &v.UserID)
		case "external_userid":
			return true, strs.add(value, &v.ExternalUserID)
		case "type":
			return true, setInt(value, &v.Type)
		case "name":
			return true, strs.add(value, &v.Name)
		case "watch_time":
			return true, setInt(value, &v.WatchTime)
		case "is_comment":
			return true, v.IsComment.UnmarshalJSON(value)
		case "is_mic":
			return true, v.IsMic.UnmarshalJSON(value)
		case "invitor_userid":
			return true, strs.add(value, &v.InvitorUserID)
		case "invitor_external_userid":
			return true, strs.add(value, &v.InvitorExternalUserID)
		}
		return false, nil
	})
}

// ID returns UserID or ExternalUserID, whichever the kind uses.
func (v *LivingViewer) ID() string {
	if v.Kind == KindExternalUser {
		return v.ExternalUserID
	}
	return v.UserID
}

// GetWatchStat fetches one page of a broadcast's viewers (POST
// /cgi-bin/living/get_watch_stat, 获取直播观看明细:
// https://developer.work.weixin.qq.com/document/path/96836). Rows are
// tagged with their Kind.
func (s *LivingService) GetWatchStat(ctx context.Context, req WatchStatRequest) (*WatchStatPage, error) {
	p, err := wecomCall[WatchStatPage](ctx, s.c, EndpointWatchStat, &req)
	if err != nil {
		return nil, err
	}
	tagKind(p.StatInfo.Users, KindUser)
	tagKind(p.StatInfo.ExternalUsers, KindExternalUser)
	return p, nil
}

func (s *LivingService) pager(req WatchStatRequest) pager[string, *WatchStatPage, LivingViewer] {
	return cursorPager(s.c, EndpointWatchStat, req, s.GetWatchStat,
		func(p *WatchStatPage, yield func(LivingViewer) bool) bool {
			return yieldAll(p.StatInfo.Users, yield) && yieldAll(p.StatInfo.ExternalUsers, yield)
		})
}

// WatchStatPages iterates over the pages of a broadcast's viewers
// (living/get_watch_stat:
// https://developer.work.weixin.qq.com/document/path/96836), starting
// at req.NextKey. An invalid request yields its ValidationError without
// sending anything. Save each page's NextKey after you have processed it to
// resume later from there.
func (s *LivingService) WatchStatPages(ctx context.Context, req WatchStatRequest) iter.Seq2[*WatchStatPage, error] {
	return s.pager(req).pages(ctx)
}

// Viewers iterates over every viewer of a broadcast (living/get_watch_stat:
// https://developer.work.weixin.qq.com/document/path/96836), corp members first on
// each page, then external contacts, without exposing cursors.
func (s *LivingService) Viewers(ctx context.Context, req WatchStatRequest) iter.Seq2[LivingViewer, error] {
	return s.pager(req).items(ctx)
}

// yieldAll pushes rows to yield until it returns false.
func yieldAll[T any](rows []T, yield func(T) bool) bool {
	for _, r := range rows {
		if !yield(r) {
			return false
		}
	}
	return true
}

// MaxUserLivingIDsLimit is the largest page of living/get_user_all_livingid,
// and the page size livestat asks for when UserLivingIDsRequest.Limit is 0
// (the API's default and maximum are both 100).
const MaxUserLivingIDsLimit = 100

// UserLivingIDsRequest asks for one page of living/get_user_all_livingid.
type UserLivingIDsRequest struct {
	// UserID is the member (the anchor, a school's teacher); required.
	UserID string `json:"userid"`
	// Cursor resumes after a page: the NextCursor of the last page you
	// processed. Empty starts at the beginning.
	Cursor string `json:"cursor,omitempty"`
	// Limit is the page size, 1 to MaxUserLivingIDsLimit; 0 asks for
	// MaxUserLivingIDsLimit.
	Limit int `json:"limit,omitempty"`
}

func (r *UserLivingIDsRequest) validate(ep Endpoint) error {
	if r.UserID == "" {
		return &ValidationError{Endpoint: ep, Field: "UserID", Reason: "must not be empty"}
	}
	if r.Limit < 0 || r.Limit > MaxUserLivingIDsLimit {
		return &ValidationError{Endpoint: ep, Field: "Limit", Reason: fmt.Sprintf("must be 0 (default) or 1 to %d, got %d", MaxUserLivingIDsLimit, r.Limit)}
	}
	return nil
}

func (r UserLivingIDsRequest) cursor() string { return r.Cursor }

func (r UserLivingIDsRequest) at(cursor string) UserLivingIDsRequest {
	r.Cursor = cursor
	return r
}

// UserLivingIDsPage is one reply of living/get_user_all_livingid.
type UserLivingIDsPage struct {
	wecomStatus
	// NextCursor is the cursor of the following page; "" on the last page,
	// the only end-of-list signal the API sends. A reply without it is an
	// error, not the last page.
	NextCursor string `json:"next_cursor"`
	// LivingIDs are the page's living IDs: opaque strings.
	LivingIDs []string `json:"livingid_list"`
}

// More reports whether another page follows: NextCursor is not empty.
func (p *UserLivingIDsPage) More() bool { return p.NextCursor != "" }

func (p *UserLivingIDsPage) nextCursor() (string, bool) { return p.NextCursor, p.More() }

// noCursor marks a next_cursor the reply did not contain. encoding/json
// never decodes a string holding invalid UTF-8, so no reply can send it.
const noCursor = "\xff"

func (p *UserLivingIDsPage) unsetPaging() { p.NextCursor = noCursor }

func (p *UserLivingIDsPage) missingPaging() string {
	return missingIf(p.NextCursor == noCursor, "next_cursor")
}

// GetUserLivingIDs fetches one page of a member's living IDs (POST
// /cgi-bin/living/get_user_all_livingid, 获取成员直播ID列表:
// https://developer.work.weixin.qq.com/document/path/96834; for school apps
// 获取老师直播ID列表, https://developer.work.weixin.qq.com/document/path/93739).
// Only the livings created by the calling app are listed.
func (s *LivingService) GetUserLivingIDs(ctx context.Context, req UserLivingIDsRequest) (*UserLivingIDsPage, error) {
	if req.Limit == 0 {
		req.Limit = MaxUserLivingIDsLimit
	}
	return wecomCall[UserLivingIDsPage](ctx, s.c, EndpointUserLivingIDs, &req)
}

func (s *LivingService) livingIDsPager(req UserLivingIDsRequest) pager[string, *UserLivingIDsPage, string] {
	return cursorPager(s.c, EndpointUserLivingIDs, req, s.GetUserLivingIDs,
		func(p *UserLivingIDsPage, yield func(string) bool) bool { return yieldAll(p.LivingIDs, yield) })
}

// UserLivingIDPages iterates over the pages of a member's living IDs
// (living/get_user_all_livingid:
// https://developer.work.weixin.qq.com/document/path/96834), starting at
// req.Cursor. An invalid request yields its ValidationError without sending
// anything. Save each page's NextCursor after you have processed it to
// resume later from there; a page whose NextCursor is "" was the last.
func (s *LivingService) UserLivingIDPages(ctx context.Context, req UserLivingIDsRequest) iter.Seq2[*UserLivingIDsPage, error] {
	return s.livingIDsPager(req).pages(ctx)
}

// LivingIDs iterates over every living ID of a member
// (living/get_user_all_livingid:
// https://developer.work.weixin.qq.com/document/path/96834), in the order
// the API lists them, without exposing cursors. The IDs serve both
// LivingService.GetLivingInfo and, for school livings,
// SchoolService.GetLivingInfo.
func (s *LivingService) LivingIDs(ctx context.Context, req UserLivingIDsRequest) iter.Seq2[string, error] {
	return s.livingIDsPager(req).items(ctx)
}

// livingIDQuery is the request of the get_living_info endpoints: the
// livingid in the query of a GET.
type livingIDQuery struct{ LivingID string }

func (r *livingIDQuery) validate(ep Endpoint) error { return requireLivingID(ep, r.LivingID) }

func (r *livingIDQuery) query() url.Values { return url.Values{"livingid": {r.LivingID}} }

// LivingStatus is the state of a corp living (living_info.status). Values
// the API may add later are kept as they are: String prints them as
// LivingStatus(n).
type LivingStatus int

// Living statuses.
const (
	LivingReserved  LivingStatus = 0 // 预约中: booked, not started
	LivingLive      LivingStatus = 1 // 直播中: on air
	LivingEnded     LivingStatus = 2 // 已结束
	LivingExpired   LivingStatus = 3 // 已过期: the booked time passed without a broadcast
	LivingCancelled LivingStatus = 4 // 已取消
)

// String returns the status's name, such as "ended".
func (s LivingStatus) String() string {
	return enumName("LivingStatus", int(s), "reserved", "live", "ended", "expired", "cancelled")
}

// LivingType is the kind of a corp living (living_info.type).
type LivingType int

// Living types.
const (
	LivingTypeGeneral      LivingType = 0 // 通用直播
	LivingTypeSmallClass   LivingType = 1 // 小班课
	LivingTypeLargeClass   LivingType = 2 // 大班课
	LivingTypeCorpTraining LivingType = 3 // 企业培训
	LivingTypeEvent        LivingType = 4 // 活动直播
)

// String returns the type's name, such as "general".
func (t LivingType) String() string {
	return enumName("LivingType", int(t), "general", "small_class", "large_class", "corp_training", "event")
}

// ReplayStatus is the state of a living's replay (living_info.replay_status).
type ReplayStatus int

// Replay statuses.
const (
	ReplayReady      ReplayStatus = 0 // 生成成功
	ReplayGenerating ReplayStatus = 1 // 生成中
	ReplayDeleted    ReplayStatus = 2 // 回放已删除
	ReplayFailed     ReplayStatus = 3 // 生成失败
)

// String returns the status's name, such as "ready".
func (s ReplayStatus) String() string {
	return enumName("ReplayStatus", int(s), "ready", "generating", "deleted", "failed")
}

// enumName returns names[v], or type(v) for a value without a name.
func enumName(typ string, v int, names ...string) string {
	if v >= 0 && v < len(names) {
		return names[v]
	}
	return fmt.Sprintf("%s(%d)", typ, v)
}

// LivingInfo is a corp living's details (living_info of
// living/get_living_info). Fields the reply leaves out read as zero, except
// ReplayStatus, which is nil when absent (the API only sends it when
// OpenReplay is set; 0 means the replay is ready).
type LivingInfo struct {
	Theme string `json:"theme"`
	// LivingStart and LivingDuration are the broadcast's start and length:
	// the actual ones once it has run, ReserveStart and
	// ReserveLivingDuration the booked ones.
	LivingStart           UnixTime     `json:"living_start"`
	LivingDuration        Seconds      `json:"living_duration"`
	Status                LivingStatus `json:"status"`
	ReserveStart          UnixTime     `json:"reserve_start"`
	ReserveLivingDuration Seconds      `json:"reserve_living_duration"`
	Description           string       `json:"description"`
	AnchorUserID          string       `json:"anchor_userid"`
	// MainDepartment is the anchor's main department ID.
	MainDepartment int64   `json:"main_department"`
	ViewerNum      int     `json:"viewer_num"`  // viewers in all
	CommentNum     int     `json:"comment_num"` // comments
	MicNum         int     `json:"mic_num"`     // viewers who spoke on the mic
	OpenReplay     IntBool `json:"open_replay"`
	// ReplayStatus is nil when the reply has none: see Replay.
	ReplayStatus *ReplayStatus `json:"replay_status,omitempty"`
	Type         LivingType    `json:"type"`
	// PushStreamURL is the ingest URL, sent only for an event living
	// (LivingTypeEvent) that has not started; "" when none.
	PushStreamURL  string `json:"push_stream_url,omitempty"`
	OnlineCount    int    `json:"online_count"`    // viewers online now
	SubscribeCount int    `json:"subscribe_count"` // people who booked
}

// Replay returns the replay's status; ok is false when the reply had none
// (replay off).
func (l *LivingInfo) Replay() (status ReplayStatus, ok bool) {
	if l.ReplayStatus == nil {
		return 0, false
	}
	return *l.ReplayStatus, true
}

// livingInfoReply is the reply of living/get_living_info.
type livingInfoReply struct {
	wecomStatus
	LivingInfo *LivingInfo `json:"living_info"`
}

// A success must carry living_info: an empty one would read as a booked
// general living with no viewers.
func (r *livingInfoReply) unsetPaging() { r.LivingInfo = nil }

func (r *livingInfoReply) missingPaging() string {
	return missingIf(r.LivingInfo == nil, "living_info")
}

// GetLivingInfo fetches a corp living's details (GET
// /cgi-bin/living/get_living_info, 获取直播详情:
// https://developer.work.weixin.qq.com/document/path/96835). Only livings
// created by the calling app can be read.
func (s *LivingService) GetLivingInfo(ctx context.Context, livingID string) (*LivingInfo, error) {
	r, err := wecomCall[livingInfoReply](ctx, s.c, EndpointLivingInfo, &livingIDQuery{LivingID: livingID})
	if err != nil {
		return nil, err
	}
	return r.LivingInfo, nil
}
