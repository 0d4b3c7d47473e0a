package livestattest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// post sends body to path with the server's current token and returns the
// decoded reply.
func post(t *testing.T, srv *livestattest.Server, path, body string) map[string]any {
	t.Helper()
	return getJSON(t, http.MethodPost, srv.URL()+path+"?access_token="+token(t, srv), body)
}

func token(t *testing.T, srv *livestattest.Server) string {
	t.Helper()
	r := getJSON(t, http.MethodGet, srv.URL()+"/cgi-bin/gettoken?corpid="+srv.CorpID()+"&corpsecret="+srv.CorpSecret(), "")
	require.EqualValues(t, 0, r["errcode"])
	return r["access_token"].(string)
}

func getJSON(t *testing.T, method, url, body string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader([]byte(body)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	var out map[string]any
	require.NoError(t, json.Unmarshal(b, &out), string(b))
	return out
}

func readJSON(t *testing.T, name string, v any) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, v))
	return b
}

// withoutCursor drops the paging fields, which differ between a one-page
// fake and the docs' sample of a page in the middle.
func withoutCursor(m map[string]any) map[string]any {
	for _, k := range []string{"ending", "next_key", "has_more", "next_cursor"} {
		delete(m, k)
	}
	return m
}

// The fake's replies have the docs' JSON shape: seeded with the rows of a
// docs sample, it answers with that very sample (paging fields aside).
func TestRepliesMatchDocsSamples(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sample, path string
		seed         func(t *testing.T, srv *livestattest.Server, sample string)
	}{
		{"docs_watch_stat.json", "/cgi-bin/living/get_watch_stat", func(t *testing.T, srv *livestattest.Server, sample string) {
			var p livestat.WatchStatPage
			readJSON(t, sample, &p)
			srv.SetLiving("L", append(p.StatInfo.Users, p.StatInfo.ExternalUsers...))
		}},
		{"docs_school_watch_stat_v2.json", "/cgi-bin/school/living/get_watch_stat_v2", func(t *testing.T, srv *livestattest.Server, sample string) {
			var p livestat.SchoolWatchStatPage
			readJSON(t, sample, &p)
			i := p.StatInfo
			srv.SetSchool("L", livestattest.School{Watchers: append(append(i.Students, i.Parents...), i.Visitors...)})
		}},
		{"docs_school_unwatch_stat_v2.json", "/cgi-bin/school/living/get_unwatch_stat_v2", func(t *testing.T, srv *livestattest.Server, sample string) {
			var p livestat.SchoolUnwatchStatPage
			readJSON(t, sample, &p)
			srv.SetSchool("L", livestattest.School{Absentees: append(p.StatInfo.Students, p.StatInfo.Parents...)})
		}},
	} {
		t.Run(tc.sample, func(t *testing.T) {
			srv := livestattest.NewServer(t, livestattest.Options{})
			tc.seed(t, srv, tc.sample)
			var want map[string]any
			readJSON(t, tc.sample, &want)
			got := post(t, srv, tc.path, `{"livingid":"L","next_key":"0","next_cursor":"0"}`)
			wantJSON, _ := json.Marshal(withoutCursor(want))
			gotJSON, _ := json.Marshal(withoutCursor(got))
			assert.JSONEq(t, string(wantJSON), string(gotJSON))
		})
	}
}

