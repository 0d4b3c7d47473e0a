package livestat_test

// The Examples the README shows. Each README Go block is a run of lines of
// one of these functions (or of another example_*_test.go declaration):
// TestReadmeCodeIsCompiled checks it. They run against livestattest, the
// fake server users get, so that the README's code is the code that runs.

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
)

// Every viewer of a school broadcast, across all pages.
func Example_quickstart() {
	fake := livestattest.New(livestattest.Options{
		School: map[string]livestattest.School{"LIVING_ID": livestattest.GenerateSchool(2, 1)},
	})
	defer fake.Close()
	corpID, appSecret, livingID := fake.CorpID(), fake.CorpSecret(), "LIVING_ID"
	ctx := context.Background()

	c, err := livestat.NewClient(
		livestat.WithWeComApp(corpID, appSecret), // your self-built app's own secret
		livestat.WithWeComBaseURL(fake.URL()),    // the fake; leave out for https://qyapi.weixin.qq.com
	)
	if err != nil {
		log.Fatal(err)
	}
	for w, err := range c.School.Watchers(ctx, livestat.SchoolStatRequest{LivingID: livingID}) {
		if err != nil {
			log.Fatal(err) // typed: see "Errors"
		}
		fmt.Println(w.Kind, w.ID(), w.PartyIDs, w.WatchTime.Duration())
	}
	// Output:
	// student student0001 [1001] 47m7s
	// student student0002 [1001] 47m30s
}

// A Client with the options most services set. NewClient checks its
// configuration and sends nothing.
func ExampleNewClient() {
	corpID, appSecret := "wwcorp", "app-secret" // from your configuration

	c, err := livestat.NewClient(
		livestat.WithWeComApp(corpID, appSecret), // a self-built app's own secret
		livestat.WithAppID("1000002"),            // names the app in the token cache key
		livestat.WithTimeout(10*time.Second),     // one HTTP attempt; ctx bounds the whole call
		livestat.WithLogger(slog.Default()),      // retries at Debug, fallbacks at Warn; never a token
	)
	fmt.Println(c != nil, err)
	// Output:
	// true <nil>
}

// Every viewer of a corp broadcast: members and external contacts.
func ExampleLivingService_Viewers_fields() {
	fake := livestattest.New(livestattest.Options{
		Living: map[string][]livestat.LivingViewer{"LIVING_ID": livestattest.GenerateViewers(4, 1)},
	})
	defer fake.Close()
	c, ctx, id := fake.Client(), context.Background(), "LIVING_ID"

	for v, err := range c.Living.Viewers(ctx, livestat.WatchStatRequest{LivingID: id}) {
		if err != nil {
			log.Fatal(err)
		}
		// v.Kind is livestat.KindUser (v.UserID) or livestat.KindExternalUser
		// (v.ExternalUserID, v.Type: ExternalUserWeChat or ExternalUserWeCom, v.Name).
		fmt.Println(v.Kind, v.ID(), v.WatchTime.Duration(), v.IsComment, v.IsMic) // also v.InvitorUserID, ...
	}
	// Output:
	// user user0001 1h23m30s true false
	// user user0002 39m30s false false
	// user user0003 18m58s false false
	// external_user wmLST00000004 23m4s false false
}

// Who watched a school broadcast, and who did not.
func ExampleSchoolService_Absentees_count() {
	sc := livestattest.GenerateSchool(20, 1)
	fake := livestattest.New(livestattest.Options{School: map[string]livestattest.School{"LIVING_ID": sc}})
	defer fake.Close()
	c, ctx, id := fake.Client(), context.Background(), "LIVING_ID"

	watchers := c.School.Watchers(ctx, livestat.SchoolStatRequest{LivingID: id})   // students, parents, visitors
	absentees := c.School.Absentees(ctx, livestat.SchoolStatRequest{LivingID: id}) // students, parents
	watched, err := livestat.Collect(watchers)
	if err != nil {
		log.Fatal(err)
	}
	absent, err := livestat.Collect(absentees)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(watched), "watched,", len(absent), "did not")
	// Output:
	// 30 watched, 18 did not
}

// Nuoyun viewer durations, every row of every page.
func ExampleNuoyunService_UserDurations_signed() {
	fake := livestattest.New(livestattest.Options{
		Nuoyun:       livestattest.GenerateDurations(3, 1),
		NuoyunAppKey: "your-app-key", NuoyunAppSecret: "your-app-secret",
	})
	defer fake.Close()
	appKey, appSecret, ctx := fake.NuoyunAppKey(), fake.NuoyunAppSecret(), context.Background()

	c, err := livestat.NewClient(
		livestat.WithNuoyunAuth(livestat.NewSignAuthorizer(appKey, appSecret)),
		livestat.WithNuoyunBaseURL(fake.URL()), // the fake; leave out for https://gateway.nuoyunapi.com
	)
	if err != nil {
		log.Fatal(err)
	}
	for row, err := range c.Nuoyun.UserDurations(ctx, livestat.UserDurationRequest{Sort: livestat.SortAsc}) {
		if err != nil {
			log.Fatal(err) // *livestat.APIError for a code other than 200
		}
		fmt.Println(row.WeChatUserSpaceID, row.WeChatUserName, row.StayDuration.Duration(), row.Device, row.LastVisitTime)
	}
	// Output:
	// 20400001 这是个正常名 1h50m11s ios 2025-09-15 18:57:35
	// 20400002 这是个正常名 1h29m40s unknown 2025-10-11 11:27:53
	// 20400003 Frost 1h18m52s pc 2025-09-10 06:12:34
}

