package livestat

import (
	"context"
	"encoding/json"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Benchmarks of livestat against the hand-written baseline (baseline_test.go),
// on the loopback API of bench_helpers_test.go. scripts/bench.sh runs them
// in interleaved rounds and prints livestat / baseline ratios with benchstat.
//
// Sub-benchmark names follow benchstat's key=value convention, so that
// `benchstat -col /impl` puts the two implementations side by side.

// drainRows is the number of rows each B1 operation drains per endpoint.
const drainRows = 200_000

// drainCase is one endpoint of B1: its loopback pages and the two ways of
// draining them. Each drain adds a field of every row to sum (the same
// field on both sides) and returns the number of rows.
type drainCase struct {
	name     string
	pages    func(tb testing.TB, rows int) *benchPages
	livestat func(ctx context.Context, c *Client, sum *int64) (int, error)
	baseline func(ctx context.Context, b *baseline, sum *int64) (int, error)
	// For B5: a fresh page of livestat's and of the baseline's, and the
	// rows of a page of 1000 rows as pages makes it.
	livePage, plainPage func() any
	pageRows            int
}

// count drains seq and returns the number of items, touching each so the
// work cannot be optimised away.
func count[T any](seq func(func(T, error) bool), touch func(*T)) (int, error) {
	n := 0
	for v, err := range seq {
		if err != nil {
			return n, err
		}
		touch(&v)
		n++
	}
	return n, nil
}

func drainCases() []drainCase {
	const living = "bench-living"
	return []drainCase{
		{
			name: "living",
			// 1000 rows a page: 800 members and 200 external contacts.
			pages:    func(tb testing.TB, rows int) *benchPages { return benchLivingPages(tb, rows/1000, 800, 200) },
			livePage: func() any { return new(WatchStatPage) }, plainPage: func() any { return new(plainWatchStatReply) }, pageRows: 1000,
			livestat: func(ctx context.Context, c *Client, sum *int64) (int, error) {
				return count(c.Living.Viewers(ctx, WatchStatRequest{LivingID: living}), func(v *LivingViewer) { *sum += int64(v.WatchTime) })
			},
			baseline: func(ctx context.Context, b *baseline, sum *int64) (int, error) {
				return b.livingViewers(ctx, living,
					func(v *plainLivingUser) { *sum += int64(v.WatchTime) },
					func(v *plainExternalUser) { *sum += int64(v.WatchTime) })
			},
		},
		{
			name: "school-watch",
			// 1000 rows a page: 600 students, 300 parents, 100 visitors.
			pages:    func(tb testing.TB, rows int) *benchPages { return benchSchoolWatchPages(tb, rows/1000, 600, 300, 100) },
			livePage: func() any { return new(SchoolWatchStatPage) }, plainPage: func() any { return new(plainSchoolWatchReply) }, pageRows: 1000,
			livestat: func(ctx context.Context, c *Client, sum *int64) (int, error) {
				return count(c.School.Watchers(ctx, SchoolStatRequest{LivingID: living}), func(v *SchoolWatcher) { *sum += int64(v.WatchTime) })
			},
			baseline: func(ctx context.Context, b *baseline, sum *int64) (int, error) {
				return b.schoolWatchers(ctx, living,
					func(v *plainSchoolStudent) { *sum += int64(v.WatchTime) },
					func(v *plainSchoolParent) { *sum += int64(v.WatchTime) },
					func(v *plainSchoolVisitor) { *sum += int64(v.WatchTime) })
			},
		},
		{
			name: "school-unwatch",
			// 1000 rows a page: 700 students, 300 parents.
			pages:    func(tb testing.TB, rows int) *benchPages { return benchSchoolUnwatchPages(tb, rows/1000, 700, 300) },
			livePage: func() any { return new(SchoolUnwatchStatPage) }, plainPage: func() any { return new(plainSchoolUnwatchReply) }, pageRows: 1000,
			livestat: func(ctx context.Context, c *Client, sum *int64) (int, error) {
				return count(c.School.Absentees(ctx, SchoolStatRequest{LivingID: living}), func(v *SchoolAbsentee) { *sum += int64(len(v.PartyIDs)) })
			},
			baseline: func(ctx context.Context, b *baseline, sum *int64) (int, error) {
				return b.schoolAbsentees(ctx, living,
					func(v *plainUnwatchStudent) { *sum += int64(len(v.PartyIDs)) },
					func(v *plainUnwatchParent) { *sum += int64(len(v.PartyIDs)) })
			},
		},
		{
			name: "nuoyun",
			// MaxNuoyunPageSize rows a page, page after page.
			pages:    func(tb testing.TB, rows int) *benchPages { return benchNuoyunPages(tb, rows, MaxNuoyunPageSize) },
			livePage: func() any { return new(UserDurationPage) }, plainPage: func() any { return new(plainDurationReply) }, pageRows: MaxNuoyunPageSize,
			livestat: func(ctx context.Context, c *Client, sum *int64) (int, error) {
				return count(c.Nuoyun.UserDurations(ctx, UserDurationRequest{}), func(v *UserDuration) { *sum += int64(v.StayDuration) })
			},
			baseline: func(ctx context.Context, b *baseline, sum *int64) (int, error) {
				return b.nuoyunDurations(ctx, func(v *plainDuration) { *sum += int64(v.StayDuration) })
			},
		},
	}
}

// TestBaselineAgreesWithLivestat drains a few pages of every B1 endpoint
// both ways: the baseline's plain structs must decode the loopback replies
// (which have the shapes the docs show) to the same rows as livestat, by
// count and by the sum of a field of each row. Otherwise B1 would compare
// unequal work.
func TestBaselineAgreesWithLivestat(t *testing.T) {
	const rows = 3000
	ctx := context.Background()
	for _, dc := range drainCases() {
		t.Run(dc.name, func(t *testing.T) {
			api := newBenchAPI(t, dc.pages(t, rows))
			bl, err := newBaseline(ctx, api.client(t), api.url)
			if err != nil {
				t.Fatal(err)
			}
			var baseSum, liveSum int64
			baseRows, err := dc.baseline(ctx, bl, &baseSum)
			if err != nil {
				t.Fatalf("baseline: %v", err)
			}
			liveRows, err := dc.livestat(ctx, api.livestat(t), &liveSum)
			if err != nil {
				t.Fatalf("livestat: %v", err)
			}
			if baseRows != rows || liveRows != rows {
				t.Fatalf("rows: baseline %d, livestat %d, want %d each", baseRows, liveRows, rows)
			}
			if baseSum == 0 || baseSum != liveSum {
				t.Fatalf("sum of a field over the rows: baseline %d, livestat %d (want equal, non-zero)", baseSum, liveSum)
			}
		})
	}
}

// BenchmarkDrain (B1) drains drainRows rows through each endpoint's public
// iterator, and through the baseline, and reports ns/row, B/row and
// allocs/row. Both run one request at a time (livestat's Nuoyun read-ahead
// is B3's subject) with no client-side rate limit. The loopback server runs
// in the same process: its small, per-request share of the allocations is
// the same for both.
func BenchmarkDrain(b *testing.B) {
	for _, dc := range drainCases() {
		b.Run("endpoint="+dc.name, func(b *testing.B) {
			api := newBenchProcess(b, dc.name, drainRows)
			var sink int64 // receives a field of every row
			ctx := context.Background()
			b.Run("impl=baseline", func(b *testing.B) {
				bl, err := newBaseline(ctx, api.client(b), api.url)
				if err != nil {
					b.Fatal(err)
				}
				perRow(b, func() (int, error) { return dc.baseline(ctx, bl, &sink) })
			})
			b.Run("impl=livestat", func(b *testing.B) {
				c := api.livestat(b)
				perRow(b, func() (int, error) { return dc.livestat(ctx, c, &sink) })
			})
		})
	}
}

// perRow runs drain once per operation, checks it saw drainRows rows, and
// reports time and allocations per row.
func perRow(b *testing.B, drain func() (int, error)) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu0 := processCPU(b)
	for b.Loop() {
		n, err := drain()
		if err != nil {
			b.Fatal(err)
		}
		if n != drainRows {
			b.Fatalf("drained %d rows, want %d", n, drainRows)
		}
	}
	cpu := processCPU(b) - cpu0
	runtime.ReadMemStats(&after)
	rows := float64(b.N) * drainRows
	b.ReportMetric(float64(cpu.Nanoseconds())/rows, "cpu-ns/row")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/rows, "ns/row")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/rows, "B/row")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/rows, "allocs/row")
}

