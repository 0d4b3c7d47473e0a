package attendance

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"unicode/utf8"

	"github.com/livestat/livestat"
)

// Member is one person of a roster.
type Member struct {
	// UserID is the student's or parent's userid; required.
	UserID string
	// Name and Class are copied to the person's row. A Class that is a
	// number is also taken as the partyid of a roster-only person, who
	// then counts in that class's summary.
	Name, Class string
	// Kind is livestat.KindStudent (also when empty) or KindParent.
	Kind livestat.ViewerKind
}

// Roster lists the people a school broadcast was for, so that those on
// neither WeCom list are reported as Unknown. A Roster is read once per
// report, possibly by several reports at once: Members must be safe for
// concurrent use.
type Roster interface {
	// Members yields every member once, or ends with an error.
	Members() iter.Seq2[Member, error]
}

// RosterList is a Roster held in memory.
type RosterList []Member

// Members yields the members in order.
func (l RosterList) Members() iter.Seq2[Member, error] {
	return func(yield func(Member, error) bool) {
		for _, m := range l {
			if !yield(m, nil) {
				return
			}
		}
	}
}

// RosterError is a roster line ReadRosterCSV cannot use.
type RosterError struct {
	Line   int // 1-based line of the CSV input
	Reason string
}

// Error implements the error interface.
func (e *RosterError) Error() string {
	return fmt.Sprintf("attendance: roster line %d: %s", e.Line, e.Reason)
}

// ReadRosterCSV reads a roster from CSV: UTF-8, with or without a byte
// order mark, a header row naming the columns, then one member a line.
// Columns are found by their header, in any order and any case: userid
// (required), name, class, and kind (student or parent; empty means
// student); others are ignored. Fields are trimmed of spaces. A userid that
// is empty or repeats an earlier line's (of the same kind), a kind other
// than student or parent, text that is not UTF-8 or a malformed CSV line is
// an error naming its line: a *RosterError, or for malformed CSV the
// encoding/csv *ParseError.
func ReadRosterCSV(r io.Reader) (RosterList, error) {
	br := bufio.NewReader(r)
	if bom, err := br.Peek(3); err == nil && string(bom) == "\uFEFF" {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1 // lines may be short: a missing trailing name or class is empty
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, &RosterError{Line: 1, Reason: "empty: want a header row naming the userid, name and class columns"}
	}
	if err != nil {
		return nil, err
	}
	col := map[string]int{"userid": -1, "name": -1, "class": -1, "kind": -1}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if j, ok := col[h]; ok {
			if j >= 0 {
				return nil, &RosterError{Line: 1, Reason: fmt.Sprintf("the header names %q twice", h)}
			}
			col[h] = i
		}
	}
	if col["userid"] < 0 {
		return nil, &RosterError{Line: 1, Reason: fmt.Sprintf("the header %q has no userid column (want userid,name,class)", strings.Join(header, ","))}
	}
	var out RosterList
	seen := make(map[Member]int) // {UserID, Kind} → line
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		field := func(name string) string {
			if i := col[name]; i >= 0 && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		for _, f := range rec {
			if !utf8.ValidString(f) {
				return nil, &RosterError{Line: line, Reason: "not UTF-8 (save the file as UTF-8)"}
			}
		}
		m := Member{UserID: field("userid"), Name: field("name"), Class: field("class")}
		switch k := strings.ToLower(field("kind")); k {
		case "", string(livestat.KindStudent):
			m.Kind = livestat.KindStudent
		case string(livestat.KindParent):
			m.Kind = livestat.KindParent
		default:
			return nil, &RosterError{Line: line, Reason: fmt.Sprintf("kind %q: want student or parent", truncate(k))}
		}
		if m.UserID == "" {
			return nil, &RosterError{Line: line, Reason: "the userid is empty"}
		}
		key := Member{UserID: m.UserID, Kind: m.Kind}
		if first, dup := seen[key]; dup {
			return nil, &RosterError{Line: line, Reason: fmt.Sprintf("userid %q repeats line %d", truncate(m.UserID), first)}
		}
		seen[key] = line
		out = append(out, m)
	}
}

// truncate shortens s for an error message.
func truncate(s string) string {
	if len(s) <= 64 {
		return s
	}
	cut := 64
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
