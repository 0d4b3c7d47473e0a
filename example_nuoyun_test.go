package livestat_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/livestat/livestat"
)

func ExampleNuoyunService_UserDurations() {
	// A stand-in for the Nuoyun gateway, serving one page. In production,
	// leave out WithNuoyunBaseURL.
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"code":200,"msg":"Success","data":{"total":2,"list":[
			{"room_id":1248039790,"wechat_user_space_id":8756,"wechat_user_name":"CLANNAD","stay_duration":392,
			 "third_wechat_info":{},"channel_info":{"channel_id":3128527,"channel_name":"袁","store_id":""},
			 "first_visit_time":"2025-09-16 15:06:06","last_visit_time":"2025-09-16 15:06:06","device":"iOS"},
			{"room_id":256134450,"wechat_user_space_id":"20401818","wechat_user_name":"自律","stay_duration":11,
			 "third_wechat_info":{},"channel_info":{},
			 "first_visit_time":"2025-10-20 14:15:41","last_visit_time":"2025-10-28 16:44:04","device":1}]}}`)
	}))
	defer gateway.Close()

	c, err := livestat.NewClient(
		livestat.WithNuoyunBaseURL(gateway.URL),
		livestat.WithNuoyunAuth(livestat.NewSignAuthorizer("your-app-key", "your-app-secret")),
	)
	if err != nil {
		log.Fatal(err)
	}
	// Every row of every page, in order; pages after the first are
	// fetched concurrently.
	for row, err := range c.Nuoyun.UserDurations(context.Background(), livestat.UserDurationRequest{Sort: livestat.SortAsc}) {
		if err != nil {
			log.Fatal(err)
		}
		store := "no store"
		if row.ChannelInfo.Present {
			store = row.ChannelInfo.ChannelName
		}
		fmt.Printf("%d %s: %v on %v, last seen %v (%s)\n",
			row.WeChatUserSpaceID, row.WeChatUserName, row.StayDuration.Duration(), row.Device, row.LastVisitTime, store)
	}
	// Output:
	// 8756 CLANNAD: 6m32s on ios, last seen 2025-09-16 15:06:06 (袁)
	// 20401818 自律: 11s on android, last seen 2025-10-28 16:44:04 (no store)
}

func ExampleSignAuthorizer() {
	// Nuoyun documents sign = md5(timestamp + key + secret) for its webhook
	// pushes, not where its gateway expects the fields: SignAuthorizer
	// sends them as headers; write a RequestAuthorizerFunc for another
	// placement.
	a := livestat.NewSignAuthorizer("your-app-key", "your-app-secret")
	a.Now = func() time.Time { return time.UnixMilli(1700000000123) } // a fixed clock, for the example

	r := &livestat.AuthRequest{Header: http.Header{}, Query: url.Values{}}
	if err := a.AuthorizeRequest(context.Background(), r); err != nil {
		log.Fatal(err)
	}
	for _, k := range []string{"key", "timestamp", "sign"} {
		fmt.Printf("%s: %s\n", k, r.Header.Get(k))
	}
	fmt.Println(a) // the secret is never printed
	// Output:
	// key: your-app-key
	// timestamp: 1700000000123
	// sign: 30f28bced2443716113f717e4d79f4f8
	// SignAuthorizer{key: "your-app-key", secret: REDACTED}
}
