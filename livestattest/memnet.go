package livestattest

import (
	"context"
	"net"
	"sync"
)

// memListener is the listener of a server with Options.InMemory: each dial
// of the server's HTTP client is one end of a net.Pipe whose other end
// Accept returns. Pipes block on channels, so inside a testing/synctest
// bubble a client waiting for a reply is durably blocked and the bubble's
// clock can move on to its timers.
type memListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newMemListener() *memListener {
	return &memListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *memListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *memListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *memListener) Addr() net.Addr { return memAddr{} }

// dial connects to the listener, whatever the address.
func (l *memListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
	case <-ctx.Done():
		client.Close()
		server.Close()
		return nil, ctx.Err()
	}
	client.Close()
	server.Close()
	return nil, &net.OpError{Op: "dial", Net: "pipe", Err: net.ErrClosed}
}

// memAddr is the address of an in-memory server: a loopback address (so
// that livestat accepts plain http:// for it) on port 1, where nothing
// listens, so only the server's own HTTP client reaches it.
type memAddr struct{}

func (memAddr) Network() string { return "pipe" }
func (memAddr) String() string  { return "127.0.0.1:1" }
