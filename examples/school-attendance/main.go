// Command school-attendance reports, per class, who watched a WeCom school
// broadcast (上课直播) and who did not, with watch-time totals.
//
//	WECOM_CORP_ID=ww... WECOM_CORP_SECRET=... go run ./examples/school-attendance -living-id LIVINGID
//
// Classes are the department ids (partyids) WeCom reports; a student in
// several departments counts in each. Only students and parents who follow
// 「学校通知」 are counted as absent. WECOM_BASE_URL, when set, replaces
// https://qyapi.weixin.qq.com (a proxy, a local fake). Without WECOM_CORP_ID
// and WECOM_CORP_SECRET it runs offline, against a livestattest fake server
// with a generated school of 90 students.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/examples/internal/exampleenv"
	"github.com/livestat/livestat/livestattest"
)

func main() { exampleenv.Main("school-attendance", realMain) }

const offlineLivingID = "offline-class-live"

func realMain(ctx context.Context, args []string, w io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("school-attendance", flag.ContinueOnError)
	livingID := fs.String("living-id", "", "the broadcast's livingid (required with credentials)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	env, err := exampleenv.WeCom(getenv)
	if err != nil {
		return err
	}
	if env.Offline() {
		srv := env.Fake(w, "a sample school.", livestattest.Options{
			PageSize: 25,
			School:   map[string]livestattest.School{offlineLivingID: livestattest.GenerateSchool(90, 1)},
		})
		defer srv.Close()
		return attendanceReport(ctx, srv.Client(), offlineLivingID, w)
	}
	if *livingID == "" {
		return errors.New("-living-id is required")
	}
	c, err := livestat.NewClient(livestat.WithWeComApp(env.ID, env.Secret), livestat.WithWeComBaseURL(env.BaseURL))
	if err != nil {
		return err
	}
	return attendanceReport(ctx, c, *livingID, w)
}

// attendanceReport prints the attendance of the broadcast livingID.
func attendanceReport(ctx context.Context, c *livestat.Client, livingID string, w io.Writer) error {
	classes, err := attendance(ctx, c, livingID)
	if err != nil {
		return err
	}
	return report(w, classes)
}

// class is the attendance of one class (partyid).
type class struct {
	StudentsWatched, StudentsAbsent int
	ParentsWatched, ParentsAbsent   int
	StudentTime, ParentTime         time.Duration // total watch time
}

// attendance reads who watched and who did not, by class. Visitors belong
// to no class and are not counted.
func attendance(ctx context.Context, c *livestat.Client, livingID string) (map[int64]*class, error) {
	classes := map[int64]*class{}
	get := func(id int64) *class {
		if classes[id] == nil {
			classes[id] = &class{}
		}
		return classes[id]
	}
	req := livestat.SchoolStatRequest{LivingID: livingID}
	for w, err := range c.School.Watchers(ctx, req) {
		if err != nil {
			return nil, fmt.Errorf("watchers: %w", err)
		}
		for _, id := range w.PartyIDs {
			switch w.Kind {
			case livestat.KindStudent:
				get(id).StudentsWatched++
				get(id).StudentTime += w.WatchTime.Duration()
			case livestat.KindParent:
				get(id).ParentsWatched++
				get(id).ParentTime += w.WatchTime.Duration()
			}
		}
	}
	for a, err := range c.School.Absentees(ctx, req) {
		if err != nil {
			return nil, fmt.Errorf("absentees: %w", err)
		}
		for _, id := range a.PartyIDs {
			switch a.Kind {
			case livestat.KindStudent:
				get(id).StudentsAbsent++
			case livestat.KindParent:
				get(id).ParentsAbsent++
			}
		}
	}
	return classes, nil
}

func report(w io.Writer, classes map[int64]*class) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "CLASS\tSTUDENTS WATCHED\tABSENT\tRATE\tSTUDENT TIME\tAVERAGE\tPARENTS WATCHED\tABSENT\tPARENT TIME\t")
	for _, id := range slices.Sorted(maps.Keys(classes)) {
		c := classes[id]
		rate, avg := "-", "-"
		if n := c.StudentsWatched + c.StudentsAbsent; n > 0 {
			rate = fmt.Sprintf("%.0f%%", 100*float64(c.StudentsWatched)/float64(n))
		}
		if c.StudentsWatched > 0 {
			avg = (c.StudentTime / time.Duration(c.StudentsWatched)).Round(time.Second).String()
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%v\t%s\t%d\t%d\t%v\t\n", id,
			c.StudentsWatched, c.StudentsAbsent, rate, c.StudentTime, avg, c.ParentsWatched, c.ParentsAbsent, c.ParentTime)
	}
	return tw.Flush()
}
