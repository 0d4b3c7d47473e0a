package redisstore

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/livestat/livestat"
	"github.com/stretchr/testify/require"
)

// The replica processes are this test binary, started again with
// envReplica set: TestMain then runs replicaMain instead of the tests.
const (
	envReplica = "REDISSTORE_TEST_REPLICA" // the replica's name
	envRedis   = "REDISSTORE_TEST_REDIS"   // host:port
	envWeCom   = "REDISSTORE_TEST_WECOM"   // fake WeCom base URL
	envLockTTL = "REDISSTORE_TEST_LOCK_TTL"
	envTimeout = "REDISSTORE_TEST_TIMEOUT" // redisstore's Options.Timeout; default 500ms

	replicaCorp   = "wwreplicas"
	replicaSecret = "APP-SECRET-must-not-leak-91c2"
	replicaApp    = "1000002"
	replicaPrefix = "replicas-test:"
	replicaHeader = "X-Test-Replica" // tells the fake server who calls
)

func TestMain(m *testing.M) {
	if os.Getenv(envReplica) != "" {
		os.Exit(replicaMain())
	}
	os.Exit(m.Run())
}

// replicaMain is one replica of a service: a livestat Client sharing its
// token through Redis. It reads commands from stdin and answers each with
// one line on stdout:
//
//   - "call" makes one API call (a minute's deadline): "ok" or "err: ...";
//   - "timed D" makes one with deadline D: "ok MS" or "err MS: ...", MS its
//     duration in milliseconds;
//   - "burst G D T P" runs G goroutines for T, each making calls with
//     deadline D and a pause P between them, and answers with a burstResult;
//   - "ping" waits until Redis answers: "ok".
//
// Logs (Warn and up) go to stderr. A lock TTL or timeout of 0s means
// redisstore's default.
func replicaMain() int {
	name := os.Getenv(envReplica)
	lockTTL, err := time.ParseDuration(os.Getenv(envLockTTL))
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad", envLockTTL, err)
		return 2
	}
	timeout := 500 * time.Millisecond
	if v := os.Getenv(envTimeout); v != "" {
		if timeout, err = time.ParseDuration(v); err != nil {
			fmt.Fprintln(os.Stderr, "bad", envTimeout, err)
			return 2
		}
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rdb := newTestClient(nil, os.Getenv(envRedis))
	defer rdb.Close()
	store := New(rdb, Options{Prefix: replicaPrefix, LockTTL: lockTTL, PollInterval: 20 * time.Millisecond, Timeout: timeout, Logger: logger})
	c, err := livestat.NewClient(
		livestat.WithWeComApp(replicaCorp, replicaSecret),
		livestat.WithAppID(replicaApp),
		livestat.WithWeComBaseURL(os.Getenv(envWeCom)),
		livestat.WithHTTPClient(&http.Client{Transport: namedTransport(name)}),
		livestat.WithTokenStore(store),
		livestat.WithLogger(logger),
		livestat.WithRetry(livestat.RetryPolicy{MaxAttempts: 2, BaseDelay: 10 * time.Millisecond, MaxDelay: 50 * time.Millisecond}),
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, "NewClient:", err)
		return 2
	}
	call := func(d time.Duration) (time.Duration, error) {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		start := time.Now()
		_, err := c.Living.GetWatchStat(ctx, livestat.WatchStatRequest{LivingID: "L1"})
		return time.Since(start), err
	}
	oneLine := func(err error) string { return strings.ReplaceAll(err.Error(), "\n", " ") }
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		args := strings.Fields(in.Text())
		reply := "ok"
		switch {
		case len(args) == 1 && args[0] == "call":
			if _, err := call(time.Minute); err != nil {
				reply = "err: " + oneLine(err)
			}
		case len(args) == 2 && args[0] == "timed":
			d, err := time.ParseDuration(args[1])
			if err != nil {
				reply = "err: " + oneLine(err)
				break
			}
			took, err := call(d)
			reply = fmt.Sprintf("ok %d", took.Milliseconds())
			if err != nil {
				reply = fmt.Sprintf("err %d: %s", took.Milliseconds(), oneLine(err))
			}
		case len(args) == 5 && args[0] == "burst":
			reply = runBurst(call, args[1:])
		case len(args) == 1 && args[0] == "ping":
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			for err = rdb.Ping(ctx).Err(); err != nil && ctx.Err() == nil; err = rdb.Ping(ctx).Err() {
				time.Sleep(50 * time.Millisecond)
			}
			cancel()
			if err != nil {
				reply = "err: " + oneLine(err)
			}
		default:
			reply = fmt.Sprintf("err: unknown command %q", in.Text())
		}
		fmt.Println(reply)
	}
	return 0
}

