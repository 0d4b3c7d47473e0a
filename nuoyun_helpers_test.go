package livestat

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"
)

const (
	nuoyunTestBase = "https://nuoyun.example.test"
	nuoyunTestURL  = nuoyunTestBase + "/Api/RoomRounds/getAccountUserDurationList/2.0.0"
)

// newNuoyunClient returns a client wired to a fresh httpmock transport, with
// quick retries and the client-side rate limit off (tests that need it turn
// it on again: later options win).
func newNuoyunClient(t testing.TB, opts ...Option) (*Client, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	base := []Option{
		WithNuoyunBaseURL(nuoyunTestBase),
		WithHTTPClient(&http.Client{Transport: mt}),
		WithRetry(fastRetry()),
		WithNuoyunRateLimit(0, 0),
	}
	c, err := NewClient(append(base, opts...)...)
	require.NoError(t, err)
	return c, mt
}

// nuoyunFake serves getAccountUserDurationList from a synthetic data set of
// total rows: row i (1-based) has room_id 1000+i and wechat_user_space_id i.
// It records every request.
type nuoyunFake struct {
	mu          sync.Mutex
	total       int
	pages       []int            // page numbers asked for, in arrival order
	bodies      []map[string]any // request bodies, in arrival order
	headers     []http.Header
	queries     []url.Values
	inFlight    int
	maxInFlight int
	// hook, if set, may replace the reply to a request for page; a nil
	// response and error mean "serve the page normally".
	hook func(r *http.Request, page int) (*http.Response, error)
	// rows, if set, replaces the synthetic rows of a page.
	rows func(page, size int) []fakeRow
}

// fakeRow is a row as the API sends it.
type fakeRow struct {
	RoomID          int64          `json:"room_id"`
	UserID          int64          `json:"wechat_user_space_id"`
	Name            string         `json:"wechat_user_name"`
	Photo           string         `json:"wechat_user_photo"`
	Stay            int64          `json:"stay_duration"`
	IP              string         `json:"ip"`
	ThirdUUID       string         `json:"third_uuid"`
	ThirdWeChatInfo map[string]any `json:"third_wechat_info"`
	Live            int64          `json:"live_duration"`
	Playback        int64          `json:"playback_duration"`
	ChannelInfo     map[string]any `json:"channel_info"`
	InvitedID       int64          `json:"invited_wechat_user_space_id"`
	InvitedName     string         `json:"invited_name"`
	First           string         `json:"first_visit_time"`
	Last            string         `json:"last_visit_time"`
	Device          any            `json:"device"`
	Area            string         `json:"area"`
}

func syntheticRow(i int) fakeRow {
	return fakeRow{
		RoomID: int64(1000 + i), UserID: int64(i), Name: fmt.Sprintf("user-%d", i),
		Photo: "https://img.example.test/a.jpg", Stay: int64(i % 5000), IP: "127.0.0.1",
		ThirdWeChatInfo: map[string]any{}, ChannelInfo: map[string]any{"channel_id": 3128527, "channel_name": "袁", "store_id": ""},
		First: "2025-09-16 15:06:06", Last: "2025-10-28 11:36:03", Device: "iOS", Area: "河南 郑州",
	}
}

func (f *nuoyunFake) pageRows(page, size int) []fakeRow {
	if f.rows != nil {
		return f.rows(page, size)
	}
	rows := []fakeRow{}
	for i := (page-1)*size + 1; i <= min(f.total, page*size); i++ {
		rows = append(rows, syntheticRow(i))
	}
	return rows
}

func (f *nuoyunFake) respond(r *http.Request) (*http.Response, error) {
	b, _ := io.ReadAll(r.Body)
	var body map[string]any
	if err := json.Unmarshal(b, &body); err != nil {
		return httpmock.NewStringResponse(200, `{"code":400,"msg":"bad json","data":{}}`), nil
	}
	page, _ := body["page"].(float64)
	size, _ := body["page_size"].(float64)
	f.mu.Lock()
	f.pages = append(f.pages, int(page))
	f.bodies = append(f.bodies, body)
	f.headers = append(f.headers, r.Header.Clone())
	f.queries = append(f.queries, r.URL.Query())
	f.inFlight++
	f.maxInFlight = max(f.maxInFlight, f.inFlight)
	hook := f.hook
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
	}()
	if hook != nil {
		if resp, err := hook(r, int(page)); resp != nil || err != nil {
			return resp, err
		}
	}
	return httpmock.NewJsonResponse(200, map[string]any{
		"code": 200, "msg": "Success",
		"data": map[string]any{"total": f.total, "list": f.pageRows(int(page), int(size))},
	})
}

func (f *nuoyunFake) requested() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.pages...)
}

func (f *nuoyunFake) requestBodies() []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]any(nil), f.bodies...)
}

// serveNuoyun registers a fake with total rows on mt.
func serveNuoyun(mt *httpmock.MockTransport, total int) *nuoyunFake {
	f := &nuoyunFake{total: total}
	mt.RegisterResponder(http.MethodPost, nuoyunTestURL, f.respond)
	return f
}

// userIDs returns the rows' wechat_user_space_id values.
func userIDs(rows []UserDuration) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = int64(r.WeChatUserSpaceID)
	}
	return out
}

// seq returns from..to.
func seq(from, to int64) []int64 {
	out := []int64{}
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// deviceOf returns a Device of type t, as if Nuoyun had sent its code.
func deviceOf(t DeviceType) Device {
	var d Device
	if err := d.UnmarshalJSON([]byte(strconv.Itoa(int(t)))); err != nil {
		panic(err)
	}
	return d
}
