package livestattest

import (
	"cmp"
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

// schoolReply is a reply of the school endpoints: their paging and a page
// of rows in StatInfo (schoolWatchInfo, schoolUnwatchInfo).
type schoolReply[Info any] struct {
	wecomStatus
	schoolCursor
	StatInfo Info `json:"stat_info"`
}

// schoolCursor is the paging of the school endpoints' replies.
type schoolCursor struct {
	HasMore    int    `json:"has_more"`
	NextCursor string `json:"next_cursor"`
}

type schoolWatchInfo struct {
	Students []wireStudent `json:"students"`
	Parents  []wireParent  `json:"parents"`
	Visitors []wireVisitor `json:"visitors"`
}

// The watchers of get_watch_stat_v2 are described as in
// get_unwatch_stat_v2, followed by their watch.

type wireStudent struct {
	wireAbsentStudent
	wireWatch
}

type wireParent struct {
	wireAbsentParent
	wireWatch
}

type wireVisitor struct {
	Nickname string `json:"nickname"`
	wireWatch
}

type wireWatch struct {
	WatchTime int64 `json:"watch_time"`
	EnterTime int64 `json:"enter_time"`
	LeaveTime int64 `json:"leave_time"`
	IsComment int   `json:"is_comment"`
}

type schoolUnwatchInfo struct {
	Students []wireAbsentStudent `json:"students"`
	Parents  []wireAbsentParent  `json:"parents"`
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

// listRequest is what a request for a page of a cursor-paged list asks
// for: the list of key (a livingid or a userid), from cursor on, size rows
// at most (0: Options.PageSize). cursorName is the request's field for
// the cursor.
type listRequest struct {
	key, cursor, cursorName string
	size                    int
}

// statRequest returns the reader of the request of a WeCom stat endpoint,
// whose cursor is the field cursorName.
func statRequest(cursorName string) func(body []byte) (listRequest, *wecomStatus) {
	return func(body []byte) (listRequest, *wecomStatus) {
		var req wecomRequest
		if err := json.Unmarshal(body, &req); err != nil {
			return listRequest{}, &wecomStatus{ErrCode: 47001, ErrMsg: "data format error"}
		}
		if req.LivingID == "" {
			return listRequest{}, &wecomStatus{ErrCode: 40058, ErrMsg: "livingid is missing"}
		}
		cursor := req.NextCursor
		if cursorName == "next_key" {
			cursor = req.NextKey
		}
		return listRequest{key: req.LivingID, cursor: cursor, cursorName: cursorName}, nil
	}
}

// servePage serves one page of a cursor-paged list: read reads the
// request, rows returns the rows of its key (under s.mu; false for a
// livingid the server does not know) and reply writes the page of rows
// that ends at row end of n; or the error reply.
func servePage[T any](s *Server, body []byte, read func([]byte) (listRequest, *wecomStatus), rows func(key string) ([]T, bool), reply func(page []T, end, n int) any) any {
	req, fail := read(body)
	if fail != nil {
		return fail
	}
	s.mu.Lock()
	all, found := rows(req.key)
	size := cmp.Or(req.size, s.opts.PageSize)
	s.mu.Unlock()
	if !found {
		return &wecomStatus{ErrCode: 40058, ErrMsg: "invalid livingid"}
	}
	off, valid := decodeCursor(req.cursor)
	if !valid || off > len(all) {
		return &wecomStatus{ErrCode: 40058, ErrMsg: "invalid " + req.cursorName}
	}
	end := min(off+size, len(all))
	return reply(all[off:end], end, len(all))
}

// pageCursor returns the cursor and the "more" flag of a page that ends at
// row end of n. Like WeCom, the last page still carries a cursor (that of
// its last row); only ending / has_more say it is the last.
func pageCursor(end, n int) (string, bool) {
	if n == 0 {
		return "", false
	}
	return encodeCursor(end), end < n
}

// schoolPaging returns the paging fields of a school page that ends at row
// end of n.
func schoolPaging(end, n int) schoolCursor {
	cursor, more := pageCursor(end, n)
	return schoolCursor{HasMore: flag(livestat.IntBool(more)), NextCursor: cursor}
}

func (s *Server) watchStat(_ *http.Request, body []byte) any {
	return servePage(s, body, statRequest("next_key"), func(id string) ([]livestat.LivingViewer, bool) {
		rows, found := s.living[id]
		return rows, found
	}, watchStatPage)
}

func (s *Server) schoolWatchStat(_ *http.Request, body []byte) any {
	return servePage(s, body, statRequest("next_cursor"), func(id string) ([]livestat.SchoolWatcher, bool) {
		sc, found := s.school[id]
		return sc.Watchers, found
	}, schoolWatchPage)
}

func (s *Server) schoolUnwatchStat(_ *http.Request, body []byte) any {
	return servePage(s, body, statRequest("next_cursor"), func(id string) ([]livestat.SchoolAbsentee, bool) {
		sc, found := s.school[id]
		return sc.Absentees, found
	}, schoolUnwatchPage)
}

func watchStatPage(rows []livestat.LivingViewer, end, n int) any {
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

func schoolWatchPage(rows []livestat.SchoolWatcher, end, n int) any {
	rep := schoolReply[schoolWatchInfo]{wecomStatus: success(), schoolCursor: schoolPaging(end, n)}
	rep.StatInfo = schoolWatchInfo{Students: []wireStudent{}, Parents: []wireParent{}, Visitors: []wireVisitor{}}
	for _, w := range rows {
		watch := wireWatch{WatchTime: int64(w.WatchTime), EnterTime: int64(w.EnterTime), LeaveTime: int64(w.LeaveTime), IsComment: flag(w.IsComment)}
		switch watcherKind(w) {
		case livestat.KindVisitor:
			rep.StatInfo.Visitors = append(rep.StatInfo.Visitors, wireVisitor{Nickname: w.Nickname, wireWatch: watch})
		case livestat.KindParent:
			rep.StatInfo.Parents = append(rep.StatInfo.Parents, wireParent{wireAbsentParent{ParentUserID: w.ParentUserID, StudentUserID: w.StudentUserID, PartyIDs: parties(w.PartyIDs)}, watch})
		default:
			rep.StatInfo.Students = append(rep.StatInfo.Students, wireStudent{wireAbsentStudent{StudentUserID: w.StudentUserID, PartyIDs: parties(w.PartyIDs)}, watch})
		}
	}
	return &rep
}

func schoolUnwatchPage(rows []livestat.SchoolAbsentee, end, n int) any {
	rep := schoolReply[schoolUnwatchInfo]{wecomStatus: success(), schoolCursor: schoolPaging(end, n)}
	rep.StatInfo = schoolUnwatchInfo{Students: []wireAbsentStudent{}, Parents: []wireAbsentParent{}}
	for _, a := range rows {
		if absenteeKind(a) == livestat.KindParent {
			rep.StatInfo.Parents = append(rep.StatInfo.Parents, wireAbsentParent{ParentUserID: a.ParentUserID, StudentUserID: a.StudentUserID, PartyIDs: parties(a.PartyIDs)})
			continue
		}
		rep.StatInfo.Students = append(rep.StatInfo.Students, wireAbsentStudent{StudentUserID: a.StudentUserID, PartyIDs: parties(a.PartyIDs)})
	}
	return &rep
}

func livingKind(v livestat.LivingViewer) livestat.ViewerKind {
	if v.Kind == "" && v.ExternalUserID != "" {
		return livestat.KindExternalUser
	}
	return cmp.Or(v.Kind, livestat.KindUser)
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

// absenteeKind reads an absentee as a watcher without a nickname, who is
// never a visitor.
func absenteeKind(a livestat.SchoolAbsentee) livestat.ViewerKind {
	return watcherKind(livestat.SchoolWatcher{Kind: a.Kind, StudentUserID: a.StudentUserID, ParentUserID: a.ParentUserID})
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
