package livestat_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
)

// scriptedNuoyun starts a livestattest server whose Nuoyun replies are
// written by reply (the page asked for → the JSON body), for the tests of
// what the client makes of replies the fake's own data cannot produce, and
// returns it with a client (client-side rate limit off; later options win).
func scriptedNuoyun(t *testing.T, reply func(page int) string, opts ...livestat.Option) (*livestattest.Server, *livestat.Client) {
	t.Helper()
	srv := livestattest.NewServer(t, livestattest.Options{Faults: []livestattest.Fault{{
		Endpoint: livestat.EndpointNuoyunUserDurations, Times: -1,
		Edit: func(r livestattest.Request, _ []byte) []byte { return []byte(reply(r.Page)) },
	}}})
	return srv, srv.Client(append([]livestat.Option{livestat.WithNuoyunRateLimit(0, 0)}, opts...)...)
}

// nuoyunPages answers page n with pages[n-1] (an empty page past the end),
// each with total.
func nuoyunPages(total int, pages ...[]string) func(int) string {
	return func(page int) string {
		var rows []string
		if page >= 1 && page <= len(pages) {
			rows = pages[page-1]
		}
		return nuoyunPage(total, rows...)
	}
}

// nuoyunPage is a success reply holding rows, given as JSON objects.
func nuoyunPage(total int, rows ...string) string {
	return `{"code":200,"msg":"Success","data":{"total":` + itoa(total) + `,"list":[` + strings.Join(rows, ",") + `]}}`
}

// requestedPages returns the pages srv was asked for, in order.
func requestedPages(srv *livestattest.Server) []int {
	var out []int
	for _, r := range srv.Requests(livestat.EndpointNuoyunUserDurations) {
		out = append(out, r.Page)
	}
	return out
}

// fixture reads testdata/name.
func fixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func itoa(n int) string { return strconv.Itoa(n) }

// userIDs returns the rows' wechat_user_space_id values.
func userIDs(rows []livestat.UserDuration) []int64 {
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

// idRows returns rows of viewers from..to.
func idRows(from, to int) []string {
	var rows []string
	for i := from; i <= to; i++ {
		rows = append(rows, fmt.Sprintf(`{"room_id":7,"wechat_user_space_id":%d,"wechat_user_name":"v%d"}`, i, i))
	}
	return rows
}
