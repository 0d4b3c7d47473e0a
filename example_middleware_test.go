package livestat_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
)

// Tracing, logging and metrics go in WithMiddleware, which livestat runs
// above the layer that adds credentials: this logger, like otelhttp's
// url.full, sees REDACTED where the secret and the token go.
func ExampleWithMiddleware() {
	srv := livestattest.New(livestattest.Options{School: map[string]livestattest.School{"LIVING_ID": livestattest.GenerateSchool(3, 1)}})
	defer srv.Close()

	logRequests := func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			fmt.Println(r.Method, r.URL.RequestURI())
			return next.RoundTrip(r)
		})
	}
	// With otelhttp: func(next http.RoundTripper) http.RoundTripper { return otelhttp.NewTransport(next) }
	c, err := livestat.NewClient(append(srv.ClientOptions(), livestat.WithMiddleware(logRequests))...)
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.School.GetWatchStatV2(context.Background(), livestat.SchoolStatRequest{LivingID: "LIVING_ID"})
	fmt.Println(err)
	// Output:
	// GET /cgi-bin/gettoken?corpid=wwlivestattest&corpsecret=REDACTED
	// POST /cgi-bin/school/living/get_watch_stat_v2?access_token=REDACTED
	// <nil>
}

// After 60020 (not allow to access from your ip), FromIP is the address to
// add to the app's trusted IPs.
func ExampleAPIError_fromIP() {
	srv := livestattest.New(livestattest.Options{Faults: []livestattest.Fault{{
		Endpoint: livestat.EndpointWatchStat, ErrCode: 60020,
		ErrMsg: "not allow to access from your ip, hint: [1741842467591810604040261], from ip: 203.0.113.7, more info at https://open.work.weixin.qq.com/devtool/query?e=60020",
	}}})
	defer srv.Close()
	c := srv.Client()
	_, err := c.Living.GetWatchStat(context.Background(), livestat.WatchStatRequest{LivingID: "LIVING_ID"})
	if apiErr, ok := errors.AsType[*livestat.APIError](err); ok && apiErr.Code == 60020 {
		fmt.Printf("add %s to the app's trusted IPs (WeCom request %s)\n", apiErr.FromIP, apiErr.Hint)
	}
	fmt.Println(errors.Is(err, livestat.ErrPermissionDenied))
	// Output:
	// add 203.0.113.7 to the app's trusted IPs (WeCom request 1741842467591810604040261)
	// true
}
