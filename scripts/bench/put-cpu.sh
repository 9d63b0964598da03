#!/usr/bin/env bash
# Where a put's CPU goes at 64 clients on one node, Aspen against etcd
# (docs/BENCHMARKS.md, "Where the issue's targets stand").
#
#   scripts/bench/put-cpu.sh ASPEN_BINARY [ROUNDS] [SECONDS]
#   BENCHMARK=path/to/etcd/benchmark scripts/bench/put-cpu.sh ...   (also etcd's own tool)
#
# Starts one Aspen and one etcd member, prefills 10,000 keys into each, then
# for each round and each server in turn runs `aspen bench --workload put
# --clients 64 --conns 8` for SECONDS (and, with BENCHMARK, etcd's `benchmark
# put --clients 64 --conns 8` for 20,000 puts per second asked). Prints, per
# run: puts/s, the server's and the client's CPU per put (utime+stime), and
# for Aspen the CPU per put of each of its threads (by thread name).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

[ $# -ge 1 ] || { echo "usage: $0 ASPEN_BINARY [ROUNDS] [SECONDS]" >&2; exit 1; }
ASPEN=$1
rounds=${2:-3}
secs=${3:-6}
keys=10000
work=$(mktemp -d /tmp/put-cpu.XXXXXX)
trap 'stop_all; rm -rf "$work"' EXIT

# Per-thread CPU ticks of PID, one "tid ticks name" line per thread.
thread_ticks() {
  local t
  for t in /proc/"$1"/task/*; do
    echo "$(basename "$t") $(awk '{print $14+$15}' "$t/stat") $(tr ' ' _ < "$t/comm")"
  done | sort
}

# run SYSTEM PID TOOL: one run; prints its line (and Aspen's threads).
run() {
  local sys=$1 pid=$2 tool=$3 eps=$4 before after s0 s1 out n rps client
  before=$(thread_ticks "$pid")
  s0=$(cpu_ticks "$pid")
  if [ "$tool" = aspen-bench ]; then
    out=$( { /usr/bin/time -f "CLIENTCPU %U %S" "$ASPEN" bench --endpoints "$eps" --workload put \
      --keys "$keys" --clients 64 --conns 8 --duration "$secs" -o json; } 2>&1)
    # The JSON report, after anything /usr/bin/time wrote: "ops ops_per_s".
    read -r n rps < <(python3 -c 'import json,sys; t=sys.stdin.read()
d=json.loads(t[t.index("{"):t.rindex("}")+1]); print(d["ops"], round(d["ops_per_s"]))' <<< "$out")
  else
    n=$((secs * 20000))
    out=$( { /usr/bin/time -f "CLIENTCPU %U %S" "$BENCHMARK" --endpoints="$eps" --conns=8 \
      --clients=64 --precise put --key-size=8 --val-size=8 --key-space-size="$keys" \
      --total="$n"; } 2>&1)
  fi
  s1=$(cpu_ticks "$pid")
  after=$(thread_ticks "$pid")
  client=$(awk '/^CLIENTCPU/ {print $2 + $3}' <<< "$out")
  [ "$tool" = aspen-bench ] || rps=$(awk '/Requests\/sec:/ {printf "%d", $2}' <<< "$out")
  awk -v sys="$sys" -v tool="$tool" -v n="$n" -v rps="$rps" -v s="$((s1 - s0))" -v c="$client" \
    -v load="$(load1)" 'BEGIN {printf "%-5s %-13s %7d puts/s  server %5.1f us/put  client %5.1f us/put  load %s\n",
      sys, tool, rps, s * 1e4 / n, c * 1e6 / n, load}'
  if [ "$sys" = aspen ]; then
    join <(echo "$before") <(echo "$after") | awk -v n="$n" '
      { d = $4 - $2; if (d > 0) by[$3] += d }
      END { for (k in by) printf "        thread %-18s %5.1f us/put\n", k, by[k] * 1e4 / n }' |
      sort -k3 -rn
  fi
}

start_cluster aspen 1 "$work/aspen"
a_eps=$CLUSTER_ENDPOINTS a_pid=${CLUSTER_PIDS[0]}
start_cluster etcd 1 "$work/etcd"
e_eps=$CLUSTER_ENDPOINTS e_pid=${CLUSTER_PIDS[0]}
for eps in "$a_eps" "$e_eps"; do
  "$ASPEN" bench --endpoints "$eps" --workload get --keys "$keys" --prefill --clients 16 \
    --conns 4 --total 1 -o json > /dev/null
done
tools=(aspen-bench)
[ -n "${BENCHMARK:-}" ] && tools+=(etcd-benchmark)
for ((r = 1; r <= rounds; r++)); do
  for tool in "${tools[@]}"; do
    run aspen "$a_pid" "$tool" "$a_eps"
    run etcd "$e_pid" "$tool" "$e_eps"
  done
done