// burstResult is what a replica answers to "burst": how many calls it made,
// how many failed, how many returned later than their deadline plus
// burstSlack, the longest call, the first error, and the calls and failures
// by when they started (Unix ms, in steps of burstBucket).
type burstResult struct {
	Calls, Failed, Late int
	MaxMS               int64
	FirstErr            string
	Started             map[int64][2]int
}

// burstBucket is the resolution of burstResult.Started.
const burstBucket = 250 * time.Millisecond

// bucket is the key of burstResult.Started for a call started at t.
func bucket(t time.Time) int64 {
	return t.UnixMilli() / burstBucket.Milliseconds() * burstBucket.Milliseconds()
}

// in returns the calls and failures among those started from from to to,
// to the resolution of burstBucket (from's bucket included, to's not).
func (r burstResult) in(from, to time.Time) (calls, failed int) {
	for at, cf := range r.Started {
		if at >= bucket(from) && at < bucket(to) {
			calls, failed = calls+cf[0], failed+cf[1]
		}
	}
	return calls, failed
}

// burstSlack is how late past its deadline a call may return and still
// count as on time: the scheduler's share on a loaded 2-core machine.
const burstSlack = 250 * time.Millisecond

// runBurst runs "burst G D T P" (see replicaMain).
func runBurst(call func(time.Duration) (time.Duration, error), args []string) string {
	g, err := strconv.Atoi(args[0])
	if err != nil {
		return "err: " + err.Error()
	}
	var ds [3]time.Duration
	for i := range ds {
		if ds[i], err = time.ParseDuration(args[i+1]); err != nil {
			return "err: " + err.Error()
		}
	}
	deadline, length, pause := ds[0], ds[1], ds[2]
	end := time.Now().Add(length)
	var mu sync.Mutex
	res := burstResult{Started: map[int64][2]int{}}
	var wg sync.WaitGroup
	for range g {
		wg.Go(func() {
			for time.Now().Before(end) {
				start := time.Now()
				took, err := call(deadline)
				mu.Lock()
				cf := res.Started[bucket(start)]
				cf[0]++
				if err != nil {
					cf[1]++
				}
				res.Started[bucket(start)] = cf
				res.Calls++
				res.MaxMS = max(res.MaxMS, took.Milliseconds())
				if took > deadline+burstSlack {
					res.Late++
				}
				if err != nil {
					res.Failed++
					if res.FirstErr == "" {
						res.FirstErr = strings.ReplaceAll(err.Error(), "\n", " ")
					}
				}
				mu.Unlock()
				time.Sleep(pause)
			}
		})
	}
	wg.Wait()
	b, _ := json.Marshal(res)
	return "burst " + string(b)
}

// namedTransport tells the fake server which replica sends a request.
type namedTransport string

func (n namedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(replicaHeader, string(n))
	return http.DefaultTransport.RoundTrip(r)
}

// fakeWeCom serves gettoken and living/get_watch_stat. Like WeCom, gettoken
// returns the current token while it is valid and mints one only when
// there is none; expire() makes every issued token invalid (errcode 42001).
type fakeWeCom struct {
	*httptest.Server
	page string

	mu        sync.Mutex
	valid     string   // the token the API accepts; "" after expire
	issued    []string // every token minted
	gettokens []gettokenCall
	rejected  int // 42001 replies
	hold      chan string
	release   chan struct{}
	delay     time.Duration // before each gettoken reply
	arrived   chan struct{} // closed by the next gettoken
}

