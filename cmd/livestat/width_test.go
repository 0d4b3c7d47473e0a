package main

import (
	"strings"
	"testing"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/livestattest"
	"github.com/rivo/uniseg"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Table columns line up on a terminal whatever the names are made of:
// Chinese (two columns a character), emoji (a ZWJ family or a flag is one
// two-column grapheme), combining accents, full-width letters.
func TestTableAlignsCJKAndEmoji(t *testing.T) {
	names := []string{"王芳", "👨‍👩‍👧 family", "🇨🇳 flag", "Zoe\u0301", "ｆｕｌｌ", "plain", "李小龙李小龙李小龙李小龙"}
	var viewers []livestat.LivingViewer
	for i, n := range names {
		viewers = append(viewers, livestat.LivingViewer{Kind: livestat.KindExternalUser, ExternalUserID: "wm" + string(rune('A'+i)), Name: n, Type: livestat.ExternalUserWeChat, WatchTime: 45})
	}
	srv := newServer(t, livestattest.Options{Living: map[string][]livestat.LivingViewer{"L": viewers}})
	c := newCLI(t, srv)
	r := c.run("wecom-watch", "--living-id", "L", "--format", "table")
	require.Equal(t, 0, r.code, r.stderr)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	require.Len(t, lines, len(names)+2, r.stdout)
	// The TYPE column starts at the same screen column on every line.
	col := func(line, s string) int { return uniseg.StringWidth(line[:strings.Index(line, s)]) }
	want := col(lines[0], "TYPE")
	for _, line := range lines[1 : len(lines)-1] {
		assert.Equal(t, want, col(line, "wechat"), "misaligned:\n%s", r.stdout)
	}
	assert.Contains(t, r.stdout, "李小龙", "a long name is cut, not dropped")
	assert.Contains(t, r.stdout, "…")
}