// Paging follows each endpoint's protocol, and a client reading through the
// fake gets every seeded row once, in order, with its kind.
func TestPagingDeliversEveryRowOnce(t *testing.T) {
	t.Parallel()
	viewers := livestattest.GenerateViewers(23, 1)
	school := livestattest.GenerateSchool(40, 2)
	for _, pageSize := range []int{1, 5, 23, 100} {
		t.Run(fmt.Sprint("page size ", pageSize), func(t *testing.T) {
			srv := livestattest.NewServer(t, livestattest.Options{
				PageSize: pageSize,
				Living:   map[string][]livestat.LivingViewer{"L": viewers},
				School:   map[string]livestattest.School{"S": school},
			})
			c := srv.Client()
			ctx := context.Background()

			gotViewers, err := livestat.Collect(c.Living.Viewers(ctx, livestat.WatchStatRequest{LivingID: "L"}))
			require.NoError(t, err)
			assert.ElementsMatch(t, viewers, gotViewers)
			assert.Equal(t, pages(len(viewers), pageSize), srv.Calls(livestat.EndpointWatchStat))

			gotWatchers, err := livestat.Collect(c.School.Watchers(ctx, livestat.SchoolStatRequest{LivingID: "S"}))
			require.NoError(t, err)
			assert.ElementsMatch(t, school.Watchers, gotWatchers)
			assert.Equal(t, pages(len(school.Watchers), pageSize), srv.Calls(livestat.EndpointSchoolWatchStat))

			gotAbsent, err := livestat.Collect(c.School.Absentees(ctx, livestat.SchoolStatRequest{LivingID: "S"}))
			require.NoError(t, err)
			assert.ElementsMatch(t, school.Absentees, gotAbsent)
			assert.Equal(t, pages(len(school.Absentees), pageSize), srv.Calls(livestat.EndpointSchoolUnwatchStat))

			// One token for all of it.
			assert.Equal(t, 1, srv.TokensIssued())
			assert.Equal(t, 1, srv.Calls(livestat.EndpointGetToken))
		})
	}
}

func pages(rows, size int) int { return max(1, (rows+size-1)/size) }

// The last page carries a cursor, as WeCom's does: only ending / has_more
// end the paging.
func TestLastPageStillCarriesACursor(t *testing.T) {
	t.Parallel()
	srv := livestattest.NewServer(t, livestattest.Options{
		PageSize: 2,
		Living:   map[string][]livestat.LivingViewer{"L": livestattest.GenerateViewers(3, 1)},
		School:   map[string]livestattest.School{"S": livestattest.GenerateSchool(2, 1)},
	})
	first := post(t, srv, "/cgi-bin/living/get_watch_stat", `{"livingid":"L"}`)
	assert.EqualValues(t, 0, first["ending"])
	last := post(t, srv, "/cgi-bin/living/get_watch_stat", fmt.Sprintf(`{"livingid":"L","next_key":%q}`, first["next_key"]))
	assert.EqualValues(t, 1, last["ending"])
	assert.NotEmpty(t, last["next_key"])

	var cursor any = "0"
	for range 10 {
		p := post(t, srv, "/cgi-bin/school/living/get_unwatch_stat_v2", fmt.Sprintf(`{"livingid":"S","next_cursor":%q}`, cursor))
		require.EqualValues(t, 0, p["errcode"])
		assert.NotEmpty(t, p["next_cursor"])
		if p["has_more"] == 0.0 {
			return
		}
		cursor = p["next_cursor"]
	}
	t.Fatal("has_more never became 0")
}

func TestRequestErrors(t *testing.T) {
	t.Parallel()
	srv := livestattest.NewServer(t, livestattest.Options{Living: map[string][]livestat.LivingViewer{"L": nil}})
	tok := token(t, srv)
	for _, tc := range []struct {
		name, query, body string
		code              float64
	}{
		{"no token", "", `{"livingid":"L"}`, 41001},
		{"unknown token", "?access_token=nope", `{"livingid":"L"}`, 40014},
		{"not JSON", "?access_token=" + tok, `livingid=L`, 47001},
		{"no livingid", "?access_token=" + tok, `{}`, 40058},
		{"unknown livingid", "?access_token=" + tok, `{"livingid":"X"}`, 40058},
		{"forged cursor", "?access_token=" + tok, `{"livingid":"L","next_key":"abc"}`, 40058},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := getJSON(t, http.MethodPost, srv.URL()+"/cgi-bin/living/get_watch_stat"+tc.query, tc.body)
			assert.Equal(t, tc.code, r["errcode"])
			assert.NotEmpty(t, r["errmsg"])
		})
	}
	// An empty broadcast is one page with empty lists.
	r := post(t, srv, "/cgi-bin/living/get_watch_stat", `{"livingid":"L"}`)
	assert.EqualValues(t, 1, r["ending"])
	assert.Equal(t, map[string]any{"users": []any{}, "external_users": []any{}}, r["stat_info"])
}

