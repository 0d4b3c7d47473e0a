package livestat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// This file holds the lenient value types of Nuoyun replies, whose docs and
// samples disagree on types. Each custom decoder handles one field and takes
// a fast path for the common shape, so a page is still decoded in one pass.

// FlexInt is an integer the API may send as a JSON number or as a numeric
// string (Nuoyun sends the same ids as strings in its webhook payloads). ""
// and null decode to 0. It encodes to JSON as a number.
type FlexInt int64

// UnmarshalJSON accepts 123, "123", "", and null.
func (n *FlexInt) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		b = b[1 : len(b)-1]
		if len(b) == 0 {
			*n = 0
			return nil
		}
	} else if string(b) == "null" {
		return nil
	}
	v, ok := parseInt(b)
	if !ok {
		return fmt.Errorf("livestat: want an integer, got %.32s", b)
	}
	*n = FlexInt(v)
	return nil
}

// UnmarshalJSONFrom decodes n from dec (the encoding/json/v2 interface)
// as UnmarshalJSON does, reading the value in place in the decoder's
// buffer: no copy, and no second decoder.
func (n *FlexInt) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	return readRaw(dec, n.UnmarshalJSON)
}

// RowCount is a count of rows as a reply states it: the type of Nuoyun's
// data.total. Unlike FlexInt it is strict, because the count decides when
// an iteration is complete: it decodes from a non-negative JSON integer or
// a string of decimal digits ("21451"), and anything else ("", a negative
// or fractional number, true, an object) is an error naming data.total.
// null decodes to nothing, as an absent field does: a count the reply does
// not state is not 0, and a page reply without one is an error.
type RowCount int64

// rowCountAbsent marks a data.total the reply did not state; a decoded
// count is never negative.
const rowCountAbsent RowCount = -1

// UnmarshalJSON accepts 123 and "123"; null leaves n as it was.
func (n *RowCount) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	digits := b
	if len(digits) >= 2 && digits[0] == '"' && digits[len(digits)-1] == '"' {
		digits = digits[1 : len(digits)-1]
	}
	if len(digits) > 0 && digits[0] >= '0' && digits[0] <= '9' { // no sign
		if v, ok := parseInt(digits); ok {
			*n = RowCount(v)
			return nil
		}
	}
	return fmt.Errorf("livestat: data.total: want a non-negative integer, got %.32s", b)
}

// UnmarshalJSONFrom decodes n from dec (the encoding/json/v2 interface)
// as UnmarshalJSON does, reading the value in place in the decoder's
// buffer: no copy, and no second decoder.
func (n *RowCount) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	return readRaw(dec, n.UnmarshalJSON)
}

// parseInt parses an optionally signed decimal integer. Up to 18 digits,
// which always fit in an int64, it does not allocate.
func parseInt(b []byte) (int64, bool) {
	digits := b
	if len(digits) > 0 && (digits[0] == '-' || digits[0] == '+') {
		digits = digits[1:]
	}
	switch {
	case len(digits) == 0:
		return 0, false
	case len(digits) > 18: // rare: let strconv check the range
		v, err := strconv.ParseInt(string(b), 10, 64)
		return v, err == nil
	}
	var v int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if b[0] == '-' {
		v = -v
	}
	return v, true
}

// DeviceType is the kind of device a viewer used, with Nuoyun's documented
// codes as values.
type DeviceType int

// Device types. DeviceUnknown stands for an empty value, a missing field, and
// codes or names livestat does not know.
const (
	DevicePC      DeviceType = 0
	DeviceAndroid DeviceType = 1
	DeviceOther   DeviceType = 2
	DeviceIOS     DeviceType = 3
	DeviceUnknown DeviceType = -1
)

// String returns "pc", "android", "other", "ios" or "unknown".
func (t DeviceType) String() string {
	switch t {
	case DevicePC:
		return "pc"
	case DeviceAndroid:
		return "android"
	case DeviceOther:
		return "other"
	case DeviceIOS:
		return "ios"
	}
	return "unknown"
}

// Device is the device field of a Nuoyun row. The API documents it as the
// codes 0 pc, 1 android, 2 other, 3 ios, but sends names ("iOS", "Android")
// or "" as well; Device accepts numbers, numeric strings and names (in any
// case), and keeps the value exactly as it was sent.
//
// The zero Device is a missing field: its Type is DeviceUnknown.
type Device struct {
	code int8   // the DeviceType + 1, so that the zero value is unknown
	raw  string // the JSON value as received; "" when absent
}

