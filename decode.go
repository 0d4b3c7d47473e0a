package livestat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"unicode"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// Replies are decoded with encoding/json/v2 semantics: the
// github.com/go-json-experiment/json module, which is the standard
// library's encoding/json/v2 itself in a build with GOEXPERIMENT=jsonv2
// (or a Go release where it is on by default). It reads a reply in one
// pass, where encoding/json scans it once to validate it and again to
// decode it, and lets the lenient types of livestat and the rows decode
// straight from the token stream (UnmarshalJSONFrom). docs/performance.md
// has the measurements behind the choice.
//
// The options keep what encoding/json (v1) accepted and livestat relied
// on, so that the change is invisible in what a reply decodes to:
//
//   - field names match case-insensitively ("ErrCode" is errcode), but
//     "_" and "-" still count ("watchtime" is not watch_time);
//   - a name that appears twice is not an error: the last value wins;
//   - invalid UTF-8 in a string becomes U+FFFD instead of an error;
//   - null leaves a number, string or struct as it was (a paging field
//     marked absent stays absent).
//
// What v2 does not do as v1 did is how it fails: v1 went on after a value
// of the wrong type (and stopped at a method's error), v2 stops at the
// first error of any kind. Keeping v1's way costs about half again the
// decoding time on every reply; decodeReply instead decodes a reply that
// failed once more with encoding/json itself, so that a failure is
// reported, and classified, exactly as before (a test holds the two paths
// to the same result on every input of the fuzz corpora).
func unmarshalJSON(data []byte, v any) error {
	return jsonv2.Unmarshal(data, v,
		jsonv2.MatchCaseInsensitiveNames(true),
		jsonv1.MatchCaseSensitiveDelimiter(true),
		jsontext.AllowDuplicateNames(true),
		jsontext.AllowInvalidUTF8(true),
		jsonv1.MergeWithLegacySemantics(true),
	)
}

// decodeReply decodes data into out (nil: the payload is dropped) and
// returns the status of its envelope. When out embeds the envelope, one
// pass decodes both; otherwise env is decoded first, and the payload only
// after a success. A reply that fails to decode is decoded again with
// encoding/json (v1), whose status and error are returned: v1 reads the
// status past a value of the wrong type, and a failure reply may carry a
// payload of another shape than a success (PHP back ends send [] for an
// empty {}), whose status is the better report.
func decodeReply(data []byte, out any, env statusReply) (apiStatus, error) {
	if r, ok := out.(statusReply); ok {
		r.unsetStatus()
		if err := unmarshalJSON(data, out); err != nil {
			r.unsetStatus()
			err = json.Unmarshal(data, out)
			return r.status(), err
		}
		return r.status(), nil
	}
	env.unsetStatus()
	if err := unmarshalJSON(data, env); err != nil {
		env.unsetStatus()
		if err := json.Unmarshal(data, env); err != nil {
			return env.status(), err
		}
	}
	st := env.status()
	if !st.ok || out == nil {
		return st, nil
	}
	if err := unmarshalJSON(data, out); err != nil {
		return st, json.Unmarshal(data, out)
	}
	return st, nil
}

// The rows of the paged endpoints decode through UnmarshalJSONFrom
// methods (beside each type) built on the readers below: a switch on the
// member name instead of reflection and a map lookup per member. Each
// decodes what encoding/json (v1) decodes into the same struct; the
// differential test (decode_diff_test.go) holds them to it, and
// TestRowDecodersKnowEveryField to the struct's fields.

