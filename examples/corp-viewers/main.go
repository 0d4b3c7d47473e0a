// Command corp-viewers lists every viewer of a WeCom corp broadcast (直播),
// corp members and external contacts, with their watch time.
//
//	WECOM_CORP_ID=ww... WECOM_CORP_SECRET=... go run ./examples/corp-viewers -living-id LIVINGID
//
// WECOM_BASE_URL, when set, replaces https://qyapi.weixin.qq.com (a proxy,
// a local fake). Without WECOM_CORP_ID and WECOM_CORP_SECRET it runs
// offline, against a livestattest fake server with generated viewers.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/examples/internal/exampleenv"
	"github.com/livestat/livestat/livestattest"
)

func main() { exampleenv.Main("corp-viewers", realMain) }

const offlineLivingID = "offline-corp-live"

func realMain(ctx context.Context, args []string, w io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("corp-viewers", flag.ContinueOnError)
	livingID := fs.String("living-id", "", "the broadcast's livingid (required with credentials)")
	if err := fs.Parse(args); err != nil {
		return err
	}

	env, err := exampleenv.WeCom(getenv)
	if err != nil {
		return err
	}
	if env.Offline() {
		srv := env.Fake(w, "sample data.", livestattest.Options{
			PageSize: 10,
			Living:   map[string][]livestat.LivingViewer{offlineLivingID: livestattest.GenerateViewers(42, 1)},
		})
		defer srv.Close()
		return listViewers(ctx, srv.Client(), offlineLivingID, w)
	}
	if *livingID == "" {
		return errors.New("-living-id is required")
	}
	c, err := livestat.NewClient(livestat.WithWeComApp(env.ID, env.Secret), livestat.WithWeComBaseURL(env.BaseURL))
	if err != nil {
		return err
	}
	return listViewers(ctx, c, *livingID, w)
}

// listViewers prints one line per viewer and a summary.
func listViewers(ctx context.Context, c *livestat.Client, livingID string, w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tID\tNAME\tWATCHED\tCOMMENTED")
	var members, externals int
	var total time.Duration
	for v, err := range c.Living.Viewers(ctx, livestat.WatchStatRequest{LivingID: livingID}) {
		if err != nil {
			return err // the rows printed so far are real, but the list is incomplete
		}
		switch v.Kind {
		case livestat.KindUser:
			members++
		case livestat.KindExternalUser:
			externals++
		}
		total += v.WatchTime.Duration()
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%v\n", v.Kind, v.ID(), v.Name, v.WatchTime.Duration(), bool(v.IsComment))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d viewers: %d corp members, %d external contacts; %v watched in total\n",
		members+externals, members, externals, total)
	return nil
}
