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
//	wecom-school-attendance --living-id ID[,ID...] | --user-id USERID [--since TIME]
//	                      [--min 30m|80%] [--roster FILE]   a row per student, parent, visitor; class summaries
//	wecom-attendance      --living-id ID[,ID...] | --user-id USERID [--since TIME] [--min 30m|80%]
//	                                       a row per viewer with share and invitor; summaries
//	nuoyun-durations      [--user-space-id N] [--update-time-start TIME] [--update-time-end TIME]
//	                      [--sort asc|desc] [--page-size N]     Nuoyun watch durations (user)
//	demo                  all of them against a built-in fake server; no credentials, no network
//	help COMMAND, version
//
// Common flags, after the command name: --format jsonl|csv|table|xlsx (any
// case; default from the --out extension, else table when stdout is a
// terminal, jsonl otherwise), --excel (CSV for Excel), --out FILE, --timeout
// DURATION (a deadline for the whole command).
//
// Environment: WECOM_CORP_ID, WECOM_CORP_SECRET, WECOM_BASE_URL; NUOYUN_BASE_URL,
// NUOYUN_APP_KEY, NUOYUN_APP_SECRET.
//
// Exit status: 0 success; 2 usage error (nothing was sent); 130, 143, 129
// when SIGINT, SIGTERM or SIGHUP stopped it; 1 any other failure, with one
// line on stderr naming the endpoint and the error code.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/livestat/livestat"
	"golang.org/x/term"
)

func main() {
	// One context per signal, so that the exit status can tell which one
	// ended the command.
	intCtx, stopInt := signal.NotifyContext(context.Background(), os.Interrupt)
	termCtx, stopTerm := signal.NotifyContext(intCtx, syscall.SIGTERM)
	ctx, stopHup := signal.NotifyContext(termCtx, syscall.SIGHUP)
	code := run(ctx, os.Args[1:], stdio{
		stdout:    os.Stdout,
		stderr:    os.Stderr,
		getenv:    os.Getenv,
		stdoutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		stderrTTY: term.IsTerminal(int(os.Stderr.Fd())),
	})
	if code != exitOK {
		switch {
		case intCtx.Err() != nil:
			code = exitSignal + int(syscall.SIGINT)
		case termCtx.Err() != nil:
			code = exitSignal + int(syscall.SIGTERM)
		case ctx.Err() != nil:
			code = exitSignal + int(syscall.SIGHUP)
		}
	}
	stopHup()
	stopTerm()
	stopInt()
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
	// exitSignal plus the signal's number when SIGINT (130), SIGTERM (143)
	// or SIGHUP (129) stopped the command, as shells report it.
	exitSignal = 128
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
		wecomWatchCmd(), wecomSchoolWatchCmd(), wecomSchoolUnwatchCmd(),
		wecomSchoolAttendanceCmd(), wecomAttendanceCmd(), nuoyunDurationsCmd(),
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
	case "-h", "-help", "--help":
		fmt.Fprint(sio.stdout, mainUsage())
		return exitOK
	case "help":
		return runHelp(args[1:], sio)
	case "version", "-version", "--version":
		fmt.Fprintf(sio.stdout, "livestat %s (%s %s/%s)\n", livestat.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
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

	fs, co, check := cmd.flagSet()
	err := fs.Parse(args[1:])
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(sio.stdout, commandUsage(cmd, fs))
		return exitOK
	}
	if err != nil {
		err = flagError(err)
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
	return export(ctx, cmd, c, *co, sio)
}

// flagSet is the command's flags, the common ones included, and the check
// of their values.
func (cmd *command) flagSet() (*flag.FlagSet, *commonFlags, func() error) {
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	co := new(commonFlags)
	co.register(fs)
	return fs, co, cmd.flags(fs)
}

// runHelp is livestat help [COMMAND].
func runHelp(args []string, sio stdio) int {
	if len(args) == 0 {
		fmt.Fprint(sio.stdout, mainUsage())
		return exitOK
	}
	switch args[0] {
	case "demo":
		fmt.Fprint(sio.stdout, demoUsage())
		return exitOK
	case "version":
		fmt.Fprint(sio.stdout, "Usage:\n  livestat version\n\nPrints the version of livestat.\n")
		return exitOK
	case "help":
		fmt.Fprint(sio.stdout, mainUsage())
		return exitOK
	}
	cmd := findCommand(args[0])
	if cmd == nil {
		fmt.Fprintf(sio.stderr, "livestat help: unknown command %q\n\n%s", args[0], mainUsage())
		return exitUsage
	}
	fs, _, _ := cmd.flagSet()
	fmt.Fprint(sio.stdout, commandUsage(cmd, fs))
	return exitOK
}

// commonFlags are the flags every export command has.
type commonFlags struct {
	format  string
	excel   bool
	out     string
	timeout time.Duration
}

func (co *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&co.format, "format", "", "`FORMAT`: jsonl, csv, table or xlsx, in any case (default: from the --out extension .jsonl/.json, .csv, .txt or .xlsx; else table when stdout is a terminal, jsonl otherwise)")
	fs.BoolVar(&co.excel, "excel", false, "CSV for Excel: a UTF-8 BOM, and values that start with = + - @ made text with a leading ' (implies --format csv)")
	fs.StringVar(&co.out, "out", "", "write to `FILE` instead of stdout; a regular file is replaced only when the export is complete (a FIFO, a device or /dev/stdout is written as rows arrive)")
	fs.DurationVar(&co.timeout, "timeout", 0, "a deadline for the whole command: a Go `DURATION` such as 30s or 5m (default: none)")
}

