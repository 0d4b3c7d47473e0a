package livestat

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// The fast paths of nuoyun_fastpath.go, and the decoder of replies
// (scanOptional), must decode exactly what the general decoders do: the
// same value, and an error exactly when they fail. The references below
// are the general paths alone.

// referenceFirst is the array rule of both objects, written out: an
// array's first element stands for it, and must be an object or null.
func referenceFirst(b []byte) ([]byte, error) {
	var elems []json.RawMessage
	if isEmptyObject(b) || json.Unmarshal(b, &elems) != nil || len(elems) == 0 {
		return b, nil // not an array: decoded (or refused) as an object
	}
	if string(elems[0]) != "null" && !bytes.HasPrefix(elems[0], []byte("{")) {
		return nil, errors.New("not an array of objects")
	}
	return elems[0], nil
}

func referenceChannelInfo(b []byte) (ChannelInfo, error) {
	b, err := referenceFirst(b)
	if err != nil {
		return ChannelInfo{}, err
	}
	if isEmptyObject(b) {
		return ChannelInfo{}, nil
	}
	type plain ChannelInfo
	var v plain
	err = json.Unmarshal(b, &v)
	c := ChannelInfo(v)
	c.Present = true
	return c, err
}

func referenceThirdWeChatInfo(b []byte) (ThirdWeChatInfo, error) {
	b, err := referenceFirst(b)
	if err != nil {
		return ThirdWeChatInfo{}, err
	}
	if isEmptyObject(b) {
		return ThirdWeChatInfo{}, nil
	}
	type plain ThirdWeChatInfo
	var v plain
	err = json.Unmarshal(b, &v)
	i := ThirdWeChatInfo(v)
	i.Present = true
	return i, err
}

func FuzzNuoyunFastPaths(f *testing.F) {
	for _, s := range []string{
		`{"channel_id":3128527,"channel_name":"袁","store_id":""}`,
		`{"channel_id":"77","channel_name":"store","store_id":"S-77"}`,
		` { "channel_id" : -5 , "store_id" : null } `,
		`{"channel_id":12.5}`, `{"channel_id":1e3}`, `{"channel_id":01}`, `{"channel_id":"x"}`, `{"channel_id":""}`,
		`{"channel_id":true}`, `{"channel_name":5}`, `{"channel_name":"a\"b"}`, `{"channel_name":"\u8881"}`,
		`{"Channel_ID":5}`, `{"channel_id":1,"channel_id":2}`, `{"channel_id":1,}`, `{"channel_id":1}x`,
		`{"channel_id":{}}`, `{"channel_name":"` + "\xff" + `"}`, `{"channel_name":"` + "\t" + `"}`,
		`{"authorizer_appid":"wx-app","openid":"o-1","unionid":"u-1"}`, `{"openid":null}`, `{"other":1}`,
		`{}`, `[]`, `null`, `{`, `}`, ``, `"str"`, `123`,
		// Arrays of objects, as Nuoyun's pushes and older API send them.
		`[{"channel_id":3128527,"channel_name":"袁","store_id":""}]`, `[{"authorizer_appid":"wx-app","openid":"o-1","unionid":"u-1"}]`,
		` [ {"openid":"o-1"} , {"openid":"o-2"} ] `, `[{},{"openid":"o-2"}]`, `[null]`, `[{"channel_id":"77"},5]`,
		`[{"channel_id":1.5}]`, `[{"channel_name":"a\"b"}]`, `[5]`, `["x"]`, `[[]]`, `[[{}]]`, `[ ]`, `[{}`, `[{}]x`, `[{},]`,
		`"2025-09-16 15:06:06"`, `"2024-02-29 23:59:59"`, `"2023-02-29 00:00:00"`, `"2025-13-01 00:00:00"`,
		`"2025-00-10 00:00:00"`, `"2025-01-00 00:00:00"`, `"2025-01-01 24:00:00"`, `"2025-01-01 00:60:00"`,
		`"2025-01-01 00:00:60"`, `"0000-01-01 00:00:00"`, `"2025-01-01 00:00:00.5"`, `"2025-1-01 00:00:00"`,
		`"2025-01-01T00:00:00"`, `"+025-01-01 00:00:00"`, `"2025-04-31 12:00:00"`, `"0000-00-00 00:00:00"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var c ChannelInfo
		err := c.UnmarshalJSON(b)
		want, wantErr := referenceChannelInfo(b)
		if (err == nil) != (wantErr == nil) || (err == nil && c != want) {
			t.Errorf("ChannelInfo %q: got %+v, %v; encoding/json: %+v, %v", b, c, err, want, wantErr)
		}
		// The decoder of replies (scanOptional) as well.
		var c2 ChannelInfo
		err = unmarshalJSON(b, &c2)
		if (err == nil) != (wantErr == nil) || (err == nil && c2 != want) {
			t.Errorf("ChannelInfo %q: reply decoder %+v, %v; encoding/json: %+v, %v", b, c2, err, want, wantErr)
		}

		var i ThirdWeChatInfo
		err = i.UnmarshalJSON(b)
		wantI, wantErr := referenceThirdWeChatInfo(b)
		if (err == nil) != (wantErr == nil) || (err == nil && i != wantI) {
			t.Errorf("ThirdWeChatInfo %q: got %+v, %v; encoding/json: %+v, %v", b, i, err, wantI, wantErr)
		}
		var i2 ThirdWeChatInfo
		err = unmarshalJSON(b, &i2)
		if (err == nil) != (wantErr == nil) || (err == nil && i2 != wantI) {
			t.Errorf("ThirdWeChatInfo %q: reply decoder %+v, %v; encoding/json: %+v, %v", b, i2, err, wantI, wantErr)
		}

		// The time fast path sees the contents of the string.
		s := b
		if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
			s = s[1 : len(s)-1]
		}
		if got, ok := parseChinaTime(s); ok {
			want, err := time.ParseInLocation(ChinaTimeLayout, string(s), chinaStandardTime)
			if err != nil || got != want {
				t.Errorf("ChinaTime %q: fast path %v; time.ParseInLocation %v, %v", s, got, want, err)
			}
		}
	})
}
