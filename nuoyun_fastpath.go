package livestat

import (
	"time"
	"unicode/utf8"
)

// Fast paths for the custom decoders of nuoyun_types.go. A Nuoyun row has
// two small objects and two times, and decoding them through json.Unmarshal
// and time.ParseInLocation took a fifth of the time of a page: a nested
// json.Unmarshal validates and decodes its bytes again, by reflection.
//
// Each fast path takes only the common shape of its value and reports false
// for anything else, so that the general decoder handles (and reports
// errors on) everything unusual. They decode exactly what the general
// decoders do; a fuzz test checks it.

// parseChinaTime parses b, "2006-01-02 15:04:05" without the quotes, in
// China Standard Time, as time.ParseInLocation does. It reports false for
// anything but a valid time in exactly that layout.
func parseChinaTime(b []byte) (time.Time, bool) {
	if len(b) != len(ChinaTimeLayout) || b[4] != '-' || b[7] != '-' || b[10] != ' ' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	var f [6]int // year, month, day, hour, minute, second
	for i, span := range [6][2]int{{0, 4}, {5, 7}, {8, 10}, {11, 13}, {14, 16}, {17, 19}} {
		for _, c := range b[span[0]:span[1]] {
			if c < '0' || c > '9' {
				return time.Time{}, false
			}
			f[i] = f[i]*10 + int(c-'0')
		}
	}
	if f[1] < 1 || f[1] > 12 || f[2] < 1 || f[3] > 23 || f[4] > 59 || f[5] > 59 {
		return time.Time{}, false
	}
	t := time.Date(f[0], time.Month(f[1]), f[2], f[3], f[4], f[5], 0, chinaStandardTime)
	if t.Day() != f[2] { // past the end of the month: normalised into the next
		return time.Time{}, false
	}
	return t, true
}

// decodeFlatObject calls member for each member of b, a JSON object whose
// values are all plain strings (see plainString), JSON integers or null, in
// order; the value passed keeps its quotes. It reports false as soon as b
// is anything else (nested values, escapes, other numbers, invalid JSON) or
// member returns false, having maybe called member for some members first.
func decodeFlatObject(b []byte, member func(key, value []byte) bool) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return skipSpace(b, i+1) == len(b)
	}
	for {
		key, next, ok := plainString(b, i)
		if !ok {
			return false
		}
		i = skipSpace(b, next)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipSpace(b, i+1)
		var val []byte
		if i < len(b) && b[i] == '"' {
			if _, next, ok = plainString(b, i); !ok {
				return false
			}
		} else if next = scalarEnd(b, i); next < 0 {
			return false
		}
		val, i = b[i:next], skipSpace(b, next)
		if !member(key, val) || i >= len(b) {
			return false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return skipSpace(b, i+1) == len(b)
		default:
			return false
		}
	}
}

// plainString reads the JSON string at b[i]: it returns its contents and
// the index after its closing quote. It reports false unless the string is
// plain: valid UTF-8 without escapes or control characters, so that its
// contents are its value.
func plainString(b []byte, i int) (s []byte, next int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			s = b[i+1 : j]
			return s, j + 1, utf8.Valid(s)
		case c == '\\' || c < 0x20:
			return nil, 0, false
		}
	}
	return nil, 0, false
}

// scalarEnd returns the index after the JSON integer (-?(0|[1-9][0-9]*)) or
// null at b[i], or -1 when there is neither.
func scalarEnd(b []byte, i int) int {
	if len(b)-i >= 4 && string(b[i:i+4]) == "null" {
		return i + 4
	}
	j := i
	if j < len(b) && b[j] == '-' {
		j++
	}
	start := j
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	if j == start || (b[start] == '0' && j-start > 1) {
		return -1
	}
	return j
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// setPlainString stores a value of decodeFlatObject into a string field as
// encoding/json does: a string is stored, null leaves the field alone.
// Anything else is left to encoding/json (false).
func setPlainString(dst *string, val []byte) bool {
	switch {
	case string(val) == "null":
		return true
	case len(val) >= 2 && val[0] == '"':
		*dst = string(val[1 : len(val)-1])
		return true
	}
	return false
}
