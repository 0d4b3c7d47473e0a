package livestat_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"time"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
)

func ExampleNuoyunService_UserDurations() {
	// livestattest stands in for the Nuoyun gateway, serving two rows of
	// the docs' sample and checking the signature. In production, leave
	// out WithNuoyunBaseURL.
	cst := time.FixedZone("CST", 8*60*60)
	gateway := livestattest.New(livestattest.Options{
		NuoyunAppKey: "your-app-key", NuoyunAppSecret: "your-app-secret",
		Nuoyun: []livestat.UserDuration{{
			RoomID: 1248039790, WeChatUserSpaceID: 8756, WeChatUserName: "CLANNAD", StayDuration: 392,
			ChannelInfo:    livestat.ChannelInfo{Present: true, ChannelID: 3128527, ChannelName: "袁"},
			FirstVisitTime: livestat.ChinaTime{Time: time.Date(2025, 9, 16, 15, 6, 6, 0, cst)},
			LastVisitTime:  livestat.ChinaTime{Time: time.Date(2025, 9, 16, 15, 6, 6, 0, cst)},
			Device:         livestattest.NewDevice(livestat.DeviceIOS),
		}, {
			RoomID: 256134450, WeChatUserSpaceID: 20401818, WeChatUserName: "自律", StayDuration: 11,
			FirstVisitTime: livestat.ChinaTime{Time: time.Date(2025, 10, 20, 14, 15, 41, 0, cst)},
			LastVisitTime:  livestat.ChinaTime{Time: time.Date(2025, 10, 28, 16, 44, 4, 0, cst)},
			Device:         livestattest.NewDevice(livestat.DeviceAndroid),
		}},
	})
	defer gateway.Close()

	c, err := livestat.NewClient(
		livestat.WithNuoyunBaseURL(gateway.URL()),
		livestat.WithNuoyunAuth(livestat.NewSignAuthorizer(gateway.NuoyunAppKey(), gateway.NuoyunAppSecret())),
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