// readObject reads the JSON object at dec's position, calling member with
// the name of each member as encoding/json matches it to a struct field:
// unescaped and folded (see foldName). member decodes the value from dec
// and reports whether it knew the name; the value of a name it did not
// know is skipped. name is valid only until member reads from dec, so
// member must look at it first. null leaves the object as it was, as
// encoding/json does for a struct; a value of another kind is an error.
func readObject(dec *jsontext.Decoder, member func(dec *jsontext.Decoder, name []byte) (bool, error)) error {
	switch k := dec.PeekKind(); k {
	case 'n':
		_, err := dec.ReadToken()
		return err
	case '{':
	default:
		return wrongKind(dec, "an object")
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	for dec.PeekKind() != '}' {
		raw, err := dec.ReadValue()
		if err != nil {
			return err
		}
		// Names are matched as they are first, and folded only when that
		// fails: most replies use the fields' own names.
		known, err := member(dec, raw[1:len(raw)-1])
		if !known && err == nil {
			if folded, ok := foldName(raw); ok {
				known, err = member(dec, folded)
			}
		}
		if err != nil {
			return err
		}
		if !known {
			if err := dec.SkipValue(); err != nil {
				return err
			}
		}
	}
	_, err := dec.ReadToken()
	return err
}

// wrongKind reports the value at dec's position as not being what. It
// reads nothing, unless the value is not valid JSON, whose syntax error it
// returns: decoding stops at the error.
func wrongKind(dec *jsontext.Decoder, what string) error {
	k := dec.PeekKind()
	if k == 0 { // an error, which the next read returns
		_, err := dec.ReadValue()
		return err
	}
	return fmt.Errorf("want %s, got %s", what, kindName(k))
}

// kindName names a kind of JSON value as the errors do.
func kindName(k jsontext.Kind) string {
	switch k {
	case 'n':
		return "null"
	case 'f', 't':
		return "a boolean"
	case '"':
		return "a string"
	case '0':
		return "a number"
	case '{':
		return "an object"
	case '[':
		return "an array"
	}
	return "something else"
}

// foldName returns the member name raw (a JSON string with its quotes) as
// encoding/json compares it with the names of struct fields: unescaped,
// and folded so that it equals a field's name exactly when
// bytes.EqualFold would. livestat's field names are lower-case ASCII, so
// the name is folded to lower case: an ASCII letter by its case, any other
// character by its case-folding orbit (unicode.SimpleFold), whose smallest
// member stands for it as in encoding/json: the Kelvin sign K folds to
// "k" and the long s ſ to "s", and a character whose orbit holds no ASCII
// letter can match no field. Invalid UTF-8 is left as it is, and matches
// nothing. It reports false when the folded name is the name itself.
func foldName(raw []byte) ([]byte, bool) {
	name := raw[1 : len(raw)-1]
	plain := true
	for _, c := range name {
		if c == '\\' || c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
			plain = false
			break
		}
	}
	if plain {
		return nil, false
	}
	if bytes.IndexByte(name, '\\') >= 0 {
		// The decoder has checked the escapes; invalid UTF-8 becomes
		// U+FFFD, as encoding/json has it.
		name, _ = jsontext.AppendUnquote(nil, raw)
	}
	out := make([]byte, 0, len(name))
	for i := 0; i < len(name); {
		c := name[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(name[i:])
		if f := smallestFold(r); f < utf8.RuneSelf && n > 1 {
			out = append(out, byte(unicode.ToLower(f)))
		} else {
			out = append(out, name[i:i+n]...)
		}
		i += n
	}
	return out, true
}

// smallestFold returns the smallest rune of r's case-folding orbit.
func smallestFold(r rune) rune {
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		least = min(least, f)
	}
	return least
}

// wrongValue reports value, a JSON value, as not being what.
func wrongValue(what string, value []byte) error {
	return fmt.Errorf("want %s, got %s", what, kindName(jsontext.Value(value).Kind()))
}

// readRaw reads the value at dec's position and hands its JSON text to
// decode, the UnmarshalJSON method of a lenient type, which parses it
// without copying it.
func readRaw(dec *jsontext.Decoder, decode func([]byte) error) error {
	raw, err := dec.ReadValue()
	if err != nil {
		return err
	}
	return decode(raw)
}

// rowStrings gathers the strings of one row as they are decoded, so that
// they take one allocation together instead of one each: a row of a
// paged reply is mostly strings, and their allocations were most of what
// decoding one cost. The strings of a row share that memory, so keeping
// one of them keeps the others (a few dozen bytes) alive too.
//
// A row's decodeRow reads its string fields with add; whoever owns the
// rowStrings (readRows, for a whole list of rows, or unmarshalFrom) calls
// commit when the row is done: only then do the fields hold their values.
// The zero value is ready for use.
type rowStrings struct {
	buf   []byte // the contents of the strings read, one after another
	spans [8]stringSpan
	n     int // spans in use
}

// stringSpan is a string read and not yet committed: buf[start:end] is to
// be stored in *dst.
type stringSpan struct {
	dst        *string
	start, end int
}

