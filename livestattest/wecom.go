package livestattest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/livestat/livestat"
)

// The reply types below spell out the JSON of the WeCom docs field by field,
// independently of the livestat types' struct tags, so that a tag that
// disagrees with the docs makes a test against the fake fail.

type wecomStatus struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// success is the status of a reply that succeeded.
func success() wecomStatus { return wecomStatus{ErrCode: 0, ErrMsg: "ok"} }

type gettokenReply struct {
	wecomStatus
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
}

type watchStatReply struct {
	wecomStatus
	Ending   int    `json:"ending"`
	NextKey  string `json:"next_key"`
	StatInfo struct {
		Users         []wireUser         `json:"users"`
		ExternalUsers []wireExternalUser `json:"external_users"`
	} `json:"stat_info"`
}

type wireUser struct {
	UserID                string `json:"userid"`
	WatchTime             int64  `json:"watch_time"`
	IsComment             int    `json:"is_comment"`
	IsMic                 int    `json:"is_mic"`
	InvitorUserID         string `json:"invitor_userid,omitempty"`
	InvitorExternalUserID string `json:"invitor_external_userid,omitempty"`
}

type wireExternalUser struct {
	ExternalUserID        string `json:"external_userid"`
	Type                  int    `json:"type"`
	Name                  string `json:"name"`
	WatchTime             int64  `json:"watch_time"`
	IsComment             int    `json:"is_comment"`
	IsMic                 int    `json:"is_mic"`
	InvitorUserID         string `json:"invitor_userid,omitempty"`
	InvitorExternalUserID string `json:"invitor_external_userid,omitempty"`
}

type schoolWatchReply struct {
	wecomStatus
	HasMore    int    `json:"has_more"`
	NextCursor string `json:"next_cursor"`
	StatInfo   struct {
		Students []wireStudent `json:"students"`
		Parents  []wireParent  `json:"parents"`
		Visitors []wireVisitor `json:"visitors"`
	} `json:"stat_info"`
}

type wireStudent struct {
	StudentUserID string  `json:"student_userid"`
	PartyIDs      []int64 `json:"partyids"`
	WatchTime     int64   `json:"watch_time"`
	EnterTime     int64   `json:"enter_time"`
	LeaveTime     int64   `json:"leave_time"`
	IsComment     int     `json:"is_comment"`
}

type wireParent struct {
	ParentUserID  string  `json:"parent_userid"`
	StudentUserID string  `json:"student_userid"`
	PartyIDs      []int64 `json:"partyids"`
	WatchTime     int64   `json:"watch_time"`
	EnterTime     int64   `json:"enter_time"`
	LeaveTime     int64   `json:"leave_time"`
	IsComment     int     `json:"is_comment"`
}

type wireVisitor struct {
	Nickname  string `json:"nickname"`
	WatchTime int64  `json:"watch_time"`
	EnterTime int64  `json:"enter_time"`
	LeaveTime int64  `json:"leave_time"`
	IsComment int    `json:"is_comment"`
}

type schoolUnwatchReply struct {
	wecomStatus
	HasMore    int    `json:"has_more"`
	NextCursor string `json:"next_cursor"`
	StatInfo   struct {
		Students []wireAbsentStudent `json:"students"`
		Parents  []wireAbsentParent  `json:"parents"`
	} `json:"stat_info"`
}

type wireAbsentStudent struct {
	StudentUserID string  `json:"student_userid"`
	PartyIDs      []int64 `json:"partyids"`
}

type wireAbsentParent struct {
	ParentUserID  string  `json:"parent_userid"`
	StudentUserID string  `json:"student_userid"`
	PartyIDs      []int64 `json:"partyids"`
}

func flag(f livestat.IntBool) int {
	if f {
		return 1
	}
	return 0
}

func parties(p []int64) []int64 {
	if p == nil {
		return []int64{}
	}
	return p
}

