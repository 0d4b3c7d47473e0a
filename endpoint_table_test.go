package livestat_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
)

// The endpoint table: one row per endpoint, with what the table-driven
// tests (pagination rules, fault suite, paging fields, decoder fuzzing)
// need to run against livestattest. Adding an endpoint is adding a row here
// (and a handler in livestattest).
//
// Every paged row serves rows named "u<page>_<i>" (page and i from 0), one
// list of the reply only, so that the order of the iteration is the order
// of the data. A single-call row serves one row, "u0_0", as one page.
type endpointCase struct {
	name string // the endpoint, as errors name it
	ep   livestat.Endpoint
	// style is how the endpoint pages.
	style pagingStyle
	// cursor is the reply's cursor field (WeCom), requestCursor the
	// request's when it has another name. flag is the path of the field
	// a success must carry: the flag, the cursor itself (cursorOnly), the
	// total, or a single call's object.
	cursor, requestCursorField string
	flag                       []string
	// moreValue is the flag's value when more pages follow (flagged).
	moreValue int
	// status is the reply's status field; rows the path of its row list.
	status string
	rows   []string
	// serve puts ids in opts, per rows a page.
	serve func(opts *livestattest.Options, ids []string, per int)
	// iterate ranges over the ids of every row from the start (or, with
	// resume, from where a saved page position points: a WeCom cursor or
	// a Nuoyun page number). For a single call it makes the call and
	// yields its one row, or its error.
	iterate func(ctx context.Context, c *livestat.Client, per int, resume string) iter.Seq2[string, error]
	// page fetches one page with the page-level call and returns its ids
	// and the position of the next page ("" when it is the last); nil for
	// a single call.
	page func(ctx context.Context, c *livestat.Client, per int, at string) (ids []string, next string, err error)
	// opts are the row's client options.
	opts []livestat.Option
}

// pagingStyle is how an endpoint of the table pages.
type pagingStyle int

const (
	// flagged: a WeCom cursor and a flag beside it that alone says
	// whether more pages follow (ending, has_more).
	flagged pagingStyle = iota
	// cursorOnly: a WeCom cursor, "" on the last page, and no flag
	// (get_user_all_livingid).
	cursorOnly
	// numbered: Nuoyun's page/page_size/total.
	numbered
	// single: one call, no paging (get_living_info).
	single
)

// paged reports whether the endpoint has pages.
func (ec endpointCase) paged() bool { return ec.style != single }

// shape is the number of pages and rows a page that the row serves when a
// test asks for pages of per: a single call is (at most) one page of one
// row.
func (ec endpointCase) shape(pages, per int) (int, int) {
	if !ec.paged() {
		return min(pages, 1), 1
	}
	return pages, per
}

// wantIDs is the ids of the whole result of pages of per (see shape).
func (ec endpointCase) wantIDs(pages, per int) []string { return tableIDs(ec.shape(pages, per)) }

// The living ID every WeCom row serves, and the member whose livings
// get_user_all_livingid lists.
const (
	tableLivingID = "L1"
	tableUserID   = "zhangsan"
)

// nuoyunTableSecret signs the Nuoyun rows' requests: like the WeCom
// secret and the tokens, it must never show in an error or a log.
const nuoyunTableSecret = "NUOYUN-SECRET-must-never-leak-91c2"