func TestWrongSecretIsRefused(t *testing.T) {
	t.Parallel()
	srv := livestattest.NewServer(t, livestattest.Options{CorpSecret: "right"})
	c := srv.Client(livestat.WithWeComApp(srv.CorpID(), "wrong"))
	_, err := c.Living.GetWatchStat(context.Background(), livestat.WatchStatRequest{LivingID: "L"})
	require.ErrorIs(t, err, livestat.ErrInvalidCredentials)
	assert.NotContains(t, err.Error(), "wrong")
	assert.Equal(t, 0, srv.Calls(livestat.EndpointWatchStat))
}

func TestTokenReuseAndExpiry(t *testing.T) {
	t.Parallel()
	srv := livestattest.NewServer(t, livestattest.Options{Living: map[string][]livestat.LivingViewer{"L": livestattest.GenerateViewers(3, 1)}})
	// gettoken returns the same token while it is valid.
	a, b := token(t, srv), token(t, srv)
	assert.Equal(t, a, b)
	assert.Equal(t, 1, srv.TokensIssued())

	srv.ExpireTokens()
	r := getJSON(t, http.MethodPost, srv.URL()+"/cgi-bin/living/get_watch_stat?access_token="+a, `{"livingid":"L"}`)
	assert.EqualValues(t, 42001, r["errcode"])
	assert.NotEqual(t, a, token(t, srv))
	assert.Equal(t, 2, srv.TokensIssued())
}

func TestFaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	viewers := livestattest.GenerateViewers(10, 3)
	for _, tc := range []struct {
		name  string
		fault livestattest.Fault
		// wantErr is nil when the client recovers.
		wantErr   error
		wantCalls int // calls of get_watch_stat
		wantToks  int // tokens issued
	}{
		{"token expires mid-iteration: refreshed and replayed",
			livestattest.Fault{Endpoint: livestat.EndpointWatchStat, Call: 2, ExpireToken: true}, nil, 4, 2},
		{"busy twice: retried",
			livestattest.Fault{Endpoint: livestat.EndpointWatchStat, Call: 2, Times: 2, ErrCode: -1}, nil, 5, 1},
		{"HTTP 503 once: retried",
			livestattest.Fault{Endpoint: livestat.EndpointWatchStat, Call: 1, HTTPStatus: 503}, nil, 4, 1},
		{"truncated body once: retried",
			livestattest.Fault{Endpoint: livestat.EndpointWatchStat, Call: 3, Body: `{"errcode":0,"errmsg":"ok","stat`}, nil, 4, 1},
		{"dropped connection once: retried",
			livestattest.Fault{Endpoint: livestat.EndpointWatchStat, Call: 2, Disconnect: true}, nil, 4, 1},
		{"permission denied: final",
			livestattest.Fault{Endpoint: livestat.EndpointWatchStat, Call: 2, ErrCode: 48002}, livestat.ErrPermissionDenied, 2, 1},
		{"rate limited on every call: gives up",
			livestattest.Fault{Endpoint: livestat.EndpointWatchStat, Times: -1, ErrCode: 45009}, livestat.ErrRateLimited, 4, 1},
		{"gettoken busy once: retried",
			livestattest.Fault{Endpoint: livestat.EndpointGetToken, ErrCode: -1}, nil, 3, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := livestattest.NewServer(t, livestattest.Options{
				PageSize: 4, Living: map[string][]livestat.LivingViewer{"L": viewers},
				Faults: []livestattest.Fault{tc.fault},
			})
			got, err := livestat.Collect(srv.Client().Living.Viewers(ctx, livestat.WatchStatRequest{LivingID: "L"}))
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
				assert.ElementsMatch(t, viewers, got)
			}
			assert.Equal(t, tc.wantCalls, srv.Calls(livestat.EndpointWatchStat))
			assert.Equal(t, tc.wantToks, srv.TokensIssued())
		})
	}
}

