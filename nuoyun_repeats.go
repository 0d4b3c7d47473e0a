package livestat

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
)

// durationSnapshot is the bookkeeping of one pass over Nuoyun's numbered
// pages: it drops the rows that a page repeats from the page before, and
// checks, page by page, that the pass is complete.
//
// The rows of the previous page and of this one are kept. A row shifted
// across a page boundary (rows moved while the iteration ran) comes back
// identical on the next page, so two pages suffice and memory stays bounded
// by the page size, not the number of rows. A key such as (room, viewer)
// would not do: a viewer has a row per round of a room, and ids may be 0,
// "" or absent.
type durationSnapshot struct {
	first     int // the number of the iteration's first page
	prev, cur *rowSet
	yielded   int64 // rows kept so far
	repeats   int64 // rows dropped so far
}

func newDurationSnapshot(first int) *durationSnapshot {
	seed := maphash.MakeSeed()
	return &durationSnapshot{first: first, prev: newRowSet(seed), cur: newRowSet(seed)}
}

// page takes the next page of the pass, in page order: it removes from
// p.Data.List the exact repeats of the previous page's rows, and returns a
// *PaginationError when p shows that rows would be missing.
func (d *durationSnapshot) page(p *UserDurationPage) error {
	ep := EndpointNuoyunUserDurations
	if len(p.Data.List) == 0 {
		// An empty page ends the iteration, unless its own total says rows
		// exist from its offset on: then the server failed to serve them,
		// and ending quietly would lose them.
		if int64(p.Page-1)*int64(p.PageSize) < int64(p.Data.Total) {
			return &PaginationError{Endpoint: ep, Page: p.Page,
				Reason: fmt.Sprintf("the page is empty, but the total (%d) says rows remain", p.Data.Total)}
		}
		return nil
	}
	// Drop each row that repeats, exactly, a row of the previous page, as
	// many times as that page held it. Identical rows within one page are
	// kept: a shift cannot repeat a row inside one reply, so they are rows
	// of their own, counted in the total.
	d.prev, d.cur = d.cur, d.prev
	d.cur.reset()
	kept := p.Data.List[:0]
	for _, r := range p.Data.List {
		d.cur.add(&r)
		if d.prev.take(&r) {
			d.repeats++
			continue
		}
		kept = append(kept, r)
	}
	clear(p.Data.List[len(kept):])
	p.Data.List = kept
	if len(kept) == 0 {
		// With the end time pinned, a whole page of rows seen before means
		// the server is not serving the page asked for (it ignores the
		// page number, say): going on would end "successfully" with rows
		// missing.
		return &PaginationError{Endpoint: ep, Page: p.Page, Reason: "the page holds only rows of earlier pages"}
	}
	d.yielded += int64(len(kept))
	if !p.More() {
		// The last page: the rows yielded must add up to the total from
		// this iteration's first page on. A repeat does not count: in
		// pages of a fixed size, a row served twice pushed another one out
		// of the pages served, unless the server sent more rows than its
		// total. Short pages (a server capping page_size, say) fail here
		// too.
		want := int64(p.Data.Total) - int64(d.first-1)*int64(p.PageSize)
		if d.yielded < want {
			reason := fmt.Sprintf("the server reported %d rows but served %d", want, d.yielded)
			if d.repeats > 0 {
				reason = fmt.Sprintf("the server reported %d rows but served %d and repeated %d (rows moved between pages during the iteration)", want, d.yielded, d.repeats)
			}
			return &PaginationError{Endpoint: ep, Page: p.Page, Reason: reason}
		}
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
