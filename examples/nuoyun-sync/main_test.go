package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOffline(t *testing.T) {
	dir := t.TempDir()
	args := []string{"-checkpoint", filepath.Join(dir, "cp.json"), "-out", filepath.Join(dir, "rows.jsonl")}
	noEnv := func(string) string { return "" }

	var out bytes.Buffer
	require.NoError(t, realMain(context.Background(), args, &out, noEnv))
	assert.Contains(t, out.String(), "120 rows stored")
	assert.Len(t, storedKeys(t, filepath.Join(dir, "rows.jsonl")), 120)

	// The next run has nothing new.
	out.Reset()
	require.NoError(t, realMain(context.Background(), args, &out, noEnv))
	assert.Contains(t, out.String(), "0 rows stored")
}

// A run that fails half-way resumes in the next one, in the same window, and
// the run after that fetches only rows updated since.
func TestSyncResumesAndContinues(t *testing.T) {
	rows := livestattest.GenerateDurations(50, 7) // updated in Sep-Dec 2025
	srv := livestattest.NewServer(t, livestattest.Options{Nuoyun: rows, NuoyunUserSpaceID: 42})
	dir := t.TempDir()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cfg := config{
		checkpoint: filepath.Join(dir, "cp.json"), out: filepath.Join(dir, "rows.jsonl"),
		pageSize: 10, userSpaceID: 42, now: func() time.Time { return now },
	}
	c := srv.Client(livestat.WithNuoyunRateLimit(0, 0))
	ctx := context.Background()

	// Run 1 stops at page 3.
	srv.Fail(livestattest.Fault{Endpoint: livestat.EndpointNuoyunUserDurations, ErrCode: 400, ErrMsg: "网络错误",
		When: func(r livestattest.Request) bool { return bytes.Contains(r.Body, []byte(`"page":3,`)) }})
	err := syncRows(ctx, c, cfg, &bytes.Buffer{})
	require.ErrorContains(t, err, "page 3 of window")
	assert.Equal(t, checkpoint{WindowEnd: now.Unix(), NextPage: 3}, readCheckpoint(t, cfg.checkpoint))
	assert.Len(t, storedKeys(t, cfg.out), 20)

	// Run 2, later, resumes the same window from page 2.
	now = now.Add(time.Hour)
	var out bytes.Buffer
	require.NoError(t, syncRows(ctx, c, cfg, &out))
	assert.Contains(t, out.String(), "resuming window")
	assert.Len(t, storedKeys(t, cfg.out), 50)
	assert.Equal(t, checkpoint{SyncedUntil: now.Add(-time.Hour).Unix()}, readCheckpoint(t, cfg.checkpoint))
	last, _ := srv.LastRequest(livestat.EndpointNuoyunUserDurations)
	assert.Contains(t, string(last.Body), `"update_time_end":`+jsonNumber(now.Add(-time.Hour).Unix()))

	// Two rows change after the window; run 3 fetches only them.
	rows[3].LastVisitTime = livestat.ChinaTime{Time: now.Add(10 * time.Minute)}
	rows[9].LastVisitTime = livestat.ChinaTime{Time: now.Add(20 * time.Minute)}
	srv.SetNuoyun(rows)
	now = now.Add(time.Hour)
	out.Reset()
	require.NoError(t, syncRows(ctx, c, cfg, &out))
	assert.Contains(t, out.String(), "2 rows stored")
	assert.Equal(t, checkpoint{SyncedUntil: now.Unix()}, readCheckpoint(t, cfg.checkpoint))
}

func jsonNumber(n int64) string { b, _ := json.Marshal(n); return string(b) }

func readCheckpoint(t *testing.T, path string) checkpoint {
	t.Helper()
	cp, err := loadCheckpoint(path, -1)
	require.NoError(t, err)
	return cp
}

// storedKeys returns the distinct (room, user) keys in the rows file.
func storedKeys(t *testing.T, path string) map[[2]livestat.FlexInt]bool {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	keys := map[[2]livestat.FlexInt]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r livestat.UserDuration
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
		keys[[2]livestat.FlexInt{r.RoomID, r.WeChatUserSpaceID}] = true
	}
	require.NoError(t, sc.Err())
	return keys
}