// processCPU returns the CPU time (user and system) the process has used.
func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkToken (B2) measures the token as every WeCom call gets it.
//
// cached: the cached path under RunParallel (0 allocs/op).
// cold-start: a fresh Client whose first 1000 concurrent callers all need a
// token; TestColdStartFetchesOneToken asserts that they cause one gettoken.
func BenchmarkToken(b *testing.B) {
	api := newBenchAPI(b)
	ctx := context.Background()
	b.Run("path=cached", func(b *testing.B) {
		c := api.livestat(b)
		if _, err := c.tokens.Token(ctx); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := c.tokens.Token(ctx); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("path=cold-start-1000", func(b *testing.B) {
		const callers = 1000
		hc := api.client(b)
		before := api.gettoken.Load()
		for b.Loop() {
			b.StopTimer()
			c, err := NewClient(WithWeComApp("bench-corp", "bench-secret"), WithWeComBaseURL(api.url), WithHTTPClient(hc))
			if err != nil {
				b.Fatal(err)
			}
			var ready, done sync.WaitGroup
			start := make(chan struct{})
			errs := make(chan error, callers)
			for range callers {
				ready.Add(1)
				done.Go(func() {
					ready.Done()
					<-start
					if _, err := c.tokens.Token(ctx); err != nil {
						errs <- err
					}
				})
			}
			ready.Wait()
			b.StartTimer()
			close(start)
			done.Wait()
			close(errs)
			for err := range errs {
				b.Fatal(err)
			}
		}
		if got := api.gettoken.Load() - before; got != int64(b.N) {
			b.Fatalf("%d gettoken requests for %d cold starts", got, b.N)
		}
	})
}

// BenchmarkDecode (B5) decodes one page of each B1 endpoint, from memory:
// livestat's reply decoder into its page type, and json.Unmarshal into the
// baseline's plain structs. It isolates the decoding that B1 measures as
// part of a drain, and reports ns/row.
func BenchmarkDecode(b *testing.B) {
	for _, dc := range drainCases() {
		b.Run("endpoint="+dc.name, func(b *testing.B) {
			page := dc.pages(b, 1000).render(nil, 1, 2)
			rows := float64(dc.pageRows)
			b.Run("impl=baseline", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := json.Unmarshal(page, dc.plainPage()); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/rows, "ns/row")
			})
			b.Run("impl=livestat", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := unmarshalJSON(page, dc.livePage()); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/rows, "ns/row")
			})
		})
	}
}
