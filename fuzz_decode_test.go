package livestat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
)

// The decoder fuzz targets feed a fuzzed reply (status, Retry-After, body)
// through the client's own request path (send → once → decode) for each
// endpoint, against livestattest. Seeds live in testdata/fuzz/<FuzzName>/
// and run with plain `go test`; scripts/fuzz.sh runs each target for a set
// time.

// fuzzServer is a livestattest server whose next reply of an endpoint is
// set per input, and a client of it without retries.
type fuzzServer struct {
	srv *livestattest.Server
	c   *livestat.Client
}

func newFuzzServer(f *testing.F) *fuzzServer {
	srv := livestattest.NewServer(f, livestattest.Options{InMemory: true})
	return &fuzzServer{srv: srv, c: srv.Client(livestat.WithoutRetries(), livestat.WithNuoyunRateLimit(0, 0), livestat.WithMaxResponseBytes(1<<20))}
}

// set makes the next call of ep answer with status, retryAfter and body.
// A call after it (the replay after a rejected token) gets the fake's own
// reply: an unknown broadcast (errcode 40058).
func (s *fuzzServer) set(ep livestat.Endpoint, status uint16, retryAfter string, body []byte) {
	code := 100 + int(status)%500 // 100..599
	if code < 200 {
		code += 100 // net/http treats 1xx as interim replies
	}
	f := livestattest.Fault{Endpoint: ep, HTTPStatus: code, Body: string(body)}
	if code == http.StatusOK { // the body exactly, empty included
		f = livestattest.Fault{Endpoint: ep, Edit: func(livestattest.Request, []byte) []byte { return body }}
	}
	if retryAfter != "" {
		f.Header = http.Header{"Retry-After": {retryAfter}}
	}
	s.srv.Fail(f)
}

// checkCallResult holds for every single call: a result or a typed error,
// never both, never neither; an error names the endpoint, shows no secret
// and carries only a short printable snippet of the body.
func (s *fuzzServer) checkCallResult(t *testing.T, endpoint livestat.Endpoint, ok bool, err error) {
	t.Helper()
	if ok == (err != nil) {
		t.Fatalf("result present = %v with error %v", ok, err)
	}
	if err == nil {
		return
	}
	var (
		ae *livestat.APIError
		re *livestat.ResponseError
		te *livestat.TransportError
		ve *livestat.ValidationError
	)
	if !errors.As(err, &ae) && !errors.As(err, &re) && !errors.As(err, &te) && !errors.As(err, &ve) {
		t.Fatalf("untyped error %T: %v", err, err)
	}
	msg := fmt.Sprintf("%v %+v", err, err)
	if strings.Contains(msg, s.srv.CorpSecret()) || strings.Contains(msg, "livestattest-token-") {
		t.Fatalf("error leaks a secret: %s", msg)
	}
	if !strings.Contains(msg, string(endpoint)) {
		t.Fatalf("error does not name %s: %s", endpoint, msg)
	}
	if re != nil && (len(re.Snippet) > 120 || !utf8.ValidString(re.Snippet)) {
		t.Fatalf("bad snippet %q", re.Snippet)
	}
	if _, retry := errors.AsType[*livestat.RetryError](err); retry && !livestat.IsRetryable(err) {
		t.Fatalf("a livestat.RetryError around a final error: %v", err)
	}
}

// fuzzDecoder runs one endpoint's decoder over fuzzed replies. call makes
// one request and checks what only that endpoint knows about its result;
// the paging field every page must carry is the endpoint table's.
func fuzzDecoder(f *testing.F, endpoint livestat.Endpoint, call func(t *testing.T, ctx context.Context, c *livestat.Client) (bool, error)) {
	paging := tableCase(f, endpoint).flag
	s := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, status uint16, retryAfter string, body []byte) {
		s.set(endpoint, status, retryAfter, body)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ok, err := call(t, ctx, s.c)
		s.checkCallResult(t, endpoint, ok, err)
		checkPagingField(t, body, paging, ok, err)
	})
}

