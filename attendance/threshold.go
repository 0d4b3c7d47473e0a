package attendance

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/livestat/livestat"
)

// Threshold is the watch time that counts as attended: a duration (30m) or
// a share of the broadcast's living_duration (80%). The zero Threshold, the
// default, counts any watch time as attended.
//
// Exactly: a person whose watch_time is 0 (or who is on the unwatch list)
// is absent. Otherwise they are attended when their watch time reaches the
// threshold and partial when it does not, where
//   - a duration threshold is cut to the broadcast's living_duration when
//     that is shorter (watching all of a 20-minute lesson meets "30m");
//   - a share threshold p is met when watch_time ≥ p × living_duration,
//     compared exactly (p is kept in hundredths of a percent); against a
//     living_duration of 0 (not known yet) any watch time meets it.
//
// Threshold implements encoding.TextMarshaler and TextUnmarshaler with the
// syntax of ParseThreshold, so it works with flag.TextVar.
type Threshold struct {
	min time.Duration // > 0 for a duration threshold
	bp  int64         // > 0 for a share threshold: basis points (10000 = 100%)
}

// MinDuration returns the threshold "watched at least d". d ≤ 0 is the
// default threshold.
func MinDuration(d time.Duration) Threshold { return Threshold{min: max(d, 0)} }

// ParseThreshold reads a threshold: "" or "0" for the default (any watch
// time), a Go duration ("30m", "1h30m", "90s"), a whole number of seconds
// ("300"), or a percentage of the broadcast's duration with at most two
// decimals, above 0 and at most 100 ("80%", "12.5%"); "0%" is an error, as
// any watch time is the default, not a share.
func ParseThreshold(s string) (Threshold, error) {
	s = strings.TrimSpace(s)
	bad := func(why string) (Threshold, error) {
		return Threshold{}, fmt.Errorf("attendance: threshold %q: %s", s, why)
	}
	switch {
	case s == "" || s == "0":
		return Threshold{}, nil
	case strings.HasSuffix(s, "%"):
		p, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(s, "%")), 64)
		if err != nil || math.IsNaN(p) || math.IsInf(p, 0) {
			return bad("want a percentage such as 80%")
		}
		if p == 0 {
			// The default is not a share: "0%" would read as a rule that
			// is not one, so it says where the default is.
			return bad(`a share must be above 0%; for any watch time, give no threshold (or "0")`)
		}
		if p < 0 || p > 100 {
			return bad("a share must be above 0% and at most 100%")
		}
		bp := math.Round(p * 100)
		if math.Abs(bp-p*100) > 1e-6 {
			return bad("at most two decimals, such as 12.25%")
		}
		return Threshold{bp: int64(bp)}, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 || n > math.MaxInt64/int64(time.Second) {
			return bad("seconds out of range")
		}
		return Threshold{min: time.Duration(n) * time.Second}, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return bad("want a duration such as 30m or 300 (seconds), or a share such as 80%")
	}
	if d < 0 {
		return bad("a duration must not be negative")
	}
	return Threshold{min: d}, nil
}

// IsDefault reports whether t is the default threshold: any watch time.
func (t Threshold) IsDefault() bool { return t.min == 0 && t.bp == 0 }

// String returns t as ParseThreshold reads it: "0" for the default, a Go
// duration such as "30m0s", or a share such as "80%".
func (t Threshold) String() string {
	switch {
	case t.bp > 0:
		return strconv.FormatFloat(float64(t.bp)/100, 'f', -1, 64) + "%"
	case t.min > 0:
		return t.min.String()
	}
	return "0"
}

// MarshalText encodes t as String does.
func (t Threshold) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText decodes what ParseThreshold reads.
func (t *Threshold) UnmarshalText(b []byte) error {
	v, err := ParseThreshold(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// Status is the status of someone who watched for watch out of a broadcast
// of living_duration duration: Absent, Partial or Attended (see Threshold).
func (t Threshold) Status(watch, duration livestat.Seconds) Status {
	switch {
	case watch <= 0:
		return Absent
	case t.bp > 0:
		if duration <= 0 || int64(watch)*10000 >= t.bp*int64(duration) {
			return Attended
		}
		return Partial
	case t.min > 0:
		need := t.min
		if duration > 0 {
			need = min(need, duration.Duration())
		}
		if watch.Duration() >= need {
			return Attended
		}
		return Partial
	}
	return Attended
}

// share is watch as a share of duration, 0..1; 0 when duration is unknown.
func share(watch, duration livestat.Seconds) float64 {
	if duration <= 0 || watch <= 0 {
		return 0
	}
	return min(1, float64(watch)/float64(duration))
}
