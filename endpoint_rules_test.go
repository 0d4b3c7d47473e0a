package livestat_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The pagination rules, for every endpoint of the table, against
// livestattest; for a single call, the rules of one call.
func TestPagination(t *testing.T) {
	t.Parallel()
	for _, ec := range endpointCases() {
		t.Run(ec.name, func(t *testing.T) {
			t.Parallel()
			if !ec.paged() {
				singleCallRules(t, ec)
				return
			}
			// serve starts a server with pages of per rows and a client.
			serve := func(t *testing.T, pages, per int, faults []livestattest.Fault, opts ...livestat.Option) (*livestattest.Server, *livestat.Client) {
				o := ec.options(pages, per, false)
				o.Faults = faults
				srv := livestattest.NewServer(t, o)
				return srv, srv.Client(append(append([]livestat.Option{}, ec.opts...), opts...)...)
			}
			t.Run("one page", func(t *testing.T) {
				t.Parallel()
				srv, c := serve(t, 1, 3, nil)
				got, err := livestat.Collect(ec.iterate(t.Context(), c, 3, ""))
				require.NoError(t, err)
				assert.Equal(t, tableIDs(1, 3), got)
				assert.Equal(t, []int{1}, ec.pages(srv))
			})
			t.Run("many pages in order", func(t *testing.T) {
				t.Parallel()
				srv, c := serve(t, 25, 4, nil)
				got, err := livestat.Collect(ec.iterate(t.Context(), c, 4, ""))
				require.NoError(t, err)
				assert.Equal(t, tableIDs(25, 4), got, "every row once, in order")
				// WeCom's last page carries a cursor too: only the flag
				// ends, and the cursor is not followed.
				assert.Len(t, srv.Requests(ec.ep), 25)
				if ec.style != numbered {
					assert.Equal(t, 1, srv.TokensIssued(), "one token for the whole iteration")
					assert.Equal(t, 1, srv.Calls(livestat.EndpointGetToken))
				}
			})
			t.Run("resume from a saved position", func(t *testing.T) {
				t.Parallel()
				srv, c := serve(t, 5, 2, nil)
				at := ""
				for range 3 { // the position of page 4, as a user saves it
					_, next, err := ec.page(t.Context(), c, 2, at)
					require.NoError(t, err)
					at = next
				}
				before := len(srv.Requests(ec.ep))
				got, err := livestat.Collect(ec.iterate(t.Context(), c, 2, at))
				require.NoError(t, err)
				assert.Equal(t, tableIDs(5, 2)[6:], got)
				assert.Equal(t, []int{4, 5}, ec.pages(srv)[before:])
			})
			t.Run("ranging twice starts again", func(t *testing.T) {
				t.Parallel()
				srv, c := serve(t, 3, 2, nil)
				seq := ec.iterate(t.Context(), c, 2, "")
				first, err := livestat.Collect(seq)
				require.NoError(t, err)
				second, err := livestat.Collect(seq)
				require.NoError(t, err)
				assert.Equal(t, tableIDs(3, 2), first)
				assert.Equal(t, tableIDs(3, 2), second)
				assert.Equal(t, []int{1, 2, 3, 1, 2, 3}, ec.pages(srv))
			})
			t.Run("no request before the loop starts; break sends no more", func(t *testing.T) {
				t.Parallel()
				srv, c := serve(t, 5, 3, nil)
				seq := ec.iterate(t.Context(), c, 3, "")
				assert.Zero(t, srv.TotalCalls(), "building the iterator sends nothing")
				n := 0
				for _, err := range seq {
					require.NoError(t, err)
					if n++; n == 4 { // the first row of page 2
						break
					}
				}
				assert.Equal(t, []int{1, 2}, ec.pages(srv))
			})
			t.Run("context cancelled mid-iteration", func(t *testing.T) {
				t.Parallel()
				srv, c := serve(t, 5, 2, nil)
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				var got []string
				var errs []error
				for id, err := range ec.iterate(ctx, c, 2, "") {
					if err != nil {
						errs = append(errs, err)
						continue
					}
					got = append(got, id)
					if len(got) == 3 {
						cancel()
					}
				}
				require.Len(t, errs, 1, "the error is yielded once")
				assert.ErrorIs(t, errs[0], context.Canceled)
				assert.Equal(t, tableIDs(2, 2), got, "the page in hand is finished, no new one is fetched")
				assert.Len(t, srv.Requests(ec.ep), 2)
			})
			t.Run("page cap", func(t *testing.T) {
				t.Parallel()
				srv, c := serve(t, 10, 1, nil, livestat.WithMaxPages(3))
				got, err := livestat.Collect(ec.iterate(t.Context(), c, 1, ""))
				assert.Len(t, got, 3)
				assert.ErrorIs(t, err, livestat.ErrPagination)
				assert.Len(t, srv.Requests(ec.ep), 3)
			})
			t.Run("API error mid-iteration is yielded once, typed", func(t *testing.T) {
				t.Parallel()
				code := 40058
				if ec.style == numbered {
					code = 400
				}
				_, c := serve(t, 4, 2, []livestattest.Fault{{Endpoint: ec.ep, Page: 3, Times: -1, ErrCode: code}})
				var got []string
				var errs []error
				for id, err := range ec.iterate(t.Context(), c, 2, "") {
					if err != nil {
						errs = append(errs, err)
						continue
					}
					got = append(got, id)
				}
				assert.Equal(t, tableIDs(2, 2), got)
				require.Len(t, errs, 1)
				ae, ok := errors.AsType[*livestat.APIError](errs[0])
				require.True(t, ok, "want an *APIError, got %T: %v", errs[0], errs[0])
				assert.Equal(t, code, ae.Code)
				assert.Equal(t, ec.ep, ae.Endpoint)
			})
			if ec.style == numbered {
				return
			}
			// Cursor rules.
			t.Run("empty middle page that says more is not the end", func(t *testing.T) {
				t.Parallel()
				_, c := serve(t, 3, 2, []livestattest.Fault{{Endpoint: ec.ep, Page: 2, Edit: editJSON(func(_ livestattest.Request, m map[string]any) { ec.setRows(m, []any{}) })}})
				got, err := livestat.Collect(ec.iterate(t.Context(), c, 2, ""))
				require.NoError(t, err)
				assert.Equal(t, []string{"u0_0", "u0_1", "u2_0", "u2_1"}, got)
			})
			t.Run("repeated cursor stops with an error", func(t *testing.T) {
				t.Parallel()
				var first string // the cursor page 2 was asked with
				srv, c := serve(t, 4, 1, []livestattest.Fault{{Endpoint: ec.ep, Page: 3, Edit: editJSON(func(_ livestattest.Request, m map[string]any) {
					ec.setNext(m, first)
				})}, {Endpoint: ec.ep, Page: 2, Times: -1, When: func(r livestattest.Request) bool {
					first = ec.requestCursor(r) // read before page 3 is asked for
					return false
				}}})
				got, err := livestat.Collect(ec.iterate(t.Context(), c, 1, ""))
				assert.Equal(t, []string{"u0_0", "u1_0", "u2_0"}, got, "rows before the fault are still delivered")
				pe, ok := errors.AsType[*livestat.PaginationError](err)
				require.True(t, ok, "want a *PaginationError, got %T: %v", err, err)
				assert.ErrorIs(t, err, livestat.ErrPagination)
				assert.Equal(t, first, pe.Cursor)
				assert.Len(t, srv.Requests(ec.ep), 3)
			})
			if ec.style == cursorOnly {
				// Without a flag, "" is the end, on whatever page it comes.
				t.Run("an empty cursor ends the list", func(t *testing.T) {
					t.Parallel()
					srv, c := serve(t, 3, 2, []livestattest.Fault{{Endpoint: ec.ep, Page: 1, Edit: editJSON(func(_ livestattest.Request, m map[string]any) { ec.setNext(m, "") })}})
					got, err := livestat.Collect(ec.iterate(t.Context(), c, 2, ""))
					require.NoError(t, err)
					assert.Equal(t, tableIDs(1, 2), got)
					assert.Equal(t, []int{1}, ec.pages(srv))
				})
				return
			}
			t.Run("more without a cursor stops with an error", func(t *testing.T) {
				t.Parallel()
				_, c := serve(t, 1, 1, []livestattest.Fault{{Endpoint: ec.ep, Page: 1, Edit: editJSON(func(_ livestattest.Request, m map[string]any) { ec.setNext(m, "") })}})
				got, err := livestat.Collect(ec.iterate(t.Context(), c, 1, ""))
				assert.Equal(t, []string{"u0_0"}, got)
				assert.ErrorIs(t, err, livestat.ErrPagination)
			})
		})
	}
}

