package livestat

// Helpers of this package's tests that the external tests (package
// livestat_test, on livestattest) share: exported here, in a _test file,
// so that they exist only while testing.
var (
	FixedClock = fixedClock
	Placed     = placed
)

const (
	TestAppKey        = testAppKey
	TestSecret        = testSecret
	Sign1700000000123 = sign1700000000123
	Sign1700000001123 = sign1700000001123
)
