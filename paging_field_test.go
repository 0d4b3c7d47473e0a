package livestat

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A success reply without its paging field (ending, has_more, Nuoyun's
// data.total) must not be read as the last page: the vendors' docs say only
// that field tells the end, and an absent one read as zero ended the
// iteration early with a nil error. On every paged endpoint it is an error
// naming the field, classified as a reply whose paging field has the wrong
// type is (the reference below), so that it is retried exactly as much as
// a malformed reply.

// pagingEdit changes a page reply, decoded into a map.
type pagingEdit struct {
	name string
	edit func(m map[string]any)
}

// atPath returns the object holding the last element of path, creating
// none; nil if there is none.
func atPath(m map[string]any, path []string) map[string]any {
	for _, k := range path[:len(path)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			return nil
		}
		m = next
	}
	return m
}

// missingPagingEdits are the shapes of a success without its paging field.
func missingPagingEdits(ep *faultEndpoint) []pagingEdit {
	field, last := strings.Join(ep.flag, "."), ep.flag[len(ep.flag)-1]
	edits := []pagingEdit{
		{"without " + field, func(m map[string]any) { delete(atPath(m, ep.flag), last) }},
		{field + " null", func(m map[string]any) { atPath(m, ep.flag)[last] = nil }},
		// The repro: {"errcode":0}, {"code":200}.
		{"only the status", func(m map[string]any) {
			status := m[ep.status[0]]
			clear(m)
			m[ep.status[0]] = status
		}},
	}
	if len(ep.flag) > 1 {
		parent := ep.flag[:len(ep.flag)-1]
		name := strings.Join(parent, ".")
		edits = append(edits,
			pagingEdit{name + " {}", func(m map[string]any) { atPath(m, parent)[parent[len(parent)-1]] = map[string]any{} }},
			pagingEdit{name + " null", func(m map[string]any) { atPath(m, parent)[parent[len(parent)-1]] = nil }},
		)
	}
	return edits
}

// wrongTypePaging is the reference: the paging field present, but not a
// number.
func wrongTypePaging(ep *faultEndpoint) pagingEdit {
	return pagingEdit{"wrong type", func(m map[string]any) { atPath(m, ep.flag)[ep.flag[len(ep.flag)-1]] = "yes" }}
}

type pagingOutcome struct {
	rows     []string
	err      error
	attempts int // requests for the edited page
}

// runPagingEdit iterates over ep's chain with page k's reply edited, with
// the default retry policy in a synctest bubble (its waits take no time).
func runPagingEdit(t *testing.T, ep *faultEndpoint, k int, e pagingEdit) (out pagingOutcome) {
	t.Helper()
	f := fault{name: e.name, reply: func(ep *faultEndpoint, pages []pageSpec, k int) answer {
		var m map[string]any
		if err := json.Unmarshal([]byte(ep.render(k, pages)), &m); err != nil {
			panic(err)
		}
		e.edit(m)
		return answer{status: 200, body: mustJSON(m)}
	}}
	synctest.Test(t, func(t *testing.T) {
		s := newFaultServer(ep, f, k)
		mt := httpmock.NewMockTransport()
		mt.RegisterNoResponder(s.mockResponder)
		c := faultClient(t, ep, testBase, &http.Client{Transport: mt}, io.Discard)
		out.rows, out.err = Collect(ep.ids(t.Context(), c))
		s.mu.Lock()
		out.attempts = s.hits[k]
		s.mu.Unlock()
	})
	return out
}

func TestPageWithoutPagingFieldIsAnError(t *testing.T) {
	for _, ep := range faultEndpoints() {
		field := strings.Join(ep.flag, ".")
		t.Run(ep.short, func(t *testing.T) {
			for _, k := range []int{0, 1, faultPages - 1} {
				t.Run(fmt.Sprintf("page %d of %d", k+1, faultPages), func(t *testing.T) {
					want := allIDs(ep.chain()[:k])
					ref := runPagingEdit(t, ep, k, wrongTypePaging(ep))
					require.Error(t, ref.err)
					require.True(t, errors.Is(ref.err, ErrBadResponse), "the reference is a bad response: %v", ref.err)
					for _, e := range missingPagingEdits(ep) {
						t.Run(e.name, func(t *testing.T) {
							out := runPagingEdit(t, ep, k, e)
							assert.Equal(t, want, out.rows, "the rows of the pages before, and no more")
							require.Error(t, out.err, "a page without %s is not the last page", field)
							re, ok := errors.AsType[*ResponseError](out.err)
							require.True(t, ok, "want a *ResponseError, got %T: %v", out.err, out.err)
							assert.Equal(t, 200, re.HTTPStatus)
							assert.ErrorIs(t, out.err, ErrBadResponse)
							assert.NotErrorIs(t, out.err, ErrPagination, "on purpose, not by accident")
							assert.Contains(t, out.err.Error(), "no "+field+" field", "the error names the field")
							// Classified as a malformed reply: the same
							// attempts, the same retry verdict.
							assert.Equal(t, ref.attempts, out.attempts, "attempts for the page (reference: %v)", ref.err)
							assert.Equal(t, IsRetryable(ref.err), IsRetryable(out.err))
							_, refRetried := errors.AsType[*RetryError](ref.err)
							_, retried := errors.AsType[*RetryError](out.err)
							assert.Equal(t, refRetried, retried, "reference: %v; got: %v", ref.err, out.err)
						})
					}
				})
			}
		})
	}
}

// Zero is not absent: a page whose flag says "last" with a zero value
// (has_more 0, Nuoyun total 0 on an empty first page) ends the iteration
// cleanly.
func TestZeroPagingFieldIsNotMissing(t *testing.T) {
	e := newMockEnv(t, WithNuoyunBaseURL(testBase))
	for _, st := range wecomStyles[1:] { // has_more: 0 is the last page
		e.script(st.path, st.field, map[string]string{"": st.page([]string{"a"}, "", false)})
		got, err := collectIDs(st.ids(t.Context(), e.c, ""))
		require.NoError(t, err, st.name)
		assert.Equal(t, []string{"a"}, got, st.name)
	}
	e.mt.RegisterResponder(http.MethodPost, testBase+EndpointNuoyunUserDurations.Path(),
		httpmock.NewStringResponder(200, `{"code":200,"msg":"Success","data":{"total":0,"list":[]}}`))
	got, err := Collect(e.c.Nuoyun.UserDurations(t.Context(), UserDurationRequest{}))
	require.NoError(t, err)
	assert.Empty(t, got)
}
