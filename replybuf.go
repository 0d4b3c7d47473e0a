package livestat

import (
	"bytes"
	"io"
)

// Reply buffers: once() reads every reply body into one buffer and decodes
// it from there. A Client keeps a few of these buffers for reuse.
//
// Not a sync.Pool, which was tried first: its cache is per P, and a paging
// loop's goroutine, after waiting on the network, often resumes on another P
// and finds that cache empty; a sync.Pool also drops its contents every
// other GC. Each miss cost a new buffer grown by doubling to the size of a
// page (1.3 to 2 times the page, copied on the way), which showed as up to
// 16% more bytes allocated per row than a hand-written loop that keeps one
// buffer. A small free list never misses in a loop.
const (
	// keptReplyBuffers is how many buffers a Client keeps: enough for
	// the default Nuoyun read-ahead. More concurrent calls get buffers
	// of their own, which are dropped after use.
	keptReplyBuffers = 4
	// maxKeptReplyBuffer is the largest buffer a Client keeps, so an
	// idle Client holds at most 4 MiB however large a reply once was.
	maxKeptReplyBuffer = 1 << 20
)

// replyBuffers is a Client's free list of reply buffers. The zero value
// keeps nothing (every get allocates).
type replyBuffers struct {
	free chan *bytes.Buffer
}

func newReplyBuffers() replyBuffers {
	return replyBuffers{free: make(chan *bytes.Buffer, keptReplyBuffers)}
}

func (p replyBuffers) get() *bytes.Buffer {
	select {
	case b := <-p.free:
		return b
	default:
		return new(bytes.Buffer)
	}
}

func (p replyBuffers) put(b *bytes.Buffer) {
	if b.Cap() > maxKeptReplyBuffer {
		return
	}
	b.Reset()
	select {
	case p.free <- b:
	default:
	}
}

// readBody reads at most limit+1 bytes of r into buf, growing buf once to
// size (the Content-Length, when known and within limit) instead of by
// doubling. It returns the number of bytes read.
func readBody(buf *bytes.Buffer, r io.Reader, size, limit int64) (int64, error) {
	if size > 0 && size <= limit {
		// bytes.Buffer.ReadFrom wants MinRead bytes free before each
		// read, the one that finds the end of the body included.
		buf.Grow(int(size) + bytes.MinRead)
	}
	return buf.ReadFrom(io.LimitReader(r, limit+1))
}
