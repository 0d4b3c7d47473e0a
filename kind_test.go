package livestat_test

import (
	"encoding/json"
	"testing"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// roundTrip encodes each row and decodes it back into a fresh value.
func roundTrip[T any](t *testing.T, rows []T) []T {
	t.Helper()
	out := make([]T, len(rows))
	for i := range rows {
		b, err := json.Marshal(rows[i])
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, &out[i]), "%s", b)
	}
	return out
}

// Every row type survives encoding/json with its kind, so ID() still picks
// the right field: a parent's is the parent's id, not the student's.
func TestRowsRoundTripThroughJSONWithTheirKind(t *testing.T) {
	t.Parallel()
	t.Run("LivingViewer", func(t *testing.T) {
		rows := append([]livestat.LivingViewer{
			{Kind: livestat.KindUser, UserID: "zhangsan", WatchTime: 60, IsComment: true},
			{Kind: livestat.KindExternalUser, ExternalUserID: "wmEXT", UserID: "ignored", Type: livestat.ExternalUserWeChat, Name: "王芳"},
		}, livestattest.GenerateViewers(20, 1)...)
		got := roundTrip(t, rows)
		assert.Equal(t, rows, got)
		assert.Equal(t, "wmEXT", got[1].ID())
	})
	t.Run("SchoolWatcher", func(t *testing.T) {
		rows := append([]livestat.SchoolWatcher{
			{Kind: livestat.KindStudent, StudentUserID: "stu1", PartyIDs: []int64{1}},
			{Kind: livestat.KindParent, ParentUserID: "par1", StudentUserID: "stu1"},
			{Kind: livestat.KindVisitor, Nickname: "游客", StudentUserID: ""},
		}, livestattest.GenerateSchool(20, 2).Watchers...)
		got := roundTrip(t, rows)
		assert.Equal(t, rows, got)
		assert.Equal(t, "par1", got[1].ID(), "a parent's ID is the parent's")
		assert.Equal(t, "游客", got[2].ID())
	})
	t.Run("SchoolAbsentee", func(t *testing.T) {
		rows := append([]livestat.SchoolAbsentee{
			{Kind: livestat.KindStudent, StudentUserID: "stu2"},
			{Kind: livestat.KindParent, ParentUserID: "par2", StudentUserID: "stu2"},
		}, livestattest.GenerateSchool(20, 3).Absentees...)
		got := roundTrip(t, rows)
		assert.Equal(t, rows, got)
		assert.Equal(t, "par2", got[1].ID(), "a parent's ID is the parent's")
	})
	t.Run("UserDuration", func(t *testing.T) { // no kind: Nuoyun has one list
		rows := livestattest.GenerateDurations(20, 4)
		assert.Equal(t, rows, roundTrip(t, rows))
	})
}

// The kind is encoded as "kind", first, as the CLI's jsonl rows carry it;
// a row without one encodes none. The APIs send no kind: the services tag
// rows after decoding (see the decoder tests).
func TestKindEncoding(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(livestat.SchoolWatcher{Kind: livestat.KindParent, ParentUserID: "p", StudentUserID: "s"})
	require.NoError(t, err)
	assert.Equal(t, `{"kind":"parent","student_userid":"s","parent_userid":"p","watch_time":0,"enter_time":0,"leave_time":0,"is_comment":0}`, string(b))
	b, err = json.Marshal(livestat.LivingViewer{UserID: "u"})
	require.NoError(t, err)
	assert.NotContains(t, string(b), "kind")
}
