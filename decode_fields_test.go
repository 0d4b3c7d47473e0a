package livestat

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRowDecodersKnowEveryField holds the hand-written decoders of
// decode.go to the structs they fill: a JSON object setting every field
// of a type (recursively, with a distinct value each) must decode to the
// same value through encoding/json (which reads the struct tags) and
// through livestat's reply decoder. A field added to a struct and not to
// its decoder fails here.
func TestRowDecodersKnowEveryField(t *testing.T) {
	for _, v := range []any{
		WatchStatInfo{}, LivingViewer{},
		SchoolWatchStatInfo{}, SchoolWatcher{}, SchoolUnwatchStatInfo{}, SchoolAbsentee{},
		UserDurationData{}, UserDuration{}, ThirdWeChatInfo{}, ChannelInfo{},
	} {
		typ := reflect.TypeOf(v)
		t.Run(typ.Name(), func(t *testing.T) {
			n := 0
			doc := sampleJSON(t, typ, &n)
			old := reflect.New(typ)
			require.NoError(t, json.Unmarshal([]byte(doc), old.Interface()), doc)
			cur := reflect.New(typ)
			require.NoError(t, unmarshalJSON([]byte(doc), cur.Interface()), doc)
			require.Equal(t, old.Elem().Interface(), cur.Elem().Interface(), doc)
			require.NotEqual(t, reflect.Zero(typ).Interface(), cur.Elem().Interface(), "the sample set no field: %s", doc)
		})
	}
}

// sampleJSON returns a JSON value for a Go value of type typ, in which
// every field of a struct is set, each number and string different (n
// counts the values made).
func sampleJSON(t *testing.T, typ reflect.Type, n *int) string {
	*n++
	switch typ {
	case reflect.TypeFor[IntBool]():
		return "1"
	case reflect.TypeFor[ChinaTime]():
		return fmt.Sprintf(`"%s"`, time.Date(2025, 1, 2, 3, 4, *n%60, 0, chinaStandardTime).Format(ChinaTimeLayout))
	case reflect.TypeFor[Device]():
		return `"iOS"`
	case reflect.TypeFor[ViewerKind]():
		return `"student"`
	}
	switch typ.Kind() {
	case reflect.String:
		return fmt.Sprintf(`"s%d"`, *n)
	case reflect.Int, reflect.Int64:
		return fmt.Sprint(*n)
	case reflect.Slice:
		return "[" + sampleJSON(t, typ.Elem(), n) + "," + sampleJSON(t, typ.Elem(), n) + "]"
	case reflect.Struct:
		var members []string
		for f := range typ.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || name == "-" || name == "" {
				continue
			}
			members = append(members, fmt.Sprintf("%q:%s", name, sampleJSON(t, f.Type, n)))
		}
		return "{" + strings.Join(members, ",") + "}"
	}
	t.Fatalf("no sample for %v", typ)
	return ""
}
