package redisstore

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The fleet test's processes are this test binary, running only
// TestLimiterFleetChild, with envFleetChild set. (The lead may merge these
// helpers with replicas_test.go's.)
const (
	envFleetChild = "REDISSTORE_TEST_LIMITER_CHILD" // the process's name
	envFleetRedis = "REDISSTORE_TEST_LIMITER_REDIS" // host:port
	envFleetURL   = "REDISSTORE_TEST_LIMITER_URL"   // where to send
	envFleetStart = "REDISSTORE_TEST_LIMITER_START" // Unix ns: first send
	envFleetEnd   = "REDISSTORE_TEST_LIMITER_END"   // Unix ns: stop sending
	envFleetRetry = "REDISSTORE_TEST_LIMITER_RETRY" // the Limiter's retry interval
)

// The vendor's limit of 1000 per 10 s, and livestat's defaults, scaled to a
// period of 2 s: every duration a fifth (Redis's Timeout and the retry
// interval too), every count a fifth, so every ratio is the default one.
// Only the jitter of arrivals does not scale, so the test is harder on
// the limiter than production is.
const (
	fleetVendorLimit = 200
	fleetRequests    = 180 // DefaultLimiterRequests/5
	fleetPeriod      = 2 * time.Second
	fleetReplicas    = 4
	fleetTimeout     = 200 * time.Millisecond // DefaultTimeout/5
	fleetWorkers     = 3                      // goroutines per process
)

// fleetRetry is each process's retry interval: redisRetryInterval/5 on
// average, out of step so that the processes find Redis back at different
// times, as they do when it hangs.
var fleetRetry = [fleetReplicas]time.Duration{700 * time.Millisecond, 900 * time.Millisecond, 1100 * time.Millisecond, 1300 * time.Millisecond}

