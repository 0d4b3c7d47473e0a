package livestat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// baseline is the yardstick of the benchmarks: what a typical developer
// writes by hand for these endpoints with net/http and encoding/json, from
// the vendors' doc pages (Endpoint.DocURL) and their reply samples. It
// decodes into plain structs of its own (below):
// int for the 0/1 flags and the seconds, int64 for Unix times and Nuoyun's
// integer ids, string for the rest, nested objects as plain structs, and no
// UnmarshalJSON method anywhere; none of livestat's types, machinery (no
// resty, no retries, no token cache, no guards) or lenience. It reads each
// reply into one reused buffer and decodes it with json.Unmarshal, the
// fastest plain encoding/json way for replies of known size. Each page is a
// fresh struct, as with any API that hands pages to its caller.
//
// The loopback API (bench_helpers_test.go) serves the shapes the docs show,
// which these structs decode; livestat's lenient types accept more (flags
// as booleans or strings, numbers as strings, Nuoyun devices as numbers,
// ...), which the benchmarks do not exercise.
type baseline struct {
	hc    *http.Client
	base  string
	token string
	buf   bytes.Buffer
}

// The plain structs of the baseline, one set per endpoint, as the docs
// describe the requests and replies.

// plainTokenReply is WeCom's gettoken reply.
type plainTokenReply struct {
	ErrCode     int    `json:"errcode"`
	ErrMsg      string `json:"errmsg"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
}

// living/get_watch_stat

type plainWatchStatRequest struct {
	LivingID string `json:"livingid"`
	NextKey  string `json:"next_key"`
}

type plainLivingUser struct {
	UserID                string `json:"userid"`
	WatchTime             int    `json:"watch_time"`
	IsComment             int    `json:"is_comment"`
	IsMic                 int    `json:"is_mic"`
	InvitorUserID         string `json:"invitor_userid"`
	InvitorExternalUserID string `json:"invitor_external_userid"`
}

type plainExternalUser struct {
	ExternalUserID        string `json:"external_userid"`
	Type                  int    `json:"type"`
	Name                  string `json:"name"`
	WatchTime             int    `json:"watch_time"`
	IsComment             int    `json:"is_comment"`
	IsMic                 int    `json:"is_mic"`
	InvitorUserID         string `json:"invitor_userid"`
	InvitorExternalUserID string `json:"invitor_external_userid"`
}

type plainWatchStatReply struct {
	ErrCode  int    `json:"errcode"`
	ErrMsg   string `json:"errmsg"`
	Ending   int    `json:"ending"`
	NextKey  string `json:"next_key"`
	StatInfo struct {
		Users         []plainLivingUser   `json:"users"`
		ExternalUsers []plainExternalUser `json:"external_users"`
	} `json:"stat_info"`
}

// school/living/get_watch_stat_v2 and get_unwatch_stat_v2

type plainSchoolStatRequest struct {
	LivingID   string `json:"livingid"`
	NextCursor string `json:"next_cursor"`
}

type plainSchoolStudent struct {
	StudentUserID string `json:"student_userid"`
	PartyIDs      []int  `json:"partyids"`
	WatchTime     int    `json:"watch_time"`
	EnterTime     int64  `json:"enter_time"`
	LeaveTime     int64  `json:"leave_time"`
	IsComment     int    `json:"is_comment"`
}

type plainSchoolParent struct {
	ParentUserID  string `json:"parent_userid"`
	StudentUserID string `json:"student_userid"`
	PartyIDs      []int  `json:"partyids"`
	WatchTime     int    `json:"watch_time"`
	EnterTime     int64  `json:"enter_time"`
	LeaveTime     int64  `json:"leave_time"`
	IsComment     int    `json:"is_comment"`
}

type plainSchoolVisitor struct {
	Nickname  string `json:"nickname"`
	WatchTime int    `json:"watch_time"`
	EnterTime int64  `json:"enter_time"`
	LeaveTime int64  `json:"leave_time"`
	IsComment int    `json:"is_comment"`
}

type plainSchoolWatchReply struct {
	ErrCode    int    `json:"errcode"`
	ErrMsg     string `json:"errmsg"`
	HasMore    int    `json:"has_more"`
	NextCursor string `json:"next_cursor"`
	StatInfo   struct {
		Students []plainSchoolStudent `json:"students"`
		Parents  []plainSchoolParent  `json:"parents"`
		Visitors []plainSchoolVisitor `json:"visitors"`
	} `json:"stat_info"`
}

type plainUnwatchStudent struct {
	StudentUserID string `json:"student_userid"`
	PartyIDs      []int  `json:"partyids"`
}

type plainUnwatchParent struct {
	ParentUserID  string `json:"parent_userid"`
	StudentUserID string `json:"student_userid"`
	PartyIDs      []int  `json:"partyids"`
}

type plainSchoolUnwatchReply struct {
	ErrCode    int    `json:"errcode"`
	ErrMsg     string `json:"errmsg"`
	HasMore    int    `json:"has_more"`
	NextCursor string `json:"next_cursor"`
	StatInfo   struct {
		Students []plainUnwatchStudent `json:"students"`
		Parents  []plainUnwatchParent  `json:"parents"`
	} `json:"stat_info"`
}

// Nuoyun getAccountUserDurationList

const plainNuoyunPath = "/Api/RoomRounds/getAccountUserDurationList/2.0.0"

type plainDurationRequest struct {
	Page            int    `json:"page"`
	PageSize        int    `json:"page_size"`
	Sort            string `json:"sort"`
	UpdateTimeStart int64  `json:"update_time_start"`
	UpdateTimeEnd   int64  `json:"update_time_end"`
}

type plainDuration struct {
	RoomID          int64  `json:"room_id"`
	UserID          int64  `json:"wechat_user_space_id"`
	UserName        string `json:"wechat_user_name"`
	UserPhoto       string `json:"wechat_user_photo"`
	StayDuration    int    `json:"stay_duration"`
	IP              string `json:"ip"`
	ThirdUUID       string `json:"third_uuid"`
	ThirdWeChatInfo struct {
		AuthorizerAppID string `json:"authorizer_appid"`
		OpenID          string `json:"openid"`
		UnionID         string `json:"unionid"`
	} `json:"third_wechat_info"`
	LiveDuration     int `json:"live_duration"`
	PlaybackDuration int `json:"playback_duration"`
	ChannelInfo      struct {
		ChannelID   int64  `json:"channel_id"`
		ChannelName string `json:"channel_name"`
		StoreID     string `json:"store_id"`
	} `json:"channel_info"`
	InvitedUserID  int64  `json:"invited_wechat_user_space_id"`
	InvitedName    string `json:"invited_name"`
	FirstVisitTime string `json:"first_visit_time"`
	LastVisitTime  string `json:"last_visit_time"`
	Area           string `json:"area"`
	Device         string `json:"device"`
}

type plainDurationReply struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
	Data struct {
		Total int             `json:"total"`
		List  []plainDuration `json:"list"`
	} `json:"data"`
}

func newBaseline(ctx context.Context, hc *http.Client, base string) (*baseline, error) {
	b := &baseline{hc: hc, base: base}
	var tok plainTokenReply
	if err := b.do(ctx, http.MethodGet, "/cgi-bin/gettoken?corpid=bench-corp&corpsecret=bench-secret", nil, &tok); err != nil {
		return nil, err
	}
	if tok.ErrCode != 0 || tok.AccessToken == "" {
		return nil, fmt.Errorf("gettoken: errcode %d", tok.ErrCode)
	}
	b.token = tok.AccessToken
	return b, nil
}

func (b *baseline) do(ctx context.Context, method, pathQuery string, in, out any) error {
	var body *bytes.Reader
	if in != nil {
		j, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(j)
	}
	var req *http.Request
	var err error
	if body != nil {
		req, err = http.NewRequestWithContext(ctx, method, b.base+pathQuery, body)
	} else {
		req, err = http.NewRequestWithContext(ctx, method, b.base+pathQuery, nil)
	}
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b.buf.Reset()
	if _, err := b.buf.ReadFrom(resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return json.Unmarshal(b.buf.Bytes(), out)
}

func (b *baseline) wecom(ctx context.Context, path string, in, out any) error {
	return b.do(ctx, http.MethodPost, path+"?access_token="+url.QueryEscape(b.token), in, out)
}

// The drains below visit every row, calling the visit function of its
// list on each, and return the number of rows. The first request sends
// the empty cursor, as the docs allow.

func (b *baseline) livingViewers(ctx context.Context, livingID string, user func(*plainLivingUser), external func(*plainExternalUser)) (int, error) {
	n, cursor := 0, ""
	for {
		var p plainWatchStatReply
		if err := b.wecom(ctx, "/cgi-bin/living/get_watch_stat", plainWatchStatRequest{LivingID: livingID, NextKey: cursor}, &p); err != nil {
			return n, err
		}
		if p.ErrCode != 0 {
			return n, fmt.Errorf("errcode %d", p.ErrCode)
		}
		for i := range p.StatInfo.Users {
			user(&p.StatInfo.Users[i])
		}
		for i := range p.StatInfo.ExternalUsers {
			external(&p.StatInfo.ExternalUsers[i])
		}
		n += len(p.StatInfo.Users) + len(p.StatInfo.ExternalUsers)
		if p.Ending == 1 {
			return n, nil
		}
		cursor = p.NextKey
	}
}

func (b *baseline) schoolWatchers(ctx context.Context, livingID string, student func(*plainSchoolStudent), parent func(*plainSchoolParent), visitor func(*plainSchoolVisitor)) (int, error) {
	n, cursor := 0, ""
	for {
		var p plainSchoolWatchReply
		if err := b.wecom(ctx, "/cgi-bin/school/living/get_watch_stat_v2", plainSchoolStatRequest{LivingID: livingID, NextCursor: cursor}, &p); err != nil {
			return n, err
		}
		if p.ErrCode != 0 {
			return n, fmt.Errorf("errcode %d", p.ErrCode)
		}
		for i := range p.StatInfo.Students {
			student(&p.StatInfo.Students[i])
		}
		for i := range p.StatInfo.Parents {
			parent(&p.StatInfo.Parents[i])
		}
		for i := range p.StatInfo.Visitors {
			visitor(&p.StatInfo.Visitors[i])
		}
		n += len(p.StatInfo.Students) + len(p.StatInfo.Parents) + len(p.StatInfo.Visitors)
		if p.HasMore == 0 {
			return n, nil
		}
		cursor = p.NextCursor
	}
}

func (b *baseline) schoolAbsentees(ctx context.Context, livingID string, student func(*plainUnwatchStudent), parent func(*plainUnwatchParent)) (int, error) {
	n, cursor := 0, ""
	for {
		var p plainSchoolUnwatchReply
		if err := b.wecom(ctx, "/cgi-bin/school/living/get_unwatch_stat_v2", plainSchoolStatRequest{LivingID: livingID, NextCursor: cursor}, &p); err != nil {
			return n, err
		}
		if p.ErrCode != 0 {
			return n, fmt.Errorf("errcode %d", p.ErrCode)
		}
		for i := range p.StatInfo.Students {
			student(&p.StatInfo.Students[i])
		}
		for i := range p.StatInfo.Parents {
			parent(&p.StatInfo.Parents[i])
		}
		n += len(p.StatInfo.Students) + len(p.StatInfo.Parents)
		if p.HasMore == 0 {
			return n, nil
		}
		cursor = p.NextCursor
	}
}

// nuoyunDurations pages as livestat's iterator does: 500 rows a page,
// ascending, the update-time window closed at the start, until a page
// reaches the total (or is empty).
func (b *baseline) nuoyunDurations(ctx context.Context, visit func(*plainDuration)) (int, error) {
	n := 0
	req := plainDurationRequest{PageSize: 500, Sort: "asc", UpdateTimeEnd: time.Now().Unix()}
	for page := 1; ; page++ {
		req.Page = page
		var p plainDurationReply
		if err := b.do(ctx, http.MethodPost, plainNuoyunPath, req, &p); err != nil {
			return n, err
		}
		if p.Code != 200 {
			return n, fmt.Errorf("code %d", p.Code)
		}
		for i := range p.Data.List {
			visit(&p.Data.List[i])
		}
		n += len(p.Data.List)
		if len(p.Data.List) == 0 || page*req.PageSize >= p.Data.Total {
			return n, nil
		}
	}
}
