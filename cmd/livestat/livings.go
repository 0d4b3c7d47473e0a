package main

import (
	"context"
	"flag"
	"fmt"
	"iter"
	"strings"
	"sync"

	"github.com/livestat/livestat"
)

// detailsWorkers bounds the get_living_info calls of wecom-livings
// --details in flight at once.
const detailsWorkers = 4

// livingRow is a row of wecom-livings and wecom-living-info: the livingid,
// then (with details) every living_info field under the API's name.
type livingRow struct {
	LivingID string `json:"livingid"`
	*livestat.LivingInfo
}

// schoolLivingRow is the row of wecom-school-living-info.
type schoolLivingRow struct {
	LivingID string `json:"livingid"`
	*livestat.SchoolLivingInfo
}

// livingInfoFields are the CSV columns of a corp living's details.
var livingInfoFields = []string{
	"theme", "living_start", "living_duration", "status", "reserve_start", "reserve_living_duration",
	"description", "anchor_userid", "main_department", "viewer_num", "comment_num", "mic_num",
	"open_replay", "replay_status", "type", "push_stream_url", "online_count", "subscribe_count",
}

func wecomLivingsCmd() *command {
	var (
		userID  string
		limit   int
		details bool
	)
	return &command{
		name: "wecom-livings", args: "--user-id USERID [--limit N] [--details]", vendor: livestat.VendorWeCom,
		summary: "a member's (or teacher's) livings: one row per livingid; with --details each with its get_living_info fields",
		flags: func(fs *flag.FlagSet) func() error {
			fs.StringVar(&userID, "user-id", "", "`USERID` of the member (the anchor, a school's teacher) (required)")
			fs.IntVar(&limit, "limit", livestat.MaxUserLivingIDsLimit, fmt.Sprintf("livingids per request, `N` from 1 to %d", livestat.MaxUserLivingIDsLimit))
			fs.BoolVar(&details, "details", false, fmt.Sprintf("fetch each living's details (get_living_info, %d at a time)", detailsWorkers))
			return func() error {
				switch {
				case userID == "":
					return usagef("missing required flag --user-id")
				case limit < 1 || limit > livestat.MaxUserLivingIDsLimit:
					return usagef("--limit must be between 1 and %d", livestat.MaxUserLivingIDsLimit)
				}
				return nil
			}
		},
		export: func(ctx context.Context, c *livestat.Client, out *output) error {
			pages := c.Living.UserLivingIDPages(ctx, livestat.UserLivingIDsRequest{UserID: userID, Limit: limit})
			return stream(out, livingSheet(details), livingPages(ctx, c, pages, details),
				func(rows []livingRow) [][]livingRow { return [][]livingRow{rows} }, nil)
		},
	}
}

// fetchDetails fills in the details of rows with get_living_info, at most
// detailsWorkers calls at once; the first error stops the others and is
// returned once every call has ended.
func fetchDetails(ctx context.Context, c *livestat.Client, rows []livingRow) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	next := make(chan int)
	for range min(detailsWorkers, len(rows)) {
		wg.Go(func() {
			for i := range next {
				info, err := c.Living.GetLivingInfo(ctx, rows[i].LivingID)
				if err != nil {
					once.Do(func() { first = err; cancel() })
					continue
				}
				rows[i].LivingInfo = info
			}
		})
	}