// checkPagingField holds for the page endpoints: a page is returned only
// when its reply has the paging field, and a reply rejected for lacking it
// indeed lacks it. Presence is read independently of the decoder, from the
// JSON tokens.
func checkPagingField(t *testing.T, body []byte, path []string, ok bool, err error) {
	t.Helper()
	field := strings.Join(path, ".")
	re, _ := errors.AsType[*livestat.ResponseError](err)
	missing := re != nil && re.Err != nil && re.Err.Error() == "the reply has no "+field+" field"
	if !ok && !missing {
		return
	}
	has, jerr := jsonHas(json.NewDecoder(bytes.NewReader(body)), path)
	switch {
	case jerr != nil:
		t.Fatalf("reading the body's tokens: %v (result %v, error %v)", jerr, ok, err)
	case ok && !has:
		t.Fatalf("a page was returned for a reply without %s: %q", field, body)
	case missing && has:
		t.Fatalf("the reply has %s, but the error says it has not: %v", field, err)
	}
}

// jsonHas reads one JSON value from d and reports whether it is an object
// holding a non-null value at path. As encoding/json does for struct
// fields, keys match case-insensitively, and every occurrence of a repeated
// key counts (null leaves a field as it was).
func jsonHas(d *json.Decoder, path []string) (bool, error) {
	tok, err := d.Token()
	if err != nil {
		return false, err
	}
	delim, isDelim := tok.(json.Delim)
	if len(path) == 0 {
		return tok != nil, skipRest(d, delim, isDelim)
	}
	if !isDelim || delim != '{' {
		return false, skipRest(d, delim, isDelim)
	}
	found := false
	for d.More() {
		key, err := d.Token()
		if err != nil {
			return false, err
		}
		if k, _ := key.(string); strings.EqualFold(k, path[0]) {
			has, err := jsonHas(d, path[1:])
			if err != nil {
				return false, err
			}
			found = found || has
			continue
		}
		if _, err := jsonHas(d, nil); err != nil { // skip the value
			return false, err
		}
	}
	_, err = d.Token() // '}'
	return found, err
}

