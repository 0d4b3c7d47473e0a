package livestat_test

import (
	"context"
	"fmt"
	"log"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
)

// From a member's userid to every viewer of each of their broadcasts: the
// member's living IDs, each broadcast's details, then its viewers.
func ExampleLivingService_LivingIDs_memberViewers() {
	fake := livestattest.New(livestattest.Options{
		Living: map[string][]livestat.LivingViewer{
			"LIVING_1": livestattest.GenerateViewers(2, 1),
			"LIVING_2": livestattest.GenerateViewers(1, 2),
		},
		UserLivings: map[string][]string{"zhangsan": {"LIVING_1", "LIVING_2"}},
	})
	defer fake.Close()
	c, ctx, userID := fake.Client(), context.Background(), "zhangsan"

	for id, err := range c.Living.LivingIDs(ctx, livestat.UserLivingIDsRequest{UserID: userID}) {
		if err != nil {
			log.Fatal(err)
		}
		info, err := c.Living.GetLivingInfo(ctx, id)
		if err != nil {
			log.Fatal(err)
		}
		if info.Status != livestat.LivingEnded {
			continue // still running or never held: its numbers are not final
		}
		fmt.Println(id, info.Theme, info.Status, info.LivingDuration.Duration())
		for v, err := range c.Living.Viewers(ctx, livestat.WatchStatRequest{LivingID: id}) {
			if err != nil {
				log.Fatal(err)
			}
			share := float64(v.WatchTime) / float64(info.LivingDuration) // "watched 80% of it"
			fmt.Printf("  %s %v %.0f%%\n", v.ID(), v.WatchTime.Duration(), 100*share)
		}
	}
	// Output:
	// LIVING_1 直播 LIVING_1 ended 1h24m0s
	//   user0001 1h23m30s 99%
	//   user0002 39m30s 47%
	// LIVING_2 直播 LIVING_2 ended 32m0s
	//   user0001 31m40s 99%
}

// A school broadcast's details: when, how long, and for which classes (the
// denominator of attendance).
func ExampleSchoolService_GetLivingInfo() {
	fake := livestattest.New(livestattest.Options{
		School: map[string]livestattest.School{"LIVING_ID": livestattest.GenerateSchool(40, 1)},
	})
	defer fake.Close()
	c, ctx, id := fake.Client(), context.Background(), "LIVING_ID"

	info, err := c.School.GetLivingInfo(ctx, id)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.AnchorUserID, info.LivingDuration.Duration(), info.ViewerNum, "viewers")
	fmt.Println("classes", info.LivingRange.PartyIDs, "groups", info.LivingRange.GroupNames)
	// Output:
	// anchor 1h9m0s 59 viewers
	// classes [1001 1002 1900] groups []
}

// One page of a member's living IDs, and where to resume.
func ExampleLivingService_UserLivingIDPages() {
	fake := livestattest.New(livestattest.Options{
		UserLivings: map[string][]string{"zhangsan": {"L1", "L2", "L3"}},
	})
	defer fake.Close()
	c, ctx := fake.Client(), context.Background()

	req := livestat.UserLivingIDsRequest{UserID: "zhangsan", Limit: 2}
	for page, err := range c.Living.UserLivingIDPages(ctx, req) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(page.LivingIDs, page.More())
		req.Cursor = page.NextCursor // save it: a later run resumes here
	}
	// Output:
	// [L1 L2] true
	// [L3] false
}

// A corp broadcast's details: its state, length, and the replay, which
// the reply only describes when replay is on.
func ExampleLivingService_GetLivingInfo() {
	ready := livestat.ReplayReady
	fake := livestattest.New(livestattest.Options{
		LivingInfo: map[string]livestat.LivingInfo{
			"LIVING_ID": {Theme: "周会", Status: livestat.LivingEnded, LivingDuration: 2700, OpenReplay: true, ReplayStatus: &ready},
			"NO_REPLAY": {Theme: "培训", Status: livestat.LivingStatus(7), LivingDuration: 600},
		},
	})
	defer fake.Close()
	c, ctx := fake.Client(), context.Background()

	for _, id := range []string{"LIVING_ID", "NO_REPLAY"} {
		info, err := c.Living.GetLivingInfo(ctx, id)
		if err != nil {
			log.Fatal(err)
		}
		replay := "no replay"
		if rs, ok := info.Replay(); ok {
			replay = "replay " + rs.String()
		}
		fmt.Println(info.Theme, info.Status, info.LivingDuration.Duration(), replay)
	}
	// Output:
	// 周会 ended 45m0s replay ready
	// 培训 LivingStatus(7) 10m0s no replay
}
