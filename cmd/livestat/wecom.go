package main

import (
	"context"
	"flag"

	"github.com/livestat/livestat"
)

// livingIDFlag registers the required --living-id flag.
func livingIDFlag(fs *flag.FlagSet, id *string) func() error {
	fs.StringVar(id, "living-id", "", "`ID` of the broadcast: its livingid (required)")
	return func() error {
		if *id == "" {
			return usagef("missing required flag --living-id")
		}
		return nil
	}
}

func wecomWatchCmd() *command {
	var id string
	return &command{
		name: "wecom-watch", args: "--living-id ID", vendor: livestat.VendorWeCom,
		summary: "viewers of a corp broadcast: rows of kind user and external_user",
		flags:   func(fs *flag.FlagSet) func() error { return livingIDFlag(fs, &id) },
		export: func(ctx context.Context, c *livestat.Client, out *output) error {
			return stream(out, watchSheet(), c.Living.WatchStatPages(ctx, livestat.WatchStatRequest{LivingID: id}),
				func(p *livestat.WatchStatPage) [][]livestat.LivingViewer {
					return [][]livestat.LivingViewer{p.StatInfo.Users, p.StatInfo.ExternalUsers}
				}, nil)
		},
	}
}

func wecomSchoolWatchCmd() *command {
	var id string
	return &command{
		name: "wecom-school-watch", args: "--living-id ID", vendor: livestat.VendorWeCom,
		summary: "viewers of a school broadcast: rows of kind student, parent and visitor",
		flags:   func(fs *flag.FlagSet) func() error { return livingIDFlag(fs, &id) },
		export: func(ctx context.Context, c *livestat.Client, out *output) error {
			return stream(out, schoolWatchSheet(), c.School.WatchStatV2Pages(ctx, livestat.SchoolStatRequest{LivingID: id}),
				func(p *livestat.SchoolWatchStatPage) [][]livestat.SchoolWatcher {
					return [][]livestat.SchoolWatcher{p.StatInfo.Students, p.StatInfo.Parents, p.StatInfo.Visitors}
				}, nil)
		},
	}
}

func wecomSchoolUnwatchCmd() *command {
	var id string
	return &command{
		name: "wecom-school-unwatch", args: "--living-id ID", vendor: livestat.VendorWeCom,
		summary: "students and parents who did not watch a school broadcast: rows of kind student and parent",
		flags:   func(fs *flag.FlagSet) func() error { return livingIDFlag(fs, &id) },
		export: func(ctx context.Context, c *livestat.Client, out *output) error {
			return stream(out, schoolUnwatchSheet(), c.School.UnwatchStatV2Pages(ctx, livestat.SchoolStatRequest{LivingID: id}),
				func(p *livestat.SchoolUnwatchStatPage) [][]livestat.SchoolAbsentee {
					return [][]livestat.SchoolAbsentee{p.StatInfo.Students, p.StatInfo.Parents}
				}, nil)
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
