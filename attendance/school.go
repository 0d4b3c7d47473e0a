package attendance

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strconv"

	"github.com/livestat/livestat"
)

// personKey identifies a student (by userid) or a parent (by userid and
// student) of a school broadcast. Visitors have none: get_watch_stat_v2
// gives them only a WeChat nickname, which many share ("微信用户"), so
// each visitor row of the reply is a person of its own.
type personKey struct {
	kind            livestat.ViewerKind
	student, parent string
}

// School builds the attendance report of the school broadcast livingID:
// its details (school/living/get_living_info), who watched
// (get_watch_stat_v2) and who did not (get_unwatch_stat_v2), and, with
// opts.Roster, the roster's members on neither list as Unknown. The lists
// are streamed page by page: memory grows with the number of people, one
// entry each, not with the pages. A broadcast nobody watched is a valid
// report with no rows (or only roster rows).
//
// Someone on both lists counts as having watched; a student or parent
// listed twice keeps the longest watch time, the first entry and the last
// exit. Visitors are known only by a nickname, which many share: each
// visitor row of the reply is one row of the report, never merged.
func School(ctx context.Context, c *livestat.Client, livingID string, opts Options) (*SchoolReport, error) {
	info, err := c.School.GetLivingInfo(ctx, livingID)
	if err != nil {
		return nil, err
	}
	rep := &SchoolReport{
		LivingID:   livingID,
		Info:       *info,
		Threshold:  opts.Threshold,
		Incomplete: info.OnlineCount > 0 || info.LivingDuration == 0,
	}
	duration := info.LivingDuration
	people := make(map[personKey]*SchoolRow)
	var visitors []SchoolRow // in the reply's order: nothing identifies one
	req := livestat.SchoolStatRequest{LivingID: livingID}
	for w, err := range c.School.Watchers(ctx, req) {
		if err != nil {
			return nil, err
		}
		if w.Kind == livestat.KindVisitor {
			visitors = append(visitors, SchoolRow{
				LivingID: livingID, Kind: w.Kind, Nickname: w.Nickname,
				WatchTime: w.WatchTime, EnterTime: w.EnterTime, LeaveTime: w.LeaveTime,
			})
			continue
		}
		k := personKey{kind: w.Kind, student: w.StudentUserID, parent: w.ParentUserID}
		if r, ok := people[k]; ok {
			r.WatchTime = max(r.WatchTime, w.WatchTime)
			r.EnterTime = earliest(r.EnterTime, w.EnterTime)
			r.LeaveTime = max(r.LeaveTime, w.LeaveTime)
			continue
		}
		people[k] = &SchoolRow{
			LivingID: livingID, Kind: w.Kind, StudentUserID: w.StudentUserID, ParentUserID: w.ParentUserID,
			Nickname: w.Nickname, PartyIDs: w.PartyIDs, WatchTime: w.WatchTime, EnterTime: w.EnterTime, LeaveTime: w.LeaveTime,
		}
	}
	for a, err := range c.School.Absentees(ctx, req) {
		if err != nil {
			return nil, err
		}
		k := personKey{kind: a.Kind, student: a.StudentUserID, parent: a.ParentUserID}
		if _, ok := people[k]; !ok {
			people[k] = &SchoolRow{LivingID: livingID, Kind: a.Kind, StudentUserID: a.StudentUserID, ParentUserID: a.ParentUserID, PartyIDs: a.PartyIDs}
		}
	}
	if opts.Roster != nil {
		if err := applyRoster(livingID, opts.Roster, people); err != nil {
			return nil, err
		}
	}

	rep.Rows = make([]SchoolRow, 0, len(people)+len(visitors))
	for _, r := range people {
		rep.Rows = append(rep.Rows, *r)
	}
	clear(people)
	rep.Rows = append(rep.Rows, visitors...) // last, for the stable sort
	visitors = nil
	for i := range rep.Rows {
		r := &rep.Rows[i]
		if r.Status == "" {
			r.Status = opts.Threshold.Status(r.WatchTime, duration)
		}
		r.Share = share(r.WatchTime, duration)
		r.Incomplete = rep.Incomplete
	}
	// Stable: visitors of the same nickname keep the reply's order (the
	// other keys are unique).
	slices.SortStableFunc(rep.Rows, compareSchoolRows)
	summarizeSchool(rep)
	return rep, nil
}

