package livestat

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSmoke(t *testing.T) {
	e := newMockEnv(t)
	s := e.script("/cgi-bin/school/living/get_watch_stat_v2", "next_cursor", map[string]string{
		"": fixture(t, "school_watch_page1.json"), "CURSOR1": fixture(t, "school_watch_page2.json"),
	})
	rows, err := Collect(e.c.School.Watchers(context.Background(), SchoolStatRequest{LivingID: "L1"}))
	require.NoError(t, err)
	require.Len(t, rows, 7)
	require.Equal(t, []string{"", "CURSOR1"}, s.calls())
	t.Log(rows[0], e.logs.String())
}