// TestLimiterFleetChild is one process of the fleet test; it does nothing
// unless that test started it. Its workers send to the server as fast as
// the shared Limiter allows, from the start time to the end time; it
// prints "sent N" and logs the Limiter's messages to stderr.
func TestLimiterFleetChild(t *testing.T) {
	name := os.Getenv(envFleetChild)
	if name == "" {
		t.Skip("a process of TestLimiterFleetKeepsTheLimitWhileRedisIsDown")
	}
	unixNano := func(env string) time.Time {
		n, err := strconv.ParseInt(os.Getenv(env), 10, 64)
		require.NoError(t, err, env)
		return time.Unix(0, n)
	}
	start, end := unixNano(envFleetStart), unixNano(envFleetEnd)
	retry, err := time.ParseDuration(os.Getenv(envFleetRetry))
	require.NoError(t, err)
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	lim := NewLimiter(newTestClient(t, os.Getenv(envFleetRedis)), LimiterOptions{
		Prefix: "limiter-fleet-test:", Key: "fleet",
		Requests: fleetRequests, Period: fleetPeriod, Replicas: fleetReplicas,
		Timeout: fleetTimeout, Logger: logger,
	})
	lim.retryAfter = retry
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: fleetWorkers}, Timeout: 10 * time.Second}
	defer hc.CloseIdleConnections()
	url := os.Getenv(envFleetURL)

	time.Sleep(time.Until(start))
	ctx, cancel := context.WithDeadline(t.Context(), end)
	defer cancel()
	var (
		mu   sync.Mutex
		sent int
		errs []error
		wg   sync.WaitGroup
	)
	for range fleetWorkers {
		wg.Go(func() {
			for lim.Wait(ctx) == nil {
				req, _ := http.NewRequest(http.MethodGet, url, nil)
				req.Header.Set("X-Process", name)
				resp, err := hc.Do(req)
				mu.Lock()
				if err == nil {
					sent++
					_ = resp.Body.Close()
				} else {
					errs = append(errs, err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.Empty(t, errs, "requests to the test server")
	fmt.Printf("sent %d\n", sent)
}

// TestLimiterFleetKeepsTheLimitWhileRedisIsDown runs four processes on one
// shared Limiter and one real redis-server; they send as fast as allowed
// to one loopback server, which records when each request arrives. Redis
// is killed mid-window for two periods and restarted, empty, on the same
// port. No window of one period may hold more arrivals than the vendor's
// limit, before, during or after the outage; and the processes share the
// limit through Redis again once it is back.
func TestLimiterFleetKeepsTheLimitWhileRedisIsDown(t *testing.T) {
	srv := startRedis(t)
	var (
		mu       sync.Mutex
		arrivals []time.Time
		from     = map[string]int{}
	)
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		mu.Lock()
		arrivals = append(arrivals, now)
		from[r.Header.Get("X-Process")]++
		mu.Unlock()
	}))
	defer server.Close()

	// The processes' start time leaves a -race binary on a loaded machine
	// time to start; the outage begins mid-window and outlasts the retry
	// interval, and the run goes on a period past the longest recovery.
	start := time.Now().Add(2 * time.Second)
	killAt := start.Add(fleetPeriod*3/2 + 170*time.Millisecond)
	upAt := killAt.Add(2 * fleetPeriod)
	returned := upAt.Add(slices.Max(fleetRetry[:]) + fleetTimeout) // every process has asked Redis again
	end := returned.Add(2 * fleetPeriod)

	exe, err := os.Executable()
	require.NoError(t, err)
	type child struct {
		name           string
		cmd            *exec.Cmd
		stdout, stderr bytes.Buffer
	}
	var children []*child
	for i := range fleetReplicas {
		c := &child{name: fmt.Sprintf("p%d", i+1)}
		c.cmd = exec.Command(exe, "-test.run=^TestLimiterFleetChild$", "-test.count=1")
		c.cmd.Env = append(os.Environ(),
			envFleetChild+"="+c.name, envFleetRedis+"="+srv.Addr, envFleetURL+"="+server.URL,
			envFleetStart+"="+strconv.FormatInt(start.UnixNano(), 10), envFleetEnd+"="+strconv.FormatInt(end.UnixNano(), 10),
			envFleetRetry+"="+fleetRetry[i].String())
		c.cmd.Stdout, c.cmd.Stderr = &c.stdout, &c.stderr
		require.NoError(t, c.cmd.Start())
		children = append(children, c)
	}
	t.Cleanup(func() {
		for _, c := range children {
			if c.cmd.ProcessState == nil {
				_ = c.cmd.Process.Kill()
				_ = c.cmd.Wait()
			}
		}
	})

	time.Sleep(time.Until(killAt))
	srv.Kill()
	time.Sleep(time.Until(upAt))
	srv.Restart()
	upAt = time.Now() // redis-server takes a moment to answer
	for _, c := range children {
		require.NoError(t, c.cmd.Wait(), "process %s:\n%s\n%s", c.name, c.stdout.String(), c.stderr.String())
	}
	stats, err := srv.Client(t).Info(t.Context(), "commandstats").Result()
	require.NoError(t, err)

	mu.Lock()
	defer mu.Unlock()
	slices.SortFunc(arrivals, time.Time.Compare)
	in := func(from, to time.Time) []time.Time {
		lo, _ := slices.BinarySearchFunc(arrivals, from, time.Time.Compare)
		hi, _ := slices.BinarySearchFunc(arrivals, to, time.Time.Compare)
		return arrivals[lo:hi]
	}
	report := func(phase string, times []time.Time) int {
		most, at := maxInWindow(times, fleetPeriod)
		t.Logf("%-22s %4d arrivals; the busiest window of %v holds %3d, from %+.2fs", phase, len(times), fleetPeriod, most, at.Sub(start).Seconds())
		return most
	}
	t.Logf("arrivals per process: %v", from)
	report("Redis up", in(start, killAt))
	report("Redis down", in(killAt, upAt))
	report("Redis back, some alone", in(upAt, returned))
	report("Redis back, all on it", in(returned, end))
	most := report("the whole run", arrivals)
	require.LessOrEqual(t, most, fleetVendorLimit, "arrivals in one window of %v: the vendor's limit is %d", fleetPeriod, fleetVendorLimit)

	// Each process kept sending while Redis was down: at its share,
	// (180/4-1)/1.1 = 40 per period, it sends 80 in the outage.
	for _, c := range children {
		require.Contains(t, c.stderr.String(), "shared rate limit unavailable", "process %s fell back", c.name)
		require.Contains(t, c.stderr.String(), "shared rate limit available again", "process %s shares again", c.name)
	}
	outage := in(killAt.Add(fleetTimeout), upAt)
	require.GreaterOrEqual(t, len(outage), fleetReplicas*20, "arrivals while Redis was down: the fleet keeps working")

	// Once every process has asked Redis again, each request goes through
	// it: the restarted Redis ran at least one rate-limit script per
	// arrival since then.
	scripts := 0
	for _, cmd := range []string{"eval", "evalsha"} {
		m := regexp.MustCompile(`(?m)^cmdstat_` + cmd + `:calls=(\d+),.*failed_calls=(\d+)`).FindStringSubmatch(stats)
		if m != nil {
			calls, _ := strconv.Atoi(m[1])
			failed, _ := strconv.Atoi(m[2])
			scripts += calls - failed
		}
	}
	shared := in(returned, end)
	t.Logf("rate-limit scripts run by the restarted Redis: %d", scripts)
	require.GreaterOrEqual(t, scripts, len(shared), "every request after the processes' return went through Redis:\n%s", stats)
	require.NotEmpty(t, shared)
	for _, c := range children {
		sc := bufio.NewScanner(strings.NewReader(c.stdout.String()))
		found := false
		for sc.Scan() {
			found = found || strings.HasPrefix(sc.Text(), "sent ")
		}
		require.True(t, found, "process %s reports what it sent:\n%s", c.name, c.stdout.String())
	}
}
