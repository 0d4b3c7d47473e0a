package livestattest_test

import (
	"net/http"
	"testing"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
	"github.com/stretchr/testify/assert"
)

// Fault.OmitPaging sends the page with its rows but without the fields that
// tell whether more follow, on every paged endpoint.
func TestOmitPagingDropsThePagingFieldsOnly(t *testing.T) {
	t.Parallel()
	srv := livestattest.NewServer(t, livestattest.Options{
		PageSize: 2,
		Living:   map[string][]livestat.LivingViewer{"L": livestattest.GenerateViewers(5, 1)},
		School:   map[string]livestattest.School{"S": livestattest.GenerateSchool(5, 2)},
		Nuoyun:   livestattest.GenerateDurations(5, 3),
	})
	for _, tc := range []struct {
		ep         livestat.Endpoint
		path, body string
		gone, kept []string
	}{
		{livestat.EndpointWatchStat, "/cgi-bin/living/get_watch_stat", `{"livingid":"L"}`, []string{"ending", "next_key"}, []string{"errcode", "stat_info"}},
		{livestat.EndpointSchoolWatchStat, "/cgi-bin/school/living/get_watch_stat_v2", `{"livingid":"S"}`, []string{"has_more", "next_cursor"}, []string{"errcode", "stat_info"}},
		{livestat.EndpointSchoolUnwatchStat, "/cgi-bin/school/living/get_unwatch_stat_v2", `{"livingid":"S"}`, []string{"has_more", "next_cursor"}, []string{"errcode", "stat_info"}},
	} {
		t.Run(string(tc.ep), func(t *testing.T) {
			srv.Fail(livestattest.Fault{Endpoint: tc.ep, OmitPaging: true})
			rep := post(t, srv, tc.path, tc.body)
			for _, k := range tc.gone {
				assert.NotContains(t, rep, k)
			}
			for _, k := range tc.kept {
				assert.Contains(t, rep, k)
			}
			assert.NotEmpty(t, rep["stat_info"], "the rows stay")
			rep = post(t, srv, tc.path, tc.body)
			assert.Contains(t, rep, tc.gone[0], "only the faulted call")
		})
	}
	t.Run(string(livestat.EndpointNuoyunUserDurations), func(t *testing.T) {
		srv.Fail(livestattest.Fault{Endpoint: livestat.EndpointNuoyunUserDurations, OmitPaging: true})
		rep := getJSON(t, http.MethodPost, srv.URL()+"/Api/RoomRounds/getAccountUserDurationList/2.0.0", `{"page":1,"page_size":2,"sort":"asc"}`)
		assert.EqualValues(t, 200, rep["code"])
		data, _ := rep["data"].(map[string]any)
		assert.NotContains(t, data, "total")
		assert.Len(t, data["list"], 2, "the rows stay")
	})
}
