package livestat_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/livestat/livestat"
)

// startFakeWeCom stands in for https://qyapi.weixin.qq.com in these
// examples: it serves the documented replies from testdata/, two pages per
// endpoint.
func startFakeWeCom() *httptest.Server {
	pages := map[string]string{
		"/cgi-bin/living/get_watch_stat?":                     "watch_stat_page1.json",
		"/cgi-bin/living/get_watch_stat?KEY1":                 "watch_stat_page2.json",
		"/cgi-bin/school/living/get_watch_stat_v2?":           "school_watch_page1.json",
		"/cgi-bin/school/living/get_watch_stat_v2?CURSOR1":    "school_watch_page2.json",
		"/cgi-bin/school/living/get_unwatch_stat_v2?":         "school_unwatch_page1.json",
		"/cgi-bin/school/living/get_unwatch_stat_v2?UCURSOR1": "school_unwatch_page2.json",
	}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/cgi-bin/gettoken" {
			fmt.Fprint(w, `{"errcode":0,"errmsg":"ok","access_token":"example-token","expires_in":7200}`)
			return
		}
		var body struct {
			LivingID   string `json:"livingid"`
			NextKey    string `json:"next_key"`
			NextCursor string `json:"next_cursor"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		if body.LivingID == "unknown" {
			fmt.Fprint(w, `{"errcode":40058,"errmsg":"invalid livingid"}`)
			return
		}
		name := pages[r.URL.Path+"?"+body.NextKey+body.NextCursor]
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
}

// List every viewer of a school broadcast: students, parents and visitors,
// across all pages.
func ExampleSchoolService_Watchers() {
	srv := startFakeWeCom()
	defer srv.Close()

	c, err := livestat.NewClient(
		livestat.WithWeComApp("wwcorp", "app-secret"),
		livestat.WithWeComBaseURL(srv.URL), // leave out to use https://qyapi.weixin.qq.com
	)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	for w, err := range c.School.Watchers(ctx, livestat.SchoolStatRequest{LivingID: "LIVING_ID"}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(w.Kind, w.ID(), w.PartyIDs, w.WatchTime.Duration())
	}
	// Output:
	// student zhansan_child [10 11] 30s
	// student lisi_child [10 11] 30s
	// parent zhangsan [10 11] 30s
	// parent lisi [10 11] 30s
	// visitor wx_nickname1 [] 30s
	// visitor wx_nickname2 [] 30s
	// student wangwu_child [5] 30m0s
}

// List who did not watch a school broadcast.
func ExampleSchoolService_Absentees() {
	srv := startFakeWeCom()
	defer srv.Close()
	c, err := livestat.NewClient(livestat.WithWeComApp("wwcorp", "app-secret"), livestat.WithWeComBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	absent, err := livestat.Collect(c.School.Absentees(context.Background(), livestat.SchoolStatRequest{LivingID: "LIVING_ID"}))
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range absent {
		fmt.Println(a.Kind, a.ID(), a.PartyIDs)
	}
	// Output:
	// student zhansan_child [10 11]
	// student lisi_child [5]
	// parent zhangsan [10 11]
	// parent lisi [5]
	// student zhaoliu_child [7]
}

// List every viewer of a corp broadcast, members and external contacts.
func ExampleLivingService_Viewers() {
	srv := startFakeWeCom()
	defer srv.Close()
	c, err := livestat.NewClient(livestat.WithWeComApp("wwcorp", "app-secret"), livestat.WithWeComBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	for v, err := range c.Living.Viewers(context.Background(), livestat.WatchStatRequest{LivingID: "LIVING_ID"}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(v.Kind, v.ID(), v.WatchTime.Duration(), "commented:", v.IsComment)
	}
	// Output:
	// user zhangsan 30s commented: true
	// external_user external_userid1 30s commented: true
	// external_user external_userid2 30s commented: true
	// user wangwu 1h2m5s commented: false
}

// Page by page, saving the cursor after each page so that a later run can
// resume where this one stopped.
func ExampleSchoolService_WatchStatV2Pages() {
	srv := startFakeWeCom()
	defer srv.Close()
	c, err := livestat.NewClient(livestat.WithWeComApp("wwcorp", "app-secret"), livestat.WithWeComBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	saved := "" // load a checkpoint here; "" starts at the beginning
	req := livestat.SchoolStatRequest{LivingID: "LIVING_ID", NextCursor: saved}
	for page, err := range c.School.WatchStatV2Pages(context.Background(), req) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(len(page.StatInfo.Students), "students,", len(page.StatInfo.Parents), "parents; more:", page.More())
		saved = page.NextCursor // store the checkpoint after processing the page
	}
	// Output:
	// 2 students, 2 parents; more: true
	// 1 students, 0 parents; more: false
}

// One request, one page.
func ExampleLivingService_GetWatchStat() {
	srv := startFakeWeCom()
	defer srv.Close()
	c, err := livestat.NewClient(livestat.WithWeComApp("wwcorp", "app-secret"), livestat.WithWeComBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	page, err := c.Living.GetWatchStat(context.Background(), livestat.WatchStatRequest{LivingID: "LIVING_ID"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(page.StatInfo.Users), "members,", len(page.StatInfo.ExternalUsers), "external; next key:", page.NextKey)
	// Output:
	// 1 members, 2 external; next key: KEY1
}

// Classify failures with errors.Is and read details with errors.As.
func ExampleAPIError() {
	srv := startFakeWeCom()
	defer srv.Close()
	c, err := livestat.NewClient(livestat.WithWeComApp("wwcorp", "app-secret"), livestat.WithWeComBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.Living.GetWatchStat(context.Background(), livestat.WatchStatRequest{LivingID: "unknown"})
	var apiErr *livestat.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.Endpoint, apiErr.Code, apiErr.Message)
	}
	fmt.Println("invalid argument:", errors.Is(err, livestat.ErrInvalidArgument), "retryable:", livestat.IsRetryable(err))

	_, err = c.Living.GetWatchStat(context.Background(), livestat.WatchStatRequest{})
	fmt.Println(err)
	// Output:
	// living/get_watch_stat 40058 invalid livingid
	// invalid argument: true retryable: false
	// livestat: living/get_watch_stat: invalid LivingID: must not be empty
}

// Tokens from elsewhere: a third-party or 代开发 app, or a token service.
func ExampleWithTokenSource() {
	srv := startFakeWeCom()
	defer srv.Close()
	src := livestat.TokenSourceFunc(func(ctx context.Context) (livestat.Token, error) {
		// Call your token service here.
		return livestat.Token{AccessToken: "token-from-elsewhere", ExpiresAt: timeIn2h()}, nil
	})
	c, err := livestat.NewClient(livestat.WithTokenSource(src), livestat.WithWeComBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	rows, err := livestat.Collect(c.School.Absentees(context.Background(), livestat.SchoolStatRequest{LivingID: "LIVING_ID"}))
	fmt.Println(len(rows), err)
	// Output:
	// 5 <nil>
}

func timeIn2h() time.Time { return time.Now().Add(2 * time.Hour) }
