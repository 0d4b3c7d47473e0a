package livestat

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// This file holds the loopback API the benchmarks and the memory test run
// against. It serves pre-encoded pages, so its own cost is small and the
// same for whichever client calls it: per request it reads the cursor from
// the request body, copies the page's bytes into a pooled buffer, patches
// a few fixed-width numbers, and writes them with a Content-Length.

// benchToken is the access token the loopback gettoken hands out.
const benchToken = "BENCH-ACCESS-TOKEN"

// benchPages describes one paged endpoint of the loopback API.
type benchPages struct {
	path  string
	pages int // the last page; pages are numbered from 1
	// cursor reads the number of the page a request body asks for.
	cursor func(body []byte) int
	// render appends page n to dst.
	render func(dst []byte, n, pages int) []byte
}

// benchAPI is a loopback server for gettoken and paged endpoints.
type benchAPI struct {
	srv      *httptest.Server // nil for a server in another process
	url      string           // the server's base URL
	gettoken atomic.Int64
	requests atomic.Int64
	routes   map[string]*benchPages
	bufs     sync.Pool
}

// newBenchAPI starts a loopback server for eps; it is closed with tb's
// cleanup.
func newBenchAPI(tb testing.TB, eps ...*benchPages) *benchAPI {
	tb.Helper()
	a := &benchAPI{routes: map[string]*benchPages{}}
	a.bufs.New = func() any { return new([]byte) }
	for _, ep := range eps {
		a.routes[ep.path] = ep
	}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	a.url = a.srv.URL
	tb.Cleanup(a.srv.Close)
	return a
}

// The drain benchmarks (B1) measure CPU time per row: the client's, not
// the server's, so their server runs in a process of its own, the test
// binary started again with benchServeEnv set to "<drain case>/<rows>".
// TestMain sees it and runs serveBenchProcess instead of the tests. It
// prints its URL and serves until its standard input closes.
const benchServeEnv = "LIVESTAT_BENCH_SERVE"

// newBenchProcess starts the loopback server of the drain case named
// name, with rows rows, in a process of its own; it stops with tb's
// cleanup.
func newBenchProcess(tb testing.TB, name string, rows int) *benchAPI {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), benchServeEnv+"="+name+"/"+strconv.Itoa(rows))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			tb.Errorf("bench server process: %v", err)
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		tb.Fatalf("bench server process: reading its URL: %v", err)
	}
	return &benchAPI{url: strings.TrimSpace(line)}
}

