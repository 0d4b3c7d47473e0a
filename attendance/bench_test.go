package attendance_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/livestat/livestat/attendance"
	"github.com/livestat/livestat/livestattest"
)

// BenchmarkSchools20At30ms reports 20 school broadcasts (200 students
// each: 1 details call, 3 pages of watchers, 2 of absentees) from a server
// that takes 30 ms per reply, and compares the time with that of the
// slowest of the 20 reported alone, measured first in the same run:
// x-slowest is the ratio (issue 14 asks for at most 1.3). "default" runs
// with the default Options and the Client's default WeCom limiter (its
// burst covers the benchmark's calls, as it covers a real sync of 20);
// "concurrency=4", the former default, shows what a small pool costs:
// about 20/4 waves.
func BenchmarkSchools20At30ms(b *testing.B) {
	ids, school := livestattest.GenerateSchoolLivings("S", 20, 200, 1)
	srv := livestattest.NewServer(b, livestattest.Options{School: school, Latency: 30 * time.Millisecond})
	c := srv.Client()
	ctx := context.Background()
	if _, err := attendance.School(ctx, c, ids[0], attendance.Options{}); err != nil { // the token, the connections
		b.Fatal(err)
	}
	var slowest time.Duration
	for _, id := range ids {
		start := time.Now()
		if _, err := attendance.School(ctx, c, id, attendance.Options{}); err != nil {
			b.Fatal(err)
		}
		slowest = max(slowest, time.Since(start))
	}
	for _, n := range []int{0, 4} {
		name := fmt.Sprintf("concurrency=%d", n)
		if n == 0 {
			name = "default"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := attendance.Schools(ctx, c, ids, attendance.Options{Concurrency: n}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(slowest), "x-slowest")
			b.ReportMetric(float64(slowest)/1e6, "slowest-ms")
		})
	}
}
