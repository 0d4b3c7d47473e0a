package livestat

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// The default WeCom limiter of one API, taken as fast as it allows from a
// full bucket for two hours (the worst case for every window: a full
// bucket at its start), lets through no more than 95 % of WeCom's limits:
// 9,500 of 10,000 in any 60 s, 142,500 of 150,000 in any hour. The turns
// are computed on the limiter's own arithmetic (Reserve at one instant),
// no clock involved.
func TestWeComDefaultLimitStaysWithinWeComLimits(t *testing.T) {
	t.Parallel()
	lim := newBucket(DefaultWeComRateLimit, DefaultWeComRatePeriod)
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	perSecond := float64(DefaultWeComRateLimit) / DefaultWeComRatePeriod.Seconds()
	n := DefaultWeComRateLimit + int(perSecond*2*3600)
	turns := make([]time.Time, n)
	for i := range turns {
		turns[i] = t0.Add(lim.ReserveN(t0, 1).DelayFrom(t0))
	}
	assert.True(t, slices.IsSortedFunc(turns, time.Time.Compare))
	minute, hour := inWindow(turns, time.Minute), inWindow(turns, time.Hour)
	t.Logf("at most %d turns in any 60 s, %d in any hour", minute, hour)
	assert.LessOrEqual(t, minute, 9_500, "95 %% of WeCom's 10,000 a minute")
	assert.LessOrEqual(t, hour, 142_500, "95 %% of WeCom's 150,000 an hour")
	// The figures the doc comment of DefaultWeComRateLimit gives.
	assert.InDelta(t, 9_000, minute, 1)
	assert.InDelta(t, 141_750, hour, 1)
	// Not paced into uselessness: a sync of a thousand calls goes at once.
	assert.Equal(t, t0, turns[999])
}

// inWindow returns the largest number of times within any closed window
// [t, t+window] of sorted times.
func inWindow(times []time.Time, window time.Duration) int {
	best, j := 0, 0
	for i := range times {
		for j < len(times) && !times[j].After(times[i].Add(window)) {
			j++
		}
		best = max(best, j-i)
	}
	return best
}