// With NUOYUN_APP_KEY and NUOYUN_APP_SECRET, the program signs its requests
// and talks to NUOYUN_BASE_URL when it is set.
func TestRealAPIPath(t *testing.T) {
	srv := livestattest.NewServer(t, livestattest.Options{
		Nuoyun: livestattest.GenerateDurations(30, 3), NuoyunUserSpaceID: 42,
		NuoyunAppKey: "key-1", NuoyunAppSecret: "secret-1",
	})
	dir := t.TempDir()
	args := []string{"-checkpoint", filepath.Join(dir, "cp.json"), "-out", filepath.Join(dir, "rows.jsonl")}
	env := map[string]string{
		"NUOYUN_APP_KEY": srv.NuoyunAppKey(), "NUOYUN_APP_SECRET": srv.NuoyunAppSecret(),
		"NUOYUN_BASE_URL": srv.URL(), "NUOYUN_USER_SPACE_ID": "42",
	}
	var out bytes.Buffer
	require.NoError(t, realMain(context.Background(), args, &out, func(k string) string { return env[k] }))
	assert.Contains(t, out.String(), "30 rows stored")
	assert.Len(t, storedKeys(t, filepath.Join(dir, "rows.jsonl")), 30)
}

// Half the credentials is a mistake: neither offline mode nor requests
// signed with an empty secret.
func TestHalfTheCredentialsIsAnError(t *testing.T) {
	srv := livestattest.NewServer(t, livestattest.Options{Nuoyun: livestattest.GenerateDurations(3, 1), NuoyunUserSpaceID: 42})
	for _, half := range []map[string]string{{"NUOYUN_APP_KEY": "key-1"}, {"NUOYUN_APP_SECRET": "secret-1"}} {
		dir := t.TempDir()
		args := []string{"-checkpoint", filepath.Join(dir, "cp.json"), "-out", filepath.Join(dir, "rows.jsonl")}
		env := map[string]string{"NUOYUN_BASE_URL": srv.URL(), "NUOYUN_USER_SPACE_ID": "42"}
		maps.Copy(env, half)
		var out bytes.Buffer
		err := realMain(context.Background(), args, &out, func(k string) string { return env[k] })
		assert.ErrorContains(t, err, "set both NUOYUN_APP_KEY and NUOYUN_APP_SECRET, or neither", half)
		assert.Empty(t, out.String(), half)
		assert.Equal(t, 0, srv.TotalCalls(), "nothing sent")
		entries, _ := os.ReadDir(dir)
		assert.Empty(t, entries, "no files written")
	}
}

// A run during which the data changes (here: a row removed, so page 2's
// total is one less than page 1's) cannot tell whether it skipped a row: it
// fails, exits non-zero, and leaves the window open instead of marking it
// synced; the next run resumes it and completes.
func TestRunFailsWhenTheTotalChanges(t *testing.T) {
	rows := livestattest.GenerateDurations(50, 7)
	srv := livestattest.NewServer(t, livestattest.Options{Nuoyun: rows, NuoyunUserSpaceID: 42})
	dir := t.TempDir()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cfg := config{
		checkpoint: filepath.Join(dir, "cp.json"), out: filepath.Join(dir, "rows.jsonl"),
		pageSize: 10, userSpaceID: 42, now: func() time.Time { return now },
	}
	c := srv.Client(livestat.WithNuoyunRateLimit(0, 0))
	ctx := context.Background()

	// Page 2 as the server would send it after a row left the window.
	p2, err := c.Nuoyun.GetUserDurations(ctx, livestat.UserDurationRequest{Page: 2, PageSize: 10, WeChatUserSpaceID: 42, UpdateTimeEnd: livestat.UnixTime(now.Unix())})
	require.NoError(t, err)
	p2.Data.Total--
	body, err := json.Marshal(p2)
	require.NoError(t, err)
	srv.Fail(livestattest.Fault{Endpoint: livestat.EndpointNuoyunUserDurations, Body: string(body),
		When: func(r livestattest.Request) bool { return bytes.Contains(r.Body, []byte(`"page":2,`)) }})

	err = syncRows(ctx, c, cfg, &bytes.Buffer{})
	require.ErrorIs(t, err, livestat.ErrPagination, "the run is not complete")
	assert.ErrorContains(t, err, "the total changed from 50 (page 1) to 49 (page 2)")
	assert.Equal(t, checkpoint{WindowEnd: now.Unix(), NextPage: 2}, readCheckpoint(t, cfg.checkpoint), "the window stays open")
	assert.Len(t, storedKeys(t, cfg.out), 10, "the rows of page 1")

	// The next run resumes the window and completes it.
	now = now.Add(time.Hour)
	var out bytes.Buffer
	require.NoError(t, syncRows(ctx, c, cfg, &out))
	assert.Len(t, storedKeys(t, cfg.out), 50)
	assert.Equal(t, checkpoint{SyncedUntil: now.Add(-time.Hour).Unix()}, readCheckpoint(t, cfg.checkpoint))
}
