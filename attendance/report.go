package attendance

import (
	"github.com/livestat/livestat"
)

// Status is a person's attendance of one broadcast.
type Status string

// The statuses. See Threshold for where attended ends and partial begins.
const (
	// Attended: watched, at least the threshold.
	Attended Status = "attended"
	// Partial: watched something, less than the threshold.
	Partial Status = "partial"
	// Absent: on the unwatch list (get_unwatch_stat_v2), or on the watch
	// list with a watch_time of 0.
	Absent Status = "absent"
	// Unknown: on the caller's roster and on neither list. The unwatch
	// list only counts students and parents who follow 「学校通知」, so
	// these are the people WeCom cannot say anything about.
	Unknown Status = "unknown"
)

// SchoolRow is one student, parent or visitor of a school broadcast. Its
// JSON is the CLI's JSON-lines row: the ids under the API's names.
type SchoolRow struct {
	LivingID string `json:"livingid"`
	// Kind is livestat.KindStudent, KindParent or KindVisitor.
	Kind          livestat.ViewerKind `json:"kind"`
	StudentUserID string              `json:"student_userid,omitempty"` // students; a parent's student
	ParentUserID  string              `json:"parent_userid,omitempty"`  // parents
	Nickname      string              `json:"nickname,omitempty"`       // visitors
	// Name and Class come from the roster, when it lists the person.
	Name  string `json:"name,omitempty"`
	Class string `json:"class,omitempty"`
	// PartyIDs are the student's classes (for a parent, their student's),
	// as the API lists them; for a roster-only person, the roster's class
	// when it is a number.
	PartyIDs []int64 `json:"partyids,omitempty"`
	Status   Status  `json:"status"`
	// WatchTime is how long they watched; Share that as a share of the
	// broadcast's living_duration, 0 to 1 (0 when the duration is 0).
	WatchTime livestat.Seconds `json:"watch_time"`
	Share     float64          `json:"share"`
	// EnterTime and LeaveTime are the first entry and last exit, for
	// those who watched; 0 (left out of the JSON) otherwise.
	EnterTime livestat.UnixTime `json:"enter_time,omitempty"`
	LeaveTime livestat.UnixTime `json:"leave_time,omitempty"`
	// Incomplete is set when the broadcast is still on air, so the row's
	// numbers are not final (the report's Incomplete, on each row).
	Incomplete bool `json:"incomplete,omitempty"`
}

// ViewerRow is one viewer of a corp broadcast (living/get_watch_stat). Its
// JSON is the CLI's JSON-lines row.
type ViewerRow struct {
	LivingID string `json:"livingid"`
	// Kind is livestat.KindUser or KindExternalUser.
	Kind           livestat.ViewerKind `json:"kind"`
	UserID         string              `json:"userid,omitempty"`          // corp members
	ExternalUserID string              `json:"external_userid,omitempty"` // external contacts
	Name           string              `json:"name,omitempty"`            // external contacts
	Status         Status              `json:"status"`
	WatchTime      livestat.Seconds    `json:"watch_time"`
	Share          float64             `json:"share"` // of living_duration, 0 to 1
	// InvitorUserID or InvitorExternalUserID brought the viewer in
	// ("推广产品" broadcasts only).
	InvitorUserID         string `json:"invitor_userid,omitempty"`
	InvitorExternalUserID string `json:"invitor_external_userid,omitempty"`
	// Incomplete is set when the broadcast is still on air, so the row's
	// numbers are not final (the report's Incomplete, on each row).
	Incomplete bool `json:"incomplete,omitempty"`
}

// The kinds of summary rows.
const (
	KindClass   = "class"   // a Summary of one class (partyid)
	KindSummary = "summary" // a Summary of a kind of people, an invitor, or everyone
)

// The groupings of a KindSummary Summary; everyone when By is "".
const (
	ByKind    = "kind"    // ViewerKind names the kind of people
	ByInvitor = "invitor" // InvitorUserID or InvitorExternalUserID; neither: viewers nobody invited
)

