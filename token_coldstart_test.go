package livestat

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A cold Client hit by 1000 concurrent calls fetches one token, and every
// call goes out with it. The gettoken reply is held until all 1000 calls
// are waiting (synctest.Wait), so they really do meet the refresh in flight.
// BenchmarkToken/path=cold-start-1000 times the same situation.
func TestColdStartFetchesOneToken(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const callers = 1000
		mt := httpmock.NewMockTransport()
		gate := make(chan struct{})
		var gettoken atomic.Int32
		mt.RegisterResponder(http.MethodGet, testBase+"/cgi-bin/gettoken", func(*http.Request) (*http.Response, error) {
			gettoken.Add(1)
			<-gate
			return httpmock.NewStringResponse(200, `{"errcode":0,"errmsg":"ok","access_token":"`+testToken+`","expires_in":7200}`), nil
		})
		var mu sync.Mutex
		tokens := map[string]int{}
		mt.RegisterResponder(http.MethodPost, testBase+"/cgi-bin/living/get_watch_stat", func(r *http.Request) (*http.Response, error) {
			mu.Lock()
			tokens[r.URL.Query().Get("access_token")]++
			mu.Unlock()
			return httpmock.NewStringResponse(200, `{"errcode":0,"errmsg":"ok","ending":1,"next_key":"","stat_info":{"users":[{"userid":"u1"}]}}`), nil
		})
		c, err := NewClient(WithWeComApp(testCorpID, testSecret), WithWeComBaseURL(testBase), WithHTTPClient(&http.Client{Transport: mt}))
		require.NoError(t, err)

		var wg sync.WaitGroup
		errs := make([]error, callers)
		for i := range callers {
			wg.Go(func() {
				_, errs[i] = c.Living.GetWatchStat(context.Background(), WatchStatRequest{LivingID: "L1"})
			})
		}
		synctest.Wait() // every call is blocked: one in gettoken, the rest waiting for it
		assert.EqualValues(t, 1, gettoken.Load(), "gettoken requests while 1000 calls wait")
		close(gate)
		wg.Wait()

		for _, err := range errs {
			require.NoError(t, err)
		}
		assert.EqualValues(t, 1, gettoken.Load(), "gettoken requests in all")
		assert.Equal(t, map[string]int{testToken: callers}, tokens, "every call used the one token")
	})
}
