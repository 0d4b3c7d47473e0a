package livestat

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Scrubbing: the credentials layer replaces every credential value of an
// attempt with REDACTED in whatever leaves it towards the caller or the
// user's middleware and traces (transport errors, reply snippets, trace
// hooks). A value is looked for in every encoding livestat itself may have
// put it in: as it is, query-escaped (url.Values.Encode), path-escaped,
// JSON-escaped (encoding/json, with and without HTML escaping) and
// Go-quoted (%q, as *url.Error quotes its URL).

// minScrubLen is the shortest value scrubbed from messages: replacing a
// one- or two-character value everywhere would garble the message, and
// such a value protects nothing.
const minScrubLen = 4

// secretForms returns every encoding of each value in values that is at
// least minScrubLen long, longest first, so that a longer form is replaced
// before a shorter one inside it.
func secretForms(values []string) []string {
	var forms []string
	for _, v := range values {
		if len(v) < minScrubLen {
			continue
		}
		forms = append(forms, v, url.QueryEscape(v), url.PathEscape(v), jsonEscape(v, true), jsonEscape(v, false))
		if q := strconv.Quote(v); len(q) >= 2 {
			forms = append(forms, q[1:len(q)-1])
		}
	}
	slices.SortFunc(forms, func(a, b string) int { return len(b) - len(a) })
	return slices.Compact(forms)
}

// jsonEscape returns v as encoding/json writes it inside a string, without
// the quotes.
func jsonEscape(v string, html bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(html)
	if enc.Encode(v) != nil {
		return v
	}
	s := strings.TrimSuffix(b.String(), "\n")
	return strings.TrimSuffix(strings.TrimPrefix(s, `"`), `"`)
}

// scrubString returns s with every form replaced by REDACTED.
func scrubString(s string, forms []string) string {
	for _, f := range forms {
		if strings.Contains(s, f) {
			s = strings.ReplaceAll(s, f, redacted)
		}
	}
	return s
}

func hasForm(s string, forms []string) bool {
	for _, f := range forms {
		if strings.Contains(s, f) {
			return true
		}
	}
	return false
}

// scrubBytes is scrubString for a body.
func scrubBytes(b []byte, forms []string) []byte {
	for _, f := range forms {
		if bytes.Contains(b, []byte(f)) {
			b = bytes.ReplaceAll(b, []byte(f), []byte(redacted))
		}
	}
	return b
}

// scrubError returns err with no credential anywhere in its tree: every
// *url.Error is copied with its URL redacted (redactURL and forms), and
// every error whose tree quotes a form is replaced by a copy that does not.
// The types livestat and users classify by (*url.Error, *net.OpError,
// *net.DNSError, *os.SyscallError) are copied as their own type; any other
// error that quotes a credential becomes a *scrubbedError with the
// scrubbed message, which keeps its Timeout and unwraps to the scrubbed
// copies of what it wrapped, so that errors.Is still finds sentinels such
// as context.DeadlineExceeded or syscall.ECONNRESET. Errors that quote no
// credential are kept as they are.
func scrubError(err error, forms []string) error {
	if err == nil {
		return nil
	}
	if ue, ok := err.(*url.Error); ok {
		return &url.Error{Op: ue.Op, URL: scrubString(redactURL(ue.URL), forms), Err: scrubError(ue.Err, forms)}
	}
	if !treeLeaks(err, forms) {
		return err
	}
	switch e := err.(type) {
	case *net.OpError:
		c := *e
		c.Err = scrubError(e.Err, forms)
		return &c
	case *os.SyscallError:
		return &os.SyscallError{Syscall: scrubString(e.Syscall, forms), Err: scrubError(e.Err, forms)}
	case *net.DNSError:
		c := *e
		c.Err, c.Name, c.Server = scrubString(e.Err, forms), scrubString(e.Name, forms), scrubString(e.Server, forms)
		c.UnwrapErr = scrubError(e.UnwrapErr, forms)
		return &c
	}
	se := &scrubbedError{msg: scrubString(err.Error(), forms)}
	var ne net.Error
	se.timeout = errors.As(err, &ne) && ne.Timeout()
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		if inner := u.Unwrap(); inner != nil {
			se.errs = []error{scrubError(inner, forms)}
		}
	case interface{ Unwrap() []error }:
		for _, inner := range u.Unwrap() {
			se.errs = append(se.errs, scrubError(inner, forms))
		}
	}
	if len(se.errs) > 1 {
		return &scrubbedJoin{se}
	}
	return se
}

// treeLeaks reports whether an error in err's tree quotes a form, in its
// message or, for a *url.Error, its URL.
func treeLeaks(err error, forms []string) bool {
	if err == nil {
		return false
	}
	if hasForm(err.Error(), forms) {
		return true
	}
	switch u := err.(type) {
	case *url.Error:
		return true // always rebuilt, for redactURL
	case interface{ Unwrap() error }:
		return treeLeaks(u.Unwrap(), forms)
	case interface{ Unwrap() []error }:
		return slices.ContainsFunc(u.Unwrap(), func(e error) bool { return treeLeaks(e, forms) })
	}
	return false
}

// scrubbedError stands in for an error whose message quoted a
// credential: it has the message with REDACTED in its place, and unwraps
// to the scrubbed copy of what that error wrapped.
type scrubbedError struct {
	msg     string
	errs    []error
	timeout bool
}

func (e *scrubbedError) Error() string { return e.msg }

// Timeout keeps the verdict of the error it replaces, for net.Error users.
func (e *scrubbedError) Timeout() bool { return e.timeout }

// Temporary is false, as net.Error's deprecated method mostly is.
func (e *scrubbedError) Temporary() bool { return false }

func (e *scrubbedError) Unwrap() error {
	if len(e.errs) == 0 {
		return nil
	}
	return e.errs[0]
}

// scrubbedJoin is a scrubbedError that replaces an error wrapping several.
type scrubbedJoin struct{ *scrubbedError }

func (e *scrubbedJoin) Unwrap() []error { return e.errs }