feed:
	for i := range rows {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// livingPages turns the pages of livingids into pages of rows, with the
// details fetched when details is set.
func livingPages(ctx context.Context, c *livestat.Client, pages iter.Seq2[*livestat.UserLivingIDsPage, error], details bool) iter.Seq2[[]livingRow, error] {
	return func(yield func([]livingRow, error) bool) {
		for p, err := range pages {
			if err != nil {
				yield(nil, err)
				return
			}
			rows := make([]livingRow, len(p.LivingIDs))
			for i, id := range p.LivingIDs {
				rows[i].LivingID = id
			}
			if details {
				err = fetchDetails(ctx, c, rows)
			}
			if !yield(rows, err) || err != nil {
				return
			}
		}
	}
}

// The details commands are wecom-* commands (livingCmd) whose one page is
// the broadcast's details.
func wecomLivingInfoCmd() *command {
	return livingCmd("wecom-living-info", "a corp living's details (get_living_info): one row", livingSheet(true),
		func(ctx context.Context, c *livestat.Client, id string) iter.Seq2[livingRow, error] {
			return single(func() (livingRow, error) {
				info, err := c.Living.GetLivingInfo(ctx, id)
				return livingRow{LivingID: id, LivingInfo: info}, err
			})
		}, func(r livingRow) [][]livingRow { return [][]livingRow{{r}} })
}

func wecomSchoolLivingInfoCmd() *command {
	return livingCmd("wecom-school-living-info", "a school living's details (school get_living_info) with its living_range: one row", schoolLivingSheet(),
		func(ctx context.Context, c *livestat.Client, id string) iter.Seq2[schoolLivingRow, error] {
			return single(func() (schoolLivingRow, error) {
				info, err := c.School.GetLivingInfo(ctx, id)
				return schoolLivingRow{LivingID: id, SchoolLivingInfo: info}, err
			})
		}, func(r schoolLivingRow) [][]schoolLivingRow { return [][]schoolLivingRow{{r}} })
}

// single is the sequence of one call's result: the value, or the error.
func single[T any](call func() (T, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) { yield(call()) }
}

func livingSheet(details bool) *sheet[livingRow] {
	s := &sheet[livingRow]{
		fields:  []string{"livingid"},
		columns: []column[livingRow]{{title: "LIVINGID", width: 32, value: func(r *livingRow) string { return r.LivingID }}},
	}
	if !details {
		return s
	}
	s.fields = append(s.fields, livingInfoFields...)
	s.types = livingTimes
	info := func(f func(*livestat.LivingInfo) string) func(*livingRow) string {
		return func(r *livingRow) string {
			if r.LivingInfo == nil {
				return ""
			}
			return f(r.LivingInfo)
		}
	}
	s.columns = append(s.columns,
		column[livingRow]{title: "THEME", width: 20, value: info(func(l *livestat.LivingInfo) string { return l.Theme })},
		column[livingRow]{title: "STATUS", width: 9, value: info(func(l *livestat.LivingInfo) string { return l.Status.String() })},
		column[livingRow]{title: "STARTED", width: 16, value: info(func(l *livestat.LivingInfo) string { return localTime(l.LivingStart.Time()) })},
		column[livingRow]{title: "LENGTH", width: 7, right: true, value: info(func(l *livestat.LivingInfo) string { return duration(l.LivingDuration) })},
		column[livingRow]{title: "ANCHOR", width: 12, value: info(func(l *livestat.LivingInfo) string { return l.AnchorUserID })},
		column[livingRow]{title: "VIEWERS", width: 7, right: true, value: info(func(l *livestat.LivingInfo) string { return fmt.Sprint(l.ViewerNum) })},
		column[livingRow]{title: "REPLAY", width: 10, value: info(func(l *livestat.LivingInfo) string {
			if rs, ok := l.Replay(); ok {
				return rs.String()
			}
			return "-"
		})},
	)
	return s
}

// livingTimes are the time fields of a living's details.
var livingTimes = map[string]fieldType{"living_start": unixTimeField, "reserve_start": unixTimeField}

func schoolLivingSheet() *sheet[schoolLivingRow] {
	type row = schoolLivingRow
	return &sheet[row]{
		types: livingTimes,
		fields: []string{
			"livingid", "theme", "living_start", "living_duration", "anchor_userid",
			"living_range_partyids", "living_range_group_names",
			"viewer_num", "comment_num", "open_replay", "push_stream_url", "online_count", "subscribe_count",
		},
		columns: []column[row]{
			{title: "LIVINGID", width: 32, value: func(r *row) string { return r.LivingID }},
			{title: "THEME", width: 20, value: func(r *row) string { return r.Theme }},
			{title: "STARTED", width: 16, value: func(r *row) string { return localTime(r.LivingStart.Time()) }},
			{title: "LENGTH", width: 7, right: true, value: func(r *row) string { return duration(r.LivingDuration) }},
			{title: "TEACHER", width: 12, value: func(r *row) string { return r.AnchorUserID }},
			{title: "CLASSES", width: 16, value: func(r *row) string { return joinInts(r.LivingRange.PartyIDs, ",") }},
			{title: "GROUPS", width: 16, value: func(r *row) string { return strings.Join(r.LivingRange.GroupNames, ",") }},
			{title: "VIEWERS", width: 7, right: true, value: func(r *row) string { return fmt.Sprint(r.ViewerNum) }},
		},
	}
}
