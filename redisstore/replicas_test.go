package redisstore

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
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
// one line on stdout: "call" makes one API call, "ping" waits until Redis
// answers. Logs (Warn and up) go to stderr.
func replicaMain() int {
	name := os.Getenv(envReplica)
	lockTTL, err := time.ParseDuration(os.Getenv(envLockTTL))
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad", envLockTTL, err)
		return 2
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rdb := newTestClient(nil, os.Getenv(envRedis))
	defer rdb.Close()
	store := New(rdb, Options{Prefix: replicaPrefix, LockTTL: lockTTL, PollInterval: 20 * time.Millisecond, Timeout: 500 * time.Millisecond, Logger: logger})
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
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		switch in.Text() {
		case "call":
			_, err = c.Living.GetWatchStat(ctx, livestat.WatchStatRequest{LivingID: "L1"})
		case "ping":
			for err = rdb.Ping(ctx).Err(); err != nil && ctx.Err() == nil; err = rdb.Ping(ctx).Err() {
				time.Sleep(50 * time.Millisecond)
			}
		default:
			err = fmt.Errorf("unknown command %q", in.Text())
		}
		cancel()
		if err != nil {
			fmt.Println("err:", strings.ReplaceAll(err.Error(), "\n", " "))
		} else {
			fmt.Println("ok")
		}
	}
	return 0
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
		n       = 8
		lockTTL = 2 * time.Second
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
			require.Contains(t, r.stderr.String(), "token store load failed", "replica %s warns", r.name)
		}
	}) && t.Run("Redis restarted: the token is shared again", func(t *testing.T) {
		srv.Restart()
		replicas.all(t, "ping") // every replica reaches Redis again
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
