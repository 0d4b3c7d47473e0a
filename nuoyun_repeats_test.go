package livestat

import (
	"hash/maphash"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// What an iteration drops: only a row that repeats, in every field, a row
// of the previous page; never rows that merely share ids.

// The hash of a rowSet only narrows the search: rows that differ in a field
// it skips are still told apart, and equal rows are counted.
func TestNuoyunRowSetComparesWholeRows(t *testing.T) {
	t.Parallel()
	s := newRowSet(maphash.MakeSeed())
	a := UserDuration{RoomID: 1, WeChatUserSpaceID: 2, IP: "10.0.0.1"}
	b := a
	b.IP = "10.0.0.2" // the hash skips IP: a and b collide
	c := a
	c.Device = deviceOf(DeviceIOS)
	require.Equal(t, s.hash(&a), s.hash(&b))
	for _, r := range []UserDuration{a, a, b} {
		s.add(&r)
	}
	assert.False(t, s.take(&c), "never added")
	assert.True(t, s.take(&b))
	assert.False(t, s.take(&b), "added once, taken once")
	assert.True(t, s.take(&a))
	assert.True(t, s.take(&a), "added twice")
	assert.False(t, s.take(&a))

	s.reset()
	assert.False(t, s.take(&a), "empty after reset")
	s.add(&c)
	assert.True(t, s.take(&c))
}
