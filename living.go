package livestat

import (
	"context"
	"iter"
	"net/http"
)

// LivingService calls WeCom corp living (直播) statistics.
type LivingService struct{ c *Client }

// EndpointWatchStat is living/get_watch_stat (获取直播观看明细).
const EndpointWatchStat Endpoint = "living/get_watch_stat"

func livingEndpoints(e Endpoint) (endpointInfo, bool) {
	switch e {
	case EndpointWatchStat:
		return endpointInfo{VendorWeCom, http.MethodPost, "/cgi-bin/living/get_watch_stat", "https://developer.work.weixin.qq.com/document/path/96836"}, true
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

func (p *WatchStatPage) missingPaging() string {
	if p.Ending == noStatus {
		return "ending"
	}
	return ""
}

// WatchStatInfo lists a page's viewers.
type WatchStatInfo struct {
	Users         []LivingViewer `json:"users"`          // corp members
	ExternalUsers []LivingViewer `json:"external_users"` // external contacts
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