// serveBenchProcess is the server process of newBenchProcess, for spec
// "<drain case>/<rows>". It returns the exit code.
func serveBenchProcess(spec string) int {
	name, rowsText, _ := strings.Cut(spec, "/")
	rows, err := strconv.Atoi(rowsText)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s=%q: %v\n", benchServeEnv, spec, err)
		return 2
	}
	a := &benchAPI{routes: map[string]*benchPages{}}
	a.bufs.New = func() any { return new([]byte) }
	for _, dc := range drainCases() {
		if dc.name == name {
			ep := dc.pages(nil, rows)
			a.routes[ep.path] = ep
		}
	}
	if len(a.routes) == 0 {
		fmt.Fprintf(os.Stderr, "%s=%q: no such drain case\n", benchServeEnv, spec)
		return 2
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	srv := &http.Server{Handler: http.HandlerFunc(a.serve)}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	fmt.Printf("http://%s\n", ln.Addr())
	io.Copy(io.Discard, os.Stdin) // until the benchmark closes it
	srv.Close()
	if err := <-done; err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func (a *benchAPI) serve(w http.ResponseWriter, r *http.Request) {
	a.requests.Add(1)
	if r.URL.Path == "/cgi-bin/gettoken" {
		a.gettoken.Add(1)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"errcode":0,"errmsg":"ok","access_token":"`+benchToken+`","expires_in":7200}`)
		return
	}
	ep := a.routes[r.URL.Path]
	if ep == nil {
		http.NotFound(w, r)
		return
	}
	bp := a.bufs.Get().(*[]byte)
	defer a.bufs.Put(bp)
	buf := bytes.NewBuffer((*bp)[:0])
	if _, err := buf.ReadFrom(r.Body); err != nil {
		return
	}
	n := ep.cursor(buf.Bytes())
	if n < 1 || n > ep.pages {
		http.Error(w, "no such page", http.StatusBadRequest)
		return
	}
	out := ep.render(buf.Bytes()[:0], n, ep.pages)
	*bp = out
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(out)))
	w.Write(out)
}

// client returns an *http.Client with a transport of its own, so that two
// clients under comparison never share connections.
func (a *benchAPI) client(tb testing.TB) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if a.srv != nil {
		tr = a.srv.Client().Transport.(*http.Transport).Clone()
	}
	tb.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// livestat returns a Client of the loopback API with its defaults, except
// for the Nuoyun rate limit and read-ahead (the throughput benchmarks
// compare one request at a time) unless opts say otherwise.
func (a *benchAPI) livestat(tb testing.TB, opts ...Option) *Client {
	tb.Helper()
	base := []Option{
		WithWeComApp("bench-corp", "bench-secret"),
		WithWeComBaseURL(a.url),
		WithNuoyunBaseURL(a.url),
		WithHTTPClient(a.client(tb)),
		WithNuoyunRateLimit(0, 0),
		WithWeComRateLimit(0, 0), // benchmarks loop past the burst: they measure livestat, not the pacing
		WithNuoyunWorkers(1),
	}
	c, err := NewClient(append(base, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// stringCursor reads a WeCom cursor "p<n>" from field; none, "" or "0"
// (which the docs suggest for the first call) is page 1.
func stringCursor(field string) func([]byte) int {
	key := []byte(`"` + field + `":"`)
	return func(body []byte) int {
		i := bytes.Index(body, key)
		if i < 0 {
			return 1
		}
		v := body[i+len(key):]
		if bytes.HasPrefix(v, []byte(`"`)) || bytes.HasPrefix(v, []byte(`0"`)) {
			return 1
		}
		if len(v) == 0 || v[0] != 'p' {
			return 0
		}
		end := bytes.IndexByte(v, '"')
		if end < 0 {
			return 0
		}
		n, err := strconv.Atoi(string(v[1:end]))
		if err != nil {
			return 0
		}
		return n
	}
}

// numberCursor reads Nuoyun's "page":n.
func numberCursor(body []byte) int {
	key := []byte(`"page":`)
	i := bytes.Index(body, key)
	if i < 0 {
		return 0
	}
	v := body[i+len(key):]
	end := bytes.IndexAny(v, ",}")
	if end < 0 {
		return 0
	}
	n, err := strconv.Atoi(string(v[:end]))
	if err != nil {
		return 0
	}
	return n
}

func mustMarshal(tb testing.TB, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		fatal(tb, err)
	}
	return b
}

// fatal fails tb, or panics in the server process of serveBenchProcess,
// which has no tb: a bug in a page builder.
func fatal(tb testing.TB, err any) {
	if tb == nil {
		panic(err)
	}
	tb.Fatal(err)
}

// jsonList encodes rows as the elements of a JSON array, without brackets.
func jsonList[T any](tb testing.TB, n int, row func(i int) T) []byte {
	var b []byte
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, mustMarshal(tb, row(i))...)
	}
	return b
}

// Benchmark row shapes, as the API documents them. Rows are realistic in
// size: ids of the length WeCom uses, Chinese names, a few numbers each.

func benchLivingPages(tb testing.TB, pages, users, externals int) *benchPages {
	u := jsonList(tb, users, func(i int) map[string]any {
		return map[string]any{"userid": fmt.Sprintf("zhangsan%05d", i), "watch_time": 1800 + i, "is_comment": i % 2, "is_mic": 0}
	})
	x := jsonList(tb, externals, func(i int) map[string]any {
		return map[string]any{"external_userid": fmt.Sprintf("wmEAlECwAAHrbWYDOK5u3Bf13xlYD%05d", i), "type": 1 + i%2,
			"name": "微信用户" + strconv.Itoa(i), "watch_time": 600 + i, "is_comment": 1, "is_mic": i % 2, "invitor_userid": "lisi"}
	})
	return &benchPages{
		path: "/cgi-bin/living/get_watch_stat", pages: pages, cursor: stringCursor("next_key"),
		render: func(dst []byte, n, last int) []byte {
			ending, next := 0, "p"+strconv.Itoa(n+1)
			if n == last {
				ending, next = 1, ""
			}
			dst = append(dst, `{"errcode":0,"errmsg":"ok","ending":`...)
			dst = strconv.AppendInt(dst, int64(ending), 10)
			dst = append(dst, `,"next_key":"`...)
			dst = append(dst, next...)
			dst = append(dst, `","stat_info":{"users":[`...)
			dst = append(dst, u...)
			dst = append(dst, `],"external_users":[`...)
			dst = append(dst, x...)
			return append(dst, `]}}`...)
		},
	}
}