func endpointCases() []endpointCase {
	return []endpointCase{
		{
			name: string(livestat.EndpointWatchStat), ep: livestat.EndpointWatchStat,
			cursor: "next_key", flag: []string{"ending"}, moreValue: 0, status: "errcode", rows: []string{"stat_info", "users"},
			serve: func(o *livestattest.Options, ids []string, per int) {
				rows := make([]livestat.LivingViewer, len(ids))
				for i, id := range ids {
					rows[i] = livestat.LivingViewer{Kind: livestat.KindUser, UserID: id, WatchTime: 30, IsComment: true}
				}
				o.PageSize, o.Living = per, map[string][]livestat.LivingViewer{tableLivingID: rows}
			},
			iterate: func(ctx context.Context, c *livestat.Client, _ int, resume string) iter.Seq2[string, error] {
				return mapIDs(c.Living.Viewers(ctx, livestat.WatchStatRequest{LivingID: tableLivingID, NextKey: resume}), (*livestat.LivingViewer).ID)
			},
			page: func(ctx context.Context, c *livestat.Client, _ int, at string) ([]string, string, error) {
				p, err := c.Living.GetWatchStat(ctx, livestat.WatchStatRequest{LivingID: tableLivingID, NextKey: at})
				if err != nil {
					return nil, "", err
				}
				return ids(p.StatInfo.Users, (*livestat.LivingViewer).ID), nextIf(p.More(), p.NextKey), nil
			},
		},
		{
			name: string(livestat.EndpointSchoolWatchStat), ep: livestat.EndpointSchoolWatchStat,
			cursor: "next_cursor", flag: []string{"has_more"}, moreValue: 1, status: "errcode", rows: []string{"stat_info", "students"},
			serve: func(o *livestattest.Options, ids []string, per int) {
				rows := make([]livestat.SchoolWatcher, len(ids))
				for i, id := range ids {
					rows[i] = livestat.SchoolWatcher{Kind: livestat.KindStudent, StudentUserID: id, PartyIDs: []int64{1}, WatchTime: 30, EnterTime: 1586433904, LeaveTime: 1586434000}
				}
				o.PageSize, o.School = per, map[string]livestattest.School{tableLivingID: {Watchers: rows}}
			},
			iterate: func(ctx context.Context, c *livestat.Client, _ int, resume string) iter.Seq2[string, error] {
				return mapIDs(c.School.Watchers(ctx, livestat.SchoolStatRequest{LivingID: tableLivingID, NextCursor: resume}), (*livestat.SchoolWatcher).ID)
			},
			page: func(ctx context.Context, c *livestat.Client, _ int, at string) ([]string, string, error) {
				p, err := c.School.GetWatchStatV2(ctx, livestat.SchoolStatRequest{LivingID: tableLivingID, NextCursor: at})
				if err != nil {
					return nil, "", err
				}
				return ids(p.StatInfo.Students, (*livestat.SchoolWatcher).ID), nextIf(p.More(), p.NextCursor), nil
			},
		},
		{
			name: string(livestat.EndpointSchoolUnwatchStat), ep: livestat.EndpointSchoolUnwatchStat,
			cursor: "next_cursor", flag: []string{"has_more"}, moreValue: 1, status: "errcode", rows: []string{"stat_info", "students"},
			serve: func(o *livestattest.Options, ids []string, per int) {
				rows := make([]livestat.SchoolAbsentee, len(ids))
				for i, id := range ids {
					rows[i] = livestat.SchoolAbsentee{Kind: livestat.KindStudent, StudentUserID: id, PartyIDs: []int64{1}}
				}
				o.PageSize, o.School = per, map[string]livestattest.School{tableLivingID: {Absentees: rows}}
			},
			iterate: func(ctx context.Context, c *livestat.Client, _ int, resume string) iter.Seq2[string, error] {
				return mapIDs(c.School.Absentees(ctx, livestat.SchoolStatRequest{LivingID: tableLivingID, NextCursor: resume}), (*livestat.SchoolAbsentee).ID)
			},
			page: func(ctx context.Context, c *livestat.Client, _ int, at string) ([]string, string, error) {
				p, err := c.School.GetUnwatchStatV2(ctx, livestat.SchoolStatRequest{LivingID: tableLivingID, NextCursor: at})
				if err != nil {
					return nil, "", err
				}
				return ids(p.StatInfo.Students, (*livestat.SchoolAbsentee).ID), nextIf(p.More(), p.NextCursor), nil
			},
		},
		{
			// The list ends when next_cursor is "": there is no flag, so the
			// cursor is the field a success must carry.
			name: string(livestat.EndpointUserLivingIDs), ep: livestat.EndpointUserLivingIDs, style: cursorOnly,
			cursor: "next_cursor", requestCursorField: "cursor", flag: []string{"next_cursor"}, status: "errcode", rows: []string{"livingid_list"},
			serve: func(o *livestattest.Options, ids []string, _ int) {
				o.UserLivings = map[string][]string{tableUserID: ids}
			},
			iterate: func(ctx context.Context, c *livestat.Client, per int, resume string) iter.Seq2[string, error] {
				return mapIDs(c.Living.LivingIDs(ctx, livestat.UserLivingIDsRequest{UserID: tableUserID, Cursor: resume, Limit: per}), func(id *string) string { return *id })
			},
			page: func(ctx context.Context, c *livestat.Client, per int, at string) ([]string, string, error) {
				p, err := c.Living.GetUserLivingIDs(ctx, livestat.UserLivingIDsRequest{UserID: tableUserID, Cursor: at, Limit: per})
				if err != nil {
					return nil, "", err
				}
				return p.LivingIDs, nextIf(p.More(), p.NextCursor), nil
			},
		},
		{
			// The row is the broadcast's theme.
			name: string(livestat.EndpointLivingInfo), ep: livestat.EndpointLivingInfo, style: single,
			flag: []string{"living_info"}, status: "errcode",
			serve: func(o *livestattest.Options, ids []string, _ int) {
				o.LivingInfo = map[string]livestat.LivingInfo{tableLivingID: {Theme: ids[0], Status: livestat.LivingEnded, LivingDuration: 3600}}
			},
			iterate: func(ctx context.Context, c *livestat.Client, _ int, _ string) iter.Seq2[string, error] {
				return singleCall(func() (string, error) {
					info, err := c.Living.GetLivingInfo(ctx, tableLivingID)
					if err != nil {
						return "", err
					}
					return info.Theme, nil
				})
			},
		},
		{
			name: string(livestat.EndpointSchoolLivingInfo), ep: livestat.EndpointSchoolLivingInfo, style: single,
			flag: []string{"living_info"}, status: "errcode",
			serve: func(o *livestattest.Options, ids []string, _ int) {
				o.SchoolLivingInfo = map[string]livestat.SchoolLivingInfo{tableLivingID: {Theme: ids[0], LivingDuration: 3600,
					LivingRange: livestat.LivingRange{PartyIDs: []int64{1}}}}
			},
			iterate: func(ctx context.Context, c *livestat.Client, _ int, _ string) iter.Seq2[string, error] {
				return singleCall(func() (string, error) {
					info, err := c.School.GetLivingInfo(ctx, tableLivingID)
					if err != nil {
						return "", err
					}
					return info.Theme, nil
				})
			},
		},
		{
			name: string(livestat.EndpointNuoyunUserDurations), ep: livestat.EndpointNuoyunUserDurations, style: numbered,
			flag: []string{"data", "total"}, status: "code", rows: []string{"data", "list"},
			serve: func(o *livestattest.Options, ids []string, _ int) {
				rows := make([]livestat.UserDuration, len(ids))
				for i, id := range ids {
					rows[i] = livestat.UserDuration{RoomID: 7, WeChatUserSpaceID: livestat.FlexInt(nuoyunViewer(id)), WeChatUserName: id, StayDuration: 60}
				}
				o.Nuoyun, o.NuoyunAppKey, o.NuoyunAppSecret = rows, "appkey-test", nuoyunTableSecret
			},
			iterate: func(ctx context.Context, c *livestat.Client, per int, resume string) iter.Seq2[string, error] {
				start, _ := strconv.Atoi(resume)
				return mapIDs(c.Nuoyun.UserDurations(ctx, livestat.UserDurationRequest{PageSize: per, Page: start}), func(r *livestat.UserDuration) string { return r.WeChatUserName })
			},
			page: func(ctx context.Context, c *livestat.Client, per int, at string) ([]string, string, error) {
				n := 1
				if at != "" {
					n, _ = strconv.Atoi(at)
				}
				p, err := c.Nuoyun.GetUserDurations(ctx, livestat.UserDurationRequest{Page: n, PageSize: per})
				if err != nil {
					return nil, "", err
				}
				return ids(p.Data.List, func(r *livestat.UserDuration) string { return r.WeChatUserName }), nextIf(p.More(), strconv.Itoa(n+1)), nil
			},
			// One page at a time, so that the rules can count requests;
			// the read-ahead has its own tests (nuoyun_test.go).
			opts: []livestat.Option{livestat.WithNuoyunWorkers(1)},
		},
	}
}