// applyRoster names the people the roster lists and adds those it lists
// that are on neither list, as Unknown.
func applyRoster(livingID string, roster Roster, people map[personKey]*SchoolRow) error {
	parents := make(map[string][]*SchoolRow) // parent userid → their rows, one per student
	for k, r := range people {
		if k.kind == livestat.KindParent {
			parents[k.parent] = append(parents[k.parent], r)
		}
	}
	for m, err := range roster.Members() {
		if err != nil {
			return err
		}
		var rows []*SchoolRow
		if m.Kind == livestat.KindParent {
			rows = parents[m.UserID]
		} else if r, ok := people[personKey{kind: livestat.KindStudent, student: m.UserID}]; ok {
			rows = []*SchoolRow{r}
		}
		for _, r := range rows {
			r.Name, r.Class = m.Name, m.Class
		}
		if len(rows) > 0 {
			continue
		}
		r := &SchoolRow{LivingID: livingID, Kind: livestat.KindStudent, StudentUserID: m.UserID, Name: m.Name, Class: m.Class, Status: Unknown}
		k := personKey{kind: livestat.KindStudent, student: m.UserID}
		if m.Kind == livestat.KindParent {
			r.Kind, r.StudentUserID, r.ParentUserID = livestat.KindParent, "", m.UserID
			k = personKey{kind: livestat.KindParent, parent: m.UserID}
		}
		if id, err := strconv.ParseInt(m.Class, 10, 64); err == nil {
			r.PartyIDs = []int64{id}
		}
		people[k] = r
	}
	return nil
}

func earliest(a, b livestat.UnixTime) livestat.UnixTime {
	if a == 0 || (b != 0 && b < a) {
		return b
	}
	return a
}

var kindOrder = map[livestat.ViewerKind]int{
	livestat.KindStudent: 0, livestat.KindParent: 1, livestat.KindVisitor: 2,
	livestat.KindUser: 0, livestat.KindExternalUser: 1,
}

func firstParty(p []int64) int64 {
	if len(p) == 0 {
		return 0
	}
	return p[0]
}

func compareSchoolRows(a, b SchoolRow) int {
	return cmp.Or(
		cmp.Compare(kindOrder[a.Kind], kindOrder[b.Kind]),
		cmp.Compare(firstParty(a.PartyIDs), firstParty(b.PartyIDs)),
		cmp.Compare(a.StudentUserID, b.StudentUserID),
		cmp.Compare(a.ParentUserID, b.ParentUserID),
		cmp.Compare(a.Nickname, b.Nickname),
	)
}

// summarizeSchool sets the report's summaries from its rows.
func summarizeSchool(rep *SchoolReport) {
	newSummary := func(kind string) Summary {
		return Summary{LivingID: rep.LivingID, Kind: kind, Incomplete: rep.Incomplete}
	}
	type classKey struct {
		party int64
		kind  livestat.ViewerKind
	}
	classes := make(map[classKey]*Summary)
	class := func(p int64, kind livestat.ViewerKind) *Summary {
		k := classKey{p, kind}
		if s, ok := classes[k]; ok {
			return s
		}
		s := newSummary(KindClass)
		s.PartyID, s.ViewerKind = p, kind
		classes[k] = &s
		return &s
	}
	kinds := make(map[livestat.ViewerKind]*Summary)
	for _, k := range []livestat.ViewerKind{livestat.KindStudent, livestat.KindParent, livestat.KindVisitor} {
		s := newSummary(KindSummary)
		s.By, s.ViewerKind = ByKind, k
		kinds[k] = &s
	}
	// Every class of the range has both summaries, even with nobody in it.
	for _, p := range rep.Info.LivingRange.PartyIDs {
		class(p, livestat.KindStudent)
		class(p, livestat.KindParent)
	}
	rep.Overall = newSummary(KindSummary)
	for _, r := range rep.Rows {
		for _, p := range slices.Compact(slices.Sorted(slices.Values(r.PartyIDs))) {
			class(p, livestat.KindStudent) // a class named at all has both
			class(p, livestat.KindParent)
			class(p, r.Kind).add(r.Status, r.WatchTime)
		}
		if s, ok := kinds[r.Kind]; ok {
			s.add(r.Status, r.WatchTime)
		}
		rep.Overall.add(r.Status, r.WatchTime)
	}
	for _, k := range slices.SortedFunc(maps.Keys(classes), func(a, b classKey) int {
		return cmp.Or(cmp.Compare(a.party, b.party), cmp.Compare(kindOrder[a.kind], kindOrder[b.kind]))
	}) {
		classes[k].rates()
		rep.Classes = append(rep.Classes, *classes[k])
	}
	for _, k := range []livestat.ViewerKind{livestat.KindStudent, livestat.KindParent, livestat.KindVisitor} {
		kinds[k].rates()
		rep.ByKind = append(rep.ByKind, *kinds[k])
	}
	rep.Overall.rates()
}
