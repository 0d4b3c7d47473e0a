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

// BenchmarkNuoyunConcurrentPages iterates over 43 pages of 500 rows served
// on loopback with 50 ms of latency each, page after page and with 2, 4 and
// 8 workers. Compare the ns/op of the sub-benchmarks for the speed-up; the
// rate-limited case shows the default limit (one request per 10 ms) in play.
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

	cases := []struct {
		name    string
		workers int
		limited bool
	}{
		{"sequential", 1, false},
		{"workers=2", 2, false},
		{"workers=4", 4, false},
		{"workers=8", 8, false},
		{"workers=8/rate-limited", 8, true},
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
			for b.Loop() {
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
			}
			b.ReportMetric(float64(pages*b.N)/b.Elapsed().Seconds(), "pages/s")
		})
	}
}
