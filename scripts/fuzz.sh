#!/usr/bin/env bash
# Runs every fuzz target of the livestat package, one after the other, each
# for the given time (default 30s): ./scripts/fuzz.sh [duration] [target-regexp]
#
# Plain `go test` already runs the seed corpora in testdata/fuzz/. New
# failing inputs are written to testdata/fuzz/<Target>/ by `go test -fuzz`;
# commit them with the fix. -parallel=1 keeps a shared machine usable; set
# FUZZ_PARALLEL to use more cores.
set -euo pipefail
cd "$(dirname "$0")/.."

duration="${1:-30s}"
filter="${2:-.}"
parallel="${FUZZ_PARALLEL:-1}"

targets=$(go test -list '^Fuzz' . | grep '^Fuzz' | grep -E -- "$filter" || true)
if [ -z "$targets" ]; then
	echo "no fuzz target matches $filter" >&2
	exit 1
fi
failed=()
for t in $targets; do
	echo "== $t ($duration)"
	if ! go test -run '^$' -fuzz "^${t}\$" -fuzztime "$duration" -parallel "$parallel" .; then
		failed+=("$t")
	fi
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "failing targets: ${failed[*]} (inputs in testdata/fuzz/<target>/)" >&2
	exit 1
fi
echo "all fuzz targets passed"
