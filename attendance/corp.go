package attendance

import (
	"cmp"
	"context"
	"maps"
	"slices"

	"github.com/livestat/livestat"
)

// Corp builds the attendance report of the corp broadcast livingID: its
// details (living/get_living_info) and its viewers (living/get_watch_stat),
// each with their share of living_duration, their status against
// opts.Threshold and their invitor. The viewers are streamed page by page:
// memory grows with the number of viewers, one entry each. A broadcast
// nobody watched is a valid report with no rows. A viewer listed twice
// keeps the longest watch time.
func Corp(ctx context.Context, c *livestat.Client, livingID string, opts Options) (*CorpReport, error) {
	info, err := c.Living.GetLivingInfo(ctx, livingID)
	if err != nil {
		return nil, err
	}
	rep := &CorpReport{
		LivingID:   livingID,
		Info:       *info,
		Threshold:  opts.Threshold,
		Incomplete: info.Status == livestat.LivingLive || info.Status == livestat.LivingReserved,
	}
	type key struct {
		kind livestat.ViewerKind
		id   string
	}
	viewers := make(map[key]*ViewerRow)
	for v, err := range c.Living.Viewers(ctx, livestat.WatchStatRequest{LivingID: livingID}) {
		if err != nil {
			return nil, err
		}
		k := key{v.Kind, v.ID()}
		if r, ok := viewers[k]; ok {
			r.WatchTime = max(r.WatchTime, v.WatchTime)
			continue
		}
		viewers[k] = &ViewerRow{
			LivingID: livingID, Kind: v.Kind, UserID: v.UserID, ExternalUserID: v.ExternalUserID, Name: v.Name,
			WatchTime: v.WatchTime, InvitorUserID: v.InvitorUserID, InvitorExternalUserID: v.InvitorExternalUserID,
		}
	}
	rep.Rows = make([]ViewerRow, 0, len(viewers))
	for _, r := range viewers {
		r.Status = opts.Threshold.Status(r.WatchTime, info.LivingDuration)
		r.Share = share(r.WatchTime, info.LivingDuration)
		r.Incomplete = rep.Incomplete
		rep.Rows = append(rep.Rows, *r)
	}
	clear(viewers)
	slices.SortFunc(rep.Rows, func(a, b ViewerRow) int {
		return cmp.Or(cmp.Compare(kindOrder[a.Kind], kindOrder[b.Kind]), cmp.Compare(a.UserID, b.UserID), cmp.Compare(a.ExternalUserID, b.ExternalUserID))
	})
	summarizeCorp(rep)
	return rep, nil
}

func summarizeCorp(rep *CorpReport) {
	newSummary := func(by string) Summary {
		return Summary{LivingID: rep.LivingID, Kind: KindSummary, By: by, Incomplete: rep.Incomplete}
	}
	kinds := [2]Summary{newSummary(ByKind), newSummary(ByKind)}
	kinds[0].ViewerKind, kinds[1].ViewerKind = livestat.KindUser, livestat.KindExternalUser
	type invitor struct{ user, external string }
	invitors := make(map[invitor]*Summary)
	rep.Overall = newSummary("")
	for _, r := range rep.Rows {
		kinds[kindOrder[r.Kind]].add(r.Status, r.WatchTime)
		k := invitor{r.InvitorUserID, r.InvitorExternalUserID}
		s, ok := invitors[k]
		if !ok {
			v := newSummary(ByInvitor)
			v.InvitorUserID, v.InvitorExternalUserID = k.user, k.external
			s = &v
			invitors[k] = s
		}
		s.add(r.Status, r.WatchTime)
		rep.Overall.add(r.Status, r.WatchTime)
	}
	for i := range kinds {
		kinds[i].rates()
	}
	rep.ByKind = kinds[:]
	none := func(k invitor) bool { return k == invitor{} }
	for _, k := range slices.SortedFunc(maps.Keys(invitors), func(a, b invitor) int {
		// Members' invitations first, then external ones, then nobody's.
		return cmp.Or(cmp.Compare(b2i(none(a)), b2i(none(b))), cmp.Compare(b2i(a.user == ""), b2i(b.user == "")),
			cmp.Compare(a.user, b.user), cmp.Compare(a.external, b.external))
	}) {
		invitors[k].rates()
		rep.ByInvitor = append(rep.ByInvitor, *invitors[k])
	}
	rep.Overall.rates()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
