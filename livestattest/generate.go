package livestattest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/livestat/livestat"
)

// The generators return the same rows for the same arguments, on every
// machine, so tests can assert on them. Times are near the start of a
// broadcast at 2025-09-01 19:00 China Standard Time.

// broadcastStart is the start of the generated broadcasts.
func broadcastStart() time.Time {
	return time.Date(2025, 9, 1, 19, 0, 0, 0, time.FixedZone("CST", 8*60*60))
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x6c697665)) }

func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }

// GenerateViewers returns n viewers of a corp broadcast: about 70% corp
// members (userid "user0001", ...) and 30% external contacts (WeChat and
// WeCom users with names), with watch times of 1 to 90 minutes, some
// comments, a few on the mic, and some invited by a member.
func GenerateViewers(n int, seed uint64) []livestat.LivingViewer {
	names := [...]string{"张伟", "王芳", "李娜", "刘洋", "陈静", "Alice", "Bob", "杨磊", "赵敏", "Chen Hui"}
	r := newRand(seed)
	out := make([]livestat.LivingViewer, 0, n)
	for i := 1; i <= n; i++ {
		v := livestat.LivingViewer{
			WatchTime: livestat.Seconds(60 + r.IntN(90*60)),
			IsComment: livestat.IntBool(chance(r, 0.3)),
			IsMic:     livestat.IntBool(chance(r, 0.05)),
		}
		if chance(r, 0.7) {
			v.Kind = livestat.KindUser
			v.UserID = fmt.Sprintf("user%04d", i)
		} else {
			v.Kind = livestat.KindExternalUser
			v.ExternalUserID = fmt.Sprintf("wmLST%08d", i)
			v.Type = livestat.ExternalUserWeChat
			if chance(r, 0.2) {
				v.Type = livestat.ExternalUserWeCom
			}
			v.Name = fmt.Sprintf("%s%d", names[r.IntN(len(names))], i)
			if chance(r, 0.2) {
				v.InvitorUserID = "user0001"
			}
		}
		out = append(out, v)
	}
	return out
}

// SchoolClassSize is the number of students per class in GenerateSchool.
const SchoolClassSize = 30

// GenerateSchool returns a school broadcast with students students in
// classes of SchoolClassSize (partyids 1001, 1002, ...; every tenth student
// is also in party 1900, a grade group). Each student has a parent
// ("parent0001"), some a second one ("parent0001b"). About 75% of the
// students and half of the parents watched, for 5 to 60 minutes; the
// others are absentees. There are students/10 visitors.
func GenerateSchool(students int, seed uint64) School {
	r := newRand(seed)
	start := broadcastStart().Unix()
	var sc School
	watch := func(w livestat.SchoolWatcher) livestat.SchoolWatcher {
		enter := start + int64(r.IntN(600))
		d := int64(5*60 + r.IntN(55*60))
		w.EnterTime = livestat.UnixTime(enter)
		w.WatchTime = livestat.Seconds(d)
		w.LeaveTime = livestat.UnixTime(enter + d + int64(r.IntN(300)))
		w.IsComment = livestat.IntBool(chance(r, 0.3))
		return w
	}
	for i := 1; i <= students; i++ {
		student := fmt.Sprintf("student%04d", i)
		partyIDs := []int64{int64(1001 + (i-1)/SchoolClassSize)}
		if i%10 == 0 {
			partyIDs = append(partyIDs, 1900)
		}
		if chance(r, 0.75) {
			sc.Watchers = append(sc.Watchers, watch(livestat.SchoolWatcher{Kind: livestat.KindStudent, StudentUserID: student, PartyIDs: partyIDs}))
		} else {
			sc.Absentees = append(sc.Absentees, livestat.SchoolAbsentee{Kind: livestat.KindStudent, StudentUserID: student, PartyIDs: partyIDs})
		}
		parents := []string{fmt.Sprintf("parent%04d", i)}
		if chance(r, 0.3) {
			parents = append(parents, fmt.Sprintf("parent%04db", i))
		}
		for _, p := range parents {
			if chance(r, 0.5) {
				sc.Watchers = append(sc.Watchers, watch(livestat.SchoolWatcher{Kind: livestat.KindParent, ParentUserID: p, StudentUserID: student, PartyIDs: partyIDs}))
			} else {
				sc.Absentees = append(sc.Absentees, livestat.SchoolAbsentee{Kind: livestat.KindParent, ParentUserID: p, StudentUserID: student, PartyIDs: partyIDs})
			}
		}
	}
	for i := 1; i <= students/10; i++ {
		sc.Watchers = append(sc.Watchers, watch(livestat.SchoolWatcher{Kind: livestat.KindVisitor, Nickname: fmt.Sprintf("访客%d", i)}))
	}
	return sc
}