// add decodes value, a JSON string or null, for *dst, as setString does.
func (s *rowStrings) add(value []byte, dst *string) error {
	switch value[0] {
	case '"':
	case 'n':
		return nil
	default:
		return wrongValue("a string", value)
	}
	if s.n == len(s.spans) {
		s.commit()
	}
	start := len(s.buf)
	s.buf = appendUnquoted(s.buf, value)
	s.spans[s.n] = stringSpan{dst, start, len(s.buf)}
	s.n++
	return nil
}

// commit stores the strings read since the last commit in their fields,
// in the order they were read (the last of a repeated name wins).
func (s *rowStrings) commit() {
	if s.n == 0 {
		return
	}
	all := string(s.buf)
	for _, sp := range s.spans[:s.n] {
		*sp.dst = all[sp.start:sp.end]
	}
	s.n, s.buf = 0, s.buf[:0]
}

// drop forgets the strings read and not yet committed for dsts: the
// fields of an object that is decoded again and starts over.
func (s *rowStrings) drop(dsts ...*string) {
	kept := s.spans[:0]
	for _, sp := range s.spans[:s.n] {
		if !slices.Contains(dsts, sp.dst) {
			kept = append(kept, sp)
		}
	}
	s.n = len(kept)
}

// rowDecoder is a row type (or a part of one) that decodes itself from
// its JSON text, its strings through strs.
type rowDecoder interface {
	decodeRow(value []byte, strs *rowStrings) error
}

// unmarshalFrom is the UnmarshalJSONFrom method of a rowDecoder.
func unmarshalFrom(dec *jsontext.Decoder, v rowDecoder) error {
	value, err := dec.ReadValue()
	if err != nil {
		return err
	}
	var strs rowStrings
	err = v.decodeRow(value, &strs)
	strs.commit()
	return err
}

