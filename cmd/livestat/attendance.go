package main

import (
	"context"

	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/attendance"
)

// attendanceFlags are the flags of the two attendance commands.
type attendanceFlags struct {
	livingIDs string
	userID    string
	since     int64
	min       attendance.Threshold
	roster    string
	opts      attendance.Options
}

func (a *attendanceFlags) register(fs *flag.FlagSet, school bool) func() error {
	fs.StringVar(&a.livingIDs, "living-id", "", "the broadcasts: `ID[,ID...]`, their livingids")
	fs.StringVar(&a.userID, "user-id", "", "instead of --living-id, every broadcast of this `USERID` (the anchor, a school's teacher)")
	timeVar(fs, &a.since, "since", false, "with --user-id, only broadcasts that started at this `TIME` or later: a date (2026-09-01), a local time, RFC 3339 or Unix seconds")
	fs.TextVar(&a.min, "min", attendance.Threshold{}, "what counts as attended: a `DURATION` (30m) or a share of the broadcast (80%) (default: any watch time)")
	if school {
		fs.StringVar(&a.roster, "roster", "", "a CSV `FILE` of the people the broadcasts were for (columns userid, name, class, kind): those on neither WeCom list are reported as unknown")
	}
	return func() error {
		switch {
		case a.livingIDs != "" && a.userID != "":
			return usagef("give --living-id or --user-id, not both")
		case a.livingIDs == "" && a.userID == "":
			return usagef("missing required flag --living-id (or --user-id)")
		case a.since != 0 && a.userID == "":
			return usagef("--since goes with --user-id")
		}
		if a.livingIDs != "" && len(a.ids()) == 0 {
			return usagef("--living-id names no broadcast")
		}
		a.opts.Threshold = a.min
		if a.roster != "" {
			f, err := os.Open(a.roster)
			if err != nil {
				return usagef("--roster: %s", strings.TrimPrefix(err.Error(), "open "))
			}
			defer f.Close()
			r, err := attendance.ReadRosterCSV(f)
			if err != nil {
				return usagef("--roster %s: %v", a.roster, err)
			}
			a.opts.Roster = r
		}
		return nil
	}
}

