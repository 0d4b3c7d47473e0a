package attendance_test

import (
	"encoding/csv"
	"errors"
	"strings"
	"testing"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/attendance"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadRosterCSV(t *testing.T) {
	for name, in := range map[string]string{
		"plain":             "userid,name,class,kind\ns1,张三,1001\np1,家长甲,,parent\n",
		"BOM and CRLF":      "\uFEFFuserid,name,class,kind\r\ns1,张三,1001\r\np1,家长甲,,parent\r\n",
		"columns reordered": "Class , KIND,UserID,name,extra\n1001,,s1,张三,x\n,parent,p1,家长甲,y\n",
	} {
		t.Run(name, func(t *testing.T) {
			got, err := attendance.ReadRosterCSV(strings.NewReader(in))
			require.NoError(t, err)
			assert.Equal(t, attendance.RosterList{
				{UserID: "s1", Name: "张三", Class: "1001", Kind: livestat.KindStudent},
				{UserID: "p1", Name: "家长甲", Kind: livestat.KindParent},
			}, got)
		})
	}
	t.Run("short lines and no optional columns", func(t *testing.T) {
		got, err := attendance.ReadRosterCSV(strings.NewReader("userid\ns1\ns2\n"))
		require.NoError(t, err)
		assert.Equal(t, attendance.RosterList{{UserID: "s1", Kind: livestat.KindStudent}, {UserID: "s2", Kind: livestat.KindStudent}}, got)
	})
	t.Run("the same userid as a student and as a parent", func(t *testing.T) {
		got, err := attendance.ReadRosterCSV(strings.NewReader("userid,kind\nx,student\nx,parent\n"))
		require.NoError(t, err)
		assert.Len(t, got, 2)
	})
}

// Each error names its line and what is wrong.
func TestReadRosterCSVErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		line     int
		reason   string
	}{
		{"empty", "", 1, "empty: want a header row"},
		{"only a BOM", "\uFEFF", 1, "empty"},
		{"no userid column", "id,name,class\ns1,a,b\n", 1, `no userid column`},
		{"header twice", "userid,name,userid\n", 1, `names "userid" twice`},
		{"empty userid", "userid,name,class\ns1,a,1\n ,b,2\n", 3, "the userid is empty"},
		{"repeated userid", "userid,name\ns1,a\ns2,b\n\ns1,c\n", 5, `userid "s1" repeats line 2`},
		{"bad kind", "userid,kind\ns1,teacher\n", 2, `kind "teacher": want student or parent`},
		{"not UTF-8", "userid,name\ns1,\xd5\xc5\xc8\xfd\n", 2, "not UTF-8"}, // 张三 in GBK
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := attendance.ReadRosterCSV(strings.NewReader(tc.in))
			var re *attendance.RosterError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tc.line, re.Line)
			assert.Contains(t, re.Reason, tc.reason)
			assert.Contains(t, err.Error(), "attendance: roster line ")
		})
	}
	// Malformed CSV: encoding/csv's error, with its line.
	_, err := attendance.ReadRosterCSV(strings.NewReader("userid,name\ns1,a\ns2,\"b\n"))
	var pe *csv.ParseError
	require.True(t, errors.As(err, &pe), "%v", err)
	assert.Equal(t, 3, pe.StartLine)
}
