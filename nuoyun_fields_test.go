package livestat_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sort is required by the API: every request carries it, asc unless the
// caller asks otherwise.
func TestNuoyunEveryRequestCarriesSort(t *testing.T) {
	t.Parallel()
	srv := livestattest.NewServer(t, livestattest.Options{Nuoyun: livestattest.GenerateDurations(25, 1)})
	c := srv.Client(livestat.WithNuoyunRateLimit(0, 0), livestat.WithNuoyunWorkers(2))
	ctx := context.Background()

	_, err := c.Nuoyun.GetUserDurations(ctx, livestat.UserDurationRequest{Page: 1, PageSize: 10})
	require.NoError(t, err)
	_, err = c.Nuoyun.GetUserDurations(ctx, livestat.UserDurationRequest{Page: 1, PageSize: 10, Sort: livestat.SortDesc})
	require.NoError(t, err)
	_, err = livestat.Collect(c.Nuoyun.UserDurations(ctx, livestat.UserDurationRequest{PageSize: 10}))
	require.NoError(t, err)
	_, err = livestat.Collect(c.Nuoyun.UserDurationPages(ctx, livestat.UserDurationRequest{PageSize: 10, Sort: livestat.SortDesc}))
	require.NoError(t, err)

	var sorts []any
	for _, r := range srv.Requests(livestat.EndpointNuoyunUserDurations) {
		var b map[string]any
		require.NoError(t, json.Unmarshal(r.Body, &b))
		sorts = append(sorts, b["sort"])
	}
	assert.Equal(t, []any{"asc", "desc", "asc", "asc", "asc", "desc", "desc", "desc"}, sorts)
}

// Nuoyun's pushes and older API send third_wechat_info (and channel_info)
// as an array of objects: the first element is the value.
func TestNuoyunNestedObjectsAsArrays(t *testing.T) {
	t.Parallel()
	rows := []string{
		`{"room_id":1,"wechat_user_space_id":1,"third_wechat_info":[{"authorizer_appid":"wx-app","openid":"o-1","unionid":"u-1"}],"channel_info":[{"channel_id":"77","channel_name":"store","store_id":"S-77"}]}`,
		`{"room_id":1,"wechat_user_space_id":2,"third_wechat_info":[{"openid":"o-2"},{"openid":"o-3"}],"channel_info":[{"channel_id":5},{"channel_id":6}]}`,
		`{"room_id":1,"wechat_user_space_id":3,"third_wechat_info":[],"channel_info":[{}]}`,
		`{"room_id":1,"wechat_user_space_id":4,"third_wechat_info":[null],"channel_info":{}}`,
		`{"room_id":1,"wechat_user_space_id":5,"third_wechat_info":null,"channel_info":[ {"channel_name":"a\"b"} ]}`,
	}
	srv, c := scriptedNuoyun(t, func(int) string { return nuoyunPage(len(rows), rows...) })
	p, err := c.Nuoyun.GetUserDurations(context.Background(), livestat.UserDurationRequest{Page: 1, PageSize: 10})
	require.NoError(t, err)
	assert.Len(t, srv.Requests(livestat.EndpointNuoyunUserDurations), 1, "decoded the first time, not retried")
	require.Len(t, p.Data.List, len(rows))
	got := p.Data.List

	assert.Equal(t, livestat.ThirdWeChatInfo{Present: true, AuthorizerAppID: "wx-app", OpenID: "o-1", UnionID: "u-1"}, got[0].ThirdWeChatInfo)
	assert.Equal(t, livestat.ChannelInfo{Present: true, ChannelID: 77, ChannelName: "store", StoreID: "S-77"}, got[0].ChannelInfo)
	assert.Equal(t, livestat.ThirdWeChatInfo{Present: true, OpenID: "o-2"}, got[1].ThirdWeChatInfo, "the first element; the others are ignored")
	assert.Equal(t, livestat.ChannelInfo{Present: true, ChannelID: 5}, got[1].ChannelInfo)
	for i := 2; i <= 3; i++ {
		assert.False(t, got[i].ThirdWeChatInfo.Present, "row %d", i)
		assert.False(t, got[i].ChannelInfo.Present, "row %d", i)
	}
	assert.Equal(t, livestat.ChannelInfo{Present: true, ChannelName: `a"b`}, got[4].ChannelInfo, "the general decoder, inside an array")

	// A row encodes back as the API documents it: objects.
	b, err := json.Marshal(got[1])
	require.NoError(t, err)
	assert.Contains(t, string(b), `"third_wechat_info":{"authorizer_appid":"","openid":"o-2","unionid":""}`)

	// An array of anything but objects is still a malformed reply.
	for _, bad := range []string{`[5]`, `["o-1"]`, `[[{"openid":"o-1"}]]`} {
		var i livestat.ThirdWeChatInfo
		assert.Error(t, json.Unmarshal([]byte(bad), &i), bad)
		var ci livestat.ChannelInfo
		assert.Error(t, json.Unmarshal([]byte(bad), &ci), bad)
	}
}