// ids are the livingids of --living-id, each once, in the order given.
func (a *attendanceFlags) ids() []string {
	var ids []string
	seen := map[string]bool{}
	for _, id := range strings.Split(a.livingIDs, ",") {
		if id = strings.TrimSpace(id); id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids
}

// livings lists the broadcasts: --living-id, or --user-id's since --since.
func (a *attendanceFlags) livings(ctx context.Context, c *livestat.Client, out *output,
	list func(context.Context, *livestat.Client, string, time.Time, attendance.Options) ([]string, error)) ([]string, error) {
	if a.userID == "" {
		return a.ids(), nil
	}
	var since time.Time
	if a.since != 0 {
		since = time.Unix(a.since, 0)
	}
	opts := a.opts
	opts.Progress = out.prog.counter("broadcasts listed")
	ids, err := list(ctx, c, a.userID, since, opts)
	out.prog.clear()
	return ids, err
}

func wecomSchoolAttendanceCmd() *command {
	var a attendanceFlags
	return &command{
		name: "wecom-school-attendance", args: "--living-id ID[,ID...] | --user-id USERID [--since TIME]  [--min 30m|80%] [--roster FILE]", vendor: livestat.VendorWeCom,
		summary: "attendance of school broadcasts: a row per student, parent and visitor (status attended, partial, absent or unknown; watch time; share of the broadcast), then summaries per class, per kind and overall",
		flags:   func(fs *flag.FlagSet) func() error { return a.register(fs, true) },
		export: attendanceExport(&a, attendance.SchoolLivingIDs, attendance.Schools, schoolPeopleSheet,
			func(r *attendance.SchoolReport) (section, []attendance.SchoolRow, []attendance.Summary) {
				return broadcastSection(r.Info.Theme, r.LivingID, r.Incomplete), r.Rows, r.Summaries()
			}),
	}
}

func wecomAttendanceCmd() *command {
	var a attendanceFlags
	return &command{
		name: "wecom-attendance", args: "--living-id ID[,ID...] | --user-id USERID [--since TIME]  [--min 30m|80%]", vendor: livestat.VendorWeCom,
		summary: "attendance of corp broadcasts: a row per viewer (status, watch time, share of the broadcast, invitor), then summaries per kind, per invitor and overall",
		flags:   func(fs *flag.FlagSet) func() error { return a.register(fs, false) },
		export: attendanceExport(&a, attendance.CorpLivingIDs, attendance.Corps, corpPeopleSheet,
			func(r *attendance.CorpReport) (section, []attendance.ViewerRow, []attendance.Summary) {
				return broadcastSection(r.Info.Theme, r.LivingID, r.Incomplete), r.Rows, r.Summaries()
			}),
	}
}

// attendanceExport is the export of an attendance command: list the
// broadcasts, build their reports (concurrently, with progress), then write
// each broadcast's people as a section of its own and every summary in a
// last one.
func attendanceExport[R, Row any](a *attendanceFlags,
	list func(context.Context, *livestat.Client, string, time.Time, attendance.Options) ([]string, error),
	reports func(context.Context, *livestat.Client, []string, attendance.Options) ([]R, error),
	peopleSheet func() *sheet[Row],
	parts func(R) (sec section, rows []Row, sums []attendance.Summary),
) func(context.Context, *livestat.Client, *output) error {
	return func(ctx context.Context, c *livestat.Client, out *output) error {
		ids, err := a.livings(ctx, c, out, list)
		if err != nil {
			return err
		}
		opts := a.opts
		opts.Progress = out.prog.counter("broadcasts")
		rs, err := reports(ctx, c, ids, opts)
		out.prog.clear()
		if err != nil {
			return err
		}
		people, sums := peopleSheet(), summarySheet()
		out.csvColumns(attendanceFields)
		var all []attendance.Summary
		for _, r := range rs {
			sec, rows, s := parts(r)
			if err := writeSection(out, people, sec, rows); err != nil {
				return err
			}
			all = append(all, s...)
		}
		return writeSection(out, sums, section{title: "Summary", name: sheetTitle{head: "Summary"}}, all)
	}
}

// section names a part of the output of its own: title heads its table,
// name names its worksheet.
type section struct {
	title string
	name  sheetTitle
}

// writeSection writes rows as a part of the output of their own: a
// worksheet, a titled table.
func writeSection[T any](o *output, s *sheet[T], sec section, rows []T) error {
	if err := s.begin(o, sec.title, sec.name); err != nil {
		return err
	}
	for i := range rows {
		if err := s.row(o, &rows[i]); err != nil {
			return err
		}
	}
	return o.endPage(0)
}

// broadcastSection names a broadcast's part of the output: its table's
// title says when it is still on air (its rows say so in every format, in
// their incomplete field); its worksheet's name keeps the livingid before
// the theme, as Excel's 31 characters may not hold both.
func broadcastSection(theme, id string, incomplete bool) section {
	t := id
	if theme != "" {
		t = theme + " (" + id + ")"
	}
	if incomplete {
		t += " - still on air, not final"
	}
	return section{title: t, name: sheetTitle{head: theme, keep: id}}
}

// attendanceFields are the CSV columns of the attendance commands: the
// person rows' fields, then the summary rows'. One CSV file has one header,
// so each row leaves the other kind's columns empty, as its JSON line has
// no such fields; incomplete, which both have, is true or false in every
// row.
var attendanceFields = []string{
	"livingid", "kind", "student_userid", "parent_userid", "userid", "external_userid", "nickname", "name", "class",
	"partyids", "status", "watch_time", "share", "enter_time", "leave_time", "invitor_userid", "invitor_external_userid",
	"partyid", "by", "viewer_kind", "incomplete", "total", "attended", "partial", "absent", "unknown",
	"attended_rate", "partial_rate", "absent_rate", "unknown_rate",
}

var attendanceTypes = map[string]fieldType{
	"enter_time": unixTimeField, "leave_time": unixTimeField, "share": ratioField,
	"attended_rate": ratioField, "partial_rate": ratioField, "absent_rate": ratioField, "unknown_rate": ratioField,
	"incomplete": boolField,
}

// percent formats a share for people: 87.5%.
func percent(f float64) string {
	s := fmt.Sprintf("%.1f", f*100)
	return strings.TrimSuffix(s, ".0") + "%"
}

func schoolPeopleSheet() *sheet[attendance.SchoolRow] {
	type row = attendance.SchoolRow
	return &sheet[row]{
		fields: []string{"livingid", "kind", "student_userid", "parent_userid", "nickname", "name", "class", "partyids", "status", "watch_time", "share", "enter_time", "leave_time", "incomplete"},
		types:  attendanceTypes,
		columns: []column[row]{
			{title: "KIND", width: 7, value: func(r *row) string { return string(r.Kind) }},
			{title: "ID", width: 16, value: func(r *row) string { return cmpOr(r.ParentUserID, r.StudentUserID, r.Nickname) }},
			{title: "NAME", width: 10, value: func(r *row) string { return r.Name }},
			{title: "STUDENT", width: 14, value: func(r *row) string {
				if r.Kind == livestat.KindParent {
					return r.StudentUserID
				}
				return ""
			}},
			{title: "CLASSES", width: 10, value: func(r *row) string { return cmpOr(joinInts(r.PartyIDs, ","), r.Class) }},
			{title: "STATUS", width: 8, value: func(r *row) string { return string(r.Status) }},
			{title: "WATCHED", width: 8, right: true, value: func(r *row) string { return duration(r.WatchTime) }},
			{title: "SHARE", width: 6, right: true, value: func(r *row) string { return percent(r.Share) }},
			{title: "ENTERED", width: 16, value: func(r *row) string { return localTimeOrDash(r.EnterTime) }},
			{title: "LEFT", width: 16, value: func(r *row) string { return localTimeOrDash(r.LeaveTime) }},
		},
	}
}

func corpPeopleSheet() *sheet[attendance.ViewerRow] {
	type row = attendance.ViewerRow
	return &sheet[row]{
		fields: []string{"livingid", "kind", "userid", "external_userid", "name", "status", "watch_time", "share", "invitor_userid", "invitor_external_userid", "incomplete"},
		types:  attendanceTypes,
		columns: []column[row]{
			{title: "KIND", width: 13, value: func(r *row) string { return string(r.Kind) }},
			{title: "ID", width: 24, value: func(r *row) string { return cmpOr(r.UserID, r.ExternalUserID) }},
			{title: "NAME", width: 14, value: func(r *row) string { return r.Name }},
			{title: "STATUS", width: 8, value: func(r *row) string { return string(r.Status) }},
			{title: "WATCHED", width: 8, right: true, value: func(r *row) string { return duration(r.WatchTime) }},
			{title: "SHARE", width: 6, right: true, value: func(r *row) string { return percent(r.Share) }},
			{title: "INVITED BY", width: 20, value: func(r *row) string { return cmpOr(r.InvitorUserID, r.InvitorExternalUserID) }},
		},
	}
}

func summarySheet() *sheet[attendance.Summary] {
	type row = attendance.Summary
	return &sheet[row]{
		fields: []string{"livingid", "kind", "partyid", "by", "viewer_kind", "invitor_userid", "invitor_external_userid", "incomplete",
			"total", "attended", "partial", "absent", "unknown", "attended_rate", "partial_rate", "absent_rate", "unknown_rate", "watch_time"},
		types: attendanceTypes,
		columns: []column[row]{
			{title: "LIVINGID", width: 20, value: func(r *row) string { return r.LivingID }},
			{title: "GROUP", width: 22, value: summaryGroup},
			{title: "TOTAL", width: 5, right: true, value: func(r *row) string { return fmt.Sprint(r.Total) }},
			{title: "ATTENDED", width: 8, right: true, value: func(r *row) string { return fmt.Sprint(r.Attended) }},
			{title: "PARTIAL", width: 7, right: true, value: func(r *row) string { return fmt.Sprint(r.Partial) }},
			{title: "ABSENT", width: 6, right: true, value: func(r *row) string { return fmt.Sprint(r.Absent) }},
			{title: "UNKNOWN", width: 7, right: true, value: func(r *row) string { return fmt.Sprint(r.Unknown) }},
			{title: "ATTENDED%", width: 9, right: true, value: func(r *row) string { return percent(r.AttendedRate) }},
			{title: "WATCHED", width: 8, right: true, value: func(r *row) string { return duration(r.WatchTime) }},
		},
	}
}

// summaryGroup names the people a summary counts: "class 10 students",
// "parents", "invited by lisi", "everyone".
func summaryGroup(s *attendance.Summary) string {
	who := map[livestat.ViewerKind]string{
		livestat.KindStudent: "students", livestat.KindParent: "parents", livestat.KindVisitor: "visitors",
		livestat.KindUser: "members", livestat.KindExternalUser: "external contacts",
	}[s.ViewerKind]
	var g string
	switch {
	case s.Kind == attendance.KindClass:
		g = strings.TrimSpace(fmt.Sprintf("class %d %s", s.PartyID, who))
	case s.By == attendance.ByInvitor:
		if id := cmpOr(s.InvitorUserID, s.InvitorExternalUserID); id != "" {
			g = "invited by " + id
		} else {
			g = "not invited"
		}
	case s.By == attendance.ByKind:
		g = "all " + who
	default:
		g = "everyone"
	}
	if s.Incomplete {
		g += " (not final)"
	}
	return g
}

func localTimeOrDash(t livestat.UnixTime) string {
	if t == 0 {
		return "-"
	}
	return localTime(t.Time())
}

// cmpOr is the first of ss that is not empty.
func cmpOr(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