type gettokenCall struct {
	replica string
	at      time.Time
}

func newFakeWeCom(t *testing.T) *fakeWeCom {
	page, err := os.ReadFile("testdata/watch_stat.json")
	require.NoError(t, err)
	f := &fakeWeCom{page: string(page)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /cgi-bin/gettoken", f.gettoken)
	mux.HandleFunc("POST /cgi-bin/living/get_watch_stat", f.watchStat)
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeWeCom) gettoken(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("corpid") != replicaCorp || r.URL.Query().Get("corpsecret") != replicaSecret {
		fmt.Fprint(w, `{"errcode":40001,"errmsg":"invalid credential"}`)
		return
	}
	f.mu.Lock()
	f.gettokens = append(f.gettokens, gettokenCall{replica: r.Header.Get(replicaHeader), at: time.Now()})
	if f.arrived != nil {
		close(f.arrived)
		f.arrived = nil
	}
	if d := f.delay; d > 0 {
		f.mu.Unlock()
		select {
		case <-time.After(d):
		case <-r.Context().Done():
		}
		f.mu.Lock()
	}
	if hold, release := f.hold, f.release; hold != nil {
		// Stall this call until the test says so; it kills the caller
		// meanwhile, so nobody reads the reply.
		f.hold = nil
		f.mu.Unlock()
		hold <- r.Header.Get(replicaHeader)
		select {
		case <-release:
		case <-r.Context().Done():
		}
		http.Error(w, "held", http.StatusServiceUnavailable)
		return
	}
	if f.valid == "" {
		f.valid = fmt.Sprintf("ACCESS-TOKEN-%d-%s", len(f.issued)+1, rand.Text())
		f.issued = append(f.issued, f.valid)
	}
	tok := f.valid
	f.mu.Unlock()
	fmt.Fprintf(w, `{"errcode":0,"errmsg":"ok","access_token":%q,"expires_in":7200}`, tok)
}

func (f *fakeWeCom) watchStat(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	ok := f.valid != "" && r.URL.Query().Get("access_token") == f.valid
	if !ok {
		f.rejected++
	}
	f.mu.Unlock()
	if !ok {
		fmt.Fprint(w, `{"errcode":42001,"errmsg":"access_token expired"}`)
		return
	}
	fmt.Fprint(w, f.page)
}

// expire invalidates every token issued so far.
func (f *fakeWeCom) expire() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.valid = ""
}

// holdNextGettoken makes the next gettoken stall; the returned channel
// names its caller, and closing release lets it finish.
func (f *fakeWeCom) holdNextGettoken() (caller <-chan string, release chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hold, f.release = make(chan string, 1), make(chan struct{})
	return f.hold, f.release
}

// slowGettoken makes every gettoken take d, and returns a channel closed
// when the next one arrives.
func (f *fakeWeCom) slowGettoken(d time.Duration) (arrived <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delay, f.arrived = d, make(chan struct{})
	return f.arrived
}

func (f *fakeWeCom) counts() (gettokens, rejected int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.gettokens), f.rejected
}

func (f *fakeWeCom) calls() []gettokenCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]gettokenCall(nil), f.gettokens...)
}

func (f *fakeWeCom) secrets() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string{replicaSecret}, f.issued...)
}

// replica is a replica process as the test sees it.
type replica struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string // stdout, line by line; closed at exit
	stderr *logBuffer
	out    []string // every line read from stdout
	dead   bool
}