// Cursors are opaque to clients, as WeCom's are: the offset of the next row,
// encoded. The first page is asked with no cursor, "" or "0".
func encodeCursor(off int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("livestattest:" + strconv.Itoa(off)))
}

func decodeCursor(c string) (int, bool) {
	if c == "" || c == "0" {
		return 0, true
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	n, found := strings.CutPrefix(string(b), "livestattest:")
	if !found {
		return 0, false
	}
	off, err := strconv.Atoi(n)
	return off, err == nil && off >= 0
}

// wecomRequest is the body of the three WeCom stat endpoints.
type wecomRequest struct {
	LivingID   string `json:"livingid"`
	NextKey    string `json:"next_key"`
	NextCursor string `json:"next_cursor"`
}

// window reads a WeCom request and returns the rows of the page it asks
// for, the index just past them and the number of rows of the broadcast;
// or the error reply. lookup runs under s.mu.
func window[T any](s *Server, body []byte, cursorName string, cursor func(*wecomRequest) string, lookup func(id string) ([]T, bool)) (page []T, end, n int, fail *wecomStatus) {
	var req wecomRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, 0, 0, &wecomStatus{ErrCode: 47001, ErrMsg: "data format error"}
	}
	if req.LivingID == "" {
		return nil, 0, 0, &wecomStatus{ErrCode: 40058, ErrMsg: "livingid is missing"}
	}
	s.mu.Lock()
	rows, found := lookup(req.LivingID)
	size := s.opts.PageSize
	s.mu.Unlock()
	if !found {
		return nil, 0, 0, &wecomStatus{ErrCode: 40058, ErrMsg: "invalid livingid"}
	}
	off, valid := decodeCursor(cursor(&req))
	if !valid || off > len(rows) {
		return nil, 0, 0, &wecomStatus{ErrCode: 40058, ErrMsg: "invalid " + cursorName}
	}
	end = min(off+size, len(rows))
	return rows[off:end], end, len(rows), nil
}

func nextKey(r *wecomRequest) string    { return r.NextKey }
func nextCursor(r *wecomRequest) string { return r.NextCursor }

// pageCursor returns the cursor and the "more" flag of a page that ends at
// row end of n. Like WeCom, the last page still carries a cursor (that of
// its last row); only ending / has_more say it is the last.
func pageCursor(end, n int) (string, bool) {
	if n == 0 {
		return "", false
	}
	return encodeCursor(end), end < n
}

func (s *Server) watchStat(_ *http.Request, body []byte) any {
	rows, end, n, fail := window(s, body, "next_key", nextKey, func(id string) ([]livestat.LivingViewer, bool) {
		rows, found := s.living[id]
		return rows, found
	})
	if fail != nil {
		return fail
	}
	rep := watchStatReply{wecomStatus: success()}
	rep.StatInfo.Users = []wireUser{}
	rep.StatInfo.ExternalUsers = []wireExternalUser{}
	for _, v := range rows {
		if livingKind(v) == livestat.KindExternalUser {
			rep.StatInfo.ExternalUsers = append(rep.StatInfo.ExternalUsers, wireExternalUser{
				ExternalUserID: v.ExternalUserID, Type: int(v.Type), Name: v.Name,
				WatchTime: int64(v.WatchTime), IsComment: flag(v.IsComment), IsMic: flag(v.IsMic),
				InvitorUserID: v.InvitorUserID, InvitorExternalUserID: v.InvitorExternalUserID,
			})
			continue
		}
		rep.StatInfo.Users = append(rep.StatInfo.Users, wireUser{
			UserID: v.UserID, WatchTime: int64(v.WatchTime), IsComment: flag(v.IsComment), IsMic: flag(v.IsMic),
			InvitorUserID: v.InvitorUserID, InvitorExternalUserID: v.InvitorExternalUserID,
		})
	}
	var more bool
	rep.NextKey, more = pageCursor(end, n)
	if !more {
		rep.Ending = 1
	}
	return &rep
}

