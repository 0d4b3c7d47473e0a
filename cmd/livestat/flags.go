package main

import (
	"errors"
	"flag"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// formatOf is the --format value s names, case-insensitively; "" if none.
func formatOf(s string) string {
	switch f := strings.ToLower(s); f {
	case formatJSONL, formatCSV, formatTable, formatXLSX:
		return f
	}
	return ""
}

// formatFromExt is the format the extension of --out name implies, "" if
// it implies none.
func formatFromExt(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv":
		return formatCSV
	case ".json", ".jsonl", ".ndjson":
		return formatJSONL
	case ".xlsx":
		return formatXLSX
	case ".txt", ".table":
		return formatTable
	}
	return ""
}

// timeFlag is a time flag: Unix seconds, a date (2026-09-01), a local
// date and time (2026-09-01 08:00 or 2026-09-01T08:00:00), or an RFC 3339
// time (2026-09-01T08:00:00+08:00). A date or a time without a zone is in
// the local time zone. A date alone is its first second, or its last for a
// flag that ends a range (endOfDay), so that --until 2026-09-01 includes
// that day.
type timeFlag struct {
	unix     *int64
	endOfDay bool
}

var unixSeconds = regexp.MustCompile(`^[0-9]+$`)

func (f timeFlag) String() string {
	if f.unix == nil || *f.unix == 0 {
		return ""
	}
	return strconv.FormatInt(*f.unix, 10)
}

func (f timeFlag) Set(s string) error {
	s = strings.TrimSpace(s)
	if unixSeconds.MatchString(s) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return errors.New("out of range")
		}
		*f.unix = n
		return nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		*f.unix = t.Unix()
		return nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			*f.unix = t.Unix()
			return nil
		}
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, time.Local); err == nil {
		if f.endOfDay {
			t = t.AddDate(0, 0, 1).Add(-time.Second)
		}
		*f.unix = t.Unix()
		return nil
	}
	return errors.New("want Unix seconds, a date (2026-09-01), a local time (2026-09-01 08:00) or an RFC 3339 time (2026-09-01T08:00:00+08:00)")
}

// timeVar defines a time flag; see timeFlag.
func timeVar(fs *flag.FlagSet, p *int64, name string, endOfDay bool, usage string) {
	fs.Var(timeFlag{unix: p, endOfDay: endOfDay}, name, usage)
}

// flagError words an error of flag.FlagSet.Parse with the --flag as the
// user types it: the flag package writes -flag.
func flagError(err error) error {
	msg := err.Error()
	for _, r := range [...]struct {
		re   *regexp.Regexp
		with string
	}{
		{regexp.MustCompile(`^flag provided but not defined: -+(.*)$`), "unknown flag --$1"},
		{regexp.MustCompile(`^flag needs an argument: -+(.*)$`), "flag --$1 needs a value"},
		{regexp.MustCompile(`(?s)^invalid value (".*") for flag -+([^:]*): (.*)$`), "--$2: invalid value $1: $3"},
		{regexp.MustCompile(`(?s)^invalid boolean value (".*") for -+([^:]*): (.*)$`), "--$2: invalid value $1: $3"},
		{regexp.MustCompile(`^invalid boolean flag -*([^:]*): (.*)$`), "--$1: $2"},
		{regexp.MustCompile(`^bad flag syntax: (.*)$`), "bad flag syntax: $1 (flags are --name VALUE or --name=VALUE)"},
	} {
		if r.re.MatchString(msg) {
			return usagef("%s", r.re.ReplaceAllString(msg, r.with))
		}
	}
	return usagef("%s", msg)
}
