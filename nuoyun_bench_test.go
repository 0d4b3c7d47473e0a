package livestat

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkNuoyunConcurrentPages (B3) iterates over 43 pages of 500 rows
// served on loopback with 50 ms of latency each: with the hand-written
// baseline of baseline_test.go, which fetches page after page
// (workers=sequential), and with livestat and 1, 2, 4 and 8 workers.
// `benchstat -col /workers` shows each one's wall time against the
// sequential loop. The rate-limited case runs with the default limit (one
// request per 10 ms) and checks that no iteration beat it.
func BenchmarkNuoyunConcurrentPages(b *testing.B) {
	const (
		pages   = 43
		size    = MaxNuoyunPageSize
		total   = pages*size - 123 // the last page is partial
		latency = 50 * time.Millisecond
	)
	bodies := make([][]byte, pages+1)
	for p := 1; p <= pages; p++ {
		var rows []fakeRow
		for i := (p-1)*size + 1; i <= min(total, p*size); i++ {
			rows = append(rows, syntheticRow(i))
		}
		body, err := json.Marshal(map[string]any{"code": 200, "msg": "Success", "data": map[string]any{"total": total, "list": rows}})
		if err != nil {
			b.Fatal(err)
		}
		bodies[p] = body
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Page int `json:"page"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Page < 1 || req.Page > pages {
			w.Write([]byte(`{"code":400,"msg":"bad page","data":{}}`))
			return
		}
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(bodies[req.Page])
	}))
	defer srv.Close()

	b.Run("workers=sequential", func(b *testing.B) {
		ctx := context.Background()
		bl := &baseline{hc: &http.Client{Transport: srv.Client().Transport.(*http.Transport).Clone()}, base: srv.URL}
		for b.Loop() {
			n, err := bl.nuoyunDurations(ctx, func(*plainDuration) {})
			if err != nil {
				b.Fatal(err)
			}
			if n != total {
				b.Fatalf("got %d rows, want %d", n, total)
			}
		}
		b.ReportMetric(float64(pages*b.N)/b.Elapsed().Seconds(), "pages/s")
	})

	cases := []struct {
		name    string
		workers int
		limited bool
	}{
		{"workers=1", 1, false},
		{"workers=2", 2, false},
		{"workers=4", 4, false},
		{"workers=8", 8, false},
		{"workers=8-rate-limited", 8, true},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			opts := []Option{WithNuoyunBaseURL(srv.URL), WithNuoyunWorkers(bc.workers)}
			if !bc.limited {
				opts = append(opts, WithNuoyunRateLimit(0, 0))
			}
			c, err := NewClient(opts...)
			if err != nil {
				b.Fatal(err)
			}
			// With the default limit, requests start at least 10.5 ms
			// apart (the period/n and its margin), so an iteration cannot
			// take less than this.
			minIteration := time.Duration(pages-1) * nuoyunInterval(DefaultNuoyunRateLimit, DefaultNuoyunRatePeriod)
			for b.Loop() {
				start := time.Now()
				n := 0
				for _, err := range c.Nuoyun.UserDurations(context.Background(), UserDurationRequest{}) {
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				if n != total {
					b.Fatal(fmt.Sprintf("got %d rows, want %d", n, total))
				}
				if d := time.Since(start); bc.limited && d < minIteration {
					b.Fatalf("%d pages in %v: faster than the rate limit allows (%v)", pages, d, minIteration)
				}
			}
			b.ReportMetric(float64(pages*b.N)/b.Elapsed().Seconds(), "pages/s")
		})
	}
}
