#!/usr/bin/env bash
# Builds etcd's upstream load tool `benchmark` (tools/benchmark) offline from
# what Debian ships, in GOPATH mode (GO111MODULE=off):
#   - the tool's source from Debian's source package `etcd` (fetched with
#     apt-get source through a private deb-src list: the system's apt
#     configuration is not touched), unless the sources already hold it;
#   - every dependency from /usr/share/gocode (golang-etcd-server-dev and the
#     golang-*-dev packages it pulls in); the compiler from golang-go.
#
#   build-etcd-benchmark.sh OUT_DIR
#
# On success OUT_DIR/benchmark exists and the script exits 0. On failure it
# writes the reason to OUT_DIR/benchmark.unavailable and exits 1; the caller
# records that and goes on without the tool.
set -uo pipefail

out=${1:?usage: build-etcd-benchmark.sh OUT_DIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
bin="$out/benchmark"
why="$out/benchmark.unavailable"
rm -f "$why"

fail() {
  echo "build-etcd-benchmark: $*" >&2
  echo "$*" > "$why"
  exit 1
}

[ -x "$bin" ] && exit 0

gocode=/usr/share/gocode/src
if [ ! -d "$gocode/go.etcd.io/etcd/clientv3" ]; then
  fail "no etcd Go sources in $gocode (install golang-etcd-server-dev)"
fi
if ! command -v go > /dev/null; then
  if [ "$(id -u)" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends golang-go \
      > "$out/apt-golang.log" 2>&1 || true
  fi
  command -v go > /dev/null || fail "no Go compiler (apt-get install golang-go)"
fi

gopath="$out/gopath"
dst="$gopath/src/go.etcd.io/etcd/tools/benchmark"
if [ ! -f "$dst/main.go" ]; then
  src=""
  # 1. Some Debian releases ship the tool's source in the -dev package.
  if [ -f "$gocode/go.etcd.io/etcd/tools/benchmark/main.go" ]; then
    src="$gocode/go.etcd.io/etcd/tools/benchmark"
  else
    # 2. Debian's source package, through a private deb-src list.
    work="$out/etcd-source"
    rm -rf "$work"
    mkdir -p "$work/lists/partial" "$work/dl"
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
    echo "deb-src http://deb.debian.org/debian $codename main" > "$work/src.list"
    apt_opts=(-o "Dir::Etc::SourceList=$work/src.list" -o "Dir::Etc::SourceParts=/nonexistent"
              -o "Dir::State::Lists=$work/lists" -o "Debug::NoLocking=1")
    if ! apt-get "${apt_opts[@]}" update > "$work/apt-update.log" 2>&1; then
      fail "apt-get update of a deb-src list failed (offline?); see $work/apt-update.log"
    fi
    if ! (cd "$work/dl" && apt-get "${apt_opts[@]}" source --download-only etcd \
            > "$work/apt-source.log" 2>&1); then
      fail "apt-get source etcd failed; see $work/apt-source.log"
    fi
    dsc=$(ls "$work"/dl/etcd_*.dsc 2>/dev/null | head -n 1)
    [ -n "$dsc" ] || fail "apt-get source etcd fetched no .dsc"
    if ! dpkg-source -x --skip-patches "$dsc" "$work/etcd" > "$work/dpkg-source.log" 2>&1; then
      fail "dpkg-source -x failed (dpkg-dev missing?); see $work/dpkg-source.log"
    fi
    src="$work/etcd/tools/benchmark"
    [ -f "$src/main.go" ] || fail "Debian's etcd source has no tools/benchmark"
  fi
  mkdir -p "$(dirname "$dst")"
  cp -r "$src" "$dst"
fi

# GOPATH mode: go.etcd.io/etcd/tools/benchmark from our GOPATH, everything it
# imports (go.etcd.io/etcd/clientv3, cobra, pb, x/time/rate) from Debian's.
if ! (cd "$dst" && GO111MODULE=off GOPATH="$gopath:/usr/share/gocode" GOCACHE="$out/gocache" \
        GOFLAGS= go build -o "$bin" . > "$out/go-build.log" 2>&1); then
  fail "go build of tools/benchmark failed in GOPATH mode; see $out/go-build.log"
fi
echo "build-etcd-benchmark: built $bin" >&2
