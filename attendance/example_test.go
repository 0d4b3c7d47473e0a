package attendance_test

import (
	"context"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/attendance"
	"github.com/livestat/livestat/livestattest"
)

// A school broadcast's attendance with a 30-minute rule and a roster: one
// row per student and parent, and a summary per class.
func ExampleSchool() {
	fake := livestattest.New(livestattest.Options{
		School: map[string]livestattest.School{"LIVING_ID": livestattest.GenerateSchool(45, 1)},
	})
	defer fake.Close()
	c, ctx := fake.Client(), context.Background()

	// userid,name,class: students (or parents, with a kind column) the
	// lesson was for; those on neither WeCom list come out unknown.
	roster, err := attendance.ReadRosterCSV(strings.NewReader("userid,name,class\nstudent0001,张三,1001\nnewcomer,李四,1002\n"))
	if err != nil {
		log.Fatal(err)
	}
	rule, err := attendance.ParseThreshold("30m") // or "80%"; "" counts any watch time
	if err != nil {
		log.Fatal(err)
	}
	rep, err := attendance.School(ctx, c, "LIVING_ID", attendance.Options{Threshold: rule, Roster: roster})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range rep.Rows[:3] {
		fmt.Printf("%s %s %s %v %.0f%%\n", r.StudentUserID, r.Name, r.Status, r.WatchTime.Duration(), 100*r.Share)
	}
	for _, s := range rep.Classes {
		if s.ViewerKind == livestat.KindStudent {
			fmt.Printf("class %d: %d students, %d attended, %d partial, %d absent, %d unknown\n",
				s.PartyID, s.Total, s.Attended, s.Partial, s.Absent, s.Unknown)
		}
	}
	// Output:
	// student0001 张三 attended 47m7s 68%
	// student0002  attended 47m30s 69%
	// student0003  attended 30m18s 44%
	// class 1001: 30 students, 15 attended, 11 partial, 4 absent, 0 unknown
	// class 1002: 16 students, 6 attended, 6 partial, 3 absent, 1 unknown
	// class 1900: 4 students, 0 attended, 3 partial, 1 absent, 0 unknown
}

// Every broadcast of a teacher since a date, reported 4 at a time, in the
// order the API lists them.
func ExampleSchools() {
	ids, school := livestattest.GenerateSchoolLivings("LESSON_", 10, 30, 1)
	fake := livestattest.New(livestattest.Options{School: school, UserLivings: map[string][]string{"teacher": ids}})
	defer fake.Close()
	c, ctx := fake.Client(), context.Background()

	since := time.Date(2025, 9, 8, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	recent, err := attendance.SchoolLivingIDs(ctx, c, "teacher", since, attendance.Options{})
	if err != nil {
		log.Fatal(err)
	}
	reps, err := attendance.Schools(ctx, c, recent, attendance.Options{Concurrency: attendance.DefaultConcurrency})
	if err != nil {
		log.Fatal(err)
	}
	for _, rep := range reps {
		o := rep.Overall
		fmt.Printf("%s %s: %.0f%% attended, %d absent\n", rep.LivingID, rep.Info.LivingStart.Time().In(since.Location()).Format("01-02"), 100*o.AttendedRate, o.Absent)
	}
	// Output:
	// LESSON_008 09-08: 66% attended, 25 absent
	// LESSON_009 09-09: 65% attended, 25 absent
	// LESSON_010 09-10: 57% attended, 32 absent
}

// A corp broadcast: each viewer's share of it, and who brought them in.
func ExampleCorp() {
	fake := livestattest.New(livestattest.Options{
		Living: map[string][]livestat.LivingViewer{"LIVING_ID": livestattest.GenerateViewers(50, 1)},
	})
	defer fake.Close()
	c, ctx := fake.Client(), context.Background()

	rule, err := attendance.ParseThreshold("80%")
	if err != nil {
		log.Fatal(err)
	}
	rep, err := attendance.Corp(ctx, c, "LIVING_ID", attendance.Options{Threshold: rule})
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range rep.ByInvitor {
		fmt.Printf("invited by %q: %d viewers, %d attended\n", s.InvitorUserID+s.InvitorExternalUserID, s.Total, s.Attended)
	}
	fmt.Printf("all: %d viewers, %.0f%% attended\n", rep.Overall.Total, 100*rep.Overall.AttendedRate)
	// Output:
	// invited by "user0001": 4 viewers, 0 attended
	// invited by "": 46 viewers, 7 attended
	// all: 50 viewers, 14% attended
}
