package redisstore

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// envRequireRedis, when set (.ci/run sets it), turns the skip for a
// missing redis-server into a failure, so CI cannot pass without the tests.
const envRequireRedis = "REDISSTORE_REQUIRE_REDIS"

// redisServer is a redis-server process of the test's own, on a loopback
// port, with its files in a temporary directory and no persistence.
type redisServer struct {
	t    *testing.T
	bin  string
	dir  string
	port int
	Addr string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
}

// startRedis starts a redis-server for t and stops it when t ends. It skips
// t when redis-server is not installed.
func startRedis(t *testing.T) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv(envRequireRedis) != "" {
			t.Fatalf("redis-server is not on PATH, and %s is set", envRequireRedis)
		}
		t.Skip("redis-server is not on PATH: skipping the real-Redis tests (apt-get install -y redis-server, or run .ci/run)")
	}
	s := &redisServer{t: t, bin: bin, dir: t.TempDir()}
	// Another process may take the free port between our probe and
	// redis-server's bind; try a few.
	for range 5 {
		s.port = freePort(t)
		s.Addr = fmt.Sprintf("127.0.0.1:%d", s.port)
		if err = s.start(); err == nil {
			break
		}
	}
	require.NoError(t, err, "starting redis-server")
	t.Cleanup(s.Kill)
	return s
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (s *redisServer) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	log, err := os.OpenFile(filepath.Join(s.dir, "redis.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.Command(s.bin,
		"--port", fmt.Sprint(s.port), "--bind", "127.0.0.1",
		"--dir", s.dir, "--save", "", "--appendonly", "no",
		"--daemonize", "no", "--logfile", "")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("redis-server exited at start:\n%s", s.log())
		default:
		}
		if ping(s.Addr) {
			s.cmd, s.exited = cmd, exited
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	<-exited
	return fmt.Errorf("redis-server did not answer on %s:\n%s", s.Addr, s.log())
}

// ping sends PING in the inline protocol and waits for +PONG.
func ping(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

func (s *redisServer) log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	return string(bytes.TrimSpace(b))
}

// Kill stops redis-server at once (SIGKILL), as a crash would.
func (s *redisServer) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// Restart starts redis-server again on the same port, empty.
func (s *redisServer) Restart() {
	s.t.Helper()
	require.NoError(s.t, s.start(), "restarting redis-server")
}

// Client returns a go-redis client of s, closed when the test ends.
func (s *redisServer) Client(t *testing.T) redis.UniversalClient {
	t.Helper()
	return newTestClient(t, s.Addr)
}

// newTestClient is configured as the README advises: short timeouts, so a
// dead Redis costs little.
func newTestClient(t *testing.T, addr string) redis.UniversalClient {
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:                 []string{addr},
		ContextTimeoutEnabled: true,
		DialTimeout:           time.Second,
	})
	if t != nil {
		t.Cleanup(func() { _ = rdb.Close() })
	}
	return rdb
}

// closedAddr returns a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	return fmt.Sprintf("127.0.0.1:%d", freePort(t))
}

// hungAddr returns a loopback address that accepts connections and never
// answers, like a Redis host that hangs.
func hungAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	wg.Go(func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				_ = c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	})
	t.Cleanup(func() { _ = l.Close(); wg.Wait() })
	return l.Addr().String()
}
