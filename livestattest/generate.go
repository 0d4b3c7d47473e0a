package livestattest

import (
	"fmt"
	"math/rand/v2"
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
			IsComment: livestat.Flag(chance(r, 0.3)),
			IsMic:     livestat.Flag(chance(r, 0.05)),
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
		w.IsComment = livestat.Flag(chance(r, 0.3))
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
