package livestat

import (
	"context"
	"fmt"
	"runtime"
	"testing"
)

// B4: iterating holds O(page) memory. Watchers drains the same school
// broadcast at 100k and at 1M rows, 1000 rows a page, and the peak live
// heap must not grow with the number of rows. Under the race detector,
// which slows decoding tenfold, the sizes are 10k and 100k; CI also runs
// this test without it (scripts/test.sh), at full size.
func TestIterationMemoryIsBoundedByPage(t *testing.T) {
	small, large := 100_000, 1_000_000
	if raceEnabled {
		small, large = 10_000, 100_000
	}
	// The slack allows for what the runtime and the loopback server
	// hold at one sample but not another. Keeping even 3 bytes of each
	// of the extra 900k rows (0.9M rows under the race detector: 30 bytes
	// of 90k) would exceed it; a string header is 16.
	const slack = 3 << 20
	peaks := map[int]uint64{}
	for _, rows := range []int{small, large} {
		t.Run(fmt.Sprintf("rows=%d", rows), func(t *testing.T) {
			peaks[rows] = peakLiveHeap(t, rows)
			t.Logf("peak live heap draining %d rows: %.2f MiB", rows, float64(peaks[rows])/(1<<20))
		})
	}
	if t.Failed() {
		return
	}
	if peaks[large] > peaks[small]+slack {
		t.Errorf("peak live heap grew from %.2f MiB at %d rows to %.2f MiB at %d rows: rows are being kept",
			float64(peaks[small])/(1<<20), small, float64(peaks[large])/(1<<20), large)
	}
}

// peakLiveHeap drains rows school watchers from a loopback server and
// returns the largest live heap seen, sampled after a full GC every 10
// pages while the iteration holds a page.
func peakLiveHeap(t *testing.T, rows int) uint64 {
	const perPage = 1000
	api := newBenchAPI(t, benchSchoolWatchPages(t, rows/perPage, 600, 300, 100))
	c := api.livestat(t)
	var peak uint64
	var ms runtime.MemStats
	n := 0
	for _, err := range c.School.Watchers(context.Background(), SchoolStatRequest{LivingID: "L1"}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if n%(10*perPage) == perPage/2 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	}
	if n != rows {
		t.Fatalf("drained %d rows, want %d", n, rows)
	}
	return peak
}