// Type returns the device type.
func (d Device) Type() DeviceType { return DeviceType(d.code) - 1 }

// Raw returns the JSON value as the API sent it, such as `"iOS"`, `3`, `"3"`
// or `""`; "" when the field was absent.
func (d Device) Raw() string { return d.raw }

// String returns the name of the device type.
func (d Device) String() string { return d.Type().String() }

// UnmarshalJSON accepts a code (3), a numeric string ("3"), a name ("iOS",
// "android", "PC", "other"; any case), "" and null. Values it does not
// know decode to DeviceUnknown without error; Raw keeps them.
func (d *Device) UnmarshalJSON(b []byte) error {
	// The values the API is known to send, without allocating.
	switch string(b) {
	case `"iOS"`:
		*d = Device{code: int8(DeviceIOS) + 1, raw: `"iOS"`}
		return nil
	case `"Android"`:
		*d = Device{code: int8(DeviceAndroid) + 1, raw: `"Android"`}
		return nil
	case `""`:
		*d = Device{raw: `""`}
		return nil
	}
	t := DeviceUnknown
	v := b
	if len(v) > 1 && v[0] == '"' {
		v = bytes.TrimSpace(v[1 : len(v)-1])
	}
	if n, ok := parseInt(v); ok {
		if n >= int64(DevicePC) && n <= int64(DeviceIOS) {
			t = DeviceType(n)
		}
	} else {
		switch {
		case bytes.EqualFold(v, []byte("ios")):
			t = DeviceIOS
		case bytes.EqualFold(v, []byte("android")):
			t = DeviceAndroid
		case bytes.EqualFold(v, []byte("pc")):
			t = DevicePC
		case bytes.EqualFold(v, []byte("other")):
			t = DeviceOther
		}
	}
	*d = Device{code: int8(t) + 1, raw: string(b)}
	return nil
}

// UnmarshalJSONFrom decodes d from dec (the encoding/json/v2 interface)
// as UnmarshalJSON does, reading the value in place in the decoder's
// buffer: no copy, and no second decoder.
func (d *Device) UnmarshalJSONFrom(dec *jsontext.Decoder) error { return readRaw(dec, d.UnmarshalJSON) }

// MarshalJSON returns the value as it was received (null when absent), so a
// row encodes back to what the API sent.
func (d Device) MarshalJSON() ([]byte, error) {
	if d.raw == "" {
		return []byte("null"), nil
	}
	return []byte(d.raw), nil
}

// chinaStandardTime is UTC+8, the zone of Nuoyun's wall-clock times. A
// fixed zone needs no zoneinfo files (China has had no DST since 1991). It
// is never modified.
var chinaStandardTime = time.FixedZone("CST", 8*60*60)

// ChinaTimeLayout is the format of Nuoyun's wall-clock times.
const ChinaTimeLayout = "2006-01-02 15:04:05"

// ChinaTime is an instant Nuoyun sends as "2006-01-02 15:04:05" in China
// Standard Time (UTC+8). It embeds the time.Time, located in a fixed +08:00
// zone, so it works on machines without zoneinfo files. "", null and
// "0000-00-00 00:00:00" decode to the zero time, which encodes back to "".
type ChinaTime struct {
	time.Time
}

// UnmarshalJSON parses the API's "2006-01-02 15:04:05" in UTC+8.
func (t *ChinaTime) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `""`, "null", `"0000-00-00 00:00:00"`:
		t.Time = time.Time{}
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("livestat: want a %q time string, got %.32s", ChinaTimeLayout, b)
	}
	if v, ok := parseChinaTime(b[1 : len(b)-1]); ok {
		t.Time = v
		return nil
	}
	v, err := time.ParseInLocation(ChinaTimeLayout, string(b[1:len(b)-1]), chinaStandardTime)
	if err != nil {
		return fmt.Errorf("livestat: want a %q time string, got %.32s", ChinaTimeLayout, b)
	}
	t.Time = v
	return nil
}

// UnmarshalJSONFrom decodes t from dec (the encoding/json/v2 interface)
// as UnmarshalJSON does, reading the value in place in the decoder's
// buffer: no copy, and no second decoder.
func (t *ChinaTime) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	return readRaw(dec, t.UnmarshalJSON)
}

