package livestat

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
)

// durationTally is the bookkeeping of one pass over the pages of
// getAccountUserDurationList, shared by UserDurations, UserDurationPages
// and everything built on them. It sees every page in page order (read-ahead
// or not) and enforces what makes a pass complete:
//
//   - the total is the same on every page: a row added or removed during
//     the pass moves the rows after it across page boundaries, so a row
//     may have been skipped or served twice, and the pages no longer add
//     up to anything;
//   - a row is dropped only when it repeats, in every field, a row of the
//     previous page (what a page shift repeats), never for its ids;
//   - no page brings more new rows than page_size;
//   - on the last page, the rows yielded (repeats not counted) are exactly
//     the total from the pass's first page on: fewer means rows were lost,
//     more that the server served rows its total does not count;
//   - an empty page ends the pass only where the total says no rows
//     remain, and a non-empty page of nothing but repeats is an error.
type durationTally struct {
	first, pageSize int
	total           RowCount // the first page's
	totalPage       int      // the page it came from; 0 before the first page
	// The rows of the previous page and of this one. A row shifted across
	// a page boundary comes back identical on the next page, so two pages
	// suffice and memory stays bounded by the page size, not the number
	// of rows. A key such as (room, viewer) would not do: a viewer has a
	// row per round of a room, and ids may be 0, "" or absent.
	prev, cur        *rowSet
	yielded, repeats int64
}

func newDurationTally(first, pageSize int) *durationTally {
	seed := maphash.MakeSeed()
	return &durationTally{first: first, pageSize: pageSize, prev: newRowSet(seed), cur: newRowSet(seed)}
}

// page checks p, the next page of the pass, and removes from its List the
// exact repeats of the previous page's rows. An error ends the pass before
// any row of p is yielded.
func (t *durationTally) page(p *UserDurationPage) error {
	fail := func(format string, args ...any) error {
		return &PaginationError{Endpoint: EndpointNuoyunUserDurations, Page: p.Page, Reason: fmt.Sprintf(format, args...)}
	}
	if t.totalPage == 0 {
		t.total, t.totalPage = p.Data.Total, p.Page
	} else if p.Data.Total != t.total {
		return fail("the total changed from %d (page %d) to %d (page %d): rows were added or removed during the iteration",
			t.total, t.totalPage, p.Data.Total, p.Page)
	}
	// The rows from this pass's first page on that the total accounts for.
	want := max(int64(t.total)-int64(t.first-1)*int64(t.pageSize), 0)
	if len(p.Data.List) == 0 {
		// An empty page ends the pass, unless the total says rows exist
		// from its offset on: then the server failed to serve them, and
		// ending quietly would lose them.
		if int64(p.Page-1)*int64(t.pageSize) < int64(t.total) {
			return fail("the page is empty, but the total (%d) says rows remain", t.total)
		}
		return nil
	}
	// Drop each row that repeats, exactly, a row of the previous page, as
	// many times as that page held it. Identical rows within one page are
	// kept: a shift cannot repeat a row inside one reply, so they are rows
	// of their own, counted in the total.
	t.prev, t.cur = t.cur, t.prev
	t.cur.reset()
	kept := p.Data.List[:0]
	for _, r := range p.Data.List {
		t.cur.add(&r)
		if t.prev.take(&r) {
			t.repeats++
			continue
		}
		kept = append(kept, r)
	}
	clear(p.Data.List[len(kept):])
	p.Data.List = kept
	switch {
	case len(kept) == 0:
		// With the end time pinned, a whole page of rows seen before
		// means the server is not serving the page asked for (it ignores
		// the page number, say): going on would end "successfully" with
		// rows missing.
		return fail("the page holds only rows of earlier pages")
	case len(kept) > t.pageSize:
		return fail("the page holds %d new rows, more than the page_size of %d asked for", len(kept), t.pageSize)
	}
	t.yielded += int64(len(kept))
	if p.More() {
		return nil
	}
	// The last page: the rows yielded must make the total from this
	// pass's first page on, exactly. A repeat does not count: in pages of
	// a fixed size, a row served twice pushed another one out of the
	// pages served. Short pages (a server capping page_size, say) fail
	// here too, and so do rows the total does not count.
	if t.yielded != want {
		if t.repeats > 0 && t.yielded < want {
			return fail("the server reported %d rows but served %d and repeated %d (rows moved between pages during the iteration)", want, t.yielded, t.repeats)
		}
		return fail("the server reported %d rows but served %d", want, t.yielded)
	}
	return nil
}

// rowSet is the multiset of the rows of one page, for finding rows that a
// later page repeats exactly. Rows are compared whole (==, every field); the
// hash only narrows the search, so a collision costs a comparison, never a
// row. Once its buffers have grown to a page, it allocates nothing: a map
// keyed by the rows themselves would, as they are too large to be stored
// in the map inline.
type rowSet struct {
	seed  maphash.Seed
	head  map[uint64]int32 // hash → index in rows of the last row added with it
	rows  []UserDuration   // copies: the page's own List goes to the caller
	next  []int32          // index of the previous row with the same hash, or -1
	taken []bool
}

func newRowSet(seed maphash.Seed) *rowSet {
	return &rowSet{seed: seed, head: make(map[uint64]int32)}
}

func (s *rowSet) reset() {
	clear(s.head)
	clear(s.rows) // drop the strings of the page before
	s.rows, s.next, s.taken = s.rows[:0], s.next[:0], s.taken[:0]
}

func (s *rowSet) add(r *UserDuration) {
	h := s.hash(r)
	prev, ok := s.head[h]
	if !ok {
		prev = -1
	}
	s.head[h] = int32(len(s.rows))
	s.rows = append(s.rows, *r)
	s.next = append(s.next, prev)
	s.taken = append(s.taken, false)
}

// take reports whether the set holds a row equal to r not taken yet, and
// takes it.
func (s *rowSet) take(r *UserDuration) bool {
	i, ok := s.head[s.hash(r)]
	for ok && i >= 0 {
		if !s.taken[i] && s.rows[i] == *r {
			s.taken[i] = true
			return true
		}
		i = s.next[i]
	}
	return false
}

// hash mixes the fields most likely to tell rows apart; equal rows have
// equal hashes, as == compares every field.
func (s *rowSet) hash(r *UserDuration) uint64 {
	var h maphash.Hash
	h.SetSeed(s.seed)
	var b [6 * 8]byte
	for i, v := range [...]int64{
		int64(r.RoomID), int64(r.WeChatUserSpaceID), int64(r.StayDuration),
		int64(r.LiveDuration), int64(r.PlaybackDuration), r.LastVisitTime.UnixNano(),
	} {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(v))
	}
	h.Write(b[:])
	h.WriteString(r.WeChatUserName)
	return h.Sum64()
}
