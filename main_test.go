package livestat

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks once, after every test of the package (both the
// livestat and livestat_test files), that no goroutine outlives them: an
// iterator, a retry or a token refresh that leaked one fails the run.
//
// Started as the server process of a drain benchmark (newBenchProcess),
// the test binary serves instead.
func TestMain(m *testing.M) {
	if spec := os.Getenv(benchServeEnv); spec != "" {
		os.Exit(serveBenchProcess(spec))
	}
	goleak.VerifyTestMain(m)
}
