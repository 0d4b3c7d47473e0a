package livestat

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks once, after every test of the package (both the
// livestat and livestat_test files), that no goroutine outlives them: an
// iterator, a retry or a token refresh that leaked one fails the run.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
