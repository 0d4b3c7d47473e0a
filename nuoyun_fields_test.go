package livestat

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sort is required by the API: every request carries it, asc unless the
// caller asks otherwise.
func TestNuoyunEveryRequestCarriesSort(t *testing.T) {
	t.Parallel()
	c, mt := newNuoyunClient(t, WithNuoyunWorkers(2))
	f := serveNuoyun(mt, 25)
	ctx := context.Background()

	_, err := c.Nuoyun.GetUserDurations(ctx, UserDurationRequest{Page: 1, PageSize: 10})
	require.NoError(t, err)
	_, err = c.Nuoyun.GetUserDurations(ctx, UserDurationRequest{Page: 1, PageSize: 10, Sort: SortDesc})
	require.NoError(t, err)
	_, err = Collect(c.Nuoyun.UserDurations(ctx, UserDurationRequest{PageSize: 10}))
	require.NoError(t, err)
	_, err = Collect(c.Nuoyun.UserDurationPages(ctx, UserDurationRequest{PageSize: 10, Sort: SortDesc}))
	require.NoError(t, err)

	var sorts []any
	for _, b := range f.requestBodies() {
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
	c, mt := newNuoyunClient(t)
	mt.RegisterResponder(http.MethodPost, nuoyunTestURL, httpmock.NewStringResponder(200, nuoyunPage(len(rows), rows...)))
	p, err := c.Nuoyun.GetUserDurations(context.Background(), UserDurationRequest{Page: 1, PageSize: 10})
	require.NoError(t, err)
	assert.Equal(t, 1, mt.GetTotalCallCount(), "decoded the first time, not retried")
	require.Len(t, p.Data.List, len(rows))
	got := p.Data.List

	assert.Equal(t, ThirdWeChatInfo{Present: true, AuthorizerAppID: "wx-app", OpenID: "o-1", UnionID: "u-1"}, got[0].ThirdWeChatInfo)
	assert.Equal(t, ChannelInfo{Present: true, ChannelID: 77, ChannelName: "store", StoreID: "S-77"}, got[0].ChannelInfo)
	assert.Equal(t, ThirdWeChatInfo{Present: true, OpenID: "o-2"}, got[1].ThirdWeChatInfo, "the first element; the others are ignored")
	assert.Equal(t, ChannelInfo{Present: true, ChannelID: 5}, got[1].ChannelInfo)
	for i := 2; i <= 3; i++ {
		assert.False(t, got[i].ThirdWeChatInfo.Present, "row %d", i)
		assert.False(t, got[i].ChannelInfo.Present, "row %d", i)
	}
	assert.Equal(t, ChannelInfo{Present: true, ChannelName: `a"b`}, got[4].ChannelInfo, "the general decoder, inside an array")

	// A row encodes back as the API documents it: objects.
	b, err := json.Marshal(got[1])
	require.NoError(t, err)
	assert.Contains(t, string(b), `"third_wechat_info":{"authorizer_appid":"","openid":"o-2","unionid":""}`)

	// An array of anything but objects is still a malformed reply.
	for _, bad := range []string{`[5]`, `["o-1"]`, `[[{"openid":"o-1"}]]`} {
		var i ThirdWeChatInfo
		assert.Error(t, json.Unmarshal([]byte(bad), &i), bad)
		var ci ChannelInfo
		assert.Error(t, json.Unmarshal([]byte(bad), &ci), bad)
	}
}