// GenerateSchoolLivings returns n school broadcasts of students students
// each, one a day from 2025-09-01 19:00 CST on, under the livingids
// prefix+"001", prefix+"002", ... (ids gives them in that order): for a
// teacher with many lessons, as Options.School and Options.UserLivings
// take them. Broadcast i is GenerateSchool(students, seed+i) moved i-1
// days later, so the details the server makes of it start that day.
func GenerateSchoolLivings(prefix string, n, students int, seed uint64) (ids []string, school map[string]School) {
	school = make(map[string]School, n)
	for i := 1; i <= n; i++ {
		sc := GenerateSchool(students, seed+uint64(i))
		shift := livestat.UnixTime((i - 1) * 24 * 3600)
		for j := range sc.Watchers {
			sc.Watchers[j].EnterTime += shift
			sc.Watchers[j].LeaveTime += shift
		}
		id := fmt.Sprintf("%s%03d", prefix, i)
		ids = append(ids, id)
		school[id] = sc
	}
	return ids, school
}

// GenerateDurations returns n rows of Nuoyun viewer durations: distinct
// viewers (wechat_user_space_id 20400001, ...) spread over three rooms, with
// stay durations of 10 s to 2 h split into live and playback time, devices
// as the API sends them ("iOS", "Android", "", a code), a store channel for
// most and third-party WeChat ids for some, and visits between 2025-09-01 and
// 2025-11-30 (China Standard Time). LastVisitTime is what the fake filters
// by as the update time.
func GenerateDurations(n int, seed uint64) []livestat.UserDuration {
	names := [...]string{"CLANNAD", "梦回君乡", "自律", "Frost", "空白.", "这是个正常名", ":)", "hovz", ""}
	areas := [...]string{"浙江 杭州", "河南 郑州", "上海", "北京", "广东 深圳", ""}
	devices := [...]string{`"iOS"`, `"Android"`, `""`, `0`, `"iOS"`, `"Android"`}
	rooms := [...]int64{1248039790, 384545650, 256134450}
	r := newRand(seed)
	// Decoded, as the client decodes it, so that generated rows equal the
	// rows a client reads back (time.Time equality includes the zone).
	var first livestat.ChinaTime
	if err := json.Unmarshal([]byte(`"2025-09-01 00:00:00"`), &first); err != nil {
		panic(err)
	}
	out := make([]livestat.UserDuration, 0, n)
	for i := 1; i <= n; i++ {
		stay := int64(10 + r.IntN(2*3600))
		live := stay * int64(r.IntN(101)) / 100
		var device livestat.Device
		_ = device.UnmarshalJSON([]byte(devices[r.IntN(len(devices))])) // cannot fail: these are values the API sends
		firstVisit := first.Time.Add(time.Duration(r.IntN(60*24*3600)) * time.Second)
		lastVisit := firstVisit.Add(time.Duration(r.IntN(30*24*3600)) * time.Second)
		row := livestat.UserDuration{
			RoomID:            livestat.FlexInt(rooms[r.IntN(len(rooms))]),
			WeChatUserSpaceID: livestat.FlexInt(20400000 + i),
			WeChatUserName:    names[r.IntN(len(names))],
			StayDuration:      livestat.Seconds(stay),
			LiveDuration:      livestat.Seconds(live),
			PlaybackDuration:  livestat.Seconds(stay - live),
			IP:                fmt.Sprintf("10.%d.%d.%d", r.IntN(256), r.IntN(256), 1+r.IntN(254)),
			Area:              areas[r.IntN(len(areas))],
			Device:            device,
			FirstVisitTime:    livestat.ChinaTime{Time: firstVisit},
			LastVisitTime:     livestat.ChinaTime{Time: lastVisit},
		}
		if row.WeChatUserName != "" {
			row.WeChatUserPhoto = fmt.Sprintf("https://avatars.example.invalid/%d.jpg", i)
		}
		if chance(r, 0.6) {
			id := 3128500 + r.IntN(20)
			row.ChannelInfo = livestat.ChannelInfo{Present: true, ChannelID: livestat.FlexInt(id), ChannelName: fmt.Sprintf("门店%d", id%100)}
		}
		if chance(r, 0.2) {
			row.ThirdWeChatInfo = livestat.ThirdWeChatInfo{Present: true, AuthorizerAppID: "wxLST0000000001",
				OpenID: fmt.Sprintf("oLST%08d", i), UnionID: fmt.Sprintf("uLST%08d", i)}
			row.ThirdUUID = fmt.Sprintf("crm-%d", i)
		}
		if i > 1 && chance(r, 0.1) {
			inviter := 1 + r.IntN(i-1)
			row.InvitedWeChatUserSpaceID = livestat.FlexInt(20400000 + inviter)
			row.InvitedName = out[inviter-1].WeChatUserName
		}
		out = append(out, row)
	}
	return out
}

// NewDevice returns a Device of type t, as if Nuoyun had sent its code (an
// unknown t as if it had sent ""): for rows a test builds by hand.
func NewDevice(t livestat.DeviceType) livestat.Device {
	raw := `""`
	if t >= livestat.DevicePC && t <= livestat.DeviceIOS {
		raw = strconv.Itoa(int(t))
	}
	var d livestat.Device
	if err := json.Unmarshal([]byte(raw), &d); err != nil {
		panic("livestattest: NewDevice: " + err.Error()) // Device accepts every code
	}
	return d
}