// tableCase returns the row of ep.
func tableCase(tb testing.TB, ep livestat.Endpoint) endpointCase {
	for _, ec := range endpointCases() {
		if ec.ep == ep {
			return ec
		}
	}
	tb.Fatalf("%s is not in the endpoint table", ep)
	return endpointCase{}
}

// nuoyunViewer is the wechat_user_space_id of row "u<p>_<i>".
func nuoyunViewer(id string) int64 {
	var p, i int64
	fmt.Sscanf(id, "u%d_%d", &p, &i)
	return (p+1)*1000 + i
}

// tableIDs returns the ids of pages rows of per each.
func tableIDs(pages, per int) []string {
	var out []string
	for p := range pages {
		for i := range per {
			out = append(out, fmt.Sprintf("u%d_%d", p, i))
		}
	}
	return out
}

// options returns the server options for ec with pages of per rows (see
// shape).
func (ec endpointCase) options(pages, per int, inMemory bool) livestattest.Options {
	o := livestattest.Options{InMemory: inMemory}
	pages, per = ec.shape(pages, per)
	ec.serve(&o, tableIDs(pages, per), per)
	return o
}

// calls returns how many requests for page n (1-based) srv received.
func (ec endpointCase) calls(srv *livestattest.Server, n int) int {
	k := 0
	for _, r := range srv.Requests(ec.ep) {
		if r.Page == n {
			k++
		}
	}
	return k
}

