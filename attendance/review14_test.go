//go:build review14

// Review 14: tests of defects found in review, failing on the code under
// review. Run with: go test -tags review14 ./attendance ./cmd/livestat

package attendance_test

import (
	"testing"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/attendance"
	"github.com/livestat/livestat/livestattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Visitors have no id, only a WeChat nickname, and many share one (WeChat
// gives "微信用户" to everyone who does not share theirs). Two visitors
// with the same nickname who entered at different times are two people:
// the report must not fold them into one row, or the visitors' summary
// counts one viewer where there were two.
func TestReview14VisitorsSharingANicknameAreNotMerged(t *testing.T) {
	srv := livestattest.NewServer(t, livestattest.Options{
		School: map[string]livestattest.School{"S": {Watchers: []livestat.SchoolWatcher{
			{Kind: livestat.KindVisitor, Nickname: "微信用户", WatchTime: 3000, EnterTime: t0, LeaveTime: t0 + 3000},
			{Kind: livestat.KindVisitor, Nickname: "微信用户", WatchTime: 60, EnterTime: t0 + 1200, LeaveTime: t0 + 1260},
		}}},
		SchoolLivingInfo: map[string]livestat.SchoolLivingInfo{"S": {LivingStart: t0, LivingDuration: 3600}},
	})
	rep, err := attendance.School(t.Context(), srv.Client(), "S", attendance.Options{})
	require.NoError(t, err)
	assert.Len(t, rep.Rows, 2, "two visitors watched: %+v", rep.Rows)
	assert.Equal(t, 2, rep.Overall.Total)
	assert.EqualValues(t, 3060, rep.Overall.WatchTime, "their watch time in all")
}
