package livestat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// baseline is the yardstick of the benchmarks: what a careful developer
// would write by hand for these endpoints with net/http and encoding/json,
// decoding into livestat's own structs, with none of livestat's machinery
// (no resty, no retries, no token cache, no guards). It reads each reply
// into one reused buffer and decodes it with json.Unmarshal, the fastest
// plain encoding/json way for replies of known size. Each page is a fresh
// struct, as with any API that hands pages to its caller.
type baseline struct {
	hc    *http.Client
	base  string
	token string
	buf   bytes.Buffer
}

func newBaseline(ctx context.Context, hc *http.Client, base string) (*baseline, error) {
	b := &baseline{hc: hc, base: base}
	var tok gettokenReply
	if err := b.do(ctx, http.MethodGet, "/cgi-bin/gettoken?corpid=bench-corp&corpsecret=bench-secret", nil, &tok); err != nil {
		return nil, err
	}
	if tok.ErrCode != 0 || tok.AccessToken == "" {
		return nil, fmt.Errorf("gettoken: errcode %d", tok.ErrCode)
	}
	b.token = tok.AccessToken
	return b, nil
}

func (b *baseline) do(ctx context.Context, method, pathQuery string, in, out any) error {
	var body *bytes.Reader
	if in != nil {
		j, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(j)
	}
	var req *http.Request
	var err error
	if body != nil {
		req, err = http.NewRequestWithContext(ctx, method, b.base+pathQuery, body)
	} else {
		req, err = http.NewRequestWithContext(ctx, method, b.base+pathQuery, nil)
	}
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b.buf.Reset()
	if _, err := b.buf.ReadFrom(resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return json.Unmarshal(b.buf.Bytes(), out)
}

func (b *baseline) wecom(ctx context.Context, path string, in, out any) error {
	return b.do(ctx, http.MethodPost, path+"?access_token="+url.QueryEscape(b.token), in, out)
}

// The drains below visit every row, calling visit on each, and return the
// number of rows.

func (b *baseline) livingViewers(ctx context.Context, livingID string, visit func(*LivingViewer)) (int, error) {
	n, cursor := 0, ""
	for {
		var p WatchStatPage
		if err := b.wecom(ctx, "/cgi-bin/living/get_watch_stat", WatchStatRequest{LivingID: livingID, NextKey: cursor}, &p); err != nil {
			return n, err
		}
		if p.ErrCode != 0 {
			return n, fmt.Errorf("errcode %d", p.ErrCode)
		}
		for i := range p.StatInfo.Users {
			p.StatInfo.Users[i].Kind = KindUser
			visit(&p.StatInfo.Users[i])
		}
		for i := range p.StatInfo.ExternalUsers {
			p.StatInfo.ExternalUsers[i].Kind = KindExternalUser
			visit(&p.StatInfo.ExternalUsers[i])
		}
		n += len(p.StatInfo.Users) + len(p.StatInfo.ExternalUsers)
		if p.Ending == 1 {
			return n, nil
		}
		cursor = p.NextKey
	}
}

func (b *baseline) schoolWatchers(ctx context.Context, livingID string, visit func(*SchoolWatcher)) (int, error) {
	n, cursor := 0, ""
	for {
		var p SchoolWatchStatPage
		if err := b.wecom(ctx, "/cgi-bin/school/living/get_watch_stat_v2", SchoolStatRequest{LivingID: livingID, NextCursor: cursor}, &p); err != nil {
			return n, err
		}
		if p.ErrCode != 0 {
			return n, fmt.Errorf("errcode %d", p.ErrCode)
		}
		for _, k := range [...]struct {
			rows []SchoolWatcher
			kind ViewerKind
		}{{p.StatInfo.Students, KindStudent}, {p.StatInfo.Parents, KindParent}, {p.StatInfo.Visitors, KindVisitor}} {
			for i := range k.rows {
				k.rows[i].Kind = k.kind
				visit(&k.rows[i])
			}
			n += len(k.rows)
		}
		if p.HasMore == 0 {
			return n, nil
		}
		cursor = p.NextCursor
	}
}

func (b *baseline) schoolAbsentees(ctx context.Context, livingID string, visit func(*SchoolAbsentee)) (int, error) {
	n, cursor := 0, ""
	for {
		var p SchoolUnwatchStatPage
		if err := b.wecom(ctx, "/cgi-bin/school/living/get_unwatch_stat_v2", SchoolStatRequest{LivingID: livingID, NextCursor: cursor}, &p); err != nil {
			return n, err
		}
		if p.ErrCode != 0 {
			return n, fmt.Errorf("errcode %d", p.ErrCode)
		}
		for i := range p.StatInfo.Students {
			p.StatInfo.Students[i].Kind = KindStudent
			visit(&p.StatInfo.Students[i])
		}
		for i := range p.StatInfo.Parents {
			p.StatInfo.Parents[i].Kind = KindParent
			visit(&p.StatInfo.Parents[i])
		}
		n += len(p.StatInfo.Students) + len(p.StatInfo.Parents)
		if p.HasMore == 0 {
			return n, nil
		}
		cursor = p.NextCursor
	}
}

func (b *baseline) nuoyunDurations(ctx context.Context, visit func(*UserDuration)) (int, error) {
	n := 0
	req := UserDurationRequest{PageSize: MaxNuoyunPageSize, UpdateTimeEnd: UnixTime(time.Now().Unix())}
	for page := 1; ; page++ {
		req.Page = page
		var p UserDurationPage
		if err := b.do(ctx, http.MethodPost, EndpointNuoyunUserDurations.Path(), req, &p); err != nil {
			return n, err
		}
		if p.Code != 200 {
			return n, fmt.Errorf("code %d", p.Code)
		}
		for i := range p.Data.List {
			visit(&p.Data.List[i])
		}
		n += len(p.Data.List)
		if len(p.Data.List) == 0 || page*req.PageSize >= int(p.Data.Total) {
			return n, nil
		}
	}
}
