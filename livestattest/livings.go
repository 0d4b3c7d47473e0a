package livestattest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"net/http"
	"slices"

	"github.com/livestat/livestat"
)

// This file serves the endpoints that find broadcasts and describe them:
// living/get_user_all_livingid, living/get_living_info and
// school/living/get_living_info. Unless a test supplies them, their data is
// made from the watch statistics the server holds, so that the three agree
// with get_watch_stat and the school endpoints: a broadcast's details count
// its viewers, last at least as long as anyone watched, and (at school) its
// range holds every class of its viewers and absentees; and its anchor's
// list of livings holds it.

// DefaultAnchorUserID is the anchor (the teacher, at school) of the
// broadcasts whose details the server makes up and that no
// Options.UserLivings list names.
const DefaultAnchorUserID = "anchor"

// livings is the data of the three endpoints that tests supply.
type livings struct {
	info       map[string]livestat.LivingInfo
	schoolInfo map[string]livestat.SchoolLivingInfo
	users      map[string][]string
	live       map[string]bool
}

func newLivings(opts Options) livings {
	l := livings{
		info:       make(map[string]livestat.LivingInfo, len(opts.LivingInfo)),
		schoolInfo: make(map[string]livestat.SchoolLivingInfo, len(opts.SchoolLivingInfo)),
		users:      make(map[string][]string, len(opts.UserLivings)),
		live:       make(map[string]bool, len(opts.Live)),
	}
	for _, id := range opts.Live {
		l.live[id] = true
	}
	for id, info := range opts.LivingInfo {
		l.info[id] = cloneInfo(info)
	}
	for id, info := range opts.SchoolLivingInfo {
		l.schoolInfo[id] = cloneSchoolInfo(info)
	}
	for u, ids := range opts.UserLivings {
		l.users[u] = slices.Clone(ids)
	}
	return l
}

func cloneInfo(info livestat.LivingInfo) livestat.LivingInfo {
	if info.ReplayStatus != nil {
		rs := *info.ReplayStatus
		info.ReplayStatus = &rs
	}
	return info
}

func cloneSchoolInfo(info livestat.SchoolLivingInfo) livestat.SchoolLivingInfo {
	info.LivingRange.PartyIDs = slices.Clone(info.LivingRange.PartyIDs)
	info.LivingRange.GroupNames = slices.Clone(info.LivingRange.GroupNames)
	return info
}

// SetLivingInfo replaces the details of the corp broadcast livingID.
func (s *Server) SetLivingInfo(livingID string, info livestat.LivingInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.livings.info[livingID] = cloneInfo(info)
}

// SetSchoolLivingInfo replaces the details of the school broadcast livingID.
func (s *Server) SetSchoolLivingInfo(livingID string, info livestat.SchoolLivingInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.livings.schoolInfo[livingID] = cloneSchoolInfo(info)
}

// SetUserLivings replaces the livingids listed for userID (see UserLivings).
func (s *Server) SetUserLivings(userID string, livingIDs []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.livings.users[userID] = slices.Clone(livingIDs)
}

// UserLivings returns the livingids living/get_user_all_livingid lists for
// userID, in its order: Options.UserLivings[userID], then every other
// broadcast the server knows (corp or school, with statistics or details)
// whose details name userID as the anchor, in ascending order. A broadcast
// without supplied details has as anchor the first userid (in ascending
// order) whose Options.UserLivings list names it, else DefaultAnchorUserID:
// so DefaultAnchorUserID's list holds every broadcast of Options.Living and
// Options.School that no list names.
func (s *Server) UserLivings(userID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userLivings(userID)
}

// userLivings is UserLivings; callers hold mu.
func (s *Server) userLivings(userID string) []string {
	out := slices.Clone(s.livings.users[userID])
	listed := make(map[string]bool, len(out))
	for _, id := range out {
		listed[id] = true
	}
	owners := s.owners()
	for _, id := range s.knownLivings() {
		if !listed[id] && s.anchor(id, owners) == userID {
			out = append(out, id)
		}
	}
	if out == nil {
		out = []string{}
	}
	return out
}

