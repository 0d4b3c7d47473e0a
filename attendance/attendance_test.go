package attendance_test

import (
	"encoding/json"
	"fmt"
	"iter"
	"testing"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/attendance"
	"github.com/livestat/livestat/livestattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const t0 = livestat.UnixTime(1756724400) // 2025-09-01 19:00 CST

// lesson is a school broadcast of an hour for classes 1001 and 1002 with
// every case of a school report: a student who watched all of it, one who
// watched 20 minutes (and is on the unwatch list too), one on the watch
// list with 0 s, an absentee, a parent of two students, an absent parent
// and a visitor.
func lesson() (livestattest.School, livestat.SchoolLivingInfo) {
	sc := livestattest.School{
		Watchers: []livestat.SchoolWatcher{
			{Kind: livestat.KindStudent, StudentUserID: "s1", PartyIDs: []int64{1001}, WatchTime: 3600, EnterTime: t0, LeaveTime: t0 + 3600},
			{Kind: livestat.KindStudent, StudentUserID: "s2", PartyIDs: []int64{1001}, WatchTime: 1200, EnterTime: t0 + 60, LeaveTime: t0 + 1300},
			{Kind: livestat.KindStudent, StudentUserID: "s3", PartyIDs: []int64{1002}, WatchTime: 0, EnterTime: t0 + 5, LeaveTime: t0 + 5},
			{Kind: livestat.KindParent, ParentUserID: "p1", StudentUserID: "s1", PartyIDs: []int64{1001}, WatchTime: 2000, EnterTime: t0 + 10, LeaveTime: t0 + 2100},
			{Kind: livestat.KindParent, ParentUserID: "p1", StudentUserID: "s6", PartyIDs: []int64{1002}, WatchTime: 100, EnterTime: t0 + 20, LeaveTime: t0 + 120},
			{Kind: livestat.KindVisitor, Nickname: "访客", WatchTime: 50, EnterTime: t0 + 30, LeaveTime: t0 + 80},
		},
		Absentees: []livestat.SchoolAbsentee{
			{Kind: livestat.KindStudent, StudentUserID: "s4", PartyIDs: []int64{1002}},
			{Kind: livestat.KindStudent, StudentUserID: "s2", PartyIDs: []int64{1001}},
			{Kind: livestat.KindParent, ParentUserID: "p4", StudentUserID: "s4", PartyIDs: []int64{1002}},
		},
	}
	info := livestat.SchoolLivingInfo{Theme: "数学", LivingStart: t0, LivingDuration: 3600, AnchorUserID: "teacher",
		LivingRange: livestat.LivingRange{PartyIDs: []int64{1001, 1002}}}
	return sc, info
}

// roster names s1, s4 and p1 (both of p1's rows), and adds s5 (class
// 1002) and p9 (a class that is no partyid), who are on neither list.
var roster = attendance.RosterList{
	{UserID: "s1", Name: "张三", Class: "1001"},
	{UserID: "s4", Name: "李四"},
	{UserID: "s5", Name: "王五", Class: "1002"},
	{UserID: "p9", Name: "赵六", Class: "三年级2班", Kind: livestat.KindParent},
	{UserID: "p1", Name: "家长甲", Kind: livestat.KindParent},
}

func schoolServer(t *testing.T, opts livestattest.Options) *livestattest.Server {
	sc, info := lesson()
	opts.School = map[string]livestattest.School{"S": sc}
	opts.SchoolLivingInfo = map[string]livestat.SchoolLivingInfo{"S": info}
	return livestattest.NewServer(t, opts)
}

func mustThreshold(t *testing.T, s string) attendance.Threshold {
	t.Helper()
	th, err := attendance.ParseThreshold(s)
	require.NoError(t, err)
	return th
}

// rowKey names a school row in the tests.
func rowKey(r attendance.SchoolRow) string {
	switch r.Kind {
	case livestat.KindParent:
		return r.ParentUserID + "/" + r.StudentUserID
	case livestat.KindVisitor:
		return r.Nickname
	}
	return r.StudentUserID
}

// Every status, a parent of two students, roster names and unknowns, with
// a 30-minute threshold: each row's status, share and times, in the
// report's order.
func TestSchoolReportRows(t *testing.T) {
	srv := schoolServer(t, livestattest.Options{PageSize: 2}) // several pages of each list
	rep, err := attendance.School(t.Context(), srv.Client(), "S", attendance.Options{Threshold: mustThreshold(t, "30m"), Roster: roster})
	require.NoError(t, err)
	assert.False(t, rep.Incomplete)
	assert.Equal(t, livestat.Seconds(3600), rep.Info.LivingDuration)

	type row struct {
		key         string
		status      attendance.Status
		share       float64
		name, class string
		parties     []int64
		enter       livestat.UnixTime
	}
	var got []row
	for _, r := range rep.Rows {
		assert.Equal(t, "S", r.LivingID)
		got = append(got, row{rowKey(r), r.Status, r.Share, r.Name, r.Class, r.PartyIDs, r.EnterTime})
	}
	assert.Equal(t, []row{
		{"s1", attendance.Attended, 1, "张三", "1001", []int64{1001}, t0},
		{"s2", attendance.Partial, 1200.0 / 3600, "", "", []int64{1001}, t0 + 60}, // on both lists: watched
		{"s3", attendance.Absent, 0, "", "", []int64{1002}, t0 + 5},               // watched 0 s
		{"s4", attendance.Absent, 0, "李四", "", []int64{1002}, 0},
		{"s5", attendance.Unknown, 0, "王五", "1002", []int64{1002}, 0},
		{"p9/", attendance.Unknown, 0, "赵六", "三年级2班", nil, 0},
		{"p1/s1", attendance.Attended, 2000.0 / 3600, "家长甲", "", []int64{1001}, t0 + 10},
		{"p4/s4", attendance.Absent, 0, "", "", []int64{1002}, 0}, // by class, then student
		{"p1/s6", attendance.Partial, 100.0 / 3600, "家长甲", "", []int64{1002}, t0 + 20},
		{"访客", attendance.Partial, 50.0 / 3600, "", "", nil, t0 + 30},
	}, got)

	// The JSON of a parent row: the CLI's names.
	b, err := json.Marshal(rep.Rows[6])
	require.NoError(t, err)
	assert.JSONEq(t, `{"livingid":"S","kind":"parent","student_userid":"s1","parent_userid":"p1","name":"家长甲",
		"partyids":[1001],"status":"attended","watch_time":2000,"share":0.5555555555555556,"enter_time":1756724410,"leave_time":1756726500}`, string(b))
	// An absentee has no times.
	b, err = json.Marshal(rep.Rows[3])
	require.NoError(t, err)
	assert.JSONEq(t, `{"livingid":"S","kind":"student","student_userid":"s4","name":"李四","partyids":[1002],"status":"absent","watch_time":0,"share":0}`, string(b))
}

type counts struct{ total, attended, partial, absent, unknown int }

func countsOf(s attendance.Summary) counts {
	return counts{s.Total, s.Attended, s.Partial, s.Absent, s.Unknown}
}

// The summaries of the same report: per class and kind of people (a class
// of the range with nobody in it still has its summaries), per kind and
// overall; every count adds up and every rate is its count over the
// total.
// Visitors have no id, only a WeChat nickname, and many share one (WeChat
// gives "微信用户" to everyone who does not share theirs): each visitor row
// of the reply is a person of its own, never merged with another, and same
// nicknames keep the order of the reply.
func TestSchoolReportVisitorsSharingANicknameAreTwoRows(t *testing.T) {
	srv := livestattest.NewServer(t, livestattest.Options{
		School: map[string]livestattest.School{"S": {Watchers: []livestat.SchoolWatcher{
			{Kind: livestat.KindVisitor, Nickname: "微信用户", WatchTime: 3000, EnterTime: t0, LeaveTime: t0 + 3000},
			{Kind: livestat.KindVisitor, Nickname: "访客", WatchTime: 10, EnterTime: t0 + 5, LeaveTime: t0 + 15},
			{Kind: livestat.KindVisitor, Nickname: "微信用户", WatchTime: 60, EnterTime: t0 + 1200, LeaveTime: t0 + 1260},
		}}},
		SchoolLivingInfo: map[string]livestat.SchoolLivingInfo{"S": {LivingStart: t0, LivingDuration: 3600}},
	})
	rep, err := attendance.School(t.Context(), srv.Client(), "S", attendance.Options{})
	require.NoError(t, err)
	var got []string
	for _, r := range rep.Rows {
		got = append(got, fmt.Sprintf("%s %d %d-%d", r.Nickname, r.WatchTime, r.EnterTime-t0, r.LeaveTime-t0))
	}
	assert.Equal(t, []string{"微信用户 3000 0-3000", "微信用户 60 1200-1260", "访客 10 5-15"}, got, "three visitors watched")
	assert.Equal(t, 3, rep.Overall.Total)
	assert.EqualValues(t, 3070, rep.Overall.WatchTime, "their watch time in all")
	for _, s := range rep.ByKind {
		if s.ViewerKind == livestat.KindVisitor {
			assert.Equal(t, 3, s.Total, "visitors")
		}
	}
}

func TestSchoolReportSummaries(t *testing.T) {
	srv := schoolServer(t, livestattest.Options{})
	rep, err := attendance.School(t.Context(), srv.Client(), "S", attendance.Options{Threshold: mustThreshold(t, "30m"), Roster: roster})
	require.NoError(t, err)

	type class struct {
		party int64
		kind  livestat.ViewerKind
		counts
	}
	var classes []class
	for _, s := range rep.Classes {
		assert.Equal(t, attendance.KindClass, s.Kind)
		classes = append(classes, class{s.PartyID, s.ViewerKind, countsOf(s)})
	}
	assert.Equal(t, []class{
		{1001, livestat.KindStudent, counts{2, 1, 1, 0, 0}},
		{1001, livestat.KindParent, counts{1, 1, 0, 0, 0}},
		{1002, livestat.KindStudent, counts{3, 0, 0, 2, 1}},
		{1002, livestat.KindParent, counts{2, 0, 1, 1, 0}},
	}, classes)

	require.Len(t, rep.ByKind, 3)
	assert.Equal(t, counts{5, 1, 1, 2, 1}, countsOf(rep.ByKind[0]))
	assert.Equal(t, counts{4, 1, 1, 1, 1}, countsOf(rep.ByKind[1]))
	assert.Equal(t, counts{1, 0, 1, 0, 0}, countsOf(rep.ByKind[2]))
	assert.Equal(t, []livestat.ViewerKind{livestat.KindStudent, livestat.KindParent, livestat.KindVisitor},
		[]livestat.ViewerKind{rep.ByKind[0].ViewerKind, rep.ByKind[1].ViewerKind, rep.ByKind[2].ViewerKind})
	assert.Equal(t, counts{10, 2, 3, 3, 2}, countsOf(rep.Overall))
	assert.Equal(t, livestat.Seconds(3600+1200+2000+100+50), rep.Overall.WatchTime)

	all := rep.Summaries()
	require.Len(t, all, len(rep.Classes)+len(rep.ByKind)+1)
	assert.Equal(t, rep.Overall, all[len(all)-1])
	for _, s := range all {
		assert.Equal(t, s.Total, s.Attended+s.Partial+s.Absent+s.Unknown)
		assert.InDelta(t, float64(s.Attended)/float64(s.Total), s.AttendedRate, 1e-12)
		assert.InDelta(t, float64(s.Absent)/float64(s.Total), s.AbsentRate, 1e-12)
		assert.InDelta(t, 1, s.AttendedRate+s.PartialRate+s.AbsentRate+s.UnknownRate, 1e-12)
	}
	b, err := json.Marshal(rep.Classes[2])
	require.NoError(t, err)
	assert.JSONEq(t, `{"livingid":"S","kind":"class","partyid":1002,"viewer_kind":"student","total":3,"attended":0,"partial":0,
		"absent":2,"unknown":1,"attended_rate":0,"partial_rate":0,"absent_rate":0.6666666666666666,"unknown_rate":0.3333333333333333,"watch_time":0}`, string(b))

	// A class of the range that nobody of the lists is in.
	info := rep.Info
	info.LivingRange.PartyIDs = append(info.LivingRange.PartyIDs, 1003)
	srv.SetSchoolLivingInfo("S", info)
	rep, err = attendance.School(t.Context(), srv.Client(), "S", attendance.Options{})
	require.NoError(t, err)
	last := rep.Classes[len(rep.Classes)-1]
	assert.Equal(t, int64(1003), last.PartyID)
	assert.Equal(t, counts{}, countsOf(last))
	assert.Zero(t, last.AttendedRate)
}

// The threshold decides between attended and partial: by default any watch
// time attends; a duration; a share of living_duration.
func TestSchoolReportThresholds(t *testing.T) {
	srv := schoolServer(t, livestattest.Options{})
	for _, tc := range []struct {
		threshold string
		want      map[string]attendance.Status
	}{
		{"", map[string]attendance.Status{"s1": attendance.Attended, "s2": attendance.Attended, "s3": attendance.Absent,
			"p1/s1": attendance.Attended, "p1/s6": attendance.Attended, "访客": attendance.Attended}},
		{"20m", map[string]attendance.Status{"s1": attendance.Attended, "s2": attendance.Attended, "s3": attendance.Absent,
			"p1/s1": attendance.Attended, "p1/s6": attendance.Partial, "访客": attendance.Partial}},
		{"1201", map[string]attendance.Status{"s1": attendance.Attended, "s2": attendance.Partial, "s3": attendance.Absent,
			"p1/s1": attendance.Attended, "p1/s6": attendance.Partial, "访客": attendance.Partial}},
		{"80%", map[string]attendance.Status{"s1": attendance.Attended, "s2": attendance.Partial, "s3": attendance.Absent,
			"p1/s1": attendance.Partial, "p1/s6": attendance.Partial, "访客": attendance.Partial}},
		{"2h", map[string]attendance.Status{"s1": attendance.Attended, "s2": attendance.Partial, "s3": attendance.Absent, // cut to the hour
			"p1/s1": attendance.Partial, "p1/s6": attendance.Partial, "访客": attendance.Partial}},
	} {
		t.Run(tc.threshold, func(t *testing.T) {
			rep, err := attendance.School(t.Context(), srv.Client(), "S", attendance.Options{Threshold: mustThreshold(t, tc.threshold)})
			require.NoError(t, err)
			got := make(map[string]attendance.Status)
			for _, r := range rep.Rows {
				if _, ok := tc.want[rowKey(r)]; ok {
					got[rowKey(r)] = r.Status
				}
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

// A share must be above 0 (as documented): "0%" is refused rather than taken
// silently as the default, and the error says what to write instead.
func TestParseThresholdRefusesZeroPercent(t *testing.T) {
	for _, in := range []string{"0%", "0.00%", " 0 % ", "-0%"} {
		_, err := attendance.ParseThreshold(in)
		if assert.Error(t, err, in) {
			assert.Contains(t, err.Error(), "above 0%", in)
			assert.Contains(t, err.Error(), "any watch time", in)
		}
	}
	_, err := attendance.ParseThreshold("0.01%")
	assert.NoError(t, err, "the smallest share above 0")
}

func TestParseThreshold(t *testing.T) {
	for _, tc := range []struct {
		in, str string
		// statuses of watch times 0, 1, 2879, 2880 and 3600 s of an hour
		want [5]attendance.Status
	}{
		{"", "0", [5]attendance.Status{"absent", "attended", "attended", "attended", "attended"}},
		{"0", "0", [5]attendance.Status{"absent", "attended", "attended", "attended", "attended"}},
		{"80%", "80%", [5]attendance.Status{"absent", "partial", "partial", "attended", "attended"}},
		{" 80 % ", "80%", [5]attendance.Status{"absent", "partial", "partial", "attended", "attended"}},
		{"79.97%", "79.97%", [5]attendance.Status{"absent", "partial", "attended", "attended", "attended"}},
		{"100%", "100%", [5]attendance.Status{"absent", "partial", "partial", "partial", "attended"}},
		{"48m", "48m0s", [5]attendance.Status{"absent", "partial", "partial", "attended", "attended"}},
		{"2880", "48m0s", [5]attendance.Status{"absent", "partial", "partial", "attended", "attended"}},
		{"3h", "3h0m0s", [5]attendance.Status{"absent", "partial", "partial", "partial", "attended"}}, // cut to the hour
	} {
		th, err := attendance.ParseThreshold(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.str, th.String(), tc.in)
		var got [5]attendance.Status
		for i, w := range []livestat.Seconds{0, 1, 2879, 2880, 3600} {
			got[i] = th.Status(w, 3600)
		}
		assert.Equal(t, tc.want, got, tc.in)
		back, err := attendance.ParseThreshold(th.String())
		require.NoError(t, err)
		assert.Equal(t, th, back, "String round-trips")
	}
	// A living_duration of 0 (not known yet): a share is met by any watch
	// time, a duration is not cut.
	assert.Equal(t, attendance.Attended, mustThreshold(t, "80%").Status(1, 0))
	assert.Equal(t, attendance.Partial, mustThreshold(t, "30m").Status(1799, 0))

	for _, bad := range []string{"-1", "-5m", "101%", "-1%", "-0.5%", "12.345%", "abc", "30 m", "NaN%", "%", "1e400%", "99999999999999999999"} {
		_, err := attendance.ParseThreshold(bad)
		assert.Error(t, err, bad)
		if err != nil {
			assert.Contains(t, err.Error(), "attendance: threshold", bad)
		}
	}
	var th attendance.Threshold
	require.NoError(t, th.UnmarshalText([]byte("12.5%")))
	assert.Equal(t, "12.5%", th.String())
	assert.Error(t, th.UnmarshalText([]byte("x")))
	assert.True(t, attendance.MinDuration(0).IsDefault())
	assert.Equal(t, mustThreshold(t, "90s"), attendance.MinDuration(90e9))
}

// The corp report: share, status against the threshold and invitor of each
// viewer, and the summaries by kind, by invitor and overall.
func TestCorpReport(t *testing.T) {
	srv := livestattest.NewServer(t, livestattest.Options{
		PageSize: 2,
		Living: map[string][]livestat.LivingViewer{"C": {
			{Kind: livestat.KindUser, UserID: "u1", WatchTime: 3600},
			{Kind: livestat.KindExternalUser, ExternalUserID: "e1", Name: "Alice", WatchTime: 2000, InvitorUserID: "u1"},
			{Kind: livestat.KindUser, UserID: "u2", WatchTime: 1000, InvitorUserID: "u1"},
			{Kind: livestat.KindExternalUser, ExternalUserID: "e2", Name: "Bob", WatchTime: 10, InvitorExternalUserID: "wmX"},
			{Kind: livestat.KindExternalUser, ExternalUserID: "e3", Name: "Carol", WatchTime: 0},
		}},
		LivingInfo: map[string]livestat.LivingInfo{"C": {Theme: "产品发布", Status: livestat.LivingEnded, LivingStart: t0, LivingDuration: 3600}},
	})
	rep, err := attendance.Corp(t.Context(), srv.Client(), "C", attendance.Options{Threshold: mustThreshold(t, "50%")})
	require.NoError(t, err)
	assert.False(t, rep.Incomplete)

	type row struct {
		id      string
		status  attendance.Status
		share   float64
		invitor string
	}
	var got []row
	for _, r := range rep.Rows {
		got = append(got, row{r.UserID + r.ExternalUserID, r.Status, r.Share, r.InvitorUserID + r.InvitorExternalUserID})
	}
	assert.Equal(t, []row{
		{"u1", attendance.Attended, 1, ""},
		{"u2", attendance.Partial, 1000.0 / 3600, "u1"},
		{"e1", attendance.Attended, 2000.0 / 3600, "u1"},
		{"e2", attendance.Partial, 10.0 / 3600, "wmX"},
		{"e3", attendance.Absent, 0, ""},
	}, got)
	b, err := json.Marshal(rep.Rows[2])
	require.NoError(t, err)
	assert.JSONEq(t, `{"livingid":"C","kind":"external_user","external_userid":"e1","name":"Alice","status":"attended",
		"watch_time":2000,"share":0.5555555555555556,"invitor_userid":"u1"}`, string(b))

	require.Len(t, rep.ByKind, 2)
	assert.Equal(t, livestat.KindUser, rep.ByKind[0].ViewerKind)
	assert.Equal(t, counts{2, 1, 1, 0, 0}, countsOf(rep.ByKind[0]))
	assert.Equal(t, counts{3, 1, 1, 1, 0}, countsOf(rep.ByKind[1]))

	type inv struct {
		user, external string
		counts
	}
	var invitors []inv
	for _, s := range rep.ByInvitor {
		assert.Equal(t, attendance.ByInvitor, s.By)
		invitors = append(invitors, inv{s.InvitorUserID, s.InvitorExternalUserID, countsOf(s)})
	}
	assert.Equal(t, []inv{{"u1", "", counts{2, 1, 1, 0, 0}}, {"", "wmX", counts{1, 0, 1, 0, 0}}, {"", "", counts{2, 1, 0, 1, 0}}}, invitors)
	assert.Equal(t, counts{5, 2, 2, 1, 0}, countsOf(rep.Overall))
	assert.Equal(t, "", rep.Overall.By)
	assert.InDelta(t, 0.4, rep.Overall.AttendedRate, 1e-12)
	b, err = json.Marshal(rep.ByInvitor[0])
	require.NoError(t, err)
	assert.JSONEq(t, `{"livingid":"C","kind":"summary","by":"invitor","invitor_userid":"u1","total":2,"attended":1,"partial":1,"absent":0,"unknown":0,
		"attended_rate":0.5,"partial_rate":0.5,"absent_rate":0,"unknown_rate":0,"watch_time":3000}`, string(b))
}

// A broadcast still on air is reported and marked incomplete, in its
// summaries and on every row too (a row read on its own, in a spreadsheet,
// says its numbers are not final); one that ended is not.
func TestIncompleteBroadcasts(t *testing.T) {
	sc := livestattest.GenerateSchool(30, 1)
	srv := livestattest.NewServer(t, livestattest.Options{
		Living: map[string][]livestat.LivingViewer{"CL": livestattest.GenerateViewers(20, 1), "CE": livestattest.GenerateViewers(20, 2)},
		School: map[string]livestattest.School{"SL": sc, "SE": sc},
		Live:   []string{"CL", "SL"},
	})
	c := srv.Client()
	for _, id := range []string{"CL", "CE"} {
		rep, err := attendance.Corp(t.Context(), c, id, attendance.Options{})
		require.NoError(t, err)
		assert.Equal(t, id == "CL", rep.Incomplete, id)
		assert.Equal(t, id == "CL", rep.Info.Status == livestat.LivingLive, id)
		assert.Len(t, rep.Rows, 20, id)
		assert.Equal(t, id == "CL", rep.Overall.Incomplete, id)
		for _, r := range rep.Rows {
			assert.Equal(t, id == "CL", r.Incomplete, "%s row %+v", id, r)
		}
	}
	for _, id := range []string{"SL", "SE"} {
		rep, err := attendance.School(t.Context(), c, id, attendance.Options{})
		require.NoError(t, err)
		assert.Equal(t, id == "SL", rep.Incomplete, id)
		assert.Len(t, rep.Rows, len(sc.Watchers)+len(sc.Absentees), id)
		for _, s := range rep.Summaries() {
			assert.Equal(t, id == "SL", s.Incomplete, id)
		}
		for _, r := range rep.Rows {
			assert.Equal(t, id == "SL", r.Incomplete, "%s row %+v", id, r)
		}
	}
}

// A broadcast nobody watched is a valid, empty report.
func TestEmptyBroadcasts(t *testing.T) {
	srv := livestattest.NewServer(t, livestattest.Options{
		Living: map[string][]livestat.LivingViewer{"C": nil},
		School: map[string]livestattest.School{"S": {}},
	})
	c := srv.Client()
	corp, err := attendance.Corp(t.Context(), c, "C", attendance.Options{Threshold: mustThreshold(t, "80%")})
	require.NoError(t, err)
	assert.Empty(t, corp.Rows)
	assert.Equal(t, counts{}, countsOf(corp.Overall))
	assert.Empty(t, corp.ByInvitor)
	assert.Len(t, corp.ByKind, 2)

	school, err := attendance.School(t.Context(), c, "S", attendance.Options{})
	require.NoError(t, err)
	assert.Empty(t, school.Rows)
	assert.Empty(t, school.Classes)
	assert.Equal(t, counts{}, countsOf(school.Overall))
	assert.False(t, school.Incomplete)

	// With a roster, everyone on it is unknown.
	school, err = attendance.School(t.Context(), c, "S", attendance.Options{Roster: roster})
	require.NoError(t, err)
	assert.Equal(t, counts{5, 0, 0, 0, 5}, countsOf(school.Overall))
}

// A report on generated data agrees with what the server serves: one row
// per student, parent and visitor, the absentees absent.
func TestSchoolReportOnGeneratedData(t *testing.T) {
	sc := livestattest.GenerateSchool(95, 7)
	srv := livestattest.NewServer(t, livestattest.Options{School: map[string]livestattest.School{"S": sc}, PageSize: 17})
	rep, err := attendance.School(t.Context(), srv.Client(), "S", attendance.Options{})
	require.NoError(t, err)
	assert.Len(t, rep.Rows, len(sc.Watchers)+len(sc.Absentees))
	assert.Equal(t, len(sc.Absentees), rep.Overall.Absent)
	assert.Equal(t, len(sc.Watchers), rep.Overall.Attended) // every generated watcher watched 5 min or more
	info, _ := srv.SchoolLivingInfo("S")
	for _, r := range rep.Rows {
		assert.LessOrEqual(t, r.Share, 1.0)
		assert.InDelta(t, float64(r.WatchTime)/float64(info.LivingDuration), r.Share, 1e-12)
	}
	students := 0
	for _, s := range rep.Classes {
		if s.ViewerKind == livestat.KindStudent && s.PartyID != 1900 {
			students += s.Total
		}
	}
	assert.Equal(t, 95, students, "each student in one class (1900 is a grade group on top)")
}

// The errors of a report are the client's: a failing endpoint ends the
// report with its error.
func TestReportErrors(t *testing.T) {
	srv := schoolServer(t, livestattest.Options{Faults: []livestattest.Fault{{Endpoint: livestat.EndpointSchoolUnwatchStat, ErrCode: 48002}}})
	_, err := attendance.School(t.Context(), srv.Client(), "S", attendance.Options{})
	require.ErrorIs(t, err, livestat.ErrPermissionDenied)

	_, err = attendance.Corp(t.Context(), srv.Client(), "nope", attendance.Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "living/get_living_info")

	_, err = attendance.School(t.Context(), srv.Client(), "S", attendance.Options{Roster: errRoster{}})
	require.ErrorIs(t, err, errBadRoster)
}

var errBadRoster = assert.AnError

type errRoster struct{}

func (errRoster) Members() iter.Seq2[attendance.Member, error] {
	return func(yield func(attendance.Member, error) bool) { yield(attendance.Member{}, errBadRoster) }
}
