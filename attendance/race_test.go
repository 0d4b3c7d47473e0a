//go:build race

package attendance_test

// raceEnabled is true when the tests run under the race detector, which
// makes decoding several times slower: long tests scale down.
const raceEnabled = true