func startReplica(t *testing.T, name string, env ...string) *replica {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), append(env, envReplica+"="+name)...)
	r := &replica{name: name, cmd: cmd, lines: make(chan string, 64), stderr: &logBuffer{}}
	cmd.Stderr = r.stderr
	r.stdin, err = cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	go func() {
		defer close(r.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			r.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *replica) send(t *testing.T, command string) {
	t.Helper()
	_, err := io.WriteString(r.stdin, command+"\n")
	require.NoError(t, err, "replica %s", r.name)
}

func (r *replica) reply(t *testing.T) string {
	t.Helper()
	select {
	case line, ok := <-r.lines:
		require.True(t, ok, "replica %s exited; stderr:\n%s", r.name, r.stderr)
		r.out = append(r.out, line)
		return line
	case <-time.After(90 * time.Second):
		t.Fatalf("replica %s did not answer; stderr:\n%s", r.name, r.stderr)
		return ""
	}
}

// kill ends the replica at once (SIGKILL), as a crash would.
func (r *replica) kill(t *testing.T) {
	t.Helper()
	r.dead = true
	require.NoError(t, r.cmd.Process.Kill())
	for range r.lines { // drain stdout before Wait
	}
	_ = r.cmd.Wait()
}

func (r *replica) stop(t *testing.T) {
	if r.dead {
		return
	}
	r.dead = true
	_ = r.stdin.Close() // replicaMain returns at EOF
	done := make(chan struct{})
	go func() {
		for range r.lines {
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Errorf("replica %s did not exit; killing it", r.name)
		_ = r.cmd.Process.Kill()
		<-done
	}
	_ = r.cmd.Wait()
}

// fleet is the replicas that are still running.
type fleet []*replica

func (f fleet) alive() fleet {
	var out fleet
	for _, r := range f {
		if !r.dead {
			out = append(out, r)
		}
	}
	return out
}

// all sends command to every live replica at once, then requires "ok"
// from each.
func (f fleet) all(t *testing.T, command string) {
	t.Helper()
	live := f.alive()
	for _, r := range live {
		r.send(t, command)
	}
	for _, r := range live {
		require.Equal(t, "ok", r.reply(t), "replica %s, %q; stderr:\n%s", r.name, command, r.stderr)
	}
}

// TestReplicasShareOneToken runs 8 replica processes against one Redis and
// one fake WeCom, and counts the gettoken calls they make together.
func TestReplicasShareOneToken(t *testing.T) {
	const (
		n = 8
		// Well below the 1.5 s (at least) that livestat waits for a
		// lock before it fetches without it: the dead holder's lock
		// expires first, and one replica refreshes for the others.
		lockTTL = 500 * time.Millisecond
	)
	srv := startRedis(t)
	wecom := newFakeWeCom(t)
	var replicas fleet
	for i := range n {
		replicas = append(replicas, startReplica(t, fmt.Sprintf("r%d", i+1),
			envRedis+"="+srv.Addr, envWeCom+"="+wecom.URL, envLockTTL+"="+lockTTL.String()))
	}
	rdb := srv.Client(t)
	tokenKey := replicaPrefix + "token:wecom:" + replicaCorp + ":" + replicaApp
	requireShared := func(t *testing.T) {
		t.Helper()
		n, err := rdb.Exists(t.Context(), tokenKey).Result()
		require.NoError(t, err)
		require.EqualValues(t, 1, n, "the token is in Redis under %s", tokenKey)
	}
	requireGettokens := func(t *testing.T, want int) {
		t.Helper()
		got, _ := wecom.counts()
		require.Equal(t, want, got, "gettoken calls so far")
	}

	ok := t.Run("cold start: one gettoken", func(t *testing.T) {
		replicas.all(t, "call")
		requireGettokens(t, 1)
		requireShared(t)
	}) && t.Run("42001 in every replica at once: one more gettoken", func(t *testing.T) {
		_, rejectedBefore := wecom.counts()
		wecom.expire()
		replicas.all(t, "call")
		_, rejected := wecom.counts()
		require.Equal(t, n, rejected-rejectedBefore, "every replica had its token rejected")
		requireGettokens(t, 2)
	}) && t.Run("lock holder killed mid-refresh: the others proceed after the lock TTL", func(t *testing.T) {
		holder, release := wecom.holdNextGettoken()
		wecom.expire()
		live := replicas.alive()
		for _, r := range live {
			r.send(t, "call")
		}
		var name string
		select {
		case name = <-holder:
		case <-time.After(60 * time.Second):
			t.Fatal("no replica called gettoken")
		}
		for _, r := range live {
			if r.name == name {
				r.kill(t)
			}
		}
		close(release)
		for _, r := range replicas.alive() {
			require.Equal(t, "ok", r.reply(t), "replica %s; stderr:\n%s", r.name, r.stderr)
		}
		require.Len(t, replicas.alive(), n-1)
		requireGettokens(t, 4) // the dead holder's and one more
		calls := wecom.calls()
		gap := calls[3].at.Sub(calls[2].at)
		t.Logf("holder %s killed; next gettoken by %s %v after the holder's", name, calls[3].replica, gap.Round(time.Millisecond))
		require.NotEqual(t, name, calls[3].replica)
		require.Greater(t, gap, lockTTL/2, "the others waited for the dead holder's lock to expire")
		requireShared(t)
	}) && t.Run("Redis killed mid-refresh: calls keep succeeding", func(t *testing.T) {
		before, _ := wecom.counts()
		holder, release := wecom.holdNextGettoken()
		wecom.expire()
		live := replicas.alive()
		for _, r := range live {
			r.send(t, "call")
		}
		select {
		case <-holder: // one replica holds the lock, the others wait
		case <-time.After(60 * time.Second):
			t.Fatal("no replica called gettoken")
		}
		srv.Kill()
		close(release) // the holder's gettoken fails (HTTP 503) and is retried
		for _, r := range live {
			require.Equal(t, "ok", r.reply(t), "replica %s; stderr:\n%s", r.name, r.stderr)
		}
		// Each replica fetched on its own (the holder twice: 503, retry).
		requireGettokens(t, before+len(live)+1)
	}) && t.Run("Redis down: each replica refreshes on its own, with warnings", func(t *testing.T) {
		before, _ := wecom.counts()
		replicas.all(t, "call") // cached tokens need no Redis
		requireGettokens(t, before)
		wecom.expire()
		replicas.all(t, "call")
		requireGettokens(t, before+len(replicas.alive()))
		for _, r := range replicas.alive() {
			require.Contains(t, r.stderr.String(), "token store failed", "replica %s warns", r.name)
		}
	}) && t.Run("Redis restarted: the token is shared again", func(t *testing.T) {
		srv.Restart()
		replicas.all(t, "ping") // every replica reaches Redis again
		// Each replica leaves a failed store alone for 5 s after its
		// last failure (livestat's storeRetryInterval).
		time.Sleep(5*time.Second + 500*time.Millisecond)
		before, _ := wecom.counts()
		wecom.expire()
		replicas.all(t, "call")
		requireGettokens(t, before+1)
		requireShared(t)
	})
	if !ok {
		for _, r := range replicas {
			t.Logf("replica %s stderr:\n%s", r.name, r.stderr)
		}
	}

	// Nothing any replica printed or logged holds a token or the secret.
	for _, r := range replicas {
		r.stop(t)
		out := r.stderr.String() + strings.Join(r.out, "\n")
		for _, s := range wecom.secrets() {
			require.NotContains(t, out, s, "replica %s leaks a secret", r.name)
		}
	}
}

// sigstopRedis freezes redis-server (SIGSTOP), as a host that stalls
// would: connections are accepted by the kernel and requests wait unread.
// sigcontRedis resumes it. The test resumes it in the end in any case.
func sigstopRedis(t *testing.T, s *redisServer) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGSTOP))
	t.Cleanup(func() { sigcontRedis(t, s) })
}

