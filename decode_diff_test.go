package livestat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

// The differential test of reply decoding: every reply type that goes
// through decodeReply is decoded from the same bytes twice, once the way
// livestat did it before decode.go (encoding/json, v1) and once the way it
// does now (decodeReply, encoding/json/v2 semantics), and both results are
// classified as client.go classifies them. The two must agree on the class
// (ok, malformed or not JSON, an API error with its code and message, a
// reply of the wrong shape, one without a status or without its paging
// field), and on the decoded value where the caller gets it. Only the
// types' public shape and the decode functions are used, so the test holds
// whatever decoding methods (UnmarshalJSON, UnmarshalJSONFrom) the types
// have.
//
// Seeds: every corpus file of the FuzzDecode* targets (testdata/fuzz/),
// every testdata/*.json, and the hand-written cases of diffCases. The plain
// test runs each seed against every reply type; FuzzDecodeOldAndNew fuzzes
// the body and the type. The one disagreement found so far is let through
// by knownDisagreement (logged) and pinned by
// TestDecodeOldAndNewKnownDisagreement.

// diffKind is one reply type that goes through decodeReply.
type diffKind struct {
	name string
	// new returns a fresh value to decode into, as send does per attempt.
	new func() any
	// vendor's envelope is what client.go hands decodeReply.
	vendor Vendor
}

// diffKinds are the reply types of decodeReply; FuzzDecodeOldAndNew picks
// one by index, modulo the length.
var diffKinds = []diffKind{
	{"WatchStatPage", func() any { return new(WatchStatPage) }, VendorWeCom},
	{"SchoolWatchStatPage", func() any { return new(SchoolWatchStatPage) }, VendorWeCom},
	{"SchoolUnwatchStatPage", func() any { return new(SchoolUnwatchStatPage) }, VendorWeCom},
	{"UserLivingIDsPage", func() any { return new(UserLivingIDsPage) }, VendorWeCom},
	{"livingInfoReply", func() any { return new(livingInfoReply) }, VendorWeCom},
	{"schoolLivingInfoReply", func() any { return new(schoolLivingInfoReply) }, VendorWeCom},
	{"gettokenReply", func() any { return new(gettokenReply) }, VendorWeCom},
	{"UserDurationPage", func() any { return new(UserDurationPage) }, VendorNuoyun},
}

// diffKindIndex returns the index in diffKinds of the kind called name.
func diffKindIndex(tb testing.TB, name string) uint8 {
	tb.Helper()
	for i, k := range diffKinds {
		if k.name == name {
			return uint8(i)
		}
	}
	tb.Fatalf("no reply kind %q", name)
	return 0
}

// corpusKinds maps each decoder fuzz target to the reply type its bodies
// are for. A FuzzDecode* folder not listed fails the test, so that a new
// target's corpus is not left out silently.
var corpusKinds = map[string]string{
	"FuzzDecodeWatchStat":         "WatchStatPage",
	"FuzzDecodeSchoolWatchStat":   "SchoolWatchStatPage",
	"FuzzDecodeSchoolUnwatchStat": "SchoolUnwatchStatPage",
	"FuzzDecodeUserLivingIDs":     "UserLivingIDsPage",
	"FuzzDecodeLivingInfo":        "livingInfoReply",
	"FuzzDecodeSchoolLivingInfo":  "schoolLivingInfoReply",
	"FuzzDecodeGettoken":          "gettokenReply",
	"FuzzDecodeUserDurations":     "UserDurationPage",
	// This file's own target: the kind is its first argument.
	"FuzzDecodeOldAndNew": "",
}

// fixtureKinds maps the prefixes of the testdata/*.json names to their
// reply type.
var fixtureKinds = []struct{ prefix, kind string }{
	{"watch_stat_", "WatchStatPage"},
	{"school_watch_", "SchoolWatchStatPage"},
	{"school_unwatch_", "SchoolUnwatchStatPage"},
	{"user_all_livingid", "UserLivingIDsPage"},
	{"living_info", "livingInfoReply"},
	{"school_living_info", "schoolLivingInfoReply"},
	{"gettoken", "gettokenReply"},
	{"nuoyun_", "UserDurationPage"},
}

// oldDecodeReply is decodeReply as it was before decode.go (commit
// 2e83fd9^, vendor.go): encoding/json throughout.
func oldDecodeReply(data []byte, out any, env statusReply) (apiStatus, error) {
	if r, ok := out.(statusReply); ok {
		r.unsetStatus()
		err := json.Unmarshal(data, out)
		return r.status(), err
	}
	env.unsetStatus()
	if err := json.Unmarshal(data, env); err != nil {
		return env.status(), err
	}
	st := env.status()
	if !st.ok || out == nil {
		return st, nil
	}
	return st, json.Unmarshal(data, out)
}

// diffResult is what one decoding path makes of a reply: the class
// client.go gives it, and the decoded value.
type diffResult struct {
	// class is "ok", "malformed json", "not json", "api error", "wrong
	// shape", "no status" or "missing paging field".
	class string
	code  int    // the status code of an API error
	msg   string // the message of an API error
	field string // the paging field a success lacks
	err   error  // the decoding error, shown but not compared
	value any    // the decoded value
}

// sameClass reports whether a and b are the same outcome for the caller:
// class, and the code and message of an API error or the field of a
// missing paging field.
func (a diffResult) sameClass(b diffResult) bool {
	return a.class == b.class && a.code == b.code && a.msg == b.msg && a.field == b.field
}

// String describes r for a failure message, without its value.
func (r diffResult) String() string {
	s := r.class
	switch r.class {
	case "api error":
		s += fmt.Sprintf(" %d %q", r.code, r.msg)
	case "missing paging field":
		s += " " + r.field
	}
	if r.err != nil {
		s += fmt.Sprintf(" (decode error: %v)", r.err)
	}
	return s
}