func TestFailAddsAFaultForTheNextCall(t *testing.T) {
	t.Parallel()
	srv := livestattest.NewServer(t, livestattest.Options{Living: map[string][]livestat.LivingViewer{"L": nil}})
	c := srv.Client(livestat.WithoutRetries())
	ctx := context.Background()
	req := livestat.WatchStatRequest{LivingID: "L"}
	_, err := c.Living.GetWatchStat(ctx, req)
	require.NoError(t, err)

	srv.Fail(livestattest.Fault{Endpoint: livestat.EndpointWatchStat, ErrCode: 48002, ErrMsg: "no permission"})
	_, err = c.Living.GetWatchStat(ctx, req)
	var apiErr *livestat.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 48002, apiErr.Code)
	assert.Equal(t, "no permission", apiErr.Message)

	_, err = c.Living.GetWatchStat(ctx, req)
	require.NoError(t, err, "the fault applies to one call only")
}

// Latency holds a reply back until the client gives up; the server does not
// keep the call open after that.
func TestDelayEndsWhenTheClientGivesUp(t *testing.T) {
	t.Parallel()
	srv := livestattest.New(livestattest.Options{
		Living: map[string][]livestat.LivingViewer{"L": nil},
		Faults: []livestattest.Fault{{Endpoint: livestat.EndpointWatchStat, Delay: time.Hour}},
	})
	c := srv.Client(livestat.WithoutRetries(), livestat.WithTimeout(50*time.Millisecond))
	_, err := c.Living.GetWatchStat(context.Background(), livestat.WatchStatRequest{LivingID: "L"})
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
	srv.Close() // returns: the delayed handler saw the client go
}

func TestReadBack(t *testing.T) {
	t.Parallel()
	srv := livestattest.NewServer(t, livestattest.Options{
		PageSize: 2, School: map[string]livestattest.School{"S": livestattest.GenerateSchool(3, 1)},
	})
	_, ok := srv.LastRequest(livestat.EndpointSchoolWatchStat)
	assert.False(t, ok)

	_, err := livestat.Collect(srv.Client().School.Watchers(context.Background(), livestat.SchoolStatRequest{LivingID: "S"}))
	require.NoError(t, err)

	reqs := srv.Requests(livestat.EndpointSchoolWatchStat)
	require.Len(t, reqs, srv.Calls(livestat.EndpointSchoolWatchStat))
	require.GreaterOrEqual(t, len(reqs), 2)
	assert.JSONEq(t, `{"livingid":"S"}`, string(reqs[0].Body))
	last, ok := srv.LastRequest(livestat.EndpointSchoolWatchStat)
	require.True(t, ok)
	assert.Equal(t, reqs[len(reqs)-1], last)
	assert.Equal(t, http.MethodPost, last.Method)
	assert.Contains(t, string(last.Body), `"next_cursor":`)
	assert.NotEmpty(t, last.Query.Get("access_token"))
	assert.Equal(t, len(reqs)+1, srv.TotalCalls(), "plus one gettoken")
}

func TestClientWithoutTestingTPanicsOnBadOptions(t *testing.T) {
	t.Parallel()
	srv := livestattest.New(livestattest.Options{})
	defer srv.Close()
	assert.Panics(t, func() { srv.Client(livestat.WithTimeout(-1)) })
	_, err := livestat.NewClient(append(srv.ClientOptions(), livestat.WithTimeout(-1))...)
	assert.Error(t, err)
}

func TestGeneratorsAreDeterministicAndConsistent(t *testing.T) {
	t.Parallel()
	assert.Equal(t, livestattest.GenerateViewers(50, 7), livestattest.GenerateViewers(50, 7))
	assert.NotEqual(t, livestattest.GenerateViewers(50, 7), livestattest.GenerateViewers(50, 8))
	a, b := livestattest.GenerateSchool(90, 7), livestattest.GenerateSchool(90, 7)
	assert.Equal(t, a, b)

	// Every student is in exactly one of the lists, and so is every parent.
	seen := map[string]int{}
	for _, w := range a.Watchers {
		if w.Kind != livestat.KindVisitor {
			seen[string(w.Kind)+":"+w.ID()]++
		}
	}
	for _, ab := range a.Absentees {
		seen[string(ab.Kind)+":"+ab.ID()]++
	}
	students := 0
	for k, n := range seen {
		assert.Equal(t, 1, n, k)
		if strings.HasPrefix(k, "student:") {
			students++
		}
	}
	assert.Equal(t, 90, students)
	assert.NotEmpty(t, a.Watchers)
	assert.NotEmpty(t, a.Absentees)
}