// Telling failures apart with errors.As and errors.Is.
func Example_errors() {
	fake := livestattest.New(livestattest.Options{Faults: []livestattest.Fault{
		{Endpoint: livestat.EndpointWatchStat, ErrCode: 48002},
	}})
	defer fake.Close()
	c, ctx := fake.Client(), context.Background()

	_, err := c.Living.GetWatchStat(ctx, livestat.WatchStatRequest{LivingID: "LIVING_ID"})
	var apiErr *livestat.APIError
	switch {
	case errors.As(err, &apiErr):
		fmt.Printf("%s answered %d (permission denied: %t)\n", apiErr.Endpoint, apiErr.Code, errors.Is(err, livestat.ErrPermissionDenied))
	case errors.Is(err, livestat.ErrInvalidArgument):
		// a *ValidationError: nothing was sent
	case errors.Is(err, livestat.ErrNoCredentials):
		// a *NoCredentialsError: the Client was built without WeCom credentials
	}
	// Output:
	// living/get_watch_stat answered 48002 (permission denied: true)
}

// A retryable failure that livestat stopped retrying.
func ExampleRetryError() {
	fake := livestattest.New(livestattest.Options{Faults: []livestattest.Fault{
		{Endpoint: livestat.EndpointWatchStat, HTTPStatus: 503, Times: -1}, // always busy
	}})
	defer fake.Close()
	c, ctx, req := fake.Client(), context.Background(), livestat.WatchStatRequest{LivingID: "LIVING_ID"}

	_, err := c.Living.GetWatchStat(ctx, req)
	if re, ok := errors.AsType[*livestat.RetryError](err); ok {
		fmt.Printf("gave up after %d attempts (%s): %v\n", re.Attempts, re.Reason, re.Err)
	}
	fmt.Println(errors.Is(err, livestat.ErrServerBusy))
	// Output:
	// gave up after 4 attempts (no attempts left): livestat: wecom living/get_watch_stat: http status (HTTP 503): body "Service Unavailable"
	// true
}

// Page by page, saving the cursor after each page so that a later run can
// resume where this one stopped.
func ExampleSchoolService_WatchStatV2Pages_resume() {
	fake := livestattest.New(livestattest.Options{
		PageSize: 10,
		School:   map[string]livestattest.School{"LIVING_ID": livestattest.GenerateSchool(8, 1)},
	})
	defer fake.Close()
	c, ctx := fake.Client(), context.Background()

	saved := "" // load a checkpoint here; "" starts at the beginning
	req := livestat.SchoolStatRequest{LivingID: "LIVING_ID", NextCursor: saved}
	for page, err := range c.School.WatchStatV2Pages(ctx, req) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(len(page.StatInfo.Students), "students,", len(page.StatInfo.Parents), "parents; more:", page.More())
		saved = page.NextCursor // store the checkpoint after processing the page
	}
	// Output:
	// 7 students, 3 parents; more: true
	// 1 students, 1 parents; more: false
}

// Any WeCom endpoint livestat does not wrap, with the same token, errcode,
// retry and redaction rules as the wrapped ones.
func ExampleWeComService_Do() {
	// A stand-in for https://qyapi.weixin.qq.com serving gettoken and
	// /cgi-bin/user/get, an endpoint livestat does not wrap.
	wecom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/cgi-bin/gettoken":
			fmt.Fprint(w, `{"errcode":0,"errmsg":"ok","access_token":"T","expires_in":7200}`)
		case r.URL.Query().Get("access_token") != "T":
			fmt.Fprint(w, `{"errcode":40014,"errmsg":"invalid access_token"}`)
		case r.URL.Query().Get("userid") == "zhangsan":
			fmt.Fprint(w, `{"errcode":0,"errmsg":"ok","userid":"zhangsan","name":"张三","department":[1,2]}`)
		default:
			fmt.Fprint(w, `{"errcode":60111,"errmsg":"userid not found"}`)
		}
	}))
	defer wecom.Close()
	c, err := livestat.NewClient(livestat.WithWeComApp("wwcorp", "app-secret"), livestat.WithWeComBaseURL(wecom.URL))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	var user struct {
		UserID     string  `json:"userid"`
		Name       string  `json:"name"`
		Department []int64 `json:"department"`
	} // no errcode or errmsg: livestat decodes the envelope
	err = c.WeCom.Do(ctx, http.MethodGet, "/cgi-bin/user/get", url.Values{"userid": {"zhangsan"}}, &user)
	fmt.Println(user.Name, user.Department, err)

	err = c.WeCom.Do(ctx, http.MethodGet, "/cgi-bin/user/get", url.Values{"userid": {"nobody"}}, &user)
	if apiErr, ok := errors.AsType[*livestat.APIError](err); ok {
		fmt.Println(apiErr.Endpoint, apiErr.Code, apiErr.Message)
	}
	// Output:
	// 张三 [1 2] <nil>
	// user/get 60111 userid not found
}
