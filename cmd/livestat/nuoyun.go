package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/livestat/livestat"
)

func nuoyunDurationsCmd() *command {
	var (
		userID     int64
		start, end int64
		sort       string
		pageSize   int
	)
	return &command{
		name:    "nuoyun-durations",
		args:    "[--user-space-id N] [--update-time-start TIME] [--update-time-end TIME] [--sort asc|desc] [--page-size N]",
		vendor:  livestat.VendorNuoyun,
		summary: "watch durations from Nuoyun (诺云直播) getAccountUserDurationList: rows of kind user",
		flags: func(fs *flag.FlagSet) func() error {
			fs.Int64Var(&userID, "user-space-id", 0, "wechat_user_space_id, the `N` of the user (optional: not sent when 0)")
			timeVar(fs, &start, "update-time-start", false, "only rows updated at or after this `TIME`: Unix seconds, a date (2026-09-01, from its start), a local time (2026-09-01 08:00) or RFC 3339")
			timeVar(fs, &end, "update-time-end", true, "only rows updated at or before this `TIME` (a date: to its end) (default: when the command starts)")
			fs.StringVar(&sort, "sort", string(livestat.SortAsc), "row order, `asc|desc` (default asc: the API requires one)")
			fs.IntVar(&pageSize, "page-size", livestat.MaxNuoyunPageSize, fmt.Sprintf("rows per request, `N` from 1 to %d", livestat.MaxNuoyunPageSize))
			return func() error {
				switch {
				case userID < 0:
					return usagef("--user-space-id must not be negative")
				case start < 0 || end < 0:
					return usagef("--update-time-start and --update-time-end must not be negative")
				case end != 0 && start > end:
					return usagef("--update-time-start is after --update-time-end")
				case sort != string(livestat.SortAsc) && sort != string(livestat.SortDesc):
					return usagef("--sort must be asc or desc, not %q", sort)
				case pageSize < 1 || pageSize > livestat.MaxNuoyunPageSize:
					return usagef("--page-size must be between 1 and %d", livestat.MaxNuoyunPageSize)
				}
				return nil
			}
		},
		export: func(ctx context.Context, c *livestat.Client, out *output) error {
			req := livestat.UserDurationRequest{
				PageSize: pageSize, Sort: livestat.SortOrder(sort), WeChatUserSpaceID: userID,
				UpdateTimeStart: livestat.UnixTime(start), UpdateTimeEnd: livestat.UnixTime(end),
			}
			return stream(out, durationSheet(), c.Nuoyun.UserDurationPages(ctx, req),
				func(p *livestat.UserDurationPage) [][]livestat.UserDuration {
					return [][]livestat.UserDuration{p.Data.List}
				},
				func(p *livestat.UserDurationPage) int { return int(p.Data.Total) })
		},
	}
}

// nuoyunAuthFromEnv wires NUOYUN_APP_KEY and NUOYUN_APP_SECRET to the
// request signer. Without both, requests carry no credentials.
func nuoyunAuthFromEnv(getenv func(string) string) ([]livestat.Option, error) {
	key, secret := getenv("NUOYUN_APP_KEY"), getenv("NUOYUN_APP_SECRET")
	switch {
	case key == "" && secret == "":
		return nil, nil
	case key == "" || secret == "":
		return nil, usagef("set both NUOYUN_APP_KEY and NUOYUN_APP_SECRET, or neither")
	}
	return []livestat.Option{livestat.WithNuoyunAuth(livestat.NewSignAuthorizer(key, secret))}, nil
}

func durationSheet() *sheet[livestat.UserDuration] {
	type row = livestat.UserDuration
	return &sheet[row]{
		fields: []string{
			"room_id", "wechat_user_space_id", "wechat_user_name", "wechat_user_photo", "stay_duration", "ip", "third_uuid",
			"third_wechat_info_authorizer_appid", "third_wechat_info_openid", "third_wechat_info_unionid",
			"live_duration", "playback_duration",
			"channel_info_channel_id", "channel_info_channel_name", "channel_info_store_id",
			"invited_wechat_user_space_id", "invited_name", "first_visit_time", "last_visit_time", "area", "device",
		},
		types: map[string]fieldType{"first_visit_time": chinaTimeField, "last_visit_time": chinaTimeField},
		kind:  func(*row) livestat.ViewerKind { return livestat.KindUser },
		columns: []column[row]{
			{title: "ROOM", width: 10, right: true, value: func(r *row) string { return fmt.Sprint(r.RoomID) }},
			{title: "USER", width: 10, right: true, value: func(r *row) string { return fmt.Sprint(r.WeChatUserSpaceID) }},
			{title: "NAME", width: 14, value: func(r *row) string { return r.WeChatUserName }},
			{title: "STAY", width: 7, right: true, value: func(r *row) string { return duration(r.StayDuration) }},
			{title: "LIVE", width: 7, right: true, value: func(r *row) string { return duration(r.LiveDuration) }},
			{title: "REPLAY", width: 7, right: true, value: func(r *row) string { return duration(r.PlaybackDuration) }},
			{title: "DEVICE", width: 7, value: func(r *row) string {
				if r.Device.Type() == livestat.DeviceUnknown {
					return "-"
				}
				return r.Device.String()
			}},
			{title: "AREA", width: 10, value: func(r *row) string { return r.Area }},
			{title: "FIRST VISIT", width: 16, value: func(r *row) string { return localTime(r.FirstVisitTime.Time) }},
			{title: "LAST VISIT", width: 16, value: func(r *row) string { return localTime(r.LastVisitTime.Time) }},
			{title: "STORE", width: 14, value: func(r *row) string { return r.ChannelInfo.ChannelName }},
		},
	}
}
