package attendance_test

import (
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/attendance"
	"github.com/livestat/livestat/livestattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Memory grows with the number of people, not with the pages (issue 14).
// One school broadcast of the same 2,000 students and their parents, whose
// watch list lists everyone once, and then every student and parent 20
// times over (WeCom may list a person more than once): 20 times the rows
// and pages, the same people. Its visitors are listed once in both: nothing
// identifies a visitor, so each visitor row is a person of its own. Neither the live heap while the report reads the pages (sampled
// after a full GC at every page request, in the server's goroutine, while
// the client waits for that page; less what was live before, the server's
// data included) nor the heap the finished report holds (live with it less
// live without it) may grow with the repeats. Under the race detector the
// repeats are 5; scripts/test.sh also runs it without, at full size.
func TestSchoolReportMemoryGrowsWithPeopleNotPages(t *testing.T) {
	repeats := 20
	if raceEnabled {
		repeats = 5
	}
	base := livestattest.GenerateSchool(2000, 7)
	// While reading, the server's log of the requests it received (about
	// 1.5 KB each, 0.9 MB for the 570 extra pages) grows with the pages
	// too. Keeping 64 bytes of each of the 19 × ~4,000 extra rows (a
	// SchoolWatcher is over 150) would exceed the slack. The report's own
	// size is measured exactly and gets a small slack.
	const slack, reportSlack = 3 << 20, 256 << 10
	type heaps struct{ peak, report uint64 }
	got := map[int]heaps{}
	rows := map[int]int{}
	for _, k := range []int{1, repeats} {
		t.Run(fmt.Sprintf("repeats=%d", k), func(t *testing.T) {
			school := base
			school.Watchers = repeatPeople(base.Watchers, k)
			srv := livestattest.NewServer(t, livestattest.Options{School: map[string]livestattest.School{"L": school}})
			served := len(school.Watchers)
			school = livestattest.School{} // the server has its copy: not to be measured
			c := srv.Client()
			var (
				mu   sync.Mutex
				peak uint64
			)
			sample := func(_ livestattest.Request, body []byte) []byte {
				var ms runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&ms)
				mu.Lock()
				peak = max(peak, ms.HeapAlloc)
				mu.Unlock()
				return body
			}
			for _, ep := range []livestat.Endpoint{livestat.EndpointSchoolWatchStat, livestat.EndpointSchoolUnwatchStat} {
				srv.Fail(livestattest.Fault{Endpoint: ep, Times: -1, Edit: sample})
			}
			before := liveHeap()
			rep, err := attendance.School(t.Context(), c, "L", attendance.Options{})
			require.NoError(t, err)
			with := liveHeap()
			require.GreaterOrEqual(t, srv.Calls(livestat.EndpointSchoolWatchStat), served/livestattest.DefaultPageSize)
			rows[k] = len(rep.Rows)
			mu.Lock()
			got[k] = heaps{peak: peak - min(peak, before)}
			mu.Unlock()
			runtime.KeepAlive(rep)
			rep = nil
			got[k] = heaps{peak: got[k].peak, report: with - min(with, liveHeap())}
			t.Logf("%d watch pages: %.2f MiB live while reading, %.2f MiB held by the report",
				srv.Calls(livestat.EndpointSchoolWatchStat), float64(got[k].peak)/(1<<20), float64(got[k].report)/(1<<20))
		})
	}
	if t.Failed() {
		return
	}
	assert.Equal(t, rows[1], rows[repeats], "the same people")
	one, many := got[1], got[repeats]
	assert.LessOrEqual(t, many.peak, one.peak+slack, "live heap while reading grew with the pages: rows are being kept")
	assert.LessOrEqual(t, many.report, one.report+reportSlack, "the report grew with the pages")
}

// repeatPeople is ws with its students and parents k times over, its
// visitors once.
func repeatPeople(ws []livestat.SchoolWatcher, k int) []livestat.SchoolWatcher {
	var out []livestat.SchoolWatcher
	for i := range k {
		for _, w := range ws {
			if i == 0 || w.Kind != livestat.KindVisitor {
				out = append(out, w)
			}
		}
	}
	return out
}

// liveHeap returns the live heap after a full GC.
func liveHeap() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
