// Command nuoyun-sync copies Nuoyun (诺云直播) viewer durations incrementally:
// each run fetches the rows updated since the previous run, and a run that
// stops half-way resumes where it stopped.
//
//	NUOYUN_APP_KEY=... NUOYUN_APP_SECRET=... NUOYUN_USER_SPACE_ID=... \
//	    go run ./examples/nuoyun-sync -checkpoint sync.json -out rows.jsonl
//
// How it works. A run syncs one update_time window [start, end]: start is
// where the previous complete run ended (or -since on the first run), end is
// the time the window opened. The window is saved in the checkpoint file
// before the first page, and the next page number after every page, once
// that page's rows are stored. A run that finds a window in progress resumes
// it with the same bounds, one page before the saved one: rows updated
// meanwhile leave the window and can shift later rows back by a few places,
// and reading one page again catches those. Rows are stored by upsert on
// (room_id, wechat_user_space_id), so a row read twice does no harm; windows
// share their boundary second for the same reason. A row updated during a
// run appears again in the next window.
//
// This example appends rows to a JSON Lines file; put your database upsert
// in its place (storeRows).
//
// NUOYUN_BASE_URL, when set, replaces https://gateway.nuoyunapi.com. Without
// NUOYUN_APP_KEY and NUOYUN_APP_SECRET it runs offline, against a
// livestattest fake server with generated rows, keeping its files in a
// temporary directory.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/examples/internal/exampleenv"
	"github.com/livestat/livestat/livestattest"
)

func main() { exampleenv.Main("nuoyun-sync", realMain) }

// offlineUserSpaceID is the fake account of the offline mode.
const offlineUserSpaceID = 34043700

func realMain(ctx context.Context, args []string, w io.Writer, getenv func(string) string) error {
	env, err := exampleenv.Nuoyun(getenv)
	if err != nil {
		return err
	}
	dir := "."
	if env.Offline() {
		dir = filepath.Join(os.TempDir(), "livestat-nuoyun-sync-offline")
	}
	fset := flag.NewFlagSet("nuoyun-sync", flag.ContinueOnError)
	cfg := config{now: time.Now, pageSize: livestat.MaxNuoyunPageSize}
	fset.StringVar(&cfg.checkpoint, "checkpoint", filepath.Join(dir, "nuoyun-sync.checkpoint.json"), "the checkpoint file")
	fset.StringVar(&cfg.out, "out", filepath.Join(dir, "nuoyun-sync.rows.jsonl"), "the JSON Lines file rows are appended to")
	fset.Int64Var(&cfg.since, "since", 0, "on the first run, sync rows updated from this Unix time on (0: all)")
	fset.IntVar(&cfg.pageSize, "page-size", cfg.pageSize, "rows per request (1-500)")
	if err := fset.Parse(args); err != nil {
		return err
	}

	var c *livestat.Client
	if env.Offline() {
		srv := env.Fake(w, "sample rows; files in "+dir, livestattest.Options{Nuoyun: livestattest.GenerateDurations(120, 1), NuoyunUserSpaceID: offlineUserSpaceID})
		defer srv.Close()
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		c = srv.Client()
		cfg.userSpaceID = offlineUserSpaceID
	} else {
		id, err := strconv.ParseInt(getenv("NUOYUN_USER_SPACE_ID"), 10, 64)
		if err != nil || id <= 0 {
			return errors.New("NUOYUN_USER_SPACE_ID must be set to the account's wechat_user_space_id")
		}
		cfg.userSpaceID = id
		auth := livestat.NewSignAuthorizer(env.ID, env.Secret)
		if c, err = livestat.NewClient(livestat.WithNuoyunAuth(auth), livestat.WithNuoyunBaseURL(env.BaseURL)); err != nil {
			return err
		}
	}
	return syncRows(ctx, c, cfg, w)
}

type config struct {
	checkpoint, out string
	since           int64
	pageSize        int
	userSpaceID     int64
	now             func() time.Time
}

// checkpoint is what a run leaves for the next one.
type checkpoint struct {
	// SyncedUntil is the end of the last window synced completely.
	SyncedUntil int64 `json:"synced_until"`
	// A window in progress: its bounds and the next page to fetch.
	WindowStart int64 `json:"window_start,omitempty"`
	WindowEnd   int64 `json:"window_end,omitempty"`
	NextPage    int   `json:"next_page,omitempty"`
}

func syncRows(ctx context.Context, c *livestat.Client, cfg config, w io.Writer) error {
	cp, err := loadCheckpoint(cfg.checkpoint, cfg.since)
	if err != nil {
		return err
	}
	page := 1
	if cp.NextPage > 0 {
		page = max(1, cp.NextPage-1)
		fmt.Fprintf(w, "resuming window %s at page %d\n", window(cp), page)
	} else {
		cp.WindowStart, cp.WindowEnd, cp.NextPage = cp.SyncedUntil, max(cfg.now().Unix(), cp.SyncedUntil), 1
		if err := saveCheckpoint(cfg.checkpoint, cp); err != nil {
			return err
		}
		fmt.Fprintf(w, "syncing window %s\n", window(cp))
	}

	out, err := os.OpenFile(cfg.out, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer out.Close()

	rows := 0
	req := livestat.UserDurationRequest{
		Page: page, PageSize: cfg.pageSize, Sort: livestat.SortAsc, WeChatUserSpaceID: cfg.userSpaceID,
		UpdateTimeStart: livestat.UnixTime(cp.WindowStart), UpdateTimeEnd: livestat.UnixTime(cp.WindowEnd),
	}
	for p, err := range c.Nuoyun.UserDurationPages(ctx, req) {
		if err != nil {
			return fmt.Errorf("page %d of window %s (%d rows stored; run again to resume): %w", cp.NextPage, window(cp), rows, err)
		}
		if err := storeRows(out, p.Data.List); err != nil {
			return err
		}
		rows += len(p.Data.List)
		// The checkpoint moves only after the rows are stored.
		cp.NextPage = p.Page + 1
		if err := saveCheckpoint(cfg.checkpoint, cp); err != nil {
			return err
		}
	}
	done := checkpoint{SyncedUntil: cp.WindowEnd}
	if err := saveCheckpoint(cfg.checkpoint, done); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d rows stored; synced until %s\n", rows, time.Unix(done.SyncedUntil, 0).Format(time.RFC3339))
	return nil
}

func window(cp checkpoint) string {
	f := func(t int64) string {
		if t == 0 {
			return "the beginning"
		}
		return time.Unix(t, 0).Format(time.RFC3339)
	}
	return "[" + f(cp.WindowStart) + ", " + f(cp.WindowEnd) + "]"
}

// storeRows appends rows to out, one JSON object a line, and flushes them
// to disk before the checkpoint says they are stored. Replace it with an
// upsert keyed by (room_id, wechat_user_space_id).
func storeRows(out *os.File, rows []livestat.UserDuration) error {
	enc := json.NewEncoder(out)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return out.Sync()
}

func loadCheckpoint(path string, since int64) (checkpoint, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return checkpoint{SyncedUntil: since}, nil
	}
	if err != nil {
		return checkpoint{}, err
	}
	var cp checkpoint
	if err := json.Unmarshal(b, &cp); err != nil {
		return checkpoint{}, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return cp, nil
}

// saveCheckpoint replaces the checkpoint atomically: a crash leaves the old
// one or the new one, never half of one.
func saveCheckpoint(path string, cp checkpoint) error {
	b, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