func (s *Server) schoolWatchStat(_ *http.Request, body []byte) any {
	rows, end, n, fail := window(s, body, "next_cursor", nextCursor, func(id string) ([]livestat.SchoolWatcher, bool) {
		sc, found := s.school[id]
		return sc.Watchers, found
	})
	if fail != nil {
		return fail
	}
	rep := schoolWatchReply{wecomStatus: success()}
	rep.StatInfo.Students = []wireStudent{}
	rep.StatInfo.Parents = []wireParent{}
	rep.StatInfo.Visitors = []wireVisitor{}
	for _, w := range rows {
		wt, et, lt, c := int64(w.WatchTime), int64(w.EnterTime), int64(w.LeaveTime), flag(w.IsComment)
		switch watcherKind(w) {
		case livestat.KindVisitor:
			rep.StatInfo.Visitors = append(rep.StatInfo.Visitors, wireVisitor{Nickname: w.Nickname, WatchTime: wt, EnterTime: et, LeaveTime: lt, IsComment: c})
		case livestat.KindParent:
			rep.StatInfo.Parents = append(rep.StatInfo.Parents, wireParent{ParentUserID: w.ParentUserID, StudentUserID: w.StudentUserID, PartyIDs: parties(w.PartyIDs), WatchTime: wt, EnterTime: et, LeaveTime: lt, IsComment: c})
		default:
			rep.StatInfo.Students = append(rep.StatInfo.Students, wireStudent{StudentUserID: w.StudentUserID, PartyIDs: parties(w.PartyIDs), WatchTime: wt, EnterTime: et, LeaveTime: lt, IsComment: c})
		}
	}
	var more bool
	rep.NextCursor, more = pageCursor(end, n)
	if more {
		rep.HasMore = 1
	}
	return &rep
}

func (s *Server) schoolUnwatchStat(_ *http.Request, body []byte) any {
	rows, end, n, fail := window(s, body, "next_cursor", nextCursor, func(id string) ([]livestat.SchoolAbsentee, bool) {
		sc, found := s.school[id]
		return sc.Absentees, found
	})
	if fail != nil {
		return fail
	}
	rep := schoolUnwatchReply{wecomStatus: success()}
	rep.StatInfo.Students = []wireAbsentStudent{}
	rep.StatInfo.Parents = []wireAbsentParent{}
	for _, a := range rows {
		if absenteeKind(a) == livestat.KindParent {
			rep.StatInfo.Parents = append(rep.StatInfo.Parents, wireAbsentParent{ParentUserID: a.ParentUserID, StudentUserID: a.StudentUserID, PartyIDs: parties(a.PartyIDs)})
			continue
		}
		rep.StatInfo.Students = append(rep.StatInfo.Students, wireAbsentStudent{StudentUserID: a.StudentUserID, PartyIDs: parties(a.PartyIDs)})
	}
	var more bool
	rep.NextCursor, more = pageCursor(end, n)
	if more {
		rep.HasMore = 1
	}
	return &rep
}

func livingKind(v livestat.LivingViewer) livestat.ViewerKind {
	switch {
	case v.Kind != "":
		return v.Kind
	case v.ExternalUserID != "":
		return livestat.KindExternalUser
	}
	return livestat.KindUser
}

func watcherKind(w livestat.SchoolWatcher) livestat.ViewerKind {
	switch {
	case w.Kind != "":
		return w.Kind
	case w.ParentUserID != "":
		return livestat.KindParent
	case w.StudentUserID == "" && w.Nickname != "":
		return livestat.KindVisitor
	}
	return livestat.KindStudent
}

func absenteeKind(a livestat.SchoolAbsentee) livestat.ViewerKind {
	switch {
	case a.Kind != "":
		return a.Kind
	case a.ParentUserID != "":
		return livestat.KindParent
	}
	return livestat.KindStudent
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeBody(w, b)
}

func writeBody(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(b)
}
