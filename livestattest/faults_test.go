package livestattest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Fault.Page picks a page of a WeCom endpoint by the server's own cursor,
// and Request.Page says which page each call asked for.
func TestFaultPagePicksAWeComPage(t *testing.T) {
	t.Parallel()
	rows := livestattest.GenerateViewers(7, 1)
	srv := livestattest.NewServer(t, livestattest.Options{PageSize: 3, Living: map[string][]livestat.LivingViewer{"L": rows},
		Faults: []livestattest.Fault{{Endpoint: livestat.EndpointWatchStat, Page: 2, ErrCode: 48002}}})
	var got []livestat.LivingViewer
	var err error
	for v, e := range srv.Client().Living.Viewers(t.Context(), livestat.WatchStatRequest{LivingID: "L"}) {
		if e != nil {
			err = e
			break
		}
		got = append(got, v)
	}
	require.ErrorIs(t, err, livestat.ErrPermissionDenied)
	assert.Len(t, got, 3, "page 1, then the error")
	var pages []int
	for _, r := range srv.Requests(livestat.EndpointWatchStat) {
		pages = append(pages, r.Page)
	}
	assert.Equal(t, []int{1, 2}, pages)
}

// Fault.Edit rewrites one reply; Fault.Header adds to it.
func TestFaultEditAndHeader(t *testing.T) {
	t.Parallel()
	srv := livestattest.NewServer(t, livestattest.Options{Nuoyun: livestattest.GenerateDurations(3, 1)})
	srv.Fail(livestattest.Fault{Endpoint: livestat.EndpointNuoyunUserDurations, Page: 1,
		Header: http.Header{"X-Test": {"edited"}},
		Edit: func(r livestattest.Request, b []byte) []byte {
			assert.Equal(t, 1, r.Page)
			return bytes.Replace(b, []byte(`"total":3`), []byte(`"total":4`), 1)
		}})
	body := `{"page":1,"page_size":10,"sort":"asc"}`
	resp, b := send(t, srv, body)
	assert.Equal(t, "edited", resp.Header.Get("X-Test"))
	assert.Contains(t, string(b), `"total":4`)
	_, b = send(t, srv, body)
	assert.Contains(t, string(b), `"total":3`, "only the faulted call")
}

// Fault.CutShort promises the whole body and sends half of it.
func TestFaultCutShort(t *testing.T) {
	t.Parallel()
	srv := livestattest.NewServer(t, livestattest.Options{Nuoyun: livestattest.GenerateDurations(3, 1),
		Faults: []livestattest.Fault{{Endpoint: livestat.EndpointNuoyunUserDurations, CutShort: true}}})
	req, err := http.NewRequest(http.MethodPost, srv.URL()+"/Api/RoomRounds/getAccountUserDurationList/2.0.0",
		bytes.NewReader([]byte(`{"page":1,"page_size":10,"sort":"asc"}`)))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Less(t, int64(len(b)), resp.ContentLength)
	assert.Positive(t, len(b))
}

// Disconnect is a transport error for the client, on a socket and in
// memory.
func TestFaultDisconnect(t *testing.T) {
	t.Parallel()
	for _, inMemory := range []bool{false, true} {
		srv := livestattest.NewServer(t, livestattest.Options{InMemory: inMemory, Nuoyun: livestattest.GenerateDurations(3, 1),
			Faults: []livestattest.Fault{{Endpoint: livestat.EndpointNuoyunUserDurations, Disconnect: true, Times: -1}}})
		_, err := srv.Client(livestat.WithoutRetries()).Nuoyun.GetUserDurations(t.Context(), livestat.UserDurationRequest{Page: 1, PageSize: 10})
		_, ok := errors.AsType[*livestat.TransportError](err)
		assert.True(t, ok, "in memory %v: want a *TransportError, got %T %v", inMemory, err, err)
	}
}

// An in-memory server runs inside a synctest bubble: a Retry-After of an
// hour and a reply that never comes take no real time.
func TestInMemoryServerRunsOnTheBubbleClock(t *testing.T) {
	t.Parallel()
	start := time.Now()
	synctest.Test(t, func(t *testing.T) {
		srv := livestattest.NewServer(t, livestattest.Options{InMemory: true, PageSize: 2,
			Living: map[string][]livestat.LivingViewer{"L": livestattest.GenerateViewers(5, 1)},
			Faults: []livestattest.Fault{
				{Endpoint: livestat.EndpointWatchStat, Page: 2, HTTPStatus: 503, RetryAfter: 60},
				{Endpoint: livestat.EndpointWatchStat, Page: 3, Delay: time.Hour},
			}})
		c := srv.Client(livestat.WithTimeout(10*time.Second), livestat.WithRetry(livestat.RetryPolicy{
			MaxAttempts: 4, BaseDelay: time.Second, MaxDelay: time.Minute, RateLimitDelay: time.Second}))
		bubbleStart := time.Now()
		rows, err := livestat.Collect(c.Living.Viewers(context.Background(), livestat.WatchStatRequest{LivingID: "L"}))
		require.NoError(t, err)
		assert.Len(t, rows, 5)
		assert.GreaterOrEqual(t, time.Since(bubbleStart), 70*time.Second, "the Retry-After wait and the timeout, on the bubble's clock")
	})
	assert.Less(t, time.Since(start), 5*time.Second, "in real time")
}

func send(t *testing.T, srv *livestattest.Server, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL()+"/Api/RoomRounds/getAccountUserDurationList/2.0.0", bytes.NewReader([]byte(body)))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

// InFlight and MaxInFlight count the calls being answered; Request.Time
// says when each arrived, on the bubble's clock for a server in a bubble.
func TestInFlightAndArrivalTimes(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ep := livestat.EndpointNuoyunUserDurations
		srv := livestattest.NewServer(t, livestattest.Options{InMemory: true, Nuoyun: livestattest.GenerateDurations(30, 1),
			Faults: []livestattest.Fault{{Endpoint: ep, Times: -1, Delay: time.Minute,
				When: func(r livestattest.Request) bool { return r.Page > 1 }}}})
		c := srv.Client(livestat.WithNuoyunRateLimit(0, 0))
		start := time.Now()
		_, err := c.Nuoyun.GetUserDurations(context.Background(), livestat.UserDurationRequest{Page: 1, PageSize: 10})
		require.NoError(t, err)
		assert.Zero(t, srv.InFlight(ep))
		assert.Equal(t, 1, srv.MaxInFlight(ep))

		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		for page := 2; page <= 3; page++ {
			go func() {
				defer func() { done <- struct{}{} }()
				_, err := c.Nuoyun.GetUserDurations(ctx, livestat.UserDurationRequest{Page: page, PageSize: 10})
				assert.ErrorIs(t, err, context.Canceled)
			}()
		}
		synctest.Wait()
		assert.Equal(t, 2, srv.InFlight(ep), "pages 2 and 3 are held")
		assert.Equal(t, 2, srv.MaxInFlight(ep))
		cancel()
		<-done
		<-done
		synctest.Wait()
		assert.Zero(t, srv.InFlight(ep), "the calls the client gave up on have left")
		assert.Equal(t, 2, srv.MaxInFlight(ep), "the peak stays")

		rs := srv.Requests(ep)
		require.Len(t, rs, 3)
		assert.Equal(t, start, rs[0].Time)
		assert.Equal(t, start, rs[1].Time, "arrived when sent: no time passes in the bubble")
		assert.Equal(t, start, rs[2].Time)
	})
}