// check checks the values and settles the format where the flags tell
// it: --format, else the --out extension, else csv for --excel. An
// unsettled format is chosen by export, from where stdout goes.
func (co *commonFlags) check() error {
	if co.format != "" {
		f := formatOf(co.format)
		if f == "" {
			return usagef("--format must be jsonl, csv, table or xlsx, not %q", co.format)
		}
		co.format = f
	} else if co.out != "" {
		co.format = formatFromExt(co.out)
	}
	if co.excel {
		switch co.format {
		case "":
			co.format = formatCSV
		case formatCSV:
		default:
			return usagef("--excel is for --format csv, not %s", co.format)
		}
	}
	if co.format == formatXLSX && co.out == "" {
		return usagef("--format xlsx needs --out FILE (a workbook is a file, not a stream of rows)")
	}
	if co.timeout < 0 {
		return usagef("--timeout must not be negative")
	}
	return nil
}

// export runs cmd and writes its rows where co says.
func export(ctx context.Context, cmd *command, c *livestat.Client, co commonFlags, sio stdio) int {
	start := time.Now()
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
		if file, err = openOut(ctx, co.out, start); err != nil {
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
	out := newOutput(dst, outputOptions{format: format, excel: co.excel, name: cmd.name}, prog)

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
	if file != nil && sio.stderrTTY {
		noun := "rows"
		if out.rows == 1 {
			noun = "row"
		}
		fmt.Fprintf(sio.stderr, "%d %s written to %s\n", out.rows, noun, co.out)
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
	b.WriteString("\nRun 'livestat help <command>' or 'livestat <command> --help' for the flags of a command;\n'livestat version' for the version.\n")
	return b.String()
}

const commonHelp = `
Common flags (after the command name):
  --format jsonl|csv|table|xlsx
                             in any case; default: from the --out extension (.jsonl
                             .json .csv .txt .xlsx), else table when stdout is a
                             terminal, jsonl otherwise; xlsx needs --out
  --excel                    CSV for Excel: a UTF-8 BOM, and values that start with
                             = + - @ made text (a leading ')
  --out FILE                 write to FILE; a regular file is replaced only when the
                             export is complete (a FIFO, a device or /dev/stdout is
                             written as rows arrive)
  --timeout DURATION         a deadline for the whole command (e.g. 30s, 5m)

Environment:
  WECOM_CORP_ID, WECOM_CORP_SECRET   the corp and the app secret (wecom-* commands)
  WECOM_BASE_URL                     default https://qyapi.weixin.qq.com
  NUOYUN_APP_KEY, NUOYUN_APP_SECRET  the Nuoyun app key and secret (nuoyun-durations)
  NUOYUN_BASE_URL                    default https://gateway.nuoyunapi.com

Exit status: 0 success; 2 usage error (nothing was sent); 1 any other failure;
130, 143 or 129 when SIGINT, SIGTERM or SIGHUP stopped it (--out FILE untouched).
`

func commandUsage(cmd *command, fs *flag.FlagSet) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage:\n  livestat %s %s [--format jsonl|csv|table|xlsx] [--excel] [--out FILE] [--timeout DURATION]\n\n%s\n\nFlags:\n", cmd.name, cmd.args, cmd.summary)
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