// singleCallRules are the rules of an endpoint that is one call: one
// request (GET, the livingid in the query) with one token, an API error
// returned typed and not retried, and nothing sent once the context is
// done.
func singleCallRules(t *testing.T, ec endpointCase) {
	serve := func(t *testing.T, faults ...livestattest.Fault) (*livestattest.Server, *livestat.Client) {
		o := ec.options(1, 1, false)
		o.Faults = faults
		srv := livestattest.NewServer(t, o)
		return srv, srv.Client(ec.opts...)
	}
	t.Run("one call, one request", func(t *testing.T) {
		t.Parallel()
		srv, c := serve(t)
		got, err := livestat.Collect(ec.iterate(t.Context(), c, 1, ""))
		require.NoError(t, err)
		assert.Equal(t, ec.wantIDs(1, 1), got)
		reqs := srv.Requests(ec.ep)
		require.Len(t, reqs, 1)
		assert.Equal(t, ec.ep.Method(), reqs[0].Method)
		assert.Equal(t, tableLivingID, reqs[0].Query.Get("livingid"))
		assert.Equal(t, 1, reqs[0].Page, "Fault.Page 1 is the call")
		assert.Equal(t, 1, srv.Calls(livestat.EndpointGetToken))
	})
	t.Run("API error is returned once, typed, not retried", func(t *testing.T) {
		t.Parallel()
		srv, c := serve(t, livestattest.Fault{Endpoint: ec.ep, Page: 1, Times: -1, ErrCode: 40058})
		got, err := livestat.Collect(ec.iterate(t.Context(), c, 1, ""))
		assert.Empty(t, got)
		ae, ok := errors.AsType[*livestat.APIError](err)
		require.True(t, ok, "want an *APIError, got %T: %v", err, err)
		assert.Equal(t, 40058, ae.Code)
		assert.Equal(t, ec.ep, ae.Endpoint)
		assert.ErrorIs(t, err, livestat.ErrInvalidArgument)
		assert.Len(t, srv.Requests(ec.ep), 1)
	})
	t.Run("context done: nothing sent", func(t *testing.T) {
		t.Parallel()
		srv, c := serve(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		got, err := livestat.Collect(ec.iterate(ctx, c, 1, ""))
		assert.Empty(t, got)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Empty(t, srv.Requests(ec.ep))
	})
}

// A success reply without its paging field (ending, has_more, Nuoyun's
// data.total) must not be read as the last page: the vendors' docs say only
// that field tells the end, and an absent one read as zero ended the
// iteration early with a nil error. On every paged endpoint it is an error
// naming the field, classified as a reply whose paging field has the wrong
// type is (the reference below), so that it is retried exactly as much as
// a malformed reply.
func TestPageWithoutPagingFieldIsAnError(t *testing.T) {
	t.Parallel()
	type pagingEdit struct {
		name string
		edit func(m map[string]any)
	}
	for _, ec := range endpointCases() {
		field, last := strings.Join(ec.flag, "."), ec.flag[len(ec.flag)-1]
		edits := []pagingEdit{
			{"without " + field, func(m map[string]any) { delete(at(m, ec.flag), last) }},
			{field + " null", func(m map[string]any) { at(m, ec.flag)[last] = nil }},
			// The repro: {"errcode":0}, {"code":200}.
			{"only the status", func(m map[string]any) {
				status := m[ec.status]
				clear(m)
				m[ec.status] = status
			}},
		}
		if len(ec.flag) > 1 {
			parent := ec.flag[:len(ec.flag)-1]
			name := strings.Join(parent, ".")
			edits = append(edits,
				pagingEdit{name + " {}", func(m map[string]any) { at(m, parent)[parent[len(parent)-1]] = map[string]any{} }},
				pagingEdit{name + " null", func(m map[string]any) { at(m, parent)[parent[len(parent)-1]] = nil }},
			)
		}
		// The reference: the paging field present, but of another type (a
		// string for a number or an object, a number for a cursor).
		var wrong any = "yes"
		if ec.style == cursorOnly {
			wrong = 7
		}
		wrongType := pagingEdit{"wrong type", func(m map[string]any) { at(m, ec.flag)[last] = wrong }}
		type result struct {
			rows     []string
			err      error
			attempts int
		}
		// run iterates with page n's reply edited, with the default retry
		// policy in a synctest bubble (its waits take no time).
		run := func(t *testing.T, n int, e pagingEdit) (out result) {
			synctest.Test(t, func(t *testing.T) {
				o := ec.options(faultPages, faultPerPage, true)
				o.Faults = []livestattest.Fault{{Endpoint: ec.ep, Page: n, Times: -1, Edit: editJSON(func(_ livestattest.Request, m map[string]any) { e.edit(m) })}}
				srv := livestattest.NewServer(t, o)
				c := srv.Client(livestat.WithRetry(livestat.DefaultRetryPolicy()))
				out.rows, out.err = livestat.Collect(ec.iterate(t.Context(), c, faultPerPage, ""))
				out.attempts = ec.calls(srv, n)
			})
			return out
		}
		t.Run(ec.name, func(t *testing.T) {
			t.Parallel()
			pages := []int{1, 2, faultPages}
			if !ec.paged() {
				pages = []int{1}
			}
			for _, n := range pages {
				t.Run(fmt.Sprintf("page %d of %d", n, faultPages), func(t *testing.T) {
					t.Parallel()
					want := tableIDs(n-1, faultPerPage)
					ref := run(t, n, wrongType)
					require.Error(t, ref.err)
					require.ErrorIs(t, ref.err, livestat.ErrBadResponse, "the reference is a bad response")
					for _, e := range edits {
						t.Run(e.name, func(t *testing.T) {
							out := run(t, n, e)
							if len(want) == 0 {
								assert.Empty(t, out.rows, "no rows")
							} else {
								assert.Equal(t, want, out.rows, "the rows of the pages before, and no more")
							}
							require.Error(t, out.err, "a page without %s is not the last page", field)
							re, ok := errors.AsType[*livestat.ResponseError](out.err)
							require.True(t, ok, "want a *ResponseError, got %T: %v", out.err, out.err)
							assert.Equal(t, 200, re.HTTPStatus)
							assert.ErrorIs(t, out.err, livestat.ErrBadResponse)
							assert.NotErrorIs(t, out.err, livestat.ErrPagination, "on purpose, not by accident")
							assert.Contains(t, out.err.Error(), "no "+field+" field", "the error names the field")
							// Classified as a malformed reply: the same
							// attempts, the same retry verdict.
							assert.Equal(t, ref.attempts, out.attempts, "attempts for the page (reference: %v)", ref.err)
							assert.Equal(t, livestat.IsRetryable(ref.err), livestat.IsRetryable(out.err))
							_, refRetried := errors.AsType[*livestat.RetryError](ref.err)
							_, retried := errors.AsType[*livestat.RetryError](out.err)
							assert.Equal(t, refRetried, retried, "reference: %v; got: %v", ref.err, out.err)
						})
					}
				})
			}
		})
	}
}

// Zero is not absent: a page whose flag says "last" with a zero value
// (has_more 0, next_cursor "", Nuoyun total 0 on an empty first page) ends
// the iteration cleanly.
func TestZeroPagingFieldIsNotMissing(t *testing.T) {
	t.Parallel()
	for _, ec := range endpointCases() {
		if ec.style == flagged && ec.moreValue == 0 || !ec.paged() {
			continue // ending: 0 says more follow; a single call has no flag
		}
		t.Run(ec.name, func(t *testing.T) {
			t.Parallel()
			n := 1
			if ec.style == numbered {
				n = 0 // total 0, no rows
			}
			srv := livestattest.NewServer(t, ec.options(1, n, false))
			got, err := livestat.Collect(ec.iterate(t.Context(), srv.Client(ec.opts...), max(n, 1), ""))
			require.NoError(t, err)
			assert.Equal(t, tableIDs(1, n), got)
			if ec.style == numbered {
				rep := srv.Requests(ec.ep)
				require.Len(t, rep, 1)
			}
		})
	}
}
