package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
)

// Sample data of the demo.
const (
	demoAnchor       = "demo-anchor"
	demoCorpLiving2  = "demo-corp-live-2"
	demoCorpLiving   = "demo-corp-live"
	demoSchoolLiving = "demo-class-live"
	demoUserSpaceID  = "34043700"
	demoPageSize     = 5
)

// runDemo runs every export command against an in-process livestattest
// server with generated sample data, and prints tables. It reads no
// credentials and sends nothing over the network.
func runDemo(ctx context.Context, args []string, sio stdio) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	timeout := fs.Duration("timeout", 0, "a deadline for the whole command, e.g. 30s (default: none)")
	err := fs.Parse(args)
	if err == flag.ErrHelp {
		fmt.Fprint(sio.stdout, demoUsage())
		return exitOK
	}
	if err != nil {
		err = flagError(err)
	}
	if err == nil && fs.NArg() > 0 {
		err = usagef("unexpected argument %q", fs.Arg(0))
	}
	if err == nil && *timeout < 0 {
		err = usagef("--timeout must not be negative")
	}
	if err != nil {
		fmt.Fprintf(sio.stderr, "livestat demo: %s\n\n%s", oneLine(err.Error()), demoUsage())
		return exitUsage
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}

	srv := livestattest.New(livestattest.Options{
		PageSize: demoPageSize,
		Living: map[string][]livestat.LivingViewer{
			demoCorpLiving:  livestattest.GenerateViewers(8, 1),
			demoCorpLiving2: livestattest.GenerateViewers(3, 2),
		},
		// The member whose two corp broadcasts the demo lists.
		UserLivings: map[string][]string{demoAnchor: {demoCorpLiving, demoCorpLiving2}},
		School:      map[string]livestattest.School{demoSchoolLiving: livestattest.GenerateSchool(10, 1)},
		Nuoyun:      livestattest.GenerateDurations(12, 1),
		// The demo's Nuoyun account, and a key and secret to sign with.
		NuoyunUserSpaceID: 34043700,
		NuoyunAppKey:      "demo-app-key",
		NuoyunAppSecret:   "demo-app-secret",
	})
	defer srv.Close()
	c, err := livestat.NewClient(srv.ClientOptions()...)
	if err != nil {
		fmt.Fprintf(sio.stderr, "livestat demo: %s\n", oneLine(err.Error()))
		return exitFailure
	}

	fmt.Fprintf(sio.stdout, "livestat demo: sample data from a fake server inside this program (no credentials, no network).\n")
	for _, step := range demoSteps() {
		cmd := findCommand(step[0])
		fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
		check := cmd.flags(fs)
		if err := fs.Parse(step[1:]); err != nil || check() != nil {
			panic("livestat demo: bad step " + strings.Join(step, " "))
		}
		fmt.Fprintf(sio.stdout, "\n$ livestat %s\n", strings.Join(step, " "))
		var prog *progress
		if sio.stderrTTY {
			prog = &progress{w: sio.stderr, name: cmd.name}
		}
		out := newOutput(sio.stdout, outputOptions{format: formatTable, name: cmd.name}, prog)
		err := cmd.export(ctx, c, out)
		if err == nil {
			err = out.close()
		}
		prog.clear()
		if err != nil {
			fmt.Fprintln(sio.stderr, failureLine("demo", err, commonFlags{timeout: *timeout}, 0, false))
			return exitFailure
		}
	}
	fmt.Fprint(sio.stdout, `
To export your own data, set credentials and name a broadcast:
  WECOM_CORP_ID=ww... WECOM_CORP_SECRET=... livestat wecom-school-watch --living-id <livingid> --format csv --out watched.csv
  WECOM_CORP_ID=ww... WECOM_CORP_SECRET=... livestat wecom-school-attendance --user-id <teacher> --since 2026-09-01 --min 80% --out attendance.xlsx
  NUOYUN_APP_KEY=... NUOYUN_APP_SECRET=... livestat nuoyun-durations --user-space-id <id> --update-time-start <unix>
`)
	return exitOK
}

// demoSteps are the command lines the demo runs.
func demoSteps() [][]string {
	return [][]string{
		{"wecom-livings", "--user-id", demoAnchor, "--details"},
		{"wecom-living-info", "--living-id", demoCorpLiving},
		{"wecom-school-living-info", "--living-id", demoSchoolLiving},
		{"wecom-watch", "--living-id", demoCorpLiving},
		{"wecom-school-watch", "--living-id", demoSchoolLiving},
		{"wecom-school-unwatch", "--living-id", demoSchoolLiving},
		{"wecom-school-attendance", "--living-id", demoSchoolLiving, "--min", "50%"},
		{"wecom-attendance", "--user-id", demoAnchor, "--min", "10m"},
		{"nuoyun-durations", "--user-space-id", demoUserSpaceID, "--sort", "desc", "--page-size", fmt.Sprint(demoPageSize)},
	}
}

func demoUsage() string {
	return `Usage:
  livestat demo [--timeout DURATION]

Runs wecom-livings, wecom-living-info, wecom-school-living-info, wecom-watch,
wecom-school-watch, wecom-school-unwatch, wecom-school-attendance,
wecom-attendance and nuoyun-durations against a fake server inside this
program, with sample data, and prints tables.
It needs no credentials and sends nothing over the network.
`
}
