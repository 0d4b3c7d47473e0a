// Command livestat exports live-viewing statistics from WeCom (企业微信) and
// Nuoyun (诺云直播) as JSON lines, CSV or readable tables.
//
//	livestat <command> [flags]
//
// Commands:
//
//	wecom-livings         --user-id USERID [--limit N] [--details]
//	                                       a member's livingids (with --details, each living's details)
//	wecom-living-info     --living-id ID   a corp broadcast's details
//	wecom-school-living-info --living-id ID a school broadcast's details with its living_range
//	wecom-watch           --living-id ID   viewers of a corp broadcast (kinds user, external_user)
//	wecom-school-watch    --living-id ID   viewers of a school broadcast (student, parent, visitor)
//	wecom-school-unwatch  --living-id ID   students and parents who did not watch (student, parent)
//	nuoyun-durations      [--user-space-id N] [--update-time-start UNIX] [--update-time-end UNIX]
//	                      [--sort asc|desc] [--page-size N]     Nuoyun watch durations (user)
//	demo                  all of them against a built-in fake server; no credentials, no network
//
// Common flags, after the command name: --format jsonl|csv|table (default
// table when stdout is a terminal, jsonl otherwise), --out FILE, --timeout
// DURATION (a deadline for the whole command).
//
// Environment: WECOM_CORP_ID, WECOM_CORP_SECRET, WECOM_BASE_URL; NUOYUN_BASE_URL,
// NUOYUN_APP_KEY, NUOYUN_APP_SECRET.
//
// Exit status: 0 success; 2 usage error (nothing was sent); 1 any other
// failure, with one line on stderr naming the endpoint and the error code.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/livestat/livestat"
	"golang.org/x/term"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], stdio{
		stdout:    os.Stdout,
		stderr:    os.Stderr,
		getenv:    os.Getenv,
		stdoutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		stderrTTY: term.IsTerminal(int(os.Stderr.Fd())),
	})
	stop()
	os.Exit(code)
}

// stdio is the process environment run works in; tests supply their own.
type stdio struct {
	stdout, stderr       io.Writer
	getenv               func(string) string
	stdoutTTY, stderrTTY bool // whether stdout / stderr is a terminal
}

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// command is one subcommand. flags registers its own flags on fs and
// returns a check of their values, run after parsing.
type command struct {
	name    string
	args    string // synopsis of its own flags
	summary string
	vendor  livestat.Vendor // whose credentials it needs; "" for none
	flags   func(fs *flag.FlagSet) (check func() error)
	// export streams the rows to out.
	export func(ctx context.Context, c *livestat.Client, out *output) error
}

func commands() []*command {
	return []*command{
		wecomLivingsCmd(), wecomLivingInfoCmd(), wecomSchoolLivingInfoCmd(),
		wecomWatchCmd(), wecomSchoolWatchCmd(), wecomSchoolUnwatchCmd(), nuoyunDurationsCmd(),
	}
}

func findCommand(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

// usageError is a mistake in the command line or the environment: exit 2,
// before any request.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// run executes the command line args and returns the exit status.
func run(ctx context.Context, args []string, sio stdio) int {
	if len(args) == 0 {
		fmt.Fprint(sio.stderr, mainUsage())
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(sio.stdout, mainUsage())
		return exitOK
	case "demo":
		return runDemo(ctx, args[1:], sio)
	}
	cmd := findCommand(name)
	if cmd == nil {
		if strings.HasPrefix(name, "-") {
			fmt.Fprintf(sio.stderr, "livestat: flags go after the command name, e.g. livestat wecom-watch %s ...\n\n", name)
		} else {
			fmt.Fprintf(sio.stderr, "livestat: unknown command %q\n\n", name)
		}
		fmt.Fprint(sio.stderr, mainUsage())
		return exitUsage
	}

	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var co commonFlags
	co.register(fs)
	check := cmd.flags(fs)
	err := fs.Parse(args[1:])
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(sio.stdout, commandUsage(cmd, fs))
		return exitOK
	}
	if err == nil && fs.NArg() > 0 {
		err = usagef("unexpected argument %q", fs.Arg(0))
	}
	if err == nil {
		err = co.check()
	}
	if err == nil {
		err = check()
	}
	var c *livestat.Client
	if err == nil {
		c, err = clientFromEnv(sio.getenv, cmd.vendor)
	}
	if err == nil && co.out != "" {
		err = checkOut(co.out)
	}
	if err != nil {
		fmt.Fprintf(sio.stderr, "livestat %s: %s\n\n", name, oneLine(err.Error()))
		fmt.Fprint(sio.stderr, commandUsage(cmd, fs))
		return exitUsage
	}
	return export(ctx, cmd, c, co, sio)
}

