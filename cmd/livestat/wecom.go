package main

import (
	"context"
	"flag"
	"iter"

	"github.com/livestat/livestat"
)

// The wecom-* commands, one per living statistics endpoint: its name, what
// it lists, its sheet, its pages for a livingid and the row lists of a page
// in the order they are written.
func wecomWatchCmd() *command {
	return livingCmd("wecom-watch", "viewers of a corp broadcast: rows of kind user and external_user", watchSheet(),
		func(ctx context.Context, c *livestat.Client, id string) iter.Seq2[*livestat.WatchStatPage, error] {
			return c.Living.WatchStatPages(ctx, livestat.WatchStatRequest{LivingID: id})
		}, func(p *livestat.WatchStatPage) [][]livestat.LivingViewer {
			return [][]livestat.LivingViewer{p.StatInfo.Users, p.StatInfo.ExternalUsers}
		})
}

func wecomSchoolWatchCmd() *command {
	return livingCmd("wecom-school-watch", "viewers of a school broadcast: rows of kind student, parent and visitor", schoolWatchSheet(),
		func(ctx context.Context, c *livestat.Client, id string) iter.Seq2[*livestat.SchoolWatchStatPage, error] {
			return c.School.WatchStatV2Pages(ctx, livestat.SchoolStatRequest{LivingID: id})
		}, func(p *livestat.SchoolWatchStatPage) [][]livestat.SchoolWatcher {
			return [][]livestat.SchoolWatcher{p.StatInfo.Students, p.StatInfo.Parents, p.StatInfo.Visitors}
		})
}

func wecomSchoolUnwatchCmd() *command {
	return livingCmd("wecom-school-unwatch", "students and parents who did not watch a school broadcast: rows of kind student and parent", schoolUnwatchSheet(),
		func(ctx context.Context, c *livestat.Client, id string) iter.Seq2[*livestat.SchoolUnwatchStatPage, error] {
			return c.School.UnwatchStatV2Pages(ctx, livestat.SchoolStatRequest{LivingID: id})
		}, func(p *livestat.SchoolUnwatchStatPage) [][]livestat.SchoolAbsentee {
			return [][]livestat.SchoolAbsentee{p.StatInfo.Students, p.StatInfo.Parents}
		})
}

// livingCmd is a wecom-* command: it streams the pages of the broadcast
// that the required --living-id names.
func livingCmd[P, T any](name, summary string, sh *sheet[T],
	pages func(ctx context.Context, c *livestat.Client, livingID string) iter.Seq2[P, error],
	lists func(P) [][]T) *command {
	var id string
	return &command{
		name: name, args: "--living-id ID", vendor: livestat.VendorWeCom, summary: summary,
		flags: func(fs *flag.FlagSet) func() error {
			fs.StringVar(&id, "living-id", "", "`ID` of the broadcast: its livingid (required)")
			return func() error {
				if id == "" {
					return usagef("missing required flag --living-id")
				}
				return nil
			}
		},
		export: func(ctx context.Context, c *livestat.Client, out *output) error {
			return stream(out, sh, pages(ctx, c, id), lists, nil)
		},
	}
}

func watchSheet() *sheet[livestat.LivingViewer] {
	return &sheet[livestat.LivingViewer]{
		fields: []string{"userid", "external_userid", "type", "name", "watch_time", "is_comment", "is_mic", "invitor_userid", "invitor_external_userid"},
		kind:   func(v *livestat.LivingViewer) livestat.ViewerKind { return v.Kind },
		columns: []column[livestat.LivingViewer]{
			{title: "KIND", width: 13, value: func(v *livestat.LivingViewer) string { return string(v.Kind) }},
			{title: "ID", width: 24, value: (*livestat.LivingViewer).ID},
			{title: "NAME", width: 16, value: func(v *livestat.LivingViewer) string { return v.Name }},
			{title: "TYPE", width: 6, value: func(v *livestat.LivingViewer) string {
				switch v.Type {
				case livestat.ExternalUserWeChat:
					return "wechat"
				case livestat.ExternalUserWeCom:
					return "wecom"
				}
				return ""
			}},
			{title: "WATCHED", width: 8, right: true, value: func(v *livestat.LivingViewer) string { return duration(v.WatchTime) }},
			{title: "COMMENTED", width: 9, value: func(v *livestat.LivingViewer) string { return yesNo(v.IsComment) }},
			{title: "MIC", width: 3, value: func(v *livestat.LivingViewer) string { return yesNo(v.IsMic) }},
			{title: "INVITED BY", width: 20, value: func(v *livestat.LivingViewer) string {
				if v.InvitorUserID != "" {
					return v.InvitorUserID
				}
				return v.InvitorExternalUserID
			}},
		},
	}
}

func schoolWatchSheet() *sheet[livestat.SchoolWatcher] {
	return &sheet[livestat.SchoolWatcher]{
		fields: []string{"student_userid", "parent_userid", "nickname", "partyids", "watch_time", "enter_time", "leave_time", "is_comment"},
		types:  map[string]fieldType{"enter_time": unixTimeField, "leave_time": unixTimeField},
		kind:   func(w *livestat.SchoolWatcher) livestat.ViewerKind { return w.Kind },
		columns: []column[livestat.SchoolWatcher]{
			{title: "KIND", width: 7, value: func(w *livestat.SchoolWatcher) string { return string(w.Kind) }},
			{title: "ID", width: 20, value: (*livestat.SchoolWatcher).ID},
			{title: "STUDENT", width: 16, value: parentsStudent(func(w *livestat.SchoolWatcher) (livestat.ViewerKind, string) { return w.Kind, w.StudentUserID })},
			{title: "CLASSES", width: 12, value: func(w *livestat.SchoolWatcher) string { return joinInts(w.PartyIDs, ",") }},
			{title: "WATCHED", width: 8, right: true, value: func(w *livestat.SchoolWatcher) string { return duration(w.WatchTime) }},
			{title: "ENTERED", width: 16, value: func(w *livestat.SchoolWatcher) string { return localTime(w.EnterTime.Time()) }},
			{title: "LEFT", width: 16, value: func(w *livestat.SchoolWatcher) string { return localTime(w.LeaveTime.Time()) }},
			{title: "COMMENTED", width: 9, value: func(w *livestat.SchoolWatcher) string { return yesNo(w.IsComment) }},
		},
	}
}

func schoolUnwatchSheet() *sheet[livestat.SchoolAbsentee] {
	return &sheet[livestat.SchoolAbsentee]{
		fields: []string{"student_userid", "parent_userid", "partyids"},
		kind:   func(a *livestat.SchoolAbsentee) livestat.ViewerKind { return a.Kind },
		columns: []column[livestat.SchoolAbsentee]{
			{title: "KIND", width: 7, value: func(a *livestat.SchoolAbsentee) string { return string(a.Kind) }},
			{title: "ID", width: 20, value: (*livestat.SchoolAbsentee).ID},
			{title: "STUDENT", width: 16, value: parentsStudent(func(a *livestat.SchoolAbsentee) (livestat.ViewerKind, string) { return a.Kind, a.StudentUserID })},
			{title: "CLASSES", width: 12, value: func(a *livestat.SchoolAbsentee) string { return joinInts(a.PartyIDs, ",") }},
		},
	}
}

// parentsStudent shows a parent's student; for students the ID column
// already says it.
func parentsStudent[T any](get func(*T) (livestat.ViewerKind, string)) func(*T) string {
	return func(r *T) string {
		if k, s := get(r); k == livestat.KindParent {
			return s
		}
		return ""
	}
}
