#!/usr/bin/env bash
# Ranges before and after heavy overwrites on one Aspen node, for A/B runs of
# builds (docs/BENCHMARKS.md "Ranges after writes").
#
#   scripts/bench/range-after-writes.sh OLD_ASPEN NEW_ASPEN [ROUNDS]
#   WITH_ETCD=1 scripts/bench/range-after-writes.sh ...   (etcd third in each round)
#
# Each round, for each server in turn (A B A B ...): a fresh single node;
# prefill 10,000 keys; 100-key ranges (16 clients, 4 connections, 4 s);
# 200,000 puts over the same keys (64 clients, 8 connections); the same
# ranges again. Prints one line per phase: ops/s, server CPU µs per op, load.
# The client is always the first binary's `aspen bench`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

[ $# -ge 2 ] || { echo "usage: $0 OLD_ASPEN NEW_ASPEN [ROUNDS]" >&2; exit 1; }
bins=("$1" "$2")
labels=(old new)
if [ "${WITH_ETCD:-0}" = 1 ]; then bins+=(etcd); labels+=(etcd); fi
rounds=${3:-2}
client=$1
keys=10000
work=$(mktemp -d /tmp/range-after.XXXXXX)
trap 'stop_all; rm -rf "$work"' EXIT

# phase NAME PID ARGS...: one bench run; prints ops/s and server CPU µs/op.
phase() {
  local name=$1 pid=$2
  shift 2
  local t0 t1 out ops n
  t0=$(cpu_ticks "$pid")
  out=$("$client" bench --endpoints "$EPS" --keys "$keys" -o json "$@")
  t1=$(cpu_ticks "$pid")
  ops=$(python3 -c 'import json,sys; print(round(json.loads(sys.argv[1])["ops_per_s"]))' "$out")
  n=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["ops"])' "$out")
  local us=$(((t1 - t0) * 10000 * 1000 / $(getconf CLK_TCK) / (n > 0 ? n : 1)))
  printf '%-6s %-13s %8s ops/s  %6s.%01d us CPU/op  load %s\n' "$LABEL" "$name" "$ops" \
    $((us / 10)) $((us % 10)) "$(load1)"
}

for ((r = 1; r <= rounds; r++)); do
  for i in "${!bins[@]}"; do
    LABEL=${labels[$i]}
    if [ "$LABEL" = etcd ]; then
      start_cluster etcd 1 "$work/$LABEL-$r"
    else
      ASPEN=${bins[$i]}
      start_cluster aspen 1 "$work/$LABEL-$r"
    fi
    EPS=$CLUSTER_ENDPOINTS
    pid=${CLUSTER_PIDS[0]}
    "$client" bench --endpoints "$EPS" --workload get --keys "$keys" --prefill --clients 16 \
      --conns 4 --total 1 -o json > /dev/null
    phase range-fresh "$pid" --workload range --clients 16 --conns 4 --duration 4
    phase put-c64 "$pid" --workload put --clients 64 --conns 8 --total 200000
    phase range-after "$pid" --workload range --clients 16 --conns 4 --duration 4
    stop_all
  done
done
