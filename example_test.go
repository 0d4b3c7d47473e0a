package livestat_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
)

// exampleServer stands in for https://qyapi.weixin.qq.com in these
// examples: a livestattest server holding the rows of the docs' sample
// replies (testdata/, two pages per endpoint), pageSize rows a page, for
// the broadcast "LIVING_ID".
func exampleServer(pageSize int) *livestattest.Server {
	var w1, w2 livestat.WatchStatPage
	var s1, s2 livestat.SchoolWatchStatPage
	var u1, u2 livestat.SchoolUnwatchStatPage
	for name, v := range map[string]any{
		"watch_stat_page1.json": &w1, "watch_stat_page2.json": &w2,
		"school_watch_page1.json": &s1, "school_watch_page2.json": &s2,
		"school_unwatch_page1.json": &u1, "school_unwatch_page2.json": &u2,
	} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			log.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			log.Fatal(err)
		}
	}
	return livestattest.New(livestattest.Options{
		PageSize: pageSize,
		Living: map[string][]livestat.LivingViewer{"LIVING_ID": slices.Concat(
			w1.StatInfo.Users, w1.StatInfo.ExternalUsers, w2.StatInfo.Users, w2.StatInfo.ExternalUsers)},
		School: map[string]livestattest.School{"LIVING_ID": {
			Watchers: slices.Concat(s1.StatInfo.Students, s1.StatInfo.Parents, s1.StatInfo.Visitors,
				s2.StatInfo.Students, s2.StatInfo.Parents, s2.StatInfo.Visitors),
			Absentees: slices.Concat(u1.StatInfo.Students, u1.StatInfo.Parents, u2.StatInfo.Students, u2.StatInfo.Parents),
		}},
	})
}

// List every viewer of a school broadcast: students, parents and visitors,
// across all pages.
func ExampleSchoolService_Watchers() {
	srv := exampleServer(6)
	defer srv.Close()

	c, err := livestat.NewClient(
		livestat.WithWeComApp(srv.CorpID(), srv.CorpSecret()),
		livestat.WithWeComBaseURL(srv.URL()), // leave out to use https://qyapi.weixin.qq.com
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
	srv := exampleServer(4)
	defer srv.Close()
	c, err := livestat.NewClient(livestat.WithWeComApp(srv.CorpID(), srv.CorpSecret()), livestat.WithWeComBaseURL(srv.URL()))
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
	srv := exampleServer(3)
	defer srv.Close()
	c, err := livestat.NewClient(livestat.WithWeComApp(srv.CorpID(), srv.CorpSecret()), livestat.WithWeComBaseURL(srv.URL()))
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
	srv := exampleServer(6)
	defer srv.Close()
	c, err := livestat.NewClient(livestat.WithWeComApp(srv.CorpID(), srv.CorpSecret()), livestat.WithWeComBaseURL(srv.URL()))
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
	srv := exampleServer(3)
	defer srv.Close()
	c, err := livestat.NewClient(livestat.WithWeComApp(srv.CorpID(), srv.CorpSecret()), livestat.WithWeComBaseURL(srv.URL()))
	if err != nil {
		log.Fatal(err)
	}
	page, err := c.Living.GetWatchStat(context.Background(), livestat.WatchStatRequest{LivingID: "LIVING_ID"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(page.StatInfo.Users), "members,", len(page.StatInfo.ExternalUsers), "external; more:", page.More(), "next key set:", page.NextKey != "")
	// Output:
	// 1 members, 2 external; more: true next key set: true
}

// Classify failures with errors.Is and read details with errors.As.
func ExampleAPIError() {
	srv := exampleServer(3)
	defer srv.Close()
	c, err := livestat.NewClient(livestat.WithWeComApp(srv.CorpID(), srv.CorpSecret()), livestat.WithWeComBaseURL(srv.URL()))
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
	srv := exampleServer(4)
	defer srv.Close()
	src := livestat.TokenSourceFunc(func(ctx context.Context) (livestat.Token, error) {
		// Call your token service here.
		tok, ttl := srv.Token()
		return livestat.Token{AccessToken: tok, ExpiresAt: time.Now().Add(ttl)}, nil
	})
	c, err := livestat.NewClient(livestat.WithTokenSource(src), livestat.WithWeComBaseURL(srv.URL()))
	if err != nil {
		log.Fatal(err)
	}
	rows, err := livestat.Collect(c.School.Absentees(context.Background(), livestat.SchoolStatRequest{LivingID: "LIVING_ID"}))
	fmt.Println(len(rows), err)
	// Output:
	// 5 <nil>
}