// skipRest skips the rest of an object or array whose opening delimiter
// was just read.
func skipRest(d *json.Decoder, delim json.Delim, isDelim bool) error {
	if !isDelim || (delim != '{' && delim != '[') {
		return nil
	}
	for depth := 1; depth > 0; {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return nil
}

func FuzzDecodeWatchStat(f *testing.F) {
	fuzzDecoder(f, livestat.EndpointWatchStat, func(t *testing.T, ctx context.Context, c *livestat.Client) (bool, error) {
		p, err := c.Living.GetWatchStat(ctx, livestat.WatchStatRequest{LivingID: "L1"})
		if p != nil {
			if p.ErrCode != 0 {
				t.Fatalf("a page with errcode %d", p.ErrCode)
			}
			for _, u := range p.StatInfo.Users {
				if u.Kind != livestat.KindUser {
					t.Fatalf("user tagged %q", u.Kind)
				}
			}
			for _, u := range p.StatInfo.ExternalUsers {
				if u.Kind != livestat.KindExternalUser {
					t.Fatalf("external user tagged %q", u.Kind)
				}
			}
		}
		return p != nil, err
	})
}

func FuzzDecodeSchoolWatchStat(f *testing.F) {
	fuzzDecoder(f, livestat.EndpointSchoolWatchStat, func(t *testing.T, ctx context.Context, c *livestat.Client) (bool, error) {
		p, err := c.School.GetWatchStatV2(ctx, livestat.SchoolStatRequest{LivingID: "L1"})
		if p != nil {
			for kind, rows := range map[livestat.ViewerKind][]livestat.SchoolWatcher{livestat.KindStudent: p.StatInfo.Students, livestat.KindParent: p.StatInfo.Parents, livestat.KindVisitor: p.StatInfo.Visitors} {
				for _, r := range rows {
					if r.Kind != kind {
						t.Fatalf("%s row tagged %q", kind, r.Kind)
					}
				}
			}
		}
		return p != nil, err
	})
}

func FuzzDecodeSchoolUnwatchStat(f *testing.F) {
	fuzzDecoder(f, livestat.EndpointSchoolUnwatchStat, func(t *testing.T, ctx context.Context, c *livestat.Client) (bool, error) {
		p, err := c.School.GetUnwatchStatV2(ctx, livestat.SchoolStatRequest{LivingID: "L1"})
		if p != nil {
			for kind, rows := range map[livestat.ViewerKind][]livestat.SchoolAbsentee{livestat.KindStudent: p.StatInfo.Students, livestat.KindParent: p.StatInfo.Parents} {
				for _, r := range rows {
					if r.Kind != kind {
						t.Fatalf("%s row tagged %q", kind, r.Kind)
					}
				}
			}
		}
		return p != nil, err
	})
}

func FuzzDecodeUserDurations(f *testing.F) {
	fuzzDecoder(f, livestat.EndpointNuoyunUserDurations, func(t *testing.T, ctx context.Context, c *livestat.Client) (bool, error) {
		p, err := c.Nuoyun.GetUserDurations(ctx, livestat.UserDurationRequest{Page: 2, PageSize: 10})
		if p != nil {
			if p.Code != 200 || p.Page != 2 || p.PageSize != 10 {
				t.Fatalf("page %d/%d with code %d", p.Page, p.PageSize, p.Code)
			}
			if p.Data.Total < 0 {
				t.Fatalf("a page with total %d: a count is never negative, and an absent one is an error", p.Data.Total)
			}
			want := int64(0)
			if total := int64(p.Data.Total); total > 0 {
				want = total / 10
				if total%10 != 0 {
					want++
				}
			}
			if last := p.LastPage(); int64(last) != want {
				t.Fatalf("LastPage %d for total %d, want %d", last, p.Data.Total, want)
			}
			p.More()
			for _, r := range p.Data.List {
				_ = r.FirstVisitTime.String() + r.LastVisitTime.String()
			}
		}
		return p != nil, err
	})
}

// The discovery decoders. Their seeds hold the docs' samples, the real
// replies, and the shapes the docs leave open: next_cursor absent or null,
// living_info absent or null, replay_status absent, unknown enum values.

func FuzzDecodeUserLivingIDs(f *testing.F) {
	fuzzDecoder(f, livestat.EndpointUserLivingIDs, func(t *testing.T, ctx context.Context, c *livestat.Client) (bool, error) {
		p, err := c.Living.GetUserLivingIDs(ctx, livestat.UserLivingIDsRequest{UserID: "u1"})
		if p != nil {
			// No JSON string decodes to invalid UTF-8: the mark of an
			// absent cursor never reaches a page.
			if !utf8.ValidString(p.NextCursor) {
				t.Fatalf("a page returned with the unset cursor mark: %q", p.NextCursor)
			}
			if p.More() != (p.NextCursor != "") {
				t.Fatalf("More %v with next_cursor %q", p.More(), p.NextCursor)
			}
		}
		return p != nil, err
	})
}

func FuzzDecodeLivingInfo(f *testing.F) {
	fuzzDecoder(f, livestat.EndpointLivingInfo, func(t *testing.T, ctx context.Context, c *livestat.Client) (bool, error) {
		info, err := c.Living.GetLivingInfo(ctx, "L1")
		if info != nil {
			// Every value has a name, known or not.
			if info.Status.String() == "" || info.Type.String() == "" {
				t.Fatal("a status or type without a name")
			}
			if rs, ok := info.Replay(); ok && rs.String() == "" {
				t.Fatal("a replay status without a name")
			}
		}
		return info != nil, err
	})
}

func FuzzDecodeSchoolLivingInfo(f *testing.F) {
	fuzzDecoder(f, livestat.EndpointSchoolLivingInfo, func(t *testing.T, ctx context.Context, c *livestat.Client) (bool, error) {
		info, err := c.School.GetLivingInfo(ctx, "L1")
		return info != nil, err
	})
}