// readRows decodes a JSON array of rows into *dst as encoding/json does:
// [] is a new empty slice and null a nil one; a null element is a zero row;
// and the elements are decoded into those *dst already holds, up to its
// capacity (a list repeated in a reply merges into the first, as with
// encoding/json). One rowStrings serves the whole list.
//
// The decoder reads each row whole (ReadValue), which checks its syntax;
// the row's decodeRow then takes it apart with scanObject. Reading a row
// member by member through the decoder cost about half again as much.
func readRows[T any, P interface {
	*T
	rowDecoder
}](dec *jsontext.Decoder, dst *[]T) error {
	switch k := dec.PeekKind(); k {
	case '[':
	case 'n':
		_, err := dec.ReadToken()
		*dst = nil
		return err
	default:
		return wrongKind(dec, "an array")
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	rows := (*dst)[:0]
	var strs rowStrings
	for dec.PeekKind() != ']' {
		value, err := dec.ReadValue()
		if err != nil {
			return err
		}
		if cap(rows) == 0 {
			rows = make([]T, 0, rowsRoom(len(value), len(dec.UnreadBuffer())))
		}
		rows = extend(rows)
		if err := P(&rows[len(rows)-1]).decodeRow(value, &strs); err != nil {
			return err
		}
		strs.commit()
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	if len(rows) == 0 {
		rows = []T{} // a new one, as encoding/json makes for []: what *dst held is dropped
	}
	*dst = rows
	return nil
}

// rowsRoom returns the capacity to give a list of rows whose first row
// takes first bytes, with unread bytes of the reply left after it (as far
// as the decoder has them): room for as many more rows of that size, so
// that a list is allocated once rather than grown by doubling (which
// cost a tenth of the time of a drain, copying and collecting). It counts
// what follows the list too, so it overshoots when another list follows;
// it is at least 4 and at most 4096 (more rows grow from there).
func rowsRoom(first, unread int) int {
	return min(max(1+unread/max(first, 1), 4), 4096)
}

// extend returns s one element longer: the next element of its backing
// array, as it is, while there is room, else a new zero element. A first
// allocation has room for 4, as with encoding/json.
func extend[T any](s []T) []T {
	switch {
	case len(s) < cap(s):
		return s[:len(s)+1]
	case cap(s) == 0:
		return make([]T, 1, 4)
	}
	var zero T
	return append(s, zero)
}

// The functions below take apart a JSON value the decoder has read whole
// (ReadValue), and so checked: they rely on its syntax being valid, and
// check only its kinds and values.

// scanObject calls member with the name (see readObject) and the value of
// each member of obj; member reports whether it knew the name. null
// leaves the object as it was, as encoding/json does for a struct; a value
// of another kind is an error.
func scanObject(obj []byte, member func(name, value []byte) (bool, error)) error {
	switch obj[0] {
	case 'n':
		return nil
	case '{':
	default:
		return wrongValue("an object", obj)
	}
	for i := skipSpace(obj, 1); obj[i] != '}'; {
		end := stringEnd(obj, i)
		rawName := obj[i:end]
		i = skipSpace(obj, skipSpace(obj, end)+1) // past the colon
		vend := valueEnd(obj, i)
		value := obj[i:vend]
		known, err := member(rawName[1:len(rawName)-1], value)
		if !known && err == nil {
			if folded, ok := foldName(rawName); ok {
				_, err = member(folded, value)
			}
		}
		if err != nil {
			return err
		}
		if i = skipSpace(obj, vend); obj[i] == ',' {
			i = skipSpace(obj, i+1)
		}
	}
	return nil
}

// scanArray calls elem with each element of arr, a JSON array.
func scanArray(arr []byte, elem func(value []byte) error) error {
	for i := skipSpace(arr, 1); arr[i] != ']'; {
		end := valueEnd(arr, i)
		if err := elem(arr[i:end]); err != nil {
			return err
		}
		if i = skipSpace(arr, end); arr[i] == ',' {
			i = skipSpace(arr, i+1)
		}
	}
	return nil
}

// stringEnd returns the index after the JSON string that starts at b[i].
func stringEnd(b []byte, i int) int {
	for j := i + 1; ; {
		q := j + bytes.IndexByte(b[j:], '"')
		escapes := 0 // the backslashes before the quote
		for p := q - 1; b[p] == '\\'; p-- {
			escapes++
		}
		if escapes%2 == 0 {
			return q + 1
		}
		j = q + 1
	}
}

// valueEnd returns the index after the JSON value that starts at b[i].
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; ; j++ {
			switch b[j] {
			case '"':
				j = stringEnd(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
	}
	j := i
	for j < len(b) {
		switch b[j] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return j
		}
		j++
	}
	return j
}

// appendUnquoted appends the contents of value, a JSON string, to dst:
// its text itself when that is its value (no escapes, valid UTF-8), else
// its unescaped value, invalid UTF-8 becoming U+FFFD as with
// encoding/json.
func appendUnquoted(dst, value []byte) []byte {
	if v := value[1 : len(value)-1]; bytes.IndexByte(v, '\\') < 0 && utf8.Valid(v) {
		return append(dst, v...)
	}
	dst, _ = jsontext.AppendUnquote(dst, value) // only invalid UTF-8 fails, replaced
	return dst
}

// setString decodes value, a JSON string, into *dst; null leaves it as it
// was.
func setString[T ~string](value []byte, dst *T) error {
	switch value[0] {
	case '"':
		*dst = T(appendUnquoted(nil, value))
		return nil
	case 'n':
		return nil
	}
	return wrongValue("a string", value)
}

// setInt decodes value, a JSON integer, into *dst as encoding/json does: a
// fraction, an exponent or a value that does not fit is an error, null
// leaves *dst as it was.
func setInt[T ~int | ~int64](value []byte, dst *T) error {
	if value[0] == 'n' {
		return nil
	}
	v, ok := parseInt(value)
	if !ok || int64(T(v)) != v {
		return wrongValue("an integer", value)
	}
	*dst = T(v)
	return nil
}

// setInts decodes value, a JSON array of integers, into *dst as
// encoding/json does: [] is a new empty slice, null a nil one, and the
// elements are decoded into those *dst already holds, up to its capacity
// (a null element leaves one as it was, a new one 0).
func setInts[T ~int64](value []byte, dst *[]T) error {
	switch value[0] {
	case '[':
	case 'n':
		*dst = nil
		return nil
	default:
		return wrongValue("an array of integers", value)
	}
	ids := (*dst)[:0]
	err := scanArray(value, func(elem []byte) error {
		ids = extend(ids)
		return setInt(elem, &ids[len(ids)-1])
	})
	if len(ids) == 0 {
		ids = []T{} // a new one, as encoding/json makes for []: what *dst held is dropped
	}
	*dst = ids
	return err
}
