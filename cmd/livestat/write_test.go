package main

import (
	"context"
	"io"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
)

// A write error is reported as such, without claiming rows that never
// arrived.
func TestWriteErrorClaimsNoRows(t *testing.T) {
	srv := seeded(t, 2)
	c := newCLI(t, srv)
	var stderr strings.Builder
	code := run(context.Background(), []string{"wecom-watch", "--living-id", "L"}, stdio{
		stdout: fullDevice{}, stderr: &stderr, getenv: c.getenv,
	})
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr.String(), "no space left on device")
	assert.NotContains(t, stderr.String(), "rows were written", "nothing was written")
	assert.Equal(t, 1, strings.Count(stderr.String(), "\n"), stderr.String())
}

// fullDevice fails every write like /dev/full.
type fullDevice struct{}

func (fullDevice) Write([]byte) (int, error) { return 0, syscall.ENOSPC }

var _ io.Writer = fullDevice{}