// pages returns the pages requested, in order.
func (ec endpointCase) pages(srv *livestattest.Server) []int {
	var out []int
	for _, r := range srv.Requests(ec.ep) {
		out = append(out, r.Page)
	}
	return out
}

// editJSON returns an Edit that decodes the reply, lets edit change it and
// encodes it again.
func editJSON(edit func(r livestattest.Request, m map[string]any)) func(livestattest.Request, []byte) []byte {
	return func(r livestattest.Request, b []byte) []byte {
		var m map[string]any
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			panic(err)
		}
		edit(r, m)
		out, err := json.Marshal(m)
		if err != nil {
			panic(err)
		}
		return out
	}
}

// at returns the object holding the last element of path; nil if none.
func at(m map[string]any, path []string) map[string]any {
	for _, k := range path[:len(path)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			return nil
		}
		m = next
	}
	return m
}

// setRows replaces the row list of a reply.
func (ec endpointCase) setRows(m map[string]any, rows []any) {
	at(m, ec.rows)[ec.rows[len(ec.rows)-1]] = rows
}

func (ec endpointCase) rowsOf(m map[string]any) []any {
	rows, _ := at(m, ec.rows)[ec.rows[len(ec.rows)-1]].([]any)
	return rows
}

// setNext makes a WeCom reply point at cursor, with more pages to follow
// as far as a flag says: without one ("" ends a cursorOnly list) the
// cursor alone says it.
func (ec endpointCase) setNext(m map[string]any, cursor string) {
	m[ec.cursor] = cursor
	if ec.style == flagged {
		m[ec.flag[0]] = ec.moreValue
	}
}

// requestCursor is the cursor a WeCom request asked with.
func (ec endpointCase) requestCursor(r livestattest.Request) string {
	var body map[string]any
	_ = json.Unmarshal(r.Body, &body)
	s, _ := body[cmp.Or(ec.requestCursorField, ec.cursor)].(string)
	return s
}

// singleCall is the sequence of one call's result: its row, or its error.
func singleCall(call func() (string, error)) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) { yield(call()) }
}

func mapIDs[T any](seq iter.Seq2[T, error], id func(*T) string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for v, err := range seq {
			if !yield(id(&v), err) {
				return
			}
		}
	}
}

func ids[T any](rows []T, id func(*T) string) []string {
	out := []string{}
	for i := range rows {
		out = append(out, id(&rows[i]))
	}
	return out
}

func nextIf(more bool, next string) string {
	if more {
		return next
	}
	return ""
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