func sigcontRedis(t *testing.T, s *redisServer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		_ = s.cmd.Process.Signal(syscall.SIGCONT)
	}
}

// burst starts "burst" in every replica of f; wait collects the results.
func (f fleet) burst(t *testing.T, goroutines int, deadline, length, pause time.Duration) (wait func() []burstResult) {
	t.Helper()
	live := f.alive()
	for _, r := range live {
		r.send(t, fmt.Sprintf("burst %d %v %v %v", goroutines, deadline, length, pause))
	}
	return func() []burstResult {
		t.Helper()
		var out []burstResult
		for _, r := range live {
			line := r.reply(t)
			js, ok := strings.CutPrefix(line, "burst ")
			require.True(t, ok, "replica %s: %s", r.name, line)
			var res burstResult
			require.NoError(t, json.Unmarshal([]byte(js), &res))
			t.Logf("replica %s: %d calls, %d failed, %d late, longest %d ms %s", r.name, res.Calls, res.Failed, res.Late, res.MaxMS, res.FirstErr)
			out = append(out, res)
		}
		return out
	}
}

// requireBurstHeld requires what issue 11 asks of calls while Redis
// misbehaves: of those started from from to to (while Redis was frozen or
// down), at least 99% succeed, and every call returns within its deadline.
func requireBurstHeld(t *testing.T, results []burstResult, from, to time.Time) {
	t.Helper()
	var calls, failed, late, inCalls, inFailed int
	for _, r := range results {
		calls, failed, late = calls+r.Calls, failed+r.Failed, late+r.Late
		c, f := r.in(from, to)
		inCalls, inFailed = inCalls+c, inFailed+f
	}
	t.Logf("%d calls, %d failed, %d late; started while Redis was out: %d calls, %d failed (%.2f%%)",
		calls, failed, late, inCalls, inFailed, 100*float64(inFailed)/float64(max(inCalls, 1)))
	require.Positive(t, inCalls)
	require.GreaterOrEqual(t, float64(inCalls-inFailed)/float64(inCalls), 0.99, "at least 99%% of the %d calls started while Redis was out succeed", inCalls)
	require.Zero(t, late, "every call returns within its deadline (+%v)", burstSlack)
}

