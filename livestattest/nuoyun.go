package livestattest

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/livestat/livestat"
)

// The reply types below spell out the JSON of Nuoyun's docs field by field.

type nuoyunReply struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
	Data any    `json:"data"`
}

type nuoyunData struct {
	Total int          `json:"total"`
	List  []wireNuoyun `json:"list"`
}

type wireNuoyun struct {
	RoomID                   int64           `json:"room_id"`
	WeChatUserSpaceID        int64           `json:"wechat_user_space_id"`
	WeChatUserName           string          `json:"wechat_user_name"`
	WeChatUserPhoto          string          `json:"wechat_user_photo"`
	StayDuration             int64           `json:"stay_duration"`
	IP                       string          `json:"ip"`
	ThirdUUID                string          `json:"third_uuid"`
	ThirdWeChatInfo          any             `json:"third_wechat_info"`
	LiveDuration             int64           `json:"live_duration"`
	PlaybackDuration         int64           `json:"playback_duration"`
	ChannelInfo              any             `json:"channel_info"`
	InvitedWeChatUserSpaceID int64           `json:"invited_wechat_user_space_id"`
	InvitedName              string          `json:"invited_name"`
	FirstVisitTime           string          `json:"first_visit_time"`
	LastVisitTime            string          `json:"last_visit_time"`
	Device                   json.RawMessage `json:"device"`
	Area                     string          `json:"area"`
}

type wireThirdWeChatInfo struct {
	AuthorizerAppID string `json:"authorizer_appid"`
	OpenID          string `json:"openid"`
	UnionID         string `json:"unionid"`
}

type wireChannelInfo struct {
	ChannelID   int64  `json:"channel_id"`
	ChannelName string `json:"channel_name"`
	StoreID     string `json:"store_id"`
}

// emptyObject is how Nuoyun sends an absent nested object: {}.
type emptyObject struct{}

// chinaTime formats t as Nuoyun does: wall-clock time in UTC+8, "" for the
// zero time.
func chinaTime(t livestat.ChinaTime) string {
	if t.IsZero() {
		return ""
	}
	return t.In(time.FixedZone("CST", 8*60*60)).Format(livestat.ChinaTimeLayout)
}

func toWireNuoyun(r livestat.UserDuration) wireNuoyun {
	w := wireNuoyun{
		RoomID: int64(r.RoomID), WeChatUserSpaceID: int64(r.WeChatUserSpaceID),
		WeChatUserName: r.WeChatUserName, WeChatUserPhoto: r.WeChatUserPhoto,
		StayDuration: int64(r.StayDuration), IP: r.IP, ThirdUUID: r.ThirdUUID,
		LiveDuration: int64(r.LiveDuration), PlaybackDuration: int64(r.PlaybackDuration),
		InvitedWeChatUserSpaceID: int64(r.InvitedWeChatUserSpaceID), InvitedName: r.InvitedName,
		FirstVisitTime: chinaTime(r.FirstVisitTime), LastVisitTime: chinaTime(r.LastVisitTime),
		Device: json.RawMessage(r.Device.Raw()), Area: r.Area,
		ThirdWeChatInfo: emptyObject{}, ChannelInfo: emptyObject{},
	}
	if len(w.Device) == 0 {
		w.Device = json.RawMessage(`""`)
	}
	if i := r.ThirdWeChatInfo; i.Present {
		w.ThirdWeChatInfo = wireThirdWeChatInfo{AuthorizerAppID: i.AuthorizerAppID, OpenID: i.OpenID, UnionID: i.UnionID}
	}
	if c := r.ChannelInfo; c.Present {
		w.ChannelInfo = wireChannelInfo{ChannelID: int64(c.ChannelID), ChannelName: c.ChannelName, StoreID: c.StoreID}
	}
	return w
}

// nuoyunFail is a failure reply: HTTP 200, a code, a Chinese message and an
// empty data object, as Nuoyun sends them.
func nuoyunFail(code int, msg string) nuoyunReply {
	return nuoyunReply{Code: code, Msg: msg, Data: emptyObject{}}
}

// SetNuoyun replaces the rows of getAccountUserDurationList.
func (s *Server) SetNuoyun(rows []livestat.UserDuration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nuoyun = slices.Clone(rows)
}

// checkSign verifies SignAuthorizer's default headers when the server has
// Nuoyun credentials. It reports the failure reply, or nil.
func (s *Server) checkSign(r *http.Request) *nuoyunReply {
	key, secret := s.opts.NuoyunAppKey, s.opts.NuoyunAppSecret
	if key == "" {
		return nil
	}
	ts := r.Header.Get("timestamp")
	sum := md5.Sum([]byte(ts + key + secret))
	if r.Header.Get("key") != key || ts == "" || r.Header.Get("sign") != hex.EncodeToString(sum[:]) {
		f := nuoyunFail(400, "签名验证失败")
		return &f
	}
	return nil
}

// nuoyunInt reads an integer parameter sent as a number or a numeric
// string; absent is 0.
func nuoyunInt(m map[string]json.RawMessage, name string) (int64, bool) {
	raw, found := m[name]
	if !found || string(raw) == "null" {
		return 0, true
	}
	raw = bytes.Trim(raw, `"`)
	if len(raw) == 0 {
		return 0, true
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	return n, err == nil
}

func (s *Server) userDurations(r *http.Request, body []byte) any {
	if f := s.checkSign(r); f != nil {
		return f
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nuoyunFail(400, "参数格式错误")
	}
	var p [5]int64
	for i, name := range []string{"page", "page_size", "update_time_start", "update_time_end", "wechat_user_space_id"} {
		v, valid := nuoyunInt(m, name)
		if !valid {
			return nuoyunFail(400, name+"参数错误")
		}
		p[i] = v
	}
	page, size, start, end, user := p[0], p[1], p[2], p[3], p[4]
	// sort is required, as page and page_size are (the vendor's table
	// marks the three 必选); the update-time window and the user are not.
	var sort string
	if raw, found := m["sort"]; found {
		_ = json.Unmarshal(raw, &sort)
	}
	switch {
	case page < 1:
		return nuoyunFail(400, "page最小值为1")
	case size < 1 || size > livestat.MaxNuoyunPageSize:
		return nuoyunFail(400, "page_size取值范围为1-500")
	case sort == "":
		return nuoyunFail(400, "sort不能为空")
	case sort != "asc" && sort != "desc":
		return nuoyunFail(400, "sort参数错误")
	}

	if want := s.opts.NuoyunUserSpaceID; want != 0 && user != want {
		return nuoyunFail(400, "用户不存在")
	}
	s.mu.Lock()
	all := s.nuoyun
	s.mu.Unlock()
	rows := make([]livestat.UserDuration, 0, len(all))
	for _, row := range all {
		t := row.LastVisitTime.Unix()
		if (start > 0 && t < start) || (end > 0 && t > end) {
			continue
		}
		rows = append(rows, row)
	}
	// The docs do not say by which field rows are ordered (their sample,
	// asked with desc, is not in last_visit_time order): the fake takes the
	// rows as given to be in ascending order.
	if sort == "desc" {
		slices.Reverse(rows)
	}
	data := nuoyunData{Total: len(rows), List: []wireNuoyun{}}
	from := min((page-1)*size, int64(len(rows)))
	to := min(from+size, int64(len(rows)))
	for _, row := range rows[from:to] {
		data.List = append(data.List, toWireNuoyun(row))
	}
	return nuoyunReply{Code: 200, Msg: "Success", Data: data}
}