// commonFlags are the flags every export command has.
type commonFlags struct {
	format  string
	out     string
	timeout time.Duration
}

func (co *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&co.format, "format", "", "`FORMAT`: jsonl, csv or table (default: table when stdout is a terminal, jsonl otherwise)")
	fs.StringVar(&co.out, "out", "", "write to `FILE` instead of stdout; a regular file is replaced only when the export is complete (a FIFO, a device or /dev/stdout is written as rows arrive)")
	fs.DurationVar(&co.timeout, "timeout", 0, "a deadline for the whole command: a Go `DURATION` such as 30s or 5m (default: none)")
}

func (co *commonFlags) check() error {
	switch co.format {
	case "", formatJSONL, formatCSV, formatTable:
	default:
		return usagef("--format must be jsonl, csv or table, not %q", co.format)
	}
	if co.timeout < 0 {
		return usagef("--timeout must not be negative")
	}
	return nil
}

// export runs cmd and writes its rows where co says.
func export(ctx context.Context, cmd *command, c *livestat.Client, co commonFlags, sio stdio) int {
	if co.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, co.timeout)
		defer cancel()
	}
	format := co.format
	if format == "" {
		format = formatJSONL
		if co.out == "" && sio.stdoutTTY {
			format = formatTable
		}
	}

	dst := sio.stdout
	var file *outFile
	if co.out != "" {
		// Before anything is sent, so that a mistake costs no download.
		var err error
		if file, err = openOut(ctx, co.out); err != nil {
			fmt.Fprintln(sio.stderr, failureLine(cmd.name, err, co, 0, false))
			return exitFailure
		}
		defer file.abort() // a no-op after commit
		dst = file
	}
	var prog *progress
	if sio.stderrTTY {
		prog = &progress{w: sio.stderr, name: cmd.name}
	}
	out := newOutput(dst, format, prog)

	err := cmd.export(ctx, c, out)
	if err == nil {
		err = out.close()
	}
	if err == nil && file != nil {
		err = file.commit()
	}
	prog.clear()
	if err != nil {
		fmt.Fprintln(sio.stderr, failureLine(cmd.name, err, co, out.flushed, file != nil && file.replaces()))
		if errors.Is(err, livestat.ErrNoCredentials) {
			// Missing credentials are a usage error, however they
			// got past the checks of the environment.
			return exitUsage
		}
		return exitFailure
	}
	return exitOK
}

// failureLine is the one line that tells what failed. rows is the number
// of rows the output took; replaced says that --out FILE appears only on
// success.
func failureLine(name string, err error, co commonFlags, rows int, replaced bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "livestat %s: ", name)
	var apiErr *livestat.APIError
	switch {
	case errors.As(err, &apiErr):
		code := "errcode"
		if apiErr.Vendor == livestat.VendorNuoyun {
			code = "code"
		}
		fmt.Fprintf(&b, "%s %s failed: %s %d: %s", apiErr.Vendor, apiErr.Endpoint, code, apiErr.Code, apiErr.Message)
		if errors.Is(err, livestat.ErrInvalidCredentials) {
			b.WriteString(" (check WECOM_CORP_ID and WECOM_CORP_SECRET)")
		}
	case isWriteError(err):
		// How much the destination took before it failed is not known.
		fmt.Fprintf(&b, "cannot write the output: %v", err)
		if replaced {
			fmt.Fprintf(&b, "; %s was not written", co.out)
		}
		return oneLine(b.String())
	case errors.Is(err, context.DeadlineExceeded) && co.timeout > 0:
		fmt.Fprintf(&b, "timed out after %s (--timeout): %s", co.timeout, strings.TrimPrefix(err.Error(), "livestat: "))
	case errors.Is(err, context.Canceled):
		b.WriteString("interrupted")
	default:
		b.WriteString(strings.TrimPrefix(err.Error(), "livestat: "))
	}
	switch {
	case replaced:
		fmt.Fprintf(&b, "; %s was not written", co.out)
	case rows > 0:
		fmt.Fprintf(&b, "; the output is incomplete (%d rows were written)", rows)
	}
	return oneLine(b.String())
}

