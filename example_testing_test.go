package livestat_test

// The three ways to test code that uses livestat, as the README's "Testing
// your code" shows them. Each README block is a piece of this file.

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log"
	"net/http"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// --- Your code -------------------------------------------------------------

// watcherSource is the one method studentMinutes needs; *livestat.SchoolService
// has it, and so can a fake.
type watcherSource interface {
	Watchers(ctx context.Context, req livestat.SchoolStatRequest) iter.Seq2[livestat.SchoolWatcher, error]
}

// studentMinutes is the code under test: minutes watched per student.
func studentMinutes(ctx context.Context, src watcherSource, livingID string) (map[string]int64, error) {
	out := map[string]int64{}
	for w, err := range src.Watchers(ctx, livestat.SchoolStatRequest{LivingID: livingID}) {
		if err != nil {
			return nil, err
		}
		if w.Kind == livestat.KindStudent {
			out[w.StudentUserID] += int64(w.WatchTime) / 60
		}
	}
	return out, nil
}

// --- 1. A narrow interface, faked --------------------------------------------

// fakeWatchers serves fixed rows, then an optional error.
type fakeWatchers struct {
	rows []livestat.SchoolWatcher
	err  error
}

func (f fakeWatchers) Watchers(context.Context, livestat.SchoolStatRequest) iter.Seq2[livestat.SchoolWatcher, error] {
	return func(yield func(livestat.SchoolWatcher, error) bool) {
		for _, r := range f.rows {
			if !yield(r, nil) {
				return
			}
		}
		if f.err != nil {
			yield(livestat.SchoolWatcher{}, f.err)
		}
	}
}

func Example_testingWithAFakeInterface() {
	fake := fakeWatchers{rows: []livestat.SchoolWatcher{
		{Kind: livestat.KindStudent, StudentUserID: "zhangsan_child", WatchTime: 1800},
		{Kind: livestat.KindParent, ParentUserID: "zhangsan", StudentUserID: "zhangsan_child", WatchTime: 600},
	}}
	got, err := studentMinutes(context.Background(), fake, "L1")
	fmt.Println(got, err)

	// Errors are values you can build: the real types, so errors.Is works.
	denied := &livestat.APIError{Vendor: livestat.VendorWeCom, Endpoint: "school/living/get_watch_stat_v2", Code: 48002, Message: "api forbidden"}
	_, err = studentMinutes(context.Background(), fakeWatchers{err: denied}, "L1")
	fmt.Println(errors.Is(err, livestat.ErrPermissionDenied))

	// In production, pass the client's service: c.School.
	var _ watcherSource = (*livestat.SchoolService)(nil)
	// Output:
	// map[zhangsan_child:30] <nil>
	// true
}

// --- 2. livestattest -----------------------------------------------------------

func TestStudentMinutesWithLivestattest(t *testing.T) {
	school := livestattest.GenerateSchool(90, 1) // deterministic sample data
	srv := livestattest.NewServer(t, livestattest.Options{
		PageSize: 10, // 90 students and their parents: many pages
		School:   map[string]livestattest.School{"L1": school},
		Faults: []livestattest.Fault{
			{Endpoint: livestat.EndpointSchoolWatchStat, Call: 3, ErrCode: -1}, // busy once: livestat retries
			{Endpoint: livestat.EndpointSchoolWatchStat, Call: 5, ExpireToken: true},
		},
	})

	got, err := studentMinutes(context.Background(), srv.Client().School, "L1")
	require.NoError(t, err)
	for _, w := range school.Watchers {
		if w.Kind == livestat.KindStudent {
			assert.Equal(t, int64(w.WatchTime)/60, got[w.StudentUserID], w.StudentUserID)
			delete(got, w.StudentUserID)
		}
	}
	assert.Empty(t, got, "only students who watched")
	assert.Equal(t, 2, srv.TokensIssued(), "one refresh after the token expired")

	srv.Fail(livestattest.Fault{Endpoint: livestat.EndpointSchoolWatchStat, Call: 2, ErrCode: 48002})
	_, err = studentMinutes(context.Background(), srv.Client().School, "L1")
	assert.ErrorIs(t, err, livestat.ErrPermissionDenied)
}

// --- 3. httpmock on the client's *http.Client --------------------------------

func Example_testingWithHTTPMock() {
	mt := httpmock.NewMockTransport() // a fresh transport: no global state
	mt.RegisterResponder(http.MethodGet, "https://qyapi.weixin.qq.com/cgi-bin/gettoken",
		httpmock.NewStringResponder(200, `{"errcode":0,"errmsg":"ok","access_token":"T","expires_in":7200}`))
	mt.RegisterResponder(http.MethodPost, "https://qyapi.weixin.qq.com/cgi-bin/school/living/get_watch_stat_v2",
		httpmock.NewStringResponder(200, `{"errcode":0,"errmsg":"ok","has_more":0,"next_cursor":"",
			"stat_info":{"students":[{"student_userid":"lisi_child","partyids":[5],"watch_time":2400,
			"enter_time":1586433904,"leave_time":1586436304,"is_comment":0}],"parents":[],"visitors":[]}}`))

	c, err := livestat.NewClient(
		livestat.WithWeComApp("corp-id", "app-secret"),
		livestat.WithHTTPClient(&http.Client{Transport: mt}),
	)
	if err != nil {
		log.Fatal(err)
	}
	got, err := studentMinutes(context.Background(), c.School, "L1")
	fmt.Println(got, err, mt.GetTotalCallCount())
	// Output:
	// map[lisi_child:40] <nil> 2
}