// classifyReply classifies the result of decoding data as Client.once
// does (client.go, after decodeReply).
func classifyReply(data []byte, out any, st apiStatus, err error) diffResult {
	r := diffResult{err: err, value: out}
	apiErr := func() diffResult {
		r.class, r.code, r.msg = "api error", st.code, st.msg
		return r
	}
	if err != nil {
		if !json.Valid(data) {
			r.class = "malformed json"
			if t := bytes.TrimSpace(data); len(t) == 0 || (t[0] != '{' && t[0] != '[') {
				r.class = "not json"
			}
			return r
		}
		if !st.ok && st.code != 0 && st.code != noStatus {
			return apiErr()
		}
		r.class = "wrong shape"
		return r
	}
	if st.code == noStatus {
		r.class = "no status"
		return r
	}
	if !st.ok {
		return apiErr()
	}
	if paged, ok := out.(pagedReply); ok {
		if field := paged.missingPaging(); field != "" {
			r.class, r.field = "missing paging field", field
			return r
		}
	}
	r.class = "ok"
	return r
}

// decodeBoth decodes data as a reply of kind k the old way and the new
// way, each into a fresh value prepared as client.go prepares it.
func decodeBoth(k diffKind, data []byte) (old, cur diffResult) {
	decode := func(dec func([]byte, any, statusReply) (apiStatus, error)) diffResult {
		out := k.new()
		if paged, ok := out.(pagedReply); ok {
			paged.unsetPaging()
		}
		// A private copy: a decoder must not depend on, or change, the
		// other's input.
		in := bytes.Clone(data)
		st, err := dec(in, out, k.vendor.api().envelope())
		return classifyReply(in, out, st, err)
	}
	return decode(oldDecodeReply), decode(decodeReply)
}

// checkOldAndNew fails t when the two decoding paths disagree on data as a
// reply of kind k: on the class, or on the decoded value of a success or
// of an API error that decoded without error (the value the caller gets,
// and the status its error reports).
func checkOldAndNew(t *testing.T, k diffKind, data []byte) {
	t.Helper()
	old, cur := decodeBoth(k, data)
	head := fmt.Sprintf("%s from %s (%d bytes)\nold (encoding/json): %s\nnew (decodeReply):   %s",
		k.name, quoteInput(data), len(data), old, cur)
	if !old.sameClass(cur) {
		t.Errorf("the decoding paths disagree on the class of %s", head)
		return
	}
	compareValue := old.class == "ok" || (old.class == "api error" && old.err == nil && cur.err == nil)
	if compareValue && !reflect.DeepEqual(old.value, cur.value) {
		assert.Equal(t, old.value, cur.value, "the decoding paths agree on the class but not on the value of %s", head)
	}
}

// quoteInput quotes an input for a failure message, cut after 300 bytes.
func quoteInput(data []byte) string {
	const limit = 300
	if len(data) <= limit {
		return fmt.Sprintf("%q", data)
	}
	return fmt.Sprintf("%q… (cut)", data[:limit])
}

// diffSeed is one input of the differential test.
type diffSeed struct {
	name string // where it comes from
	kind uint8  // the reply type it was written for (an index of diffKinds)
	body []byte
}

// parseCorpusFile reads a file of Go's fuzzing corpus format ("go test
// fuzz v1", then one Go literal per argument) and returns its arguments:
// string and []byte values as []byte, integers and rune literals as int64.
func parseCorpusFile(data []byte) ([]any, error) {
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) == 0 || lines[0] != "go test fuzz v1" {
		return nil, fmt.Errorf("no %q header", "go test fuzz v1")
	}
	var args []any
	for i, line := range lines[1:] {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		typ, lit, ok := strings.Cut(line, "(")
		if !ok || !strings.HasSuffix(lit, ")") {
			return nil, fmt.Errorf("line %d: want type(literal), got %q", i+2, line)
		}
		lit = strings.TrimSuffix(lit, ")")
		switch typ {
		case "string", "[]byte":
			s, err := strconv.Unquote(lit)
			if err != nil {
				return nil, fmt.Errorf("line %d: %s literal %q: %v", i+2, typ, lit, err)
			}
			args = append(args, []byte(s))
		case "byte", "rune", "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
			if strings.HasPrefix(lit, "'") {
				s, err := strconv.Unquote(lit)
				r, n := utf8.DecodeRuneInString(s)
				if err != nil || n != len(s) {
					return nil, fmt.Errorf("line %d: %s literal %q: not one character", i+2, typ, lit)
				}
				args = append(args, int64(r))
				continue
			}
			n, err := strconv.ParseInt(lit, 0, 64)
			if err != nil {
				u, uerr := strconv.ParseUint(lit, 0, 64)
				if uerr != nil {
					return nil, fmt.Errorf("line %d: %s literal %q: %v", i+2, typ, lit, err)
				}
				n = int64(u)
			}
			args = append(args, n)
		default:
			return nil, fmt.Errorf("line %d: type %q not handled", i+2, typ)
		}
	}
	return args, nil
}

// corpusSeeds reads every corpus file of the FuzzDecode* targets, the
// body (the last []byte or string argument) for its target's reply type.
func corpusSeeds(tb testing.TB) []diffSeed {
	tb.Helper()
	dirs, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzDecode*"))
	if err != nil || len(dirs) == 0 {
		tb.Fatalf("no decoder corpus under testdata/fuzz (%v)", err)
	}
	var seeds []diffSeed
	for _, dir := range dirs {
		target := filepath.Base(dir)
		kindName, known := corpusKinds[target]
		if !known {
			tb.Fatalf("%s: the corpus of a target this test does not know; add it to corpusKinds", dir)
		}
		files, err := os.ReadDir(dir)
		if err != nil {
			tb.Fatal(err)
		}
		for _, f := range files {
			path := filepath.Join(dir, f.Name())
			data, err := os.ReadFile(path)
			if err != nil {
				tb.Fatal(err)
			}
			args, err := parseCorpusFile(data)
			if err != nil {
				tb.Fatalf("%s: %v", path, err)
			}
			if len(args) == 0 {
				tb.Fatalf("%s: no arguments", path)
			}
			s := diffSeed{name: target + "/" + f.Name()}
			if kindName != "" {
				s.kind = diffKindIndex(tb, kindName)
				body, ok := args[len(args)-1].([]byte)
				if !ok {
					tb.Fatalf("%s: the last argument is not the body", path)
				}
				s.body = body
			} else {
				which, ok1 := args[0].(int64)
				body, ok2 := args[len(args)-1].([]byte)
				if len(args) != 2 || !ok1 || !ok2 {
					tb.Fatalf("%s: want (uint8, []byte) arguments, got %v", path, args)
				}
				s.kind, s.body = uint8(which), body
			}
			seeds = append(seeds, s)
		}
	}
	return seeds
}

