#!/usr/bin/env bash
# Checks that redisstore resolves and builds the way a user's `go get` will
# fetch it once the tree is tagged (docs/releasing.md): from a module proxy,
# with no go.work and no replace (the go command ignores a dependency's
# replace directives, so one in redisstore/go.mod cannot help a user).
#
#   scripts/check-modules.sh
#   REDISSTORE_VERSION=v0.1.1 scripts/check-modules.sh   # if redisstore is tagged on its own
#
# It writes a file:// module proxy from the working tree, the root module at
# v<Version> (the constant in client.go) and redisstore at the same version
# unless told otherwise, then, in a temporary module outside the tree,
# `go get`s redisstore and builds and vets a program that uses it.
# Third-party modules come from the local module cache, else from the
# machine's GOPROXY. Needs only Go and that proxy.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

die() { echo "check-modules: FAIL: $*" >&2; exit 1; }

version=v$(sed -n 's/^const Version = "\(.*\)"$/\1/p' client.go)
[ "$version" != v ] || die "no 'const Version = \"…\"' in client.go"
redisstore_version=${REDISSTORE_VERSION:-$version}

# Read before this script changes the environment.
upstream=$(go env GOPROXY)
modcache=$(go env GOMODCACHE)

work=$(mktemp -d -t livestat-modules.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "== module proxy from the working tree"
# The tool is a module of its own, outside go.work, so that golang.org/x/mod
# stays out of livestat's requirements.
(cd scripts/modproxy && GOWORK=off go vet ./... &&
  GOWORK=off go run . "$work/proxy" "$root@$version" "$root/redisstore@$redisstore_version") ||
  die "could not write the module proxy"

mkdir "$work/consumer"
cat >"$work/consumer/main.go" <<'EOF'
// A program as a user writes it: livestat with its token in Redis.
package main

import (
	"fmt"
	"os"

	"github.com/livestat/livestat"
	"github.com/livestat/livestat/redisstore"
	"github.com/redis/go-redis/v9"
)

func main() {
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{"127.0.0.1:6379"}})
	defer rdb.Close()
	c, err := livestat.NewClient(
		livestat.WithWeComApp("corp", os.Getenv("WECOM_APP_SECRET")),
		livestat.WithTokenStore(redisstore.New(rdb, redisstore.Options{})),
		livestat.WithNuoyunLimiter(redisstore.NewLimiter(rdb, redisstore.LimiterOptions{Key: "nuoyun:key"})),
	)
	fmt.Println(c != nil, err)
}
EOF

# A private module cache: the shared one may hold an older zip of the same
# version, which the go command would use without looking at the proxy.
# The shared cache's download directory is itself a proxy layout, so
# third-party modules are still read locally when they are there.
# -trimpath keeps that (new each run) directory out of the build cache's
# keys, so go-redis and the rest compile on a machine's first run only (which
# also compiles the standard library once for -trimpath: about a minute of
# CPU); -modcacherw lets the trap remove it.
export GOWORK=off
export GOFLAGS="-mod=mod -modcacherw -trimpath"
export GOMODCACHE="$work/modcache"
export GOPROXY="file://$work/proxy,file://$modcache/cache/download"
if [ -n "$upstream" ] && [ "$upstream" != off ]; then GOPROXY="$GOPROXY,$upstream"; fi
# No checksum database knows these zips; the consumer's go.sum records them.
export GOSUMDB=off

cd "$work/consumer"
go mod init example.com/consumer 2>/dev/null || die "go mod init failed"
echo "== go get github.com/livestat/livestat/redisstore@$redisstore_version (GOWORK=off, no replace)"
if ! out=$(go get "github.com/livestat/livestat/redisstore@$redisstore_version" 2>&1); then
  echo "$out" >&2
  die "redisstore@$redisstore_version does not resolve from a proxy; does redisstore/go.mod require github.com/livestat/livestat $version (and no replace to rely on)?"
fi

# The proxy's fallbacks must not have supplied livestat: both modules come
# from the tree, at the versions the tags will carry.
got=$(go list -m -f '{{.Path}}@{{.Version}}' github.com/livestat/livestat github.com/livestat/livestat/redisstore | paste -sd ' ' -)
want="github.com/livestat/livestat@$version github.com/livestat/livestat/redisstore@$redisstore_version"
[ "$got" = "$want" ] || die "resolved $got; want $want"

echo "== go build, go vet (a program using redisstore)"
go build -o /dev/null . || die "a program importing redisstore does not build"
go vet . || die "go vet of a program importing redisstore failed"
# A replace in a module's go.mod works in this tree and nowhere else, so
# development would build what users cannot; go.work is the place for it.
for mod in go.mod redisstore/go.mod; do
  if go mod edit -print "$root/$mod" | grep -q '^replace'; then
    die "$mod has a replace directive, which users' builds ignore; put it in go.work"
  fi
done
echo "check-modules: ok: $want"
