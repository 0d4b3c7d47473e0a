#!/usr/bin/env bash
# Runs the performance benchmarks (bench_test.go, nuoyun_bench_test.go) and
# the memory test (memory_test.go), and prints livestat / baseline ratios
# with benchstat: the tables of docs/performance.md.
#
#   scripts/bench.sh                 # 6 rounds (samples), about 4 minutes
#   COUNT=10 scripts/bench.sh        # more samples, tighter intervals
#   OUT=bench.txt scripts/bench.sh   # keep the raw results (default: a temp file)
#
# Run it on an idle machine: the client, the loopback server and the GC
# share its cores, and anything else running shows up as noise.
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT=${COUNT:-6}
BENCHTIME=${BENCHTIME:-1s}
OUT=${OUT:-$(mktemp -t livestat-bench.XXXXXX)}
# benchstat comes from the Go module proxy, pinned.
BENCHSTAT=${BENCHSTAT:-"go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da"}

echo "== machine"
go version
grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //' || true
echo "$(nproc 2>/dev/null || echo '?') cores"
echo

# Rounds rather than -count, which runs each sub-benchmark COUNT times in a
# row: a machine whose speed drifts (a shared or virtual one) would then
# favour whichever ran at the better moment. In rounds, livestat and the
# baseline of an endpoint always run a second or two apart.
echo "== running benchmarks ($COUNT rounds, -benchtime $BENCHTIME) into $OUT"
: >"$OUT"
for i in $(seq "$COUNT"); do
  go test -run '^$' -bench '^(BenchmarkDrain|BenchmarkToken|BenchmarkNuoyunConcurrentPages|BenchmarkDecode)$' \
    -count 1 -benchtime "$BENCHTIME" -timeout 30m . >>"$OUT"
  echo "   round $i of $COUNT done"
done
echo

# ratios UNITS [COLUMN-PREFIX] < BENCHSTAT-CSV: prints a Markdown table with a row per
# benchmark and a column per unit: the median of each later column divided
# by the first column's (benchstat's base), "~" where benchstat finds no
# significant difference.
ratios() {
  awk -F, -v keep="$1" -v prefix="${2:-}" '
    BEGIN { n = split(keep, units, " "); for (i = 1; i <= n; i++) wanted[units[i]] = 1 }
    /^,/ && $3 == "CI" { unit = $2; next }
    /^,/ { cols = 0; for (i = 2; i <= NF; i++) if ($i != "") name[++cols] = $i; next }
    unit in wanted && $1 != "" && $1 != "geomean" && $2 != "" {
      row = $1; sub(/-[0-9]+$/, "", row); sub(/^[^\/]*\//, "", row)
      if (!(row in seen)) { seen[row] = 1; rows[++nrows] = row }
      # Columns after the base come in groups of four: value, CI, vs base, P.
      c = 1
      for (i = 4; i <= NF; i += 4) {
        c++
        r = ($2 == 0) ? "-" : sprintf("%.2f×", $i / $2)
        if ($(i + 2) == "~") r = r " ~"
        cell[row, unit, c] = r
        ncols = c
      }
    }
    END {
      printf "| benchmark |"
      for (u = 1; u <= n; u++) for (c = 2; c <= ncols; c++)
        printf " %s%s |", units[u], (ncols > 2 ? " " prefix name[c] : "")
      printf "\n|---|"
      for (u = 1; u <= n; u++) for (c = 2; c <= ncols; c++) printf "---|"
      printf "\n"
      for (r = 1; r <= nrows; r++) {
        printf "| %s |", rows[r]
        for (u = 1; u <= n; u++) for (c = 2; c <= ncols; c++) {
          v = cell[rows[r], units[u], c]; printf " %s |", (v == "" ? "" : v)
        }
        printf "\n"
      }
    }'
}

echo "== B1: drain 200k rows per endpoint, livestat / baseline (lower is better; ~ = no significant difference)"
$BENCHSTAT -format csv -col /impl -filter '.name:Drain' "$OUT" 2>/dev/null | ratios "cpu-sec/row sec/row B/row allocs/row"
echo
$BENCHSTAT -col /impl -filter '.name:Drain .unit:(cpu-sec/row OR sec/row OR B/row OR allocs/row)' "$OUT"
echo

echo "== B2: token"
$BENCHSTAT -filter '.name:Token' "$OUT"
echo

echo "== B3: Nuoyun, 43 pages with 50 ms latency: wall time / the sequential hand-written loop"
$BENCHSTAT -format csv -col /workers -filter '.name:NuoyunConcurrentPages' "$OUT" 2>/dev/null | ratios "sec/op" "workers="
echo
$BENCHSTAT -col /workers -filter '.name:NuoyunConcurrentPages .unit:sec/op' "$OUT"
echo

echo "== B5: decoding one page from memory, livestat / json.Unmarshal into the plain structs"
$BENCHSTAT -format csv -col /impl -filter '.name:Decode' "$OUT" 2>/dev/null | ratios "sec/row B/op allocs/op"
echo

echo "== B4: peak live heap draining school watchers, 1000 rows a page"
go test -count=1 -run '^TestIterationMemoryIsBoundedByPage$' -v . | grep -E 'peak live heap|^(--- )?(PASS|FAIL|ok)' || true
