package main

import (
	"context"
	"errors"
	"flag"

	"github.com/livestat/livestat"
)

// TEMPORARY until the Nuoyun client lands on main.
func nuoyunDurationsCmd() *command {
	var id int64
	return &command{
		name: "nuoyun-durations", args: "--user-space-id N", vendor: livestat.VendorNuoyun,
		summary: "Nuoyun watch durations: rows of kind user",
		flags: func(fs *flag.FlagSet) func() error {
			fs.Int64Var(&id, "user-space-id", 0, "wechat_user_space_id (required)")
			return func() error { return nil }
		},
		export: func(ctx context.Context, c *livestat.Client, out *output) error { return errors.New("not yet") },
	}
}

func nuoyunAuthFromEnv(getenv func(string) string) ([]livestat.Option, error) { return nil, nil }
