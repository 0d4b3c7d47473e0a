#!/usr/bin/env bash
# Tests the redisstore module (its own Go module) against a real
# redis-server, installing one from Debian's packages when it is missing.
# CI machines start with only Go installed.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null 2>&1; then
  echo "== installing redis-server"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq redis-server >/dev/null
fi
redis-server --version

cd redisstore
echo "== redisstore: go vet"
go vet ./...

echo "== redisstore: tests against a real redis-server"
# Fail rather than skip if redis-server is somehow still missing.
REDISSTORE_REQUIRE_REDIS=1 go test -race -count=1 ./...
