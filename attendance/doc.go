// Package attendance turns the WeCom living statistics into the answer
// schools and trainers want: one row per person with a status, and
// summaries.
//
// School reports (School, Schools) have one row per student and parent
// (and per visitor) of a school broadcast: status (Attended, Partial,
// Absent, Unknown), watch time, share of living_duration, enter and leave
// times, classes; then one summary per class and kind of people, one per
// kind, and one overall. Absent comes from get_unwatch_stat_v2, which only
// counts people who follow 「学校通知」; a Roster (ReadRosterCSV) adds
// everyone else as Unknown.
//
// Corp reports (Corp, Corps) have one row per viewer of
// living/get_watch_stat with their share of living_duration, status and
// invitor; then a summary per kind of viewer, per invitor, and overall.
//
// The Threshold (ParseThreshold: "30m", "300", "80%") says how much
// watching counts as attended; by default any watch time does. A broadcast
// still on air is reported and marked Incomplete; one with no viewers is a
// valid, empty report.
//
// SchoolLivingIDs and CorpLivingIDs list a member's broadcasts since a
// date to feed Schools and Corps, which work on DefaultConcurrency
// broadcasts at a time; the Client's WeCom rate limiter keeps them within
// WeCom's limits. The report types' JSON is the livestat CLI's JSON
// lines. See docs/attendance.md for the exact rules.
package attendance
