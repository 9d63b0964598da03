#!/usr/bin/env bash
# Installs every Debian 12 package Aspen needs to build, test and benchmark.
# Idempotent: asks dpkg first, so a second run is quick and needs no network.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config git
  clang clang-14 libclang-rt-14-dev clang-format clang-tidy lld
  # libraries
  librocksdb-dev libzstd-dev liblz4-dev libsnappy-dev libbz2-dev zlib1g-dev
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  libsqlite3-dev libssl-dev libreadline-dev libjemalloc-dev
  libcli11-dev libtomlplusplus-dev nlohmann-json3-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev librapidcheck-dev
  etcd-server etcd-client strace python3
  # etcd v3 reference protos for the conformance test (tests/client); etcd's
  # own Go client (clientv3) and the compiler for tests/goclient
  golang-etcd-server-dev golang-go
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