// fixtureSeeds reads every testdata/*.json, for the reply type its name
// says.
func fixtureSeeds(tb testing.TB) []diffSeed {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no testdata/*.json (%v)", err)
	}
	var seeds []diffSeed
	for _, path := range paths {
		name := filepath.Base(path)
		kind := ""
		for _, fk := range fixtureKinds {
			// The longest prefix wins: school_living_info is not living_info.
			if strings.HasPrefix(name, fk.prefix) && len(fk.prefix) > len(kind) {
				kind = fk.kind
			}
		}
		if kind == "" {
			tb.Fatalf("%s: no reply type for this fixture; add its prefix to fixtureKinds", path)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			tb.Fatal(err)
		}
		seeds = append(seeds, diffSeed{name: "testdata/" + name, kind: diffKindIndex(tb, kind), body: data})
	}
	return seeds
}

// nest returns depth copies of opening, then as many of closing.
func nest(opening, closing string, depth int) string {
	return strings.Repeat(opening, depth) + strings.Repeat(closing, depth)
}

// diffCases are the hand-written inputs: what the v2 options must keep
// as encoding/json did it, per reply type. The plain test runs each one
// against every type as well.
var diffCases = []struct {
	name, kind, body string
}{
	// Names in another case; the delimiters "_" and "-" still count.
	{"case/wecom", "WatchStatPage", `{"ErrCode":0,"ErrMsg":"OK","Ending":1,"NEXT_KEY":"k","Stat_Info":{"USERS":[{"UserID":"u","WATCH_TIME":3,"Is_Comment":1,"IS_MIC":"1"}],"External_Users":[{"EXTERNAL_USERID":"e","Type":2}]}}`},
	{"case/school", "SchoolWatchStatPage", `{"ERRCODE":0,"Has_More":1,"Next_Cursor":"c","STAT_INFO":{"Students":[{"Student_UserID":"s","PartyIDs":[1,2],"Enter_Time":5}]}}`},
	{"case/nuoyun", "UserDurationPage", `{"CODE":200,"MSG":"ok","DATA":{"TOTAL":"1","LIST":[{"Room_ID":"5","DEVICE":"ios","Channel_Info":{"Channel_ID":7},"Third_WeChat_Info":{"OpenID":"o"}}]}}`},
	{"case/gettoken", "gettokenReply", `{"ErrCode":0,"Access_Token":"abc","Expires_In":7200}`},
	{"case/living info", "livingInfoReply", `{"errcode":0,"Living_Info":{"THEME":"t","Replay_Status":1,"Main_Department":3}}`},
	{"no underscore/watchtime", "WatchStatPage", `{"errcode":0,"ending":1,"stat_info":{"users":[{"userid":"u","watchtime":5,"iscomment":1}]}}`},
	{"no underscore/hasmore", "SchoolWatchStatPage", `{"errcode":0,"hasmore":0,"nextcursor":"c"}`},
	{"dash/has-more", "SchoolWatchStatPage", `{"errcode":0,"has-more":0}`},
	{"no underscore/nextcursor", "UserLivingIDsPage", `{"errcode":0,"nextcursor":"","livingidlist":["a"]}`},
	{"no underscore/accesstoken", "gettokenReply", `{"errcode":0,"accesstoken":"abc","expiresin":7200}`},
	{"no underscore/livinginfo", "livingInfoReply", `{"errcode":0,"livinginfo":{}}`},
	{"no underscore/stat info", "SchoolUnwatchStatPage", `{"errcode":0,"has_more":0,"statinfo":{"students":[{"student_userid":"s"}]}}`},
	{"no underscore/wechat id", "UserDurationPage", `{"code":200,"data":{"total":1,"list":[{"wechatuserspaceid":5,"roomid":2}]}}`},
	{"err_code", "WatchStatPage", `{"err_code":40001,"ending":1}`},
	{"space in name", "WatchStatPage", `{"errcode ":40001,"ending":1}`},
	{"empty name", "WatchStatPage", `{"":1,"errcode":0,"ending":1}`},
	{"escaped name", "WatchStatPage", `{"\u0065rrcode":40001,"errmsg":"m"}`},
	{"escaped name ok", "WatchStatPage", `{"err\u0063ode":0,"\u0065nding":1}`},

	// Kelvin sign and long s: both folds match them, as bytes.EqualFold.
	{"kelvin/next_key", "WatchStatPage", `{"errcode":0,"ending":0,"next_` + "\u212a" + `ey":"k2"}`},
	{"kelvin/escaped", "WatchStatPage", `{"errcode":0,"ending":0,"next_\u212aey":"k2"}`},
	{"kelvin/access_token", "gettokenReply", `{"errcode":0,"access_to` + "\u212a" + `en":"abc","expires_in":1}`},
	{"kelvin/no errcode", "gettokenReply", `{"access_to` + "\u212a" + `en":"abc","expires_in":1}`},
	{"kelvin/kind", "WatchStatPage", `{"errcode":0,"ending":1,"stat_info":{"users":[{"` + "\u212a" + `ind":"x","userid":"u"}]}}`},
	{"long s/has_more", "SchoolWatchStatPage", `{"errcode":0,"ha` + "\u017f" + `_more":1}`},
	{"long s/stat_info", "SchoolUnwatchStatPage", `{"errcode":0,"has_more":0,"` + "\u017f" + `tat_info":{"` + "\u017f" + `tudents":[{"student_u` + "\u017f" + `erid":"s"}]}}`},
	{"long s/errmsg", "WatchStatPage", `{"errcode":40001,"errm` + "\u017f" + `g":"m"}`},
	{"long s/escaped", "UserDurationPage", `{"code":400,"m\u017fg":"m"}`},
	{"long s/list", "UserDurationPage", `{"code":200,"data":{"total":1,"li` + "\u017f" + `t":[{"room_id":1,"i` + "\u017f" + `":1}]}}`},
	{"long s/next_cursor", "UserLivingIDsPage", `{"errcode":0,"next_cur` + "\u017f" + `or":"","livingid_li` + "\u017f" + `t":["a"]}`},
	{"dotless i", "livingInfoReply", `{"errcode":0,"l` + "\u0131" + `ving_info":{}}`},
	{"dotted I", "livingInfoReply", `{"errcode":0,"L` + "\u0130" + `VING_INFO":{}}`},
	{"fullwidth", "WatchStatPage", `{"errcode":0,"` + "\uff45" + `nding":1}`},

	// Duplicated names: the last wins, whatever its case.
	{"dup/ending", "WatchStatPage", `{"errcode":0,"ending":0,"ending":1}`},
	{"dup/ending cased", "WatchStatPage", `{"errcode":0,"Ending":1,"ENDING":0,"ending":1,"ending":0}`},
	{"dup/errcode to ok", "WatchStatPage", `{"errcode":40001,"errcode":0,"ending":1}`},
	{"dup/errcode to failure", "WatchStatPage", `{"errcode":0,"ending":1,"ERRCODE":40001,"errmsg":"a","ErrMsg":"b"}`},
	{"dup/rows merge", "WatchStatPage", `{"errcode":0,"ending":1,"stat_info":{"users":[{"userid":"a","watch_time":3,"is_mic":1},{"userid":"b"}]},"stat_info":{"users":[{"userid":"c"}]}}`},
	{"dup/rows longer", "SchoolWatchStatPage", `{"errcode":0,"has_more":0,"stat_info":{"students":[{"student_userid":"a","partyids":[1,2]}]},"Stat_Info":{"students":[{"watch_time":1},{"student_userid":"b"}]}}`},
	{"dup/partyids", "SchoolUnwatchStatPage", `{"errcode":0,"has_more":0,"stat_info":{"students":[{"partyids":[1,2,3],"PARTYIDS":[4]}]}}`},
	{"dup/partyids null", "SchoolUnwatchStatPage", `{"errcode":0,"has_more":0,"stat_info":{"students":[{"partyids":[1,2,3],"partyids":null}]}}`},
	{"dup/living_info merge", "livingInfoReply", `{"errcode":0,"living_info":{"theme":"a","viewer_num":3,"replay_status":2},"living_info":{"theme":"b"}}`},
	{"dup/living_info null", "livingInfoReply", `{"errcode":0,"living_info":{"theme":"a"},"Living_Info":null}`},
	{"dup/replay_status null", "livingInfoReply", `{"errcode":0,"living_info":{"replay_status":1,"replay_status":null}}`},
	{"dup/school living_range", "schoolLivingInfoReply", `{"errcode":0,"living_info":{"living_range":{"partyids":[1],"group_names":["g"]},"living_range":{"partyids":[2,3]}}}`},
	{"dup/livingid_list", "UserLivingIDsPage", `{"errcode":0,"next_cursor":"c","livingid_list":["a","b"],"livingid_list":["c"],"next_cursor":""}`},
	{"dup/data merge", "UserDurationPage", `{"code":200,"data":{"total":1},"data":{"list":[]}}`},
	{"dup/data null", "UserDurationPage", `{"code":200,"data":{"total":1,"list":[{"room_id":1}]},"data":null}`},
	{"dup/total null", "UserDurationPage", `{"code":200,"data":{"total":1,"total":null}}`},
	{"dup/code", "UserDurationPage", `{"code":400,"Code":"200","data":{"total":0}}`},
	{"dup/flag null", "WatchStatPage", `{"errcode":0,"ending":1,"stat_info":{"users":[{"is_comment":1,"is_comment":null,"is_mic":true,"is_mic":"0"}]}}`},
	{"dup/device null", "UserDurationPage", `{"code":200,"data":{"total":1,"list":[{"device":3,"device":null,"room_id":5,"room_id":null}]}}`},
	{"dup/time null", "UserDurationPage", `{"code":200,"data":{"total":1,"list":[{"first_visit_time":"2025-01-02 03:04:05","first_visit_time":null,"last_visit_time":"2025-01-02 03:04:05","last_visit_time":""}]}}`},
	{"dup/channel null", "UserDurationPage", `{"code":200,"data":{"total":1,"list":[{"channel_info":{"channel_id":1},"channel_info":null,"third_wechat_info":{"openid":"o"},"third_wechat_info":[]}]}}`},
	{"dup/rows merge nuoyun", "UserDurationPage", `{"code":200,"data":{"total":2,"list":[{"room_id":1,"device":"iOS","channel_info":{"channel_id":9}}],"list":[{"wechat_user_name":"n"}]}}`},
	{"dup/token", "gettokenReply", `{"access_token":"a","access_token":"","expires_in":1}`},

	// Invalid UTF-8, in strings and in names.
	{"utf8/next_key", "WatchStatPage", "{\"errcode\":0,\"ending\":1,\"next_key\":\"a\xff\xfeb\xc3\"}"},
	{"utf8/errmsg", "WatchStatPage", "{\"errcode\":40001,\"errmsg\":\"bad \xc3\x28 \xed\xa0\x80\"}"},
	{"utf8/next_cursor", "UserLivingIDsPage", "{\"errcode\":0,\"next_cursor\":\"\xff\",\"livingid_list\":[\"a\xffb\"]}"},
	{"utf8/row", "SchoolWatchStatPage", "{\"errcode\":0,\"has_more\":0,\"stat_info\":{\"visitors\":[{\"nickname\":\"\xf0\x9f\x98\"}]}}"},
	{"utf8/name", "WatchStatPage", "{\"errcode\xff\":40001,\"ending\":1,\"errcode\":0}"},
	{"utf8/name inside", "WatchStatPage", "{\"err\xffcode\":40001,\"errcode\":0,\"\xffending\":0,\"ending\":1}"},
	{"utf8/device", "UserDurationPage", "{\"code\":200,\"data\":{\"total\":1,\"list\":[{\"device\":\"\xff\",\"wechat_user_name\":\"\xc0\xaf\",\"channel_info\":{\"channel_name\":\"\xff\"},\"third_wechat_info\":[{\"openid\":\"\xfe\"}]}]}}"},
	{"utf8/msg", "UserDurationPage", "{\"code\":400,\"msg\":\"\xe5\x8f\"}"},
	{"utf8/token", "gettokenReply", "{\"access_token\":\"\xff\",\"expires_in\":1}"},
	{"surrogate/value", "WatchStatPage", `{"errcode":0,"ending":1,"next_key":"\ud800 \udc00\ud800 \ud83d\ude00"}`},
	{"surrogate/name", "WatchStatPage", `{"errcode\ud800":40001,"errcode":0,"ending":1}`},
	{"surrogate/device", "UserDurationPage", `{"code":200,"data":{"total":1,"list":[{"device":"\ud800","wechat_user_name":"\udfff"}]}}`},
	{"escapes/device", "UserDurationPage", `{"code":200,"data":{"total":1,"list":[{"device":"\u0069OS","channel_info":{"channel_name":"a\"b\u8881"}}]}}`},

	// null for the status, the paging field, rows and nested objects.
	{"null/errcode", "WatchStatPage", `{"errcode":null,"ending":1}`},
	{"null/errcode after", "WatchStatPage", `{"errcode":40001,"errcode":null,"ending":1}`},
	{"null/errmsg", "WatchStatPage", `{"errcode":40001,"errmsg":null}`},
	{"null/ending", "WatchStatPage", `{"errcode":0,"ending":null}`},
	{"null/ending after", "WatchStatPage", `{"errcode":0,"ending":1,"ending":null}`},
	{"null/has_more", "SchoolWatchStatPage", `{"errcode":0,"has_more":null,"next_cursor":null}`},
	{"null/next_cursor", "UserLivingIDsPage", `{"errcode":0,"next_cursor":null,"livingid_list":null}`},
	{"null/living_info", "livingInfoReply", `{"errcode":0,"living_info":null}`},
	{"null/school living_info", "schoolLivingInfoReply", `{"errcode":0,"living_info":null}`},
	{"null/living_range", "schoolLivingInfoReply", `{"errcode":0,"living_info":{"living_range":null,"theme":null,"viewer_num":null,"open_replay":null}}`},
	{"null/stat_info", "WatchStatPage", `{"errcode":0,"ending":1,"stat_info":null}`},
	{"null/users", "WatchStatPage", `{"errcode":0,"ending":1,"stat_info":{"users":null,"external_users":null}}`},
	{"null/rows", "WatchStatPage", `{"errcode":0,"ending":1,"stat_info":{"users":[null],"external_users":[null,{"external_userid":"e"},null]}}`},
	{"null/school rows", "SchoolUnwatchStatPage", `{"errcode":0,"has_more":0,"stat_info":{"students":[null,null],"parents":[{"parent_userid":"p","partyids":[null,1]}]}}`},
	{"null/row fields", "SchoolWatchStatPage", `{"errcode":0,"has_more":0,"stat_info":{"students":[{"student_userid":null,"watch_time":null,"enter_time":null,"is_comment":null,"partyids":null}]}}`},
	{"null/ids", "UserLivingIDsPage", `{"errcode":0,"next_cursor":"","livingid_list":[null,"a",null]}`},
	{"null/code", "UserDurationPage", `{"code":null,"data":{"total":1}}`},
	{"null/data", "UserDurationPage", `{"code":200,"data":null}`},
	{"null/total", "UserDurationPage", `{"code":200,"data":{"total":null,"list":[]}}`},
	{"null/list", "UserDurationPage", `{"code":200,"data":{"total":0,"list":null}}`},
	{"null/nuoyun rows", "UserDurationPage", `{"code":200,"data":{"total":3,"list":[null,{"room_id":1},null]}}`},
	{"null/nuoyun fields", "UserDurationPage", `{"code":200,"data":{"total":1,"list":[{"room_id":null,"wechat_user_name":null,"stay_duration":null,"device":null,"channel_info":null,"third_wechat_info":null,"first_visit_time":null}]}}`},
	{"null/token", "gettokenReply", `{"errcode":null,"access_token":"abc","expires_in":null}`},

	// A value of the wrong type before and after the status.
	{"type/errmsg before", "WatchStatPage", `{"errmsg":1,"errcode":40001}`},
	{"type/errmsg after", "WatchStatPage", `{"errcode":40001,"errmsg":1}`},
	{"type/errmsg object", "WatchStatPage", `{"errmsg":{"a":[1]},"errcode":45009,"errmsg":"later"}`},
	{"type/errcode string", "WatchStatPage", `{"errcode":"40001","errmsg":"m"}`},
	{"type/errcode bool", "WatchStatPage", `{"errcode":false,"ending":1}`},
	{"type/ending before", "WatchStatPage", `{"ending":"x","errcode":40001,"errmsg":"m"}`},
	{"type/ending success", "WatchStatPage", `{"errcode":0,"ending":"1"}`},
	{"type/stat_info array failure", "WatchStatPage", `{"stat_info":[],"errcode":40001,"errmsg":"m"}`},
	{"type/stat_info array success", "WatchStatPage", `{"errcode":0,"ending":1,"stat_info":[]}`},
	{"type/users object", "WatchStatPage", `{"stat_info":{"users":{}},"errcode":-1,"errmsg":"busy"}`},
	{"type/flag before status", "WatchStatPage", `{"stat_info":{"users":[{"is_comment":"x"}]},"errcode":40001,"errmsg":"m"}`},
	{"type/flag after status", "WatchStatPage", `{"errcode":40001,"errmsg":"m","stat_info":{"users":[{"is_comment":"x"}]}}`},
	{"type/flag success", "WatchStatPage", `{"errcode":0,"ending":1,"stat_info":{"users":[{"is_comment":"x"}]}}`},
	{"type/school has_more", "SchoolWatchStatPage", `{"has_more":true,"errcode":92008,"errmsg":"m"}`},
	{"type/school rows failure", "SchoolUnwatchStatPage", `{"errcode":40058,"errmsg":"m","stat_info":{"students":"none"}}`},
	{"type/ids", "UserLivingIDsPage", `{"livingid_list":[1,2],"errcode":40001}`},
	{"type/ids success", "UserLivingIDsPage", `{"errcode":0,"next_cursor":"","livingid_list":[1,"a"]}`},
	{"type/living_info array", "livingInfoReply", `{"errcode":40001,"errmsg":"m","living_info":[]}`},
	{"type/living_info array first", "livingInfoReply", `{"living_info":[],"errcode":40001,"errmsg":"m"}`},
	{"type/living_info string", "schoolLivingInfoReply", `{"errcode":0,"living_info":""}`},
	{"type/open_replay before", "livingInfoReply", `{"living_info":{"open_replay":"yes"},"errcode":40001}`},
	{"type/token", "gettokenReply", `{"access_token":1,"errcode":40013,"errmsg":"invalid corpid"}`},
	{"type/expires_in string", "gettokenReply", `{"access_token":"abc","expires_in":"7200"}`},
	{"type/expires_in before", "gettokenReply", `{"expires_in":"x","errcode":40001}`},
	{"type/data array failure", "UserDurationPage", `{"code":400,"msg":"failed","data":[]}`},
	{"type/data array first", "UserDurationPage", `{"data":[],"code":400,"msg":"failed"}`},
	{"type/data array success", "UserDurationPage", `{"code":200,"msg":"ok","data":[]}`},
	{"type/data string", "UserDurationPage", `{"code":"400","msg":"x","data":""}`},
	{"type/total before", "UserDurationPage", `{"data":{"total":-1},"code":400,"msg":"fail"}`},
	{"type/total after", "UserDurationPage", `{"code":400,"msg":"fail","data":{"total":-1}}`},
	{"type/row before", "UserDurationPage", `{"data":{"total":1,"list":[{"room_id":"x"}]},"code":500,"msg":"busy"}`},
	{"type/code", "UserDurationPage", `{"code":"abc","data":{"total":1}}`},
	{"type/code bool", "UserDurationPage", `{"code":true,"msg":"m"}`},
	{"type/msg", "UserDurationPage", `{"msg":5,"code":401}`},
	{"type/code then dup", "UserDurationPage", `{"Code":[],"Code":1}`},
	{"type/code between dups", "UserDurationPage", `{"code":400,"msg":"a","code":[],"code":500,"msg":"b"}`},
	{"type/errcode then dup", "WatchStatPage", `{"errcode":[],"errcode":40001,"ending":1}`},

	// Numbers: fractions, exponents and overflow into integer fields.
	{"num/ending 1.0", "WatchStatPage", `{"errcode":0,"ending":1.0}`},
	{"num/ending 1e0", "WatchStatPage", `{"errcode":0,"ending":1e0}`},
	{"num/ending -0", "WatchStatPage", `{"errcode":0,"ending":-0}`},
	{"num/ending huge", "WatchStatPage", `{"errcode":0,"ending":99999999999999999999}`},
	{"num/errcode exponent", "WatchStatPage", `{"errcode":4.0001e4,"errmsg":"m"}`},
	{"num/errcode -0", "WatchStatPage", `{"errcode":-0,"ending":1}`},
	{"num/errcode noStatus", "WatchStatPage", `{"errcode":-2147483648,"ending":1}`},
	{"num/errcode int64", "WatchStatPage", `{"errcode":9223372036854775807,"errmsg":"m"}`},
	{"num/errcode overflow", "WatchStatPage", `{"errcode":9223372036854775808,"errmsg":"m"}`},
	{"num/watch_time", "WatchStatPage", `{"errcode":0,"ending":1,"stat_info":{"users":[{"watch_time":1.5}]}}`},
	{"num/watch_time overflow", "WatchStatPage", `{"errcode":0,"ending":1,"stat_info":{"users":[{"watch_time":9223372036854775808}]}}`},
	{"num/type overflow", "WatchStatPage", `{"errcode":0,"ending":1,"stat_info":{"external_users":[{"type":1e400}]}}`},
	{"num/partyids", "SchoolWatchStatPage", `{"errcode":0,"has_more":0,"stat_info":{"students":[{"partyids":[1,2.5,3]}]}}`},
	{"num/has_more exponent", "SchoolWatchStatPage", `{"errcode":0,"has_more":1E+0}`},
	{"num/main_department", "livingInfoReply", `{"errcode":0,"living_info":{"main_department":1e3,"viewer_num":-1}}`},
	{"num/status big", "livingInfoReply", `{"errcode":0,"living_info":{"status":2147483648,"replay_status":-7,"type":99}}`},
	{"num/expires_in", "gettokenReply", `{"errcode":0,"access_token":"abc","expires_in":1e400}`},
	{"num/expires_in max", "gettokenReply", `{"errcode":0,"access_token":"abc","expires_in":9223372036854775807}`},
	{"num/code 200.0", "UserDurationPage", `{"code":200.0,"data":{"total":1}}`},
	{"num/code 2e2", "UserDurationPage", `{"code":2e2,"data":{"total":1}}`},
	{"num/total 1.0", "UserDurationPage", `{"code":200,"data":{"total":1.0}}`},
	{"num/total 1e3", "UserDurationPage", `{"code":200,"data":{"total":1e3}}`},
	{"num/total 01", "UserDurationPage", `{"code":200,"data":{"total":"01"}}`},
	{"num/total +1", "UserDurationPage", `{"code":200,"data":{"total":"+1"}}`},
	{"num/total max", "UserDurationPage", `{"code":200,"data":{"total":9223372036854775807}}`},
	{"num/total overflow", "UserDurationPage", `{"code":200,"data":{"total":9223372036854775808}}`},
	{"num/room_id", "UserDurationPage", `{"code":200,"data":{"total":1,"list":[{"room_id":1.5}]}}`},
	{"num/room_id hex", "UserDurationPage", `{"code":200,"data":{"total":1,"list":[{"room_id":"0x10","wechat_user_space_id":"-3"}]}}`},
	{"num/durations", "UserDurationPage", `{"code":200,"data":{"total":1,"list":[{"stay_duration":1e2}]}}`},

	// Flags (IntBool): true, "1", 2 and the rest.
	{"flag/true", "WatchStatPage", `{"errcode":0,"ending":1,"stat_info":{"users":[{"is_comment":true,"is_mic":false}]}}`},
	{"flag/strings", "WatchStatPage", `{"errcode":0,"ending":1,"stat_info":{"users":[{"is_comment":"1","is_mic":"0"},{"is_comment":"true","is_mic":"false"}]}}`},
	{"flag/2", "WatchStatPage", `{"errcode":0,"ending":1,"stat_info":{"users":[{"is_comment":2,"is_mic":-1},{"is_comment":"2","is_mic":""}]}}`},
	{"flag/1.0", "WatchStatPage", `{"errcode":0,"ending":1,"stat_info":{"users":[{"is_comment":1.0}]}}`},
	{"flag/object", "SchoolWatchStatPage", `{"errcode":0,"has_more":0,"stat_info":{"students":[{"is_comment":{}}]}}`},
	{"flag/array", "SchoolWatchStatPage", `{"errcode":0,"has_more":0,"stat_info":{"parents":[{"is_comment":[]}]}}`},
	{"flag/yes", "livingInfoReply", `{"errcode":0,"living_info":{"open_replay":"yes"}}`},
	{"flag/school open_replay", "schoolLivingInfoReply", `{"errcode":0,"living_info":{"open_replay":true}}`},

	// Nuoyun's odd shapes: device, channel_info, third_wechat_info, times.
	{"nuoyun/devices", "UserDurationPage", `{"code":200,"data":{"total":12,"list":[{"device":3},{"device":"3"},{"device":"iOS"},{"device":"ANDROID"},{"device":null},{"device":7},{"device":"HarmonyOS"},{"device":""},{"device":" 3 "},{"device":-1},{"device":"pc"},{"device":"Other"}]}}`},
	{"nuoyun/device odd", "UserDurationPage", `{"code":200,"data":{"total":3,"list":[{"device":true},{"device":{}},{"device":[1]}]}}`},
	{"nuoyun/device space", "UserDurationPage", `{"code":200,"data":{"total":1,"list":[{"device": "iOS" },{"device" :  3}]}}`},
	{"nuoyun/channel shapes", "UserDurationPage", `{"code":200,"data":{"total":6,"list":[{"channel_info":{}},{"channel_info":[]},{"channel_info":null},{"channel_info":[{"channel_id":"7","channel_name":"s"}]},{"channel_info":[{},{"channel_id":2}]},{"channel_info":[null]}]}}`},
	{"nuoyun/channel bad", "UserDurationPage", `{"code":200,"data":{"total":1,"list":[{"channel_info":[5]}]}}`},
	{"nuoyun/channel string", "UserDurationPage", `{"code":200,"data":{"total":1,"list":[{"channel_info":"x"}]}}`},
	{"nuoyun/channel_id", "UserDurationPage", `{"code":200,"data":{"total":4,"list":[{"channel_info":{"channel_id":"x"}},{"channel_info":{"channel_id":1.5}}]}}`},
	{"nuoyun/channel cased", "UserDurationPage", `{"code":200,"data":{"total":1,"list":[{"channel_info":{"Channel_ID":5,"CHANNEL_NAME":"n","channel_id":6}}]}}`},
	{"nuoyun/channel dup", "UserDurationPage", `{"code":200,"data":{"total":1,"list":[{"channel_info":{"channel_id":1,"channel_id":2}}]}}`},
	{"nuoyun/channel spaces", "UserDurationPage", `{"code":200,"data":{"total":1,"list":[{"channel_info": { "channel_id" : -5 , "store_id" : null } }]}}`},
	{"nuoyun/wechat shapes", "UserDurationPage", `{"code":200,"data":{"total":5,"list":[{"third_wechat_info":{}},{"third_wechat_info":[]},{"third_wechat_info":null},{"third_wechat_info":[{"authorizer_appid":"wx","openid":"o","unionid":"u"},{"openid":"o2"}]},{"third_wechat_info":{"OpenID":"o3","other":1}}]}}`},
	{"nuoyun/wechat bad", "UserDurationPage", `{"code":200,"data":{"total":1,"list":[{"third_wechat_info":[[{}]]}]}}`},
	{"nuoyun/wechat number", "UserDurationPage", `{"code":200,"data":{"total":1,"list":[{"third_wechat_info":{"openid":5}}]}}`},
	{"nuoyun/times", "UserDurationPage", `{"code":200,"data":{"total":5,"list":[{"first_visit_time":"2025-09-16 15:06:06"},{"first_visit_time":""},{"first_visit_time":"0000-00-00 00:00:00"},{"last_visit_time":"2024-02-29 23:59:59"}]}}`},
	{"nuoyun/time bad", "UserDurationPage", `{"code":200,"data":{"total":1,"list":[{"first_visit_time":"2025-13-01 00:00:00"}]}}`},
	{"nuoyun/time number", "UserDurationPage", `{"code":200,"data":{"total":1,"list":[{"last_visit_time":1700000000}]}}`},
	{"nuoyun/ids as strings", "UserDurationPage", `{"code":"200","data":{"total":"2","list":[{"room_id":"","wechat_user_space_id":"12","invited_wechat_user_space_id":""}]}}`},
	{"nuoyun/empty data object", "UserDurationPage", `{"code":200,"msg":"ok","data":{}}`},
	{"nuoyun/failure empty", "UserDurationPage", `{"code":400,"msg":"参数错误","data":{}}`},

	// The top level: not an object, empty, trailing garbage.
	{"top/null", "WatchStatPage", `null`},
	{"top/null nuoyun", "UserDurationPage", `null`},
	{"top/null token", "gettokenReply", `null`},
	{"top/array", "WatchStatPage", `[]`},
	{"top/array of reply", "WatchStatPage", `[{"errcode":0,"ending":1}]`},
	{"top/string", "livingInfoReply", `"x"`},
	{"top/number", "UserDurationPage", `200`},
	{"top/true", "gettokenReply", `true`},
	{"top/empty object", "WatchStatPage", `{}`},
	{"top/empty", "WatchStatPage", ``},
	{"top/spaces", "UserDurationPage", " \n\t "},
	{"top/bom", "WatchStatPage", "\xef\xbb\xbf{\"errcode\":0,\"ending\":1}"},
	{"top/trailing object", "WatchStatPage", `{"errcode":0,"ending":1}{}`},
	{"top/trailing text", "WatchStatPage", `{"errcode":0,"ending":1} x`},
	{"top/trailing comma", "WatchStatPage", `{"errcode":0,"ending":1},`},
	{"top/trailing space", "WatchStatPage", "{\"errcode\":0,\"ending\":1} \r\n"},
	{"top/trailing failure", "WatchStatPage", `{"errcode":40001,"errmsg":"m"}]`},
	{"top/cut", "UserDurationPage", `{"code":400,"msg":"m"`},
	{"top/comma", "UserDurationPage", `{"code":200,"data":{"total":1},}`},
	{"top/single quotes", "WatchStatPage", `{'errcode':0}`},
	{"top/control in string", "WatchStatPage", "{\"errcode\":0,\"ending\":1,\"next_key\":\"a\tb\"}"},
	{"top/bad escape", "WatchStatPage", `{"errcode":0,"ending":1,"next_key":"\x41"}`},
	{"top/leading zero", "WatchStatPage", `{"errcode":00,"ending":1}`},
	{"top/NaN", "WatchStatPage", `{"errcode":NaN}`},

	// A method's error (a lenient type) before the status, in the payload
	// or in a duplicate of the status field: encoding/json stops there,
	// where v2 decoding (and v1 after a type error) would go on to the
	// status. Once they disagreed; decodeReply now reports every failure
	// as encoding/json does.
	{"method error/flag before errcode", "WatchStatPage", `{"stat_info":{"users":[{"is_comment":"x"}]},"errcode":40001,"errmsg":"m"}`},
	{"method error/open_replay", "livingInfoReply", `{"living_info":{"open_replay":"yes"},"errcode":40001}`},
	{"method error/school open_replay", "schoolLivingInfoReply", `{"living_info":{"open_replay":"yes"},"errcode":40001}`},
	{"method error/total", "UserDurationPage", `{"data":{"total":-1},"code":400,"msg":"fail"}`},
	{"method error/room_id", "UserDurationPage", `{"data":{"total":1,"list":[{"room_id":"x"}]},"code":500,"msg":"busy"}`},
	{"method error/code", "UserDurationPage", `{"Code":[],"Code":1}`},
	{"method error/code between", "UserDurationPage", `{"code":400,"msg":"a","code":[],"code":500,"msg":"b"}`},

	// A list repeated, empty in between: [] is a new slice, so the list
	// after it does not merge into the rows before it (found in review).
	{"repeat/rows after []", "WatchStatPage", `{"errcode":0,"ending":1,"stat_info":{"users":[{"userid":"a","watch_time":3}],"users":[],"users":[{"name":"n"}]}}`},
	{"repeat/partyids after []", "SchoolWatchStatPage", `{"errcode":0,"has_more":0,"stat_info":{"students":[{"partyids":[1,2],"partyids":[],"partyids":[null]}]}}`},
	{"repeat/nuoyun rows after []", "UserDurationPage", `{"code":200,"data":{"total":1,"list":[{"room_id":7,"device":"iOS"}],"list":[],"list":[{"ip":"x"}]}}`},
	{"repeat/visitors after []", "SchoolWatchStatPage", `{"errcode":0,"has_more":0,"stat_info":{"visitors":[{"nickname":"a"}],"visitors":[],"visitors":[null]}}`},

	// Deep nesting, under and over encoding/json's limit of 10000.
	{"deep/unknown 9998", "WatchStatPage", `{"errcode":0,"ending":1,"x":` + nest("[", "]", 9998) + `}`},
	{"deep/unknown 9999", "WatchStatPage", `{"errcode":0,"ending":1,"x":` + nest("[", "]", 9999) + `}`},
	{"deep/unknown 10000", "WatchStatPage", `{"errcode":0,"ending":1,"x":` + nest("[", "]", 10000) + `}`},
	{"deep/objects", "UserDurationPage", `{"code":200,"data":{"total":1},"x":` + strings.Repeat(`{"a":`, 9000) + `1` + strings.Repeat(`}`, 9000) + `}`},
	{"deep/in a row", "WatchStatPage", `{"errcode":0,"ending":1,"stat_info":{"users":[{"userid":` + nest("[", "]", 500) + `}]}}`},
	{"deep/failure", "WatchStatPage", `{"x":` + nest("[", "]", 5000) + `,"errcode":40001,"errmsg":"m"}`},
	{"deep/in channel_info", "UserDurationPage", `{"code":200,"data":{"total":1,"list":[{"channel_info":` + nest("[", "]", 300) + `}]}}`},
}

// diffSeeds returns every input of the differential test.
func diffSeeds(tb testing.TB) []diffSeed {
	tb.Helper()
	seeds := corpusSeeds(tb)
	seeds = append(seeds, fixtureSeeds(tb)...)
	for _, c := range diffCases {
		seeds = append(seeds, diffSeed{name: "case/" + c.name, kind: diffKindIndex(tb, c.kind), body: []byte(c.body)})
	}
	return seeds
}

// TestDecodeOldAndNew runs every seed against every reply type, the one
// it was written for first.
func TestDecodeOldAndNew(t *testing.T) {
	for _, s := range diffSeeds(t) {
		t.Run(s.name, func(t *testing.T) {
			own := int(s.kind) % len(diffKinds)
			checkOldAndNew(t, diffKinds[own], s.body)
			for i, k := range diffKinds {
				if i != own {
					checkOldAndNew(t, k, s.body)
				}
			}
		})
	}
}

// FuzzDecodeOldAndNew decodes a fuzzed body as the reply type which
// selects (modulo the number of types), the old way and the new way.
func FuzzDecodeOldAndNew(f *testing.F) {
	for _, s := range diffSeeds(f) {
		f.Add(s.kind, s.body)
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		checkOldAndNew(t, diffKinds[int(which)%len(diffKinds)], body)
	})
}
