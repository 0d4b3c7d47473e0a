package livestat

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// Seconds is a duration the APIs report in whole seconds (watch_time,
// stay_duration). It encodes to JSON as the API's number.
type Seconds int64

// Duration returns s as a time.Duration.
func (s Seconds) Duration() time.Duration { return time.Duration(s) * time.Second }

// UnixTime is an instant the APIs report in Unix seconds (enter_time,
// leave_time). Zero means absent. It encodes to JSON as the API's number.
type UnixTime int64

// Time returns u as a time.Time in the local zone; the zero time if u is 0.
func (u UnixTime) Time() time.Time {
	if u == 0 {
		return time.Time{}
	}
	return time.Unix(int64(u), 0)
}

// IntBool is a 0/1 field (is_comment, is_mic) as a Go bool. It decodes
// from 0, 1, true and false, and encodes back to 0 or 1 as the API sends it.
type IntBool bool

// UnmarshalJSON accepts 0/1, "0"/"1", true/false and null. Any other
// integer counts as true (non-zero), so that one odd value does not fail a
// whole page; anything else is an error.
func (f *IntBool) UnmarshalJSON(b []byte) error {
	switch s := string(bytes.Trim(b, `"`)); s {
	case "1", "true":
		*f = true
	case "0", "false", "null", "":
		*f = false
	default:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("livestat: want 0 or 1, got %.20s", b)
		}
		*f = n != 0
	}
	return nil
}

// UnmarshalJSONFrom decodes f from dec (the encoding/json/v2 interface)
// as UnmarshalJSON does, reading the value in place in the decoder's
// buffer: no copy, and no second decoder.
func (f *IntBool) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	return readRaw(dec, f.UnmarshalJSON)
}

// MarshalJSON encodes f as 0 or 1.
func (f IntBool) MarshalJSON() ([]byte, error) {
	if f {
		return []byte("1"), nil
	}
	return []byte("0"), nil
}

// ViewerKind tags a row with the list it came from. The APIs send no kind:
// the services set it from the list after decoding. Rows encode it to JSON
// as their first field, "kind" (left out when empty), so that a row read
// back from its JSON keeps its kind, and ID still picks the right field.
type ViewerKind string

// The kinds of rows the endpoints return.
const (
	KindUser         ViewerKind = "user"          // corp living: a corp member (the CLI also tags Nuoyun rows "user")
	KindExternalUser ViewerKind = "external_user" // corp living: an external contact
	KindStudent      ViewerKind = "student"       // school living
	KindParent       ViewerKind = "parent"        // school living
	KindVisitor      ViewerKind = "visitor"       // school living, watch stats only
)
