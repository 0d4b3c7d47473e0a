#!/usr/bin/env bash
# Runs every test of the repository: the livestat module and the redisstore
# module (its own Go module, so `go test ./...` at the root does not reach it).
# The redisstore tests start their own redis-server when it is on PATH and
# skip with a message otherwise; CI installs it and sets
# REDISSTORE_REQUIRE_REDIS=1 so that they cannot skip there.
set -euo pipefail
cd "$(dirname "$0")/.."

go test -race -count=1 ./...
# Every benchmark once, so that none can rot (the timings of one run mean
# nothing; scripts/bench.sh measures), and the memory tests at full size,
# which the race run above scales down.
go test -count=1 -run '^(TestIterationMemoryIsBoundedByPage|TestSchoolReportMemoryGrowsWithPeopleNotPages)$' -bench . -benchtime=1x ./...
# With GOEXPERIMENT=jsonv2, github.com/go-json-experiment/json is the
# standard library's encoding/json/v2 (and encoding/json runs on it): the
# package's tests run that way too. (In that build encoding/json itself calls
# the rows' UnmarshalJSONFrom, so the differential test compares the new
# decoder with itself there; the default build is where it means something.)
GOEXPERIMENT=jsonv2 go test -count=1 .
(cd redisstore && go test -race -count=1 ./...)
