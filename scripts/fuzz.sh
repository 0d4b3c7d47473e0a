#!/usr/bin/env bash
# Runs every fuzz target of the livestat package, one after the other, each
# for the given time (default 30s): ./scripts/fuzz.sh [duration] [target-regexp]
#
# Plain `go test` already runs the seed corpora in testdata/fuzz/. New
# failing inputs are written to testdata/fuzz/<Target>/ by `go test -fuzz`;
# commit them with the fix. -parallel=1 keeps a shared machine usable; set
# FUZZ_PARALLEL to use more cores.
#
# Minimising an input counts against the target's time, and Go's default
# (60 s per input, for every input that finds new coverage too) can leave a
# slow target minimising instead of fuzzing for most of it. Each attempt is
# bounded by FUZZ_MINIMIZE_TIME (default 1s); for a smaller reproducer of a
# failure, run that target again with e.g. FUZZ_MINIMIZE_TIME=60s.
#
# It ends with a summary line per target (its elapsed time and executions, as
# go test reports them) and exits non-zero, saying why, if anything fails:
# a target, a target that did not fuzz, or this script itself.
set -euo pipefail
trap 'echo "fuzz.sh: FAILED (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR
cd "$(dirname "$0")/.."

duration="${1:-30s}"
filter="${2:-.}"
parallel="${FUZZ_PARALLEL:-1}"
minimize="${FUZZ_MINIMIZE_TIME:-1s}"

# files counts the corpus files of target $1 (0 when it has no folder yet).
files() {
	local dir="testdata/fuzz/$1"
	if [ -d "$dir" ]; then
		find "$dir" -maxdepth 1 -type f | wc -l
	else
		echo 0
	fi
}

all=$(go test -list '^Fuzz' .)
targets=$(grep '^Fuzz' <<<"$all" | grep -E -- "$filter" || true)
if [ -z "$targets" ]; then
	echo "fuzz.sh: no fuzz target matches $filter" >&2
	exit 1
fi
failed=()
summary=()
for t in $targets; do
	echo "== $t ($duration)"
	before=$(files "$t")
	log=$(mktemp)
	status=ok
	if ! go test -run '^$' -fuzz "^${t}\$" -fuzztime "$duration" -fuzzminimizetime "$minimize" -parallel "$parallel" . 2>&1 | tee "$log"; then
		after=$(files "$t")
		if [ "$after" -eq "$before" ] && grep -q '^    context deadline exceeded$' "$log"; then
			# Go 1.26's fuzz coordinator can report its own -fuzztime
			# deadline as a failure (golang/go#75804, fixed in Go 1.27):
			# no input was written, so nothing failed.
			echo "== $t: ignoring the fuzz coordinator's deadline race (no failing input written)"
		else
			status=FAILED
		fi
	fi
	# The coordinator's last report: "fuzz: elapsed: 30s, execs: 123 (4/sec), ...".
	last=$(grep -E '^fuzz: elapsed: [0-9]+s, execs: [0-9]+' "$log" | tail -n 1 || true)
	if [ -z "$last" ] && [ "$status" = ok ]; then
		status="FAILED (it did not fuzz)"
	fi
	[ "$status" = ok ] || failed+=("$t")
	summary+=("$(printf '%-28s %-26s %s' "$t" "$status" "${last#fuzz: }")")
	rm -f "$log"
done
echo "== summary (asked: $duration per target, minimising at most $minimize per input)"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz.sh: FAILED: ${failed[*]} (failing inputs in testdata/fuzz/<target>/)" >&2
	exit 1
fi
echo "all ${#summary[@]} fuzz targets passed"
