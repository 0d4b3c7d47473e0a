package livestat

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
)

// wecomStyle describes one WeCom paged endpoint to the table tests below,
// which run every pagination rule against each of them.
type wecomStyle struct {
	name  string
	path  string
	field string // the cursor field of the request
	flag  string // the paging flag of the reply, which alone tells the end
	// page renders a reply holding rows (ids), the next cursor and the
	// termination flag, in the endpoint's documented shape.
	page func(ids []string, next string, more bool) string
	// ids iterates over the row ids from a start cursor.
	ids func(ctx context.Context, c *Client, start string) iter.Seq2[string, error]
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func mapIDs[T any](seq iter.Seq2[T, error], id func(*T) string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for v, err := range seq {
			if !yield(id(&v), err) {
				return
			}
		}
	}
}

var wecomStyles = []wecomStyle{
	{
		name: "living/get_watch_stat", path: "/cgi-bin/living/get_watch_stat", field: "next_key", flag: "ending",
		page: func(ids []string, next string, more bool) string {
			users := []map[string]any{}
			for _, id := range ids {
				users = append(users, map[string]any{"userid": id, "watch_time": 30, "is_comment": 1, "is_mic": 0})
			}
			ending := 1
			if more {
				ending = 0
			}
			return mustJSON(map[string]any{"errcode": 0, "errmsg": "ok", "ending": ending, "next_key": next,
				"stat_info": map[string]any{"users": users, "external_users": []any{}}})
		},
		ids: func(ctx context.Context, c *Client, start string) iter.Seq2[string, error] {
			return mapIDs(c.Living.Viewers(ctx, WatchStatRequest{LivingID: "L1", NextKey: start}), (*LivingViewer).ID)
		},
	},
	{
		name: "school/living/get_watch_stat_v2", path: "/cgi-bin/school/living/get_watch_stat_v2", field: "next_cursor", flag: "has_more",
		page: func(ids []string, next string, more bool) string {
			students := []map[string]any{}
			for _, id := range ids {
				students = append(students, map[string]any{"student_userid": id, "partyids": []int{1}, "watch_time": 30, "enter_time": 1586433904, "leave_time": 1586434000, "is_comment": 0})
			}
			hasMore := 0
			if more {
				hasMore = 1
			}
			return mustJSON(map[string]any{"errcode": 0, "errmsg": "ok", "has_more": hasMore, "next_cursor": next,
				"stat_info": map[string]any{"students": students, "parents": []any{}, "visitors": []any{}}})
		},
		ids: func(ctx context.Context, c *Client, start string) iter.Seq2[string, error] {
			return mapIDs(c.School.Watchers(ctx, SchoolStatRequest{LivingID: "L1", NextCursor: start}), (*SchoolWatcher).ID)
		},
	},
	{
		name: "school/living/get_unwatch_stat_v2", path: "/cgi-bin/school/living/get_unwatch_stat_v2", field: "next_cursor", flag: "has_more",
		page: func(ids []string, next string, more bool) string {
			students := []map[string]any{}
			for _, id := range ids {
				students = append(students, map[string]any{"student_userid": id, "partyids": []int{1}})
			}
			hasMore := 0
			if more {
				hasMore = 1
			}
			return mustJSON(map[string]any{"errcode": 0, "errmsg": "ok", "has_more": hasMore, "next_cursor": next,
				"stat_info": map[string]any{"students": students, "parents": []any{}}})
		},
		ids: func(ctx context.Context, c *Client, start string) iter.Seq2[string, error] {
			return mapIDs(c.School.Absentees(ctx, SchoolStatRequest{LivingID: "L1", NextCursor: start}), (*SchoolAbsentee).ID)
		},
	},
}

// chain builds n pages of per rows each: page i is served at cursor
// "" (i=0) or "c<i>", and points to "c<i+1>". The last says no more.
func chain(st wecomStyle, n, per int) (map[string]string, []string) {
	pages := map[string]string{}
	var all []string
	for i := 0; i < n; i++ {
		var ids []string
		for j := 0; j < per; j++ {
			ids = append(ids, fmt.Sprintf("u%d_%d", i, j))
		}
		all = append(all, ids...)
		cur := ""
		if i > 0 {
			cur = fmt.Sprintf("c%d", i)
		}
		pages[cur] = st.page(ids, fmt.Sprintf("c%d", i+1), i < n-1)
	}
	return pages, all
}

func collectIDs(seq iter.Seq2[string, error]) ([]string, error) { return Collect(seq) }
