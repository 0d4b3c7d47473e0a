package livestat

import (
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
// One v1 behaviour is kept only for the status envelope: v1 went on after
// a value of the wrong type, where v2 stops (keeping it everywhere costs
// about half again the decoding time). decodeReply reads the envelope on
// its own, the v1 way, after such an error, which is what it needed the
// rest of the reply for.
func unmarshalJSON(data []byte, v any) error {
	o := decodeOptions(false)
	return jsonv2.Unmarshal(data, v, o[:]...)
}

// decodeOptions returns the options of unmarshalJSON; legacyErrors makes
// decoding go on after a value of the wrong type, as v1 did, and report
// the first such error at the end.
func decodeOptions(legacyErrors bool) [6]jsonv2.Options {
	return [...]jsonv2.Options{
		jsonv2.MatchCaseInsensitiveNames(true),
		jsonv1.MatchCaseSensitiveDelimiter(true),
		jsontext.AllowDuplicateNames(true),
		jsontext.AllowInvalidUTF8(true),
		jsonv1.MergeWithLegacySemantics(true),
		jsonv1.ReportErrorsWithLegacySemantics(legacyErrors),
	}
}

// decodeReply decodes data into out (nil: the payload is dropped) and
// returns the status of its envelope. When out embeds the envelope, one
// pass decodes both; otherwise env is decoded first, and the payload only
// after a success. When out fails to decode, the status is that of env
// decoded alone: a failure reply may carry a payload of another shape
// than a success (PHP back ends send [] for an empty {}), and its status
// is the better report.
func decodeReply(data []byte, out any, env statusReply) (apiStatus, error) {
	if r, ok := out.(statusReply); ok {
		r.unsetStatus()
		if err := unmarshalJSON(data, out); err != nil {
			st, _ := decodeEnvelope(data, env)
			return st, err
		}
		return r.status(), nil
	}
	st, err := decodeEnvelope(data, env)
	if err != nil || !st.ok || out == nil {
		return st, err
	}
	return st, unmarshalJSON(data, out)
}

// decodeEnvelope decodes the status envelope of data into env, going on
// after a value of the wrong type as encoding/json (v1) did, so that the
// status is read wherever it is in the reply.
func decodeEnvelope(data []byte, env statusReply) (apiStatus, error) {
	env.unsetStatus()
	o := decodeOptions(true)
	err := jsonv2.Unmarshal(data, env, o[:]...)
	return env.status(), err
}