// MarshalJSON encodes t as the API does: "2006-01-02 15:04:05" in UTC+8,
// or "" for the zero time.
func (t ChinaTime) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte(`""`), nil
	}
	b := make([]byte, 0, len(ChinaTimeLayout)+2)
	b = append(b, '"')
	b = t.In(chinaStandardTime).AppendFormat(b, ChinaTimeLayout)
	return append(b, '"'), nil
}

// String formats t as the API does, in UTC+8 ("" for the zero time).
func (t ChinaTime) String() string {
	if t.IsZero() {
		return ""
	}
	return t.In(chinaStandardTime).Format(ChinaTimeLayout)
}

// ThirdWeChatInfo is the viewer's identity in a third-party WeChat official
// account. Present is false when the API sent {}, [] or null, or no such
// field. Nuoyun's pushes and older API send the object in an array,
// [{…}]: the first element is decoded and the others are ignored.
type ThirdWeChatInfo struct {
	Present         bool   `json:"-"`
	AuthorizerAppID string `json:"authorizer_appid"`
	OpenID          string `json:"openid"`
	UnionID         string `json:"unionid"`
}

// UnmarshalJSON decodes the object, noting whether it was more than {}.
// The common shape (plain strings) takes a fast path; see
// nuoyun_fastpath.go.
func (i *ThirdWeChatInfo) UnmarshalJSON(b []byte) error {
	type plain ThirdWeChatInfo
	return unmarshalOptional(b, (*plain)(i), &i.Present, func(v *plain, key, val []byte) bool {
		switch string(key) {
		case "authorizer_appid":
			return setPlainString(&v.AuthorizerAppID, val)
		case "openid":
			return setPlainString(&v.OpenID, val)
		case "unionid":
			return setPlainString(&v.UnionID, val)
		}
		return false
	})
}

// MarshalJSON encodes an absent value as {}, as the API does.
func (i ThirdWeChatInfo) MarshalJSON() ([]byte, error) {
	type plain ThirdWeChatInfo
	return marshalOptional(i.Present, plain(i))
}

// UnmarshalJSONFrom decodes the object from dec (the encoding/json/v2
// interface) as UnmarshalJSON does; see scanOptional.
func (i *ThirdWeChatInfo) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	return unmarshalFrom(dec, i)
}

// decodeRow decodes the object, starting over from the zero value.
func (i *ThirdWeChatInfo) decodeRow(value []byte, strs *rowStrings) error {
	strs.drop(&i.AuthorizerAppID, &i.OpenID, &i.UnionID)
	*i = ThirdWeChatInfo{}
	return scanOptional(value, &i.Present, func(name, value []byte) (bool, error) {
		switch string(name) {
		case "authorizer_appid":
			return true, strs.add(value, &i.AuthorizerAppID)
		case "openid":
			return true, strs.add(value, &i.OpenID)
		case "unionid":
			return true, strs.add(value, &i.UnionID)
		}
		return false, nil
	})
}

// ChannelInfo is the store (门店) channel a viewer belongs to. Present is
// false when the API sent {}, [] or null, or no such field. Like
// ThirdWeChatInfo, it may come as an array of objects, [{…}]: the first
// element is decoded and the others are ignored.
type ChannelInfo struct {
	Present     bool    `json:"-"`
	ChannelID   FlexInt `json:"channel_id"`
	ChannelName string  `json:"channel_name"`
	StoreID     string  `json:"store_id"` // the store's code
}

// UnmarshalJSON decodes the object, noting whether it was more than {}.
// The common shape (plain strings, an integer id) takes a fast path; see
// nuoyun_fastpath.go.
func (c *ChannelInfo) UnmarshalJSON(b []byte) error {
	type plain ChannelInfo
	return unmarshalOptional(b, (*plain)(c), &c.Present, func(v *plain, key, val []byte) bool {
		switch string(key) {
		case "channel_id":
			return v.ChannelID.UnmarshalJSON(val) == nil
		case "channel_name":
			return setPlainString(&v.ChannelName, val)
		case "store_id":
			return setPlainString(&v.StoreID, val)
		}
		return false
	})
}

// MarshalJSON encodes an absent value as {}, as the API does.
func (c ChannelInfo) MarshalJSON() ([]byte, error) {
	type plain ChannelInfo
	return marshalOptional(c.Present, plain(c))
}