func schoolCursorPage(dst []byte, n, last int, lists []string, bodies [][]byte) []byte {
	more, next := 1, "p"+strconv.Itoa(n+1)
	if n == last {
		more, next = 0, ""
	}
	dst = append(dst, `{"errcode":0,"errmsg":"ok","has_more":`...)
	dst = strconv.AppendInt(dst, int64(more), 10)
	dst = append(dst, `,"next_cursor":"`...)
	dst = append(dst, next...)
	dst = append(dst, `","stat_info":{`...)
	for i, name := range lists {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `"`+name+`":[`...)
		dst = append(dst, bodies[i]...)
		dst = append(dst, ']')
	}
	return append(dst, `}}`...)
}

func benchSchoolWatchPages(tb testing.TB, pages, students, parents, visitors int) *benchPages {
	s := jsonList(tb, students, func(i int) map[string]any {
		return map[string]any{"student_userid": fmt.Sprintf("student%05d", i), "partyids": []int{10, 11 + i%5},
			"watch_time": 1800 + i, "enter_time": 1586433904 + i, "leave_time": 1586437504 + i, "is_comment": i % 2}
	})
	p := jsonList(tb, parents, func(i int) map[string]any {
		return map[string]any{"parent_userid": fmt.Sprintf("parent%05d", i), "student_userid": fmt.Sprintf("student%05d", i),
			"partyids": []int{10, 11 + i%5}, "watch_time": 900 + i, "enter_time": 1586433904 + i, "leave_time": 1586435704 + i, "is_comment": 0}
	})
	v := jsonList(tb, visitors, func(i int) map[string]any {
		return map[string]any{"nickname": "访客" + strconv.Itoa(i), "watch_time": 300 + i, "enter_time": 1586433904 + i,
			"leave_time": 1586434204 + i, "is_comment": i % 2}
	})
	lists, bodies := []string{"students", "parents", "visitors"}, [][]byte{s, p, v}
	return &benchPages{
		path: "/cgi-bin/school/living/get_watch_stat_v2", pages: pages, cursor: stringCursor("next_cursor"),
		render: func(dst []byte, n, last int) []byte { return schoolCursorPage(dst, n, last, lists, bodies) },
	}
}

func benchSchoolUnwatchPages(tb testing.TB, pages, students, parents int) *benchPages {
	s := jsonList(tb, students, func(i int) map[string]any {
		return map[string]any{"student_userid": fmt.Sprintf("student%05d", i), "partyids": []int{10, 11 + i%5}}
	})
	p := jsonList(tb, parents, func(i int) map[string]any {
		return map[string]any{"parent_userid": fmt.Sprintf("parent%05d", i), "student_userid": fmt.Sprintf("student%05d", i),
			"partyids": []int{10, 11 + i%5}}
	})
	lists, bodies := []string{"students", "parents"}, [][]byte{s, p}
	return &benchPages{
		path: "/cgi-bin/school/living/get_unwatch_stat_v2", pages: pages, cursor: stringCursor("next_cursor"),
		render: func(dst []byte, n, last int) []byte { return schoolCursorPage(dst, n, last, lists, bodies) },
	}
}

// benchNuoyunPages serves total rows in pages of size. Rows are those of
// syntheticRow; each page's rows carry the page number in room_id
// (1000000 + page, patched in at fixed offsets), so that (room, user) is
// unique across pages and livestat's duplicate filter keeps every row.
func benchNuoyunPages(tb testing.TB, total, size int) *benchPages {
	const roomWidth = 7
	pages := (total + size - 1) / size
	var rows []byte
	var offsets []int // of each row's room_id value
	rowEnd := make([]int, size)
	for i := range size {
		if i > 0 {
			rows = append(rows, ',')
		}
		r := syntheticRow(i + 1)
		r.RoomID = 1000000
		b := mustMarshal(tb, r)
		at := bytes.Index(b, []byte(`"room_id":1000000`))
		if at < 0 {
			fatal(tb, "room_id not found in a synthetic row")
		}
		offsets = append(offsets, len(rows)+at+len(`"room_id":`))
		rows = append(rows, b...)
		rowEnd[i] = len(rows)
	}
	head := []byte(`{"code":200,"msg":"Success","data":{"total":` + strconv.Itoa(total) + `,"list":[`)
	return &benchPages{
		path: EndpointNuoyunUserDurations.Path(), pages: pages, cursor: numberCursor,
		render: func(dst []byte, n, last int) []byte {
			count := min(size, total-(n-1)*size)
			dst = append(dst, head...)
			start := len(dst)
			dst = append(dst, rows[:rowEnd[count-1]]...)
			var room [roomWidth]byte
			strconv.AppendInt(room[:0], int64(1000000+n), 10)
			for _, off := range offsets[:count] {
				copy(dst[start+off:], room[:])
			}
			return append(dst, `]}}`...)
		},
	}
}

// fakeRow is a Nuoyun row as the API sends it, for the benchmark servers.
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