// TestReplicasRideOutAFrozenRedis runs replica processes, with redisstore's
// defaults (1 s per round trip, 10 s lock TTL), that keep making calls with
// a 2 s deadline while redis-server is frozen (SIGSTOP) in the middle of a
// refresh, with token revocations before and after the replicas' back-off
// period has ended; then a lock request that Redis runs after a freeze; then
// Redis killed and restarted on its port (issue 11 items 1 and 2). The
// issue's 10 s freeze is scaled down to 7 s: that still spans a whole
// back-off period (5 s), so the replicas try the frozen store again once,
// and meet it frozen; and with 1 s round trips, before the fix a refresh
// spent the whole 2 s deadline on Redis, so calls failed for the whole
// freeze.
func TestReplicasRideOutAFrozenRedis(t *testing.T) {
	const (
		n          = 4
		goroutines = 10
		deadline   = 2 * time.Second
		pause      = 50 * time.Millisecond
	)
	srv := startRedis(t)
	wecom := newFakeWeCom(t)
	env := []string{envRedis + "=" + srv.Addr, envWeCom + "=" + wecom.URL, envLockTTL + "=0s", envTimeout + "=0s"}
	var replicas fleet
	for i := range n {
		replicas = append(replicas, startReplica(t, fmt.Sprintf("r%d", i+1), env...))
	}
	gettokens := func() int { g, _ := wecom.counts(); return g }
	replicas.all(t, "call")
	require.Equal(t, 1, gettokens(), "a cold start makes one gettoken")

	ok := t.Run("frozen during a refresh, revocations inside", func(t *testing.T) {
		// A gettoken takes 200 ms: Redis is frozen while one replica
		// holds the lock and fetches, and the others wait for it.
		arrived := wecom.slowGettoken(200 * time.Millisecond)
		defer wecom.slowGettoken(0)
		wait := replicas.burst(t, goroutines, deadline, 10*time.Second, pause)
		time.Sleep(time.Second)

		before := gettokens()
		wecom.expire()
		select {
		case <-arrived:
		case <-time.After(10 * time.Second):
			t.Fatal("no replica called gettoken after the revocation")
		}
		sigstopRedis(t, srv)
		frozen := time.Now()
		// A revocation within the replicas' back-off period, and one
		// after it, when they try the frozen store again.
		var perRevocation []int
		for _, at := range []time.Duration{2500 * time.Millisecond, 6 * time.Second} {
			time.Sleep(time.Until(frozen.Add(at)))
			perRevocation = append(perRevocation, gettokens()-before)
			before = gettokens()
			wecom.expire()
		}
		time.Sleep(time.Until(frozen.Add(7 * time.Second)))
		sigcontRedis(t, srv)
		thawed := time.Now()
		results := wait()
		perRevocation = append(perRevocation, gettokens()-before)
		t.Logf("gettoken calls per revocation: %v", perRevocation)

		requireBurstHeld(t, results, frozen, thawed)
		for i, g := range perRevocation {
			require.LessOrEqual(t, g, n, "revocation %d: at most one gettoken per process", i+1)
		}
	}) && t.Run("a lock request run after a freeze delays a new replica only its bounded wait", func(t *testing.T) {
		rdb := srv.Client(t)
		lockKey := replicaPrefix + "lock:wecom:" + replicaCorp + ":" + replicaApp
		require.NoError(t, rdb.Del(t.Context(), lockKey).Err())
		// A client with a connection open (like a replica's) sends a
		// lock request into a frozen Redis and gives up on it. It has no
		// deadline of its own (a caller of redisstore other than
		// livestat), so its lock may live 30 s.
		late := newTestClient(t, srv.Addr)
		require.NoError(t, late.Ping(t.Context()).Err())
		sigstopRedis(t, srv)
		_, err := New(late, Options{Prefix: replicaPrefix, LockTTL: 30 * time.Second, Timeout: 200 * time.Millisecond}).
			LockRefresh(context.Background(), "wecom:"+replicaCorp+":"+replicaApp)
		require.Error(t, err)
		time.Sleep(time.Second)
		sigcontRedis(t, srv)
		require.Eventually(t, func() bool { return rdb.Ping(t.Context()).Err() == nil }, 10*time.Second, 20*time.Millisecond)
		time.Sleep(100 * time.Millisecond)
		ttl, err := rdb.PTTL(t.Context(), lockKey).Result()
		require.NoError(t, err)
		require.Greater(t, ttl, 20*time.Second, "Redis ran the request when it resumed: a lock nobody holds")

		r := startReplica(t, "new", env...)
		wecom.expire() // so that the new replica must refresh, whatever Redis holds
		r.send(t, "timed 5s")
		line := r.reply(t)
		var ms int64
		_, err = fmt.Sscanf(line, "ok %d", &ms)
		require.NoError(t, err, "the first call of a new replica succeeds: %s; stderr:\n%s", line, r.stderr)
		t.Logf("first call of a new replica, with a stale lock in Redis: %d ms", ms)
		// Its wait is at most half its deadline (2.5 s); then a fetch
		// and the call itself, which the slack covers.
		require.LessOrEqual(t, ms, int64(3500))
		require.Contains(t, r.stderr.String(), "refresh lock not obtained in time")
		r.stop(t)
		requireNoSecrets(t, wecom, r)
	}) && t.Run("killed and restarted on its port, a revocation while it is down", func(t *testing.T) {
		wait := replicas.burst(t, goroutines, deadline, 6*time.Second, pause)
		time.Sleep(time.Second)
		srv.Kill()
		killed := time.Now()
		time.Sleep(500 * time.Millisecond)
		before := gettokens()
		wecom.expire()
		time.Sleep(2 * time.Second)
		srv.Restart()
		restarted := time.Now()
		results := wait()
		g := gettokens() - before
		t.Logf("gettoken calls for the revocation: %d", g)
		requireBurstHeld(t, results, killed, restarted)
		require.LessOrEqual(t, g, n, "at most one gettoken per process")
	})
	if !ok {
		for _, r := range replicas {
			t.Logf("replica %s stderr:\n%s", r.name, r.stderr)
		}
	}
	for _, r := range replicas {
		r.stop(t)
	}
	requireNoSecrets(t, wecom, replicas...)
}

// requireNoSecrets requires that nothing the replicas printed or logged
// holds a token or the secret.
func requireNoSecrets(t *testing.T, wecom *fakeWeCom, replicas ...*replica) {
	t.Helper()
	for _, r := range replicas {
		out := r.stderr.String() + strings.Join(r.out, "\n")
		for _, s := range wecom.secrets() {
			require.NotContains(t, out, s, "replica %s leaks a secret", r.name)
		}
	}
}