// UnmarshalJSONFrom decodes the object from dec (the encoding/json/v2
// interface) as UnmarshalJSON does; see scanOptional.
func (c *ChannelInfo) UnmarshalJSONFrom(dec *jsontext.Decoder) error { return unmarshalFrom(dec, c) }

// decodeRow decodes the object, starting over from the zero value.
func (c *ChannelInfo) decodeRow(value []byte, strs *rowStrings) error {
	strs.drop(&c.ChannelName, &c.StoreID)
	*c = ChannelInfo{}
	return scanOptional(value, &c.Present, func(name, value []byte) (bool, error) {
		switch string(name) {
		case "channel_id":
			return true, c.ChannelID.UnmarshalJSON(value)
		case "channel_name":
			return true, strs.add(value, &c.ChannelName)
		case "store_id":
			return true, strs.add(value, &c.StoreID)
		}
		return false, nil
	})
}

// scanOptional decodes value, one of Nuoyun's optional objects, as
// unmarshalOptional does, into an object the caller has zeroed and whose
// members member decodes (see scanObject): an object, or the first
// element of an array of objects, the other elements being ignored.
// *present is set when the object has a member: null, {}, [] and an array
// whose first element is null leave it absent.
func scanOptional(value []byte, present *bool, member func(name, value []byte) (bool, error)) error {
	noteMember := func(name, value []byte) (bool, error) {
		*present = true
		return member(name, value)
	}
	if value[0] != '[' {
		return scanObject(value, noteMember)
	}
	i := skipSpace(value, 1)
	switch value[i] {
	case ']':
		return nil
	case '{', 'n':
		return scanObject(value[i:valueEnd(value, i)], noteMember)
	}
	return fmt.Errorf("want an object or an array of objects, got an array whose first element is %s", kindName(jsontext.Value(value[i:valueEnd(value, i)]).Kind()))
}

// unmarshalOptional is the UnmarshalJSON of Nuoyun's optional objects
// (ThirdWeChatInfo, ChannelInfo). It decodes b, or the first element of an
// array of objects, into *dst, which is the object through a type without
// its UnmarshalJSON method (so that the slow path does not call it again),
// and sets *present when b was more than empty ({}, [], null). member is
// the fast path for one flat member (see decodeFlatObject); where it
// refuses one, the whole object is decoded again by encoding/json. On
// error, *dst is left as it was.
func unmarshalOptional[T any](b []byte, dst *T, present *bool, member func(v *T, key, val []byte) bool) error {
	b, err := firstElement(b)
	if err != nil {
		return err
	}
	// Decoded in place, which costs no allocation; old restores *dst on
	// error.
	old, zero := *dst, *new(T)
	*dst = zero
	if isEmptyObject(b) {
		return nil
	}
	if !decodeFlatObject(b, func(key, val []byte) bool { return member(dst, key, val) }) {
		*dst = zero
		if err := json.Unmarshal(b, dst); err != nil {
			*dst = old
			return err
		}
	}
	*present = true
	return nil
}

// marshalOptional is the MarshalJSON of Nuoyun's optional objects: {} when
// absent, as the API sends it, else v, the object through a type without
// its MarshalJSON method.
func marshalOptional(present bool, v any) ([]byte, error) {
	if !present {
		return []byte("{}"), nil
	}
	return json.Marshal(v)
}

// firstElement returns b, or the first element of b when b is a non-empty
// array of objects (an element may be null). Only the first element is
// decoded, so the others are not checked beyond being JSON.
func firstElement(b []byte) ([]byte, error) {
	i := skipSpace(b, 0)
	if i == len(b) || b[i] != '[' || isEmptyObject(b) {
		return b, nil
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(b, &elems); err != nil {
		return nil, err
	}
	first := elems[0]
	if first[0] != '{' && string(first) != "null" {
		return nil, fmt.Errorf("livestat: want an object or an array of objects, got an array whose first element is %.32s", first)
	}
	return first, nil
}

// isEmptyObject reports whether b is {} (spaces allowed), null, or [] (PHP
// back ends encode an empty map as an empty array).
func isEmptyObject(b []byte) bool {
	switch string(b) {
	case "{}", "null", "[]":
		return true
	}
	b = bytes.TrimSpace(b)
	if len(b) < 2 || !(b[0] == '{' && b[len(b)-1] == '}' || b[0] == '[' && b[len(b)-1] == ']') {
		return false
	}
	return len(bytes.TrimSpace(b[1:len(b)-1])) == 0
}
