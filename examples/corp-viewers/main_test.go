package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOffline(t *testing.T) {
	var out bytes.Buffer
	err := realMain(context.Background(), nil, &out, func(string) string { return "" })
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 1+1+42+1, out.String()) // note, header, viewers, summary
	assert.Contains(t, lines[len(lines)-1], "42 viewers: ")
}

func TestListViewers(t *testing.T) {
	srv := livestattest.NewServer(t, livestattest.Options{PageSize: 1, Living: map[string][]livestat.LivingViewer{"L": {
		{Kind: livestat.KindUser, UserID: "zhangsan", WatchTime: 90},
		{Kind: livestat.KindExternalUser, ExternalUserID: "wmX", Type: livestat.ExternalUserWeChat, Name: "王芳", WatchTime: 30, IsComment: true},
	}}})
	var out bytes.Buffer
	require.NoError(t, listViewers(context.Background(), srv.Client(), "L", &out))
	assert.Equal(t, `KIND           ID        NAME  WATCHED  COMMENTED
user           zhangsan        1m30s    false
external_user  wmX       王芳    30s      true
2 viewers: 1 corp members, 1 external contacts; 2m0s watched in total
`, out.String())

	srv.Fail(livestattest.Fault{Endpoint: livestat.EndpointWatchStat, Call: 2, ErrCode: 48002})
	err := listViewers(context.Background(), srv.Client(), "L", &bytes.Buffer{})
	assert.ErrorIs(t, err, livestat.ErrPermissionDenied)
}

func TestRealAPIPathNeedsALivingID(t *testing.T) {
	env := map[string]string{"WECOM_CORP_ID": "ww1", "WECOM_CORP_SECRET": "s"}
	err := realMain(context.Background(), nil, &bytes.Buffer{}, func(k string) string { return env[k] })
	assert.ErrorContains(t, err, "-living-id is required")
}

// With credentials, the program talks to WECOM_BASE_URL when it is set.
func TestRealAPIPathHonoursWeComBaseURL(t *testing.T) {
	srv := livestattest.NewServer(t, livestattest.Options{Living: map[string][]livestat.LivingViewer{"L": {
		{Kind: livestat.KindUser, UserID: "zhangsan", WatchTime: 90},
	}}})
	env := map[string]string{"WECOM_CORP_ID": srv.CorpID(), "WECOM_CORP_SECRET": srv.CorpSecret(), "WECOM_BASE_URL": srv.URL()}
	var out bytes.Buffer
	require.NoError(t, realMain(context.Background(), []string{"-living-id", "L"}, &out, func(k string) string { return env[k] }))
	assert.Contains(t, out.String(), "zhangsan")
	assert.Contains(t, out.String(), "1 viewers: ")
	assert.Equal(t, 1, srv.Calls(livestat.EndpointWatchStat))
}

// Half the credentials is a mistake, not a reason to run offline.
func TestHalfTheCredentialsIsAnError(t *testing.T) {
	for _, env := range []map[string]string{{"WECOM_CORP_ID": "ww1"}, {"WECOM_CORP_SECRET": "s"}} {
		var out bytes.Buffer
		err := realMain(context.Background(), []string{"-living-id", "L"}, &out, func(k string) string { return env[k] })
		assert.ErrorContains(t, err, "set both WECOM_CORP_ID and WECOM_CORP_SECRET, or neither", env)
		assert.Empty(t, out.String(), env)
	}
}