// knownLivings returns every livingid the server holds data for, sorted.
// Callers hold mu.
func (s *Server) knownLivings() []string {
	set := make(map[string]bool)
	for _, m := range []func(yield func(string) bool){maps.Keys(s.living), maps.Keys(s.school), maps.Keys(s.livings.info), maps.Keys(s.livings.schoolInfo)} {
		for id := range m {
			set[id] = true
		}
	}
	for _, ids := range s.livings.users {
		for _, id := range ids {
			set[id] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// owners maps each livingid of an Options.UserLivings list to the first
// userid, in ascending order, that lists it. Callers hold mu.
func (s *Server) owners() map[string]string {
	out := make(map[string]string)
	for _, u := range slices.Sorted(maps.Keys(s.livings.users)) {
		for _, id := range s.livings.users[u] {
			if _, ok := out[id]; !ok {
				out[id] = u
			}
		}
	}
	return out
}

// anchor is the anchor of livingid id. Callers hold mu.
func (s *Server) anchor(id string, owners map[string]string) string {
	if info, ok := s.livings.info[id]; ok {
		return info.AnchorUserID
	}
	if info, ok := s.livings.schoolInfo[id]; ok {
		return info.AnchorUserID
	}
	if u, ok := owners[id]; ok {
		return u
	}
	return DefaultAnchorUserID
}

// isSchool reports whether id is a school broadcast. Callers hold mu.
func (s *Server) isSchool(id string) bool {
	_, stats := s.school[id]
	_, info := s.livings.schoolInfo[id]
	return stats || info
}

// LivingInfo returns the details living/get_living_info serves for the
// corp broadcast livingID: Options.LivingInfo's as given, or else, for a
// broadcast of Options.Living or of an Options.UserLivings list that is no
// school broadcast, details made from its viewers: viewer_num the number
// of viewers, comment_num and mic_num those who commented and spoke,
// living_duration the longest watch time rounded up to the minute (at least
// 30 minutes), status ended, a start on a day after 2025-09-01 19:00 CST
// that depends on the livingid, and the anchor UserLivings names (for a
// broadcast of Options.Live: status live, see Options.Live). ok is false
// for a broadcast the server does not know, which the endpoint answers
// with errcode 40058.
func (s *Server) LivingInfo(livingID string) (info livestat.LivingInfo, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	info, ok = s.livingInfoOf(livingID)
	return cloneInfo(info), ok
}

func (s *Server) livingInfoOf(id string) (livestat.LivingInfo, bool) {
	if info, ok := s.livings.info[id]; ok {
		return info, true
	}
	viewers, stats := s.living[id]
	if !stats && (s.isSchool(id) || !s.listed(id)) {
		return livestat.LivingInfo{}, false
	}
	h := hashID(id)
	var longest livestat.Seconds
	info := livestat.LivingInfo{
		Theme:          "直播 " + id,
		Status:         livestat.LivingEnded,
		Type:           livestat.LivingTypeGeneral,
		AnchorUserID:   s.anchor(id, s.owners()),
		MainDepartment: 1,
		ViewerNum:      len(viewers),
	}
	for _, v := range viewers {
		longest = max(longest, v.WatchTime)
		if v.IsComment {
			info.CommentNum++
		}
		if v.IsMic {
			info.MicNum++
		}
	}
	start := broadcastStart().Unix() + int64(h%30)*24*3600
	info.LivingStart = livestat.UnixTime(start)
	info.LivingDuration = max(30*60, (longest+59)/60*60)
	info.ReserveStart = info.LivingStart
	info.ReserveLivingDuration = (info.LivingDuration + 1799) / 1800 * 1800
	info.SubscribeCount = len(viewers) / 2
	if s.livings.live[id] {
		info.Status = livestat.LivingLive
		info.OnlineCount = len(viewers)
		info.LivingDuration = max(60, longest)
		return info, true // no replay while on air
	}
	if h%2 == 0 {
		ready := livestat.ReplayReady
		info.OpenReplay, info.ReplayStatus = true, &ready
	}
	return info, true
}

// listed reports whether an Options.UserLivings list names id. Callers
// hold mu.
func (s *Server) listed(id string) bool {
	for _, ids := range s.livings.users {
		if slices.Contains(ids, id) {
			return true
		}
	}
	return false
}

// SchoolLivingInfo returns the details school/living/get_living_info
// serves for the school broadcast livingID: Options.SchoolLivingInfo's as
// given, or else, for a broadcast of Options.School, details made from its
// data: living_range.partyids every class of its watchers and absentees
// (ascending; no group_names), living_start the earliest enter_time,
// living_duration long enough to hold every watcher's watch time and leave
// time (rounded up to the minute), viewer_num the number of watchers,
// comment_num those who commented, and the anchor UserLivings names (for
// a broadcast of Options.Live, see Options.Live). ok is false for a
// broadcast the server does not know.
func (s *Server) SchoolLivingInfo(livingID string) (info livestat.SchoolLivingInfo, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	info, ok = s.schoolLivingInfoOf(livingID)
	return cloneSchoolInfo(info), ok
}

func (s *Server) schoolLivingInfoOf(id string) (livestat.SchoolLivingInfo, bool) {
	if info, ok := s.livings.schoolInfo[id]; ok {
		return info, true
	}
	sc, ok := s.school[id]
	if !ok {
		return livestat.SchoolLivingInfo{}, false
	}
	parties := make(map[int64]bool)
	start := int64(0)
	for _, w := range sc.Watchers {
		if w.EnterTime > 0 && (start == 0 || int64(w.EnterTime) < start) {
			start = int64(w.EnterTime)
		}
	}
	if start == 0 {
		start = broadcastStart().Unix()
	}
	var end int64
	info := livestat.SchoolLivingInfo{
		Theme:        "上课直播 " + id,
		AnchorUserID: s.anchor(id, s.owners()),
		ViewerNum:    len(sc.Watchers),
		OpenReplay:   true,
	}
	for _, w := range sc.Watchers {
		for _, p := range w.PartyIDs {
			parties[p] = true
		}
		end = max(end, int64(w.LeaveTime), start+int64(w.WatchTime))
		if w.IsComment {
			info.CommentNum++
		}
	}
	for _, a := range sc.Absentees {
		for _, p := range a.PartyIDs {
			parties[p] = true
		}
	}
	info.LivingStart = livestat.UnixTime(start)
	info.LivingDuration = livestat.Seconds(max(60, (end-start+59)/60*60))
	info.LivingRange.PartyIDs = slices.Sorted(maps.Keys(parties))
	if s.livings.live[id] {
		info.OnlineCount = len(sc.Watchers)
		info.LivingDuration = livestat.Seconds(max(60, end-start))
	}
	return info, true
}

func hashID(id string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(id))
	return h.Sum32()
}

// The wire types of the three endpoints, spelt out from the docs.

type userLivingIDsReply struct {
	wecomStatus
	NextCursor   string   `json:"next_cursor"`
	LivingIDList []string `json:"livingid_list"`
}

type livingInfoReply struct {
	wecomStatus
	LivingInfo wireLivingInfo `json:"living_info"`
}

type wireLivingInfo struct {
	Theme                 string `json:"theme"`
	LivingStart           int64  `json:"living_start"`
	LivingDuration        int64  `json:"living_duration"`
	Status                int    `json:"status"`
	ReserveStart          int64  `json:"reserve_start"`
	ReserveLivingDuration int64  `json:"reserve_living_duration"`
	Description           string `json:"description"`
	AnchorUserID          string `json:"anchor_userid"`
	MainDepartment        int64  `json:"main_department"`
	ViewerNum             int    `json:"viewer_num"`
	CommentNum            int    `json:"comment_num"`
	MicNum                int    `json:"mic_num"`
	OpenReplay            int    `json:"open_replay"`
	ReplayStatus          *int   `json:"replay_status,omitempty"` // only when open_replay is 1
	Type                  int    `json:"type"`
	PushStreamURL         string `json:"push_stream_url,omitempty"`
	OnlineCount           int    `json:"online_count"`
	SubscribeCount        int    `json:"subscribe_count"`
}

type schoolLivingInfoReply struct {
	wecomStatus
	LivingInfo wireSchoolLivingInfo `json:"living_info"`
}

type wireSchoolLivingInfo struct {
	Theme          string `json:"theme"`
	LivingStart    int64  `json:"living_start"`
	LivingDuration int64  `json:"living_duration"`
	AnchorUserID   string `json:"anchor_userid"`
	LivingRange    struct {
		PartyIDs   []int64  `json:"partyids"`
		GroupNames []string `json:"group_names"`
	} `json:"living_range"`
	ViewerNum      int    `json:"viewer_num"`
	CommentNum     int    `json:"comment_num"`
	OpenReplay     int    `json:"open_replay"`
	PushStreamURL  string `json:"push_stream_url,omitempty"`
	OnlineCount    int    `json:"online_count"`
	SubscribeCount int    `json:"subscribe_count"`
}

// userLivingIDsRequest is the body of living/get_user_all_livingid.
type userLivingIDsRequest struct {
	UserID string `json:"userid"`
	Cursor string `json:"cursor"`
	Limit  int    `json:"limit"`
}

// maxLivingIDsLimit is the API's default and largest page.
const maxLivingIDsLimit = 100

// userLivingIDs pages a member's livings by cursor and limit (default and
// at most 100: a limit out of range gets errcode 40058, which the docs
// leave open). The last page has next_cursor "".
func (s *Server) userLivingIDs(_ *http.Request, body []byte) any {
	return servePage(s, body, readUserLivingIDs, func(userID string) ([]string, bool) {
		return s.userLivings(userID), true
	}, userLivingIDsPage)
}

func readUserLivingIDs(body []byte) (listRequest, *wecomStatus) {
	var req userLivingIDsRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return listRequest{}, &wecomStatus{ErrCode: 47001, ErrMsg: "data format error"}
	}
	switch {
	case req.UserID == "":
		return listRequest{}, &wecomStatus{ErrCode: 40058, ErrMsg: "userid is missing"}
	case req.Limit < 0 || req.Limit > maxLivingIDsLimit:
		return listRequest{}, &wecomStatus{ErrCode: 40058, ErrMsg: fmt.Sprintf("invalid limit %d", req.Limit)}
	}
	return listRequest{key: req.UserID, cursor: req.Cursor, cursorName: "cursor", size: cmp.Or(req.Limit, maxLivingIDsLimit)}, nil
}

func userLivingIDsPage(ids []string, end, n int) any {
	rep := userLivingIDsReply{wecomStatus: success(), LivingIDList: ids}
	if end < n {
		rep.NextCursor = encodeCursor(end)
	}
	return &rep
}

// lookupInfo reads the livingid of a get_living_info request and finds its
// details (under mu); fail is the error reply when there are none.
func lookupInfo[T any](s *Server, r *http.Request, find func(id string) (T, bool)) (info T, fail *wecomStatus) {
	id := r.URL.Query().Get("livingid")
	if id == "" {
		return info, &wecomStatus{ErrCode: 40058, ErrMsg: "livingid is missing"}
	}
	s.mu.Lock()
	info, ok := find(id)
	s.mu.Unlock()
	if !ok {
		return info, &wecomStatus{ErrCode: 40058, ErrMsg: "invalid livingid"}
	}
	return info, nil
}

func (s *Server) livingInfo(r *http.Request, _ []byte) any {
	info, fail := lookupInfo(s, r, s.livingInfoOf)
	if fail != nil {
		return fail
	}
	w := wireLivingInfo{
		Theme: info.Theme, LivingStart: int64(info.LivingStart), LivingDuration: int64(info.LivingDuration),
		Status: int(info.Status), ReserveStart: int64(info.ReserveStart), ReserveLivingDuration: int64(info.ReserveLivingDuration),
		Description: info.Description, AnchorUserID: info.AnchorUserID, MainDepartment: info.MainDepartment,
		ViewerNum: info.ViewerNum, CommentNum: info.CommentNum, MicNum: info.MicNum, OpenReplay: flag(info.OpenReplay),
		Type: int(info.Type), PushStreamURL: info.PushStreamURL, OnlineCount: info.OnlineCount, SubscribeCount: info.SubscribeCount,
	}
	if rs, ok := info.Replay(); ok {
		n := int(rs)
		w.ReplayStatus = &n
	}
	return &livingInfoReply{wecomStatus: success(), LivingInfo: w}
}

func (s *Server) schoolLivingInfo(r *http.Request, _ []byte) any {
	info, fail := lookupInfo(s, r, s.schoolLivingInfoOf)
	if fail != nil {
		return fail
	}
	w := wireSchoolLivingInfo{
		Theme: info.Theme, LivingStart: int64(info.LivingStart), LivingDuration: int64(info.LivingDuration),
		AnchorUserID: info.AnchorUserID, ViewerNum: info.ViewerNum, CommentNum: info.CommentNum,
		OpenReplay: flag(info.OpenReplay), PushStreamURL: info.PushStreamURL,
		OnlineCount: info.OnlineCount, SubscribeCount: info.SubscribeCount,
	}
	w.LivingRange.PartyIDs = parties(info.LivingRange.PartyIDs)
	w.LivingRange.GroupNames = info.LivingRange.GroupNames
	if w.LivingRange.GroupNames == nil {
		w.LivingRange.GroupNames = []string{}
	}
	return &schoolLivingInfoReply{wecomStatus: success(), LivingInfo: w}
}