// oneLine keeps a message on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// clientFromEnv builds the client from the environment. vendor says whose
// credentials and base URL the command uses; the other vendor's variables
// are not read.
func clientFromEnv(getenv func(string) string, vendor livestat.Vendor) (*livestat.Client, error) {
	var opts []livestat.Option
	switch vendor {
	case livestat.VendorWeCom:
		if u := getenv("WECOM_BASE_URL"); u != "" {
			opts = append(opts, livestat.WithWeComBaseURL(u))
		}
		id, secret := getenv("WECOM_CORP_ID"), getenv("WECOM_CORP_SECRET")
		if id == "" || secret == "" {
			return nil, usagef("WECOM_CORP_ID and WECOM_CORP_SECRET must be set")
		}
		opts = append(opts, livestat.WithWeComApp(id, secret))
	case livestat.VendorNuoyun:
		if u := getenv("NUOYUN_BASE_URL"); u != "" {
			opts = append(opts, livestat.WithNuoyunBaseURL(u))
		}
		o, err := nuoyunAuthFromEnv(getenv)
		if err != nil {
			return nil, err
		}
		opts = append(opts, o...)
	}
	c, err := livestat.NewClient(opts...)
	if err != nil {
		return nil, usagef("%s", envMessage(err))
	}
	return c, nil
}

// envMessage words an error of livestat.NewClient for the command line:
// the environment variable is named instead of the Go option it was given
// to, and the CLI has no way to allow http:// off loopback, so none is
// suggested.
func envMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), "livestat: ")
	for _, v := range [...]struct{ option, env string }{
		{"WithWeComBaseURL: ", "WECOM_BASE_URL: "},
		{"WithNuoyunBaseURL: ", "NUOYUN_BASE_URL: "},
	} {
		if rest, ok := strings.CutPrefix(msg, v.option); ok {
			msg = v.env + rest
		}
	}
	return strings.Replace(msg, " (or with WithInsecureHTTP)", "", 1)
}

func mainUsage() string {
	var b strings.Builder
	b.WriteString(`livestat exports live-viewing statistics from WeCom (企业微信) and Nuoyun (诺云直播).

Usage:
  livestat <command> [flags]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-24s %s\n", c.name, c.summary)
		fmt.Fprintf(&b, "  %-24s   %s\n", "", c.args)
	}
	fmt.Fprintf(&b, "  %-24s %s\n", "demo", "run every command against a built-in fake server with sample data (no credentials, no network)")
	b.WriteString(commonHelp)
	b.WriteString("\nRun 'livestat <command> -h' for the flags of a command.\n")
	return b.String()
}

const commonHelp = `
Common flags (after the command name):
  --format jsonl|csv|table   default: table when stdout is a terminal, jsonl otherwise
  --out FILE                 write to FILE; a regular file is replaced only when the
                             export is complete (a FIFO, a device or /dev/stdout is
                             written as rows arrive)
  --timeout DURATION         a deadline for the whole command (e.g. 30s, 5m)

Environment:
  WECOM_CORP_ID, WECOM_CORP_SECRET   the corp and the app secret (wecom-* commands)
  WECOM_BASE_URL                     default https://qyapi.weixin.qq.com
  NUOYUN_APP_KEY, NUOYUN_APP_SECRET  the Nuoyun app key and secret (nuoyun-durations)
  NUOYUN_BASE_URL                    default https://gateway.nuoyunapi.com

Exit status: 0 success; 2 usage error (nothing was sent); 1 any other failure.
`

func commandUsage(cmd *command, fs *flag.FlagSet) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage:\n  livestat %s %s [--format jsonl|csv|table] [--out FILE] [--timeout DURATION]\n\n%s\n\nFlags:\n", cmd.name, cmd.args, cmd.summary)
	var lines []string
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		arg := "--" + f.Name
		if name != "" {
			arg += " " + name
		}
		lines = append(lines, fmt.Sprintf("  %-28s %s", arg, usage))
	})
	sort.Strings(lines)
	b.WriteString(strings.Join(lines, "\n"))
	b.WriteString("\n")
	b.WriteString(commonHelp[strings.Index(commonHelp, "\nEnvironment:"):])
	return b.String()
}