// Summary counts the people of a group by status. Its JSON is the CLI's
// summary row.
type Summary struct {
	LivingID string `json:"livingid"`
	// Kind is KindClass or KindSummary.
	Kind string `json:"kind"`
	// PartyID is the class of a KindClass summary.
	PartyID int64 `json:"partyid,omitempty"`
	// By is the grouping of a KindSummary summary: ByKind, ByInvitor, or
	// "" for everyone.
	By string `json:"by,omitempty"`
	// ViewerKind is the kind of people counted (class summaries count
	// students and parents apart); "" when they are of every kind.
	ViewerKind            livestat.ViewerKind `json:"viewer_kind,omitempty"`
	InvitorUserID         string              `json:"invitor_userid,omitempty"`
	InvitorExternalUserID string              `json:"invitor_external_userid,omitempty"`
	// Incomplete is set when the broadcast was still on air.
	Incomplete bool `json:"incomplete,omitempty"`
	// Total is the number of people; the four counts add up to it.
	Total    int `json:"total"`
	Attended int `json:"attended"`
	Partial  int `json:"partial"`
	Absent   int `json:"absent"`
	Unknown  int `json:"unknown"`
	// The rates are the counts divided by Total, 0 when Total is 0.
	AttendedRate float64 `json:"attended_rate"`
	PartialRate  float64 `json:"partial_rate"`
	AbsentRate   float64 `json:"absent_rate"`
	UnknownRate  float64 `json:"unknown_rate"`
	// WatchTime is the group's watch time in all.
	WatchTime livestat.Seconds `json:"watch_time"`
}

// add counts one person.
func (s *Summary) add(st Status, watch livestat.Seconds) {
	s.Total++
	s.WatchTime += watch
	switch st {
	case Attended:
		s.Attended++
	case Partial:
		s.Partial++
	case Absent:
		s.Absent++
	case Unknown:
		s.Unknown++
	}
}

// rates sets the rates from the counts.
func (s *Summary) rates() {
	if s.Total == 0 {
		return
	}
	n := float64(s.Total)
	s.AttendedRate = float64(s.Attended) / n
	s.PartialRate = float64(s.Partial) / n
	s.AbsentRate = float64(s.Absent) / n
	s.UnknownRate = float64(s.Unknown) / n
}

// SchoolReport is the attendance of one school broadcast.
type SchoolReport struct {
	LivingID string
	// Info is the broadcast's get_living_info: its duration, the
	// denominator of Share, and its range.
	Info      livestat.SchoolLivingInfo
	Threshold Threshold
	// Incomplete is set when the broadcast is still on air, so its
	// numbers are not final. school/living/get_living_info has no status
	// field: a school broadcast counts as on air while its reply says
	// viewers are online (online_count > 0) or gives no duration yet
	// (living_duration 0).
	Incomplete bool
	// Rows has one row per student, per parent of a student (a parent of
	// two students has two rows, one per student) and per visitor row of
	// get_watch_stat_v2 (nothing identifies a visitor, not even the
	// nickname, which many share): students, then parents, then visitors,
	// each by their first class, then by id (visitors by nickname, then in
	// the reply's order).
	Rows []SchoolRow
	// Classes has a students' and a parents' summary for every class of
	// the broadcast's living_range and every other class a row names, by
	// ascending partyid. A student of two classes counts in both.
	Classes []Summary
	// ByKind has one summary per kind of people: students, parents,
	// visitors.
	ByKind []Summary
	// Overall counts every row.
	Overall Summary
}

// Summaries returns Classes, ByKind and Overall, in that order: the
// summary rows the CLI writes after the person rows.
func (r *SchoolReport) Summaries() []Summary {
	return append(append(append([]Summary(nil), r.Classes...), r.ByKind...), r.Overall)
}

// CorpReport is the attendance of one corp broadcast.
type CorpReport struct {
	LivingID string
	// Info is the broadcast's get_living_info: its status and duration.
	Info      livestat.LivingInfo
	Threshold Threshold
	// Incomplete is set when the broadcast has not ended: status live
	// (1) or reserved (0).
	Incomplete bool
	// Rows has one row per viewer: corp members, then external contacts,
	// each by id.
	Rows []ViewerRow
	// ByKind has a summary of corp members and one of external contacts.
	ByKind []Summary
	// ByInvitor has one summary per invitor, by invitor id (members'
	// first), then one of the viewers nobody invited.
	ByInvitor []Summary
	// Overall counts every row.
	Overall Summary
}

// Summaries returns ByKind, ByInvitor and Overall, in that order.
func (r *CorpReport) Summaries() []Summary {
	return append(append(append([]Summary(nil), r.ByKind...), r.ByInvitor...), r.Overall)
}
