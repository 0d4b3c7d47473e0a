package livestattest_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
)

// A server without a testing.T, as a program embeds it (the livestat CLI's
// demo does): New, then Close.
func ExampleNew() {
	srv := livestattest.New(livestattest.Options{
		PageSize: 2,
		Living: map[string][]livestat.LivingViewer{"L1": {
			{Kind: livestat.KindUser, UserID: "zhangsan", WatchTime: 1800},
			{Kind: livestat.KindExternalUser, ExternalUserID: "wmEXT", Type: livestat.ExternalUserWeChat, Name: "王芳", WatchTime: 45},
			{Kind: livestat.KindUser, UserID: "lisi", WatchTime: 600},
		}},
	})
	defer srv.Close()

	c := srv.Client() // pointed at srv, credentials set
	for v, err := range c.Living.Viewers(context.Background(), livestat.WatchStatRequest{LivingID: "L1"}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(v.Kind, v.ID(), v.WatchTime.Duration())
	}
	fmt.Println(srv.Calls(livestat.EndpointWatchStat), "pages,", srv.Calls(livestat.EndpointGetToken), "gettoken")
	// Output:
	// user zhangsan 30m0s
	// external_user wmEXT 45s
	// user lisi 10m0s
	// 2 pages, 1 gettoken
}

// Scripted faults: the second page answers errcode 48002 (not retried), and
// the request for it can be read back.
func ExampleServer_Fail() {
	srv := livestattest.New(livestattest.Options{
		PageSize: 10,
		School:   map[string]livestattest.School{"L1": livestattest.GenerateSchool(30, 1)},
	})
	defer srv.Close()
	srv.Fail(livestattest.Fault{Endpoint: livestat.EndpointSchoolWatchStat, Call: 2, ErrCode: 48002, ErrMsg: "api forbidden"})

	rows, err := livestat.Collect(srv.Client().School.Watchers(context.Background(), livestat.SchoolStatRequest{LivingID: "L1"}))
	fmt.Println(len(rows), "rows before the error")
	fmt.Println(errors.Is(err, livestat.ErrPermissionDenied), err)
	last, _ := srv.LastRequest(livestat.EndpointSchoolWatchStat)
	fmt.Println(len(last.Body) > 0, srv.Calls(livestat.EndpointSchoolWatchStat))
	// Output:
	// 10 rows before the error
	// true livestat: wecom school/living/get_watch_stat_v2: code 48002: api forbidden
	// true 2
}
