#!/usr/bin/env bash
# Aspen against etcd on this machine, side by side (issue 8; docs/BENCHMARKS.md).
#
#   scripts/bench-vs-etcd.sh [--quick] [--build DIR] [--out DIR] [--no-build] [--no-docs]
#   make bench-vs-etcd                     (the full run; writes docs/BENCHMARKS.md)
#
# What it does, in order:
#  1. installs what is missing (etcd-server, etcd-client, strace via
#     scripts/install-deps.sh; gnuplot-nox and golang-go by apt when root),
#     builds `aspen` and `fsync_floor`, and builds etcd's upstream `benchmark`
#     tool offline (scripts/bench/build-etcd-benchmark.sh);
#  2. measures the disk's raw append + fdatasync latency in the data directory
#     (bench/fsync_floor), the floor under every durable write;
#  3. for 1 node, then 3-node clusters on loopback: starts Aspen and etcd
#     (data on the same disk, both fsync every commit, same raft timers) and
#     runs every workload with the same client (`aspen bench`, same flags,
#     every endpoint) alternately, Aspen then etcd, ROUNDS times, so drift in
#     the machine's load hits both; reads are measured on a fresh server and
#     again after the write workloads; records the server CPU per op and the
#     1-minute load average of each run;
#  4. counts fsync + fdatasync calls per write on the server processes
#     (strace -f -c attached during a fixed number of puts);
#  5. runs etcd's own yardsticks against both: `etcdctl check perf` and
#     `benchmark put` / `benchmark range` (full mode);
#  6. prints one table with Aspen/etcd ratios of the medians and (unless
#     --no-docs or --quick) rewrites the generated section of
#     docs/BENCHMARKS.md and docs/bench-vs-etcd.png (gnuplot).
#
# Environment: BENCH_ROUNDS (3), BENCH_SECONDS (4), BENCH_PHASES ("1node 3node").
# --quick: a smoke run (one round, 1 s per workload, fewer workloads, no
# etcdctl check perf, no etcd benchmark tool, no docs); about a minute.
# Results of a run: OUT_DIR/results.jsonl (one JSON object per run),
# OUT_DIR/meta.json and OUT_DIR/report.md.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build="$repo/build"
out=""
quick=0
do_build=1
write_docs=1
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --build) build=$(cd "$2" && pwd); shift ;;
    --out) out=$2; shift ;;
    --no-build) do_build=0 ;;
    --no-docs) write_docs=0 ;;
    -h | --help) sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-vs-etcd: unknown argument '$1' (see --help)" >&2; exit 1 ;;
  esac
  shift
done
[ "$quick" = 1 ] && write_docs=0
out=${out:-$build/bench-vs-etcd}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# shellcheck source=scripts/bench/lib.sh
. "$repo/scripts/bench/lib.sh"
trap stop_all EXIT
trap 'exit 130' INT TERM

log() { echo "bench-vs-etcd: $*" >&2; }

# ---- 1. dependencies and tools -------------------------------------------
if ! command -v etcd > /dev/null || ! command -v etcdctl > /dev/null ||
   ! command -v strace > /dev/null; then
  "$repo/scripts/install-deps.sh"
fi
if [ "$(id -u)" -eq 0 ] && [ "$write_docs" = 1 ] && ! command -v gnuplot > /dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gnuplot-nox \
    > "$out/apt-gnuplot.log" 2>&1 || log "could not install gnuplot-nox (no chart)"
fi
if [ "$do_build" = 1 ]; then
  [ -f "$build/build.ninja" ] || cmake -S "$repo" -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo > "$out/cmake.log"
  cmake --build "$build" -j "$(nproc)" --target aspen fsync_floor > "$out/build.log" ||
    { tail -n 20 "$out/build.log" >&2; exit 1; }
fi
for b in "$build/src/cli/aspen" "$build/bench/fsync_floor"; do
  [ -x "$b" ] || { log "missing $b (build it, or drop --no-build)"; exit 1; }
done
# Private copies: a rebuild of the tree during the run must not swap the
# binary under the servers (a member started from a half-written file dies).
mkdir -p "$out/bin"
cp "$build/src/cli/aspen" "$build/bench/fsync_floor" "$out/bin/"
ASPEN="$out/bin/aspen"
FLOOR="$out/bin/fsync_floor"
benchmark_tool=""
if [ "$quick" = 0 ]; then
  tools="$build/bench-tools"
  if "$repo/scripts/bench/build-etcd-benchmark.sh" "$tools"; then
    benchmark_tool="$tools/benchmark"
  else
    log "etcd's benchmark tool unavailable: $(cat "$tools/benchmark.unavailable")"
  fi
fi

# ---- parameters ------------------------------------------------------------
if [ "$quick" = 1 ]; then
  rounds=1 secs=1 keys=500 fsync_puts=100 floor_writes=100
  client_counts=(1 16)
  reads=("get-l:--workload get --consistency l --clients 16 --conns 4")
  writes_1=()
  writes_3=("put-c16:--workload put --clients 16 --conns 4")
  reads_3=()
else
  rounds=${BENCH_ROUNDS:-3} secs=${BENCH_SECONDS:-4} keys=10000 fsync_puts=2000 floor_writes=1000
  client_counts=(1 4 16 64 256)
  reads=("get-l:--workload get --consistency l --clients 64 --conns 8"
         "get-s:--workload get --consistency s --clients 64 --conns 8"
         "range100:--workload range --clients 16 --conns 4")
  writes_1=("txn-cas:--workload txn-cas --clients 16 --conns 4"
            "mixed50:--workload mixed --read-ratio 0.5 --clients 16 --conns 4"
            "lease-put:--workload lease-put --clients 16 --conns 4")
  writes_3=("put-c1:--workload put --clients 1 --conns 1"
            "put-c16:--workload put --clients 16 --conns 4"
            "put-c64:--workload put --clients 64 --conns 8"
            "put-c256:--workload put --clients 256 --conns 16")
  reads_3=("get-l:--workload get --consistency l --clients 64 --conns 8"
           "get-s:--workload get --consistency s --clients 64 --conns 8")
fi
conns_for() { local c=$1; [ "$c" -le 4 ] && echo "$c" || { [ "$c" -le 16 ] && echo 4 || { [ "$c" -le 64 ] && echo 8 || echo 16; }; }; }

results="$out/results.jsonl"
meta="$out/meta.json.parts"
: > "$results"
: > "$meta"
data="$out/data"
mkdir -p "$data"

meta_put() {  # meta_put KEY JSON_VALUE
  python3 -c 'import json,sys; print(json.dumps({sys.argv[1]: json.loads(sys.argv[2])}))' "$1" "$2" >> "$meta"
}
meta_put started "\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\""
meta_put machine "$(python3 -c 'import json,os,platform; print(json.dumps({"cpus": os.cpu_count(), "kernel": platform.release(), "cpu": next((l.split(":",1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")}))')"
meta_put versions "$(python3 -c 'import json,sys; print(json.dumps({"etcd": sys.argv[1], "aspen": sys.argv[2]}))' \
  "$(etcd --version | head -n 1 | awk '{print $3}')" "$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)")"
meta_put quick "$quick"
meta_put rounds "$rounds"
meta_put seconds "$secs"
meta_put keys "$keys"

# ---- 2. the disk's floor ---------------------------------------------------
log "disk floor: $floor_writes writes + fdatasync in $data"
floor_json=$("$FLOOR" "$data" "$floor_writes" 128 | python3 -c 'import json,sys; print(json.dumps([json.loads(l) for l in sys.stdin]))')
meta_put disk_floor "$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(json.dumps({"load1": float(sys.argv[2]), "modes": d}))' "$floor_json" "$(load1)")"

# ---- 3. one run ------------------------------------------------------------
# run_one PHASE LABEL SYSTEM ROUND ENDPOINTS PIDS ARGS...: one `aspen bench`
# run; appends its JSON, with the load average and server CPU, to results.
run_one() {
  local phase=$1 label=$2 sys=$3 round=$4 eps=$5 pids=$6
  shift 6
  local l c0 c1 x0 x1 json
  l=$(load1)
  # shellcheck disable=SC2086
  c0=$(cpu_ticks $pids); x0=$(ctx_switches $pids)
  local rc=0
  json=$("$ASPEN" bench --endpoints "$eps" --keys "$keys" --duration "$secs" -o json "$@") || rc=$?
  # shellcheck disable=SC2086
  c1=$(cpu_ticks $pids); x1=$(ctx_switches $pids)
  if [ -z "$json" ]; then
    log "$phase $label $sys: aspen bench failed (exit $rc)"
    return 0
  fi
  python3 - "$json" "$phase" "$label" "$sys" "$round" "$l" "$((c1 - c0))" "$((x1 - x0))" "$(getconf CLK_TCK)" "$*" >> "$results" <<'EOF'
import json, sys
d = json.loads(sys.argv[1])
ops = max(d["ops"], 1)
d.update(phase=sys.argv[2], label=sys.argv[3], system=sys.argv[4], round=int(sys.argv[5]),
         load1=float(sys.argv[6]), tool="aspen bench", args=sys.argv[10],
         server_cpu_us_per_op=int(sys.argv[7]) * 1e6 / int(sys.argv[9]) / ops,
         server_ctx_switches_per_op=int(sys.argv[8]) / ops)
print(json.dumps(d))
EOF
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print("  %-9s %-5s r%d  %9.0f ops/s  p50 %7.3f ms  p99 %7.3f ms  errors %d  load %s" % (sys.argv[2], sys.argv[3], int(sys.argv[4]), d["ops_per_s"], d["latency_us"]["p50"]/1e3, d["latency_us"]["p99"]/1e3, d["errors"], sys.argv[5]))' \
    "$json" "$label" "$sys" "$round" "$l" >&2
}

# alternate PHASE LABEL:ARGS...: every workload, Aspen then etcd, ROUNDS times.
alternate() {
  local phase=$1 r spec
  shift
  for ((r = 1; r <= rounds; r++)); do
    for spec in "$@"; do
      local label=${spec%%:*} args=${spec#*:}
      # shellcheck disable=SC2086
      run_one "$phase" "$label" aspen "$r" "$A_EPS" "$A_PIDS" $args
      # shellcheck disable=SC2086
      run_one "$phase" "$label" etcd "$r" "$E_EPS" "$E_PIDS" $args
    done
  done
}

# fsyncs_per_write PHASE SYSTEM ENDPOINTS PIDS CLIENTS: strace -f -c on every
# server pid during exactly fsync_puts puts.
fsyncs_per_write() {
  local phase=$1 sys=$2 eps=$3 pids=$4 clients=$5 p straces=() files=()
  for p in $pids; do
    strace -f -c -e trace=fsync,fdatasync -o "$out/strace.$sys.$p" -p "$p" 2> /dev/null &
    straces+=("$!")
    files+=("$out/strace.$sys.$p")
  done
  # Wait until strace is attached to every server (TracerPid set).
  local i
  for ((i = 0; i < 50; i++)); do
    local attached=1
    for p in $pids; do
      [ "$(awk '/^TracerPid/ {print $2}' "/proc/$p/status")" != 0 ] || attached=0
    done
    [ "$attached" = 1 ] && break
    sleep 0.1
  done
  sleep 0.2  # the threads after the main one
  "$ASPEN" bench --endpoints "$eps" --workload put --clients "$clients" \
    --conns "$(conns_for "$clients")" --keys "$keys" --total "$fsync_puts" -o json > /dev/null || true
  sleep 0.2
  for p in "${straces[@]}"; do kill -INT "$p" 2> /dev/null || true; done
  for p in "${straces[@]}"; do wait "$p" 2> /dev/null || true; done
  python3 - "$phase" "$sys" "$clients" "$fsync_puts" "${files[@]}" >> "$meta" <<'EOF'
import json, sys
phase, sysname, clients, writes = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
per_node = []
for f in sys.argv[5:]:
    n = 0
    for line in open(f):
        parts = line.split()
        if parts and parts[-1] in ("fsync", "fdatasync"):
            n += int(parts[3])
    per_node.append(n)
key = "fsyncs_%s_%s_c%d" % (phase, sysname, clients)
print(json.dumps({key: {"writes": writes, "fsyncs_per_node": per_node,
                        "per_write_cluster": sum(per_node) / writes,
                        "per_write_per_node": sum(per_node) / writes / len(per_node)}}))
EOF
  log "fsyncs $phase $sys c=$clients: $(tail -n 1 "$meta")"
}

# yardsticks PHASE: etcdctl check perf and etcd's benchmark tool on both.
yardsticks() {
  local phase=$1 sys eps r
  [ "$quick" = 1 ] && return 0
  for sys in aspen etcd; do
    eps=$([ "$sys" = aspen ] && echo "$A_EPS" || echo "$E_EPS")
    log "etcdctl check perf ($phase, $sys, ~60 s)"
    local l
    l=$(load1)
    etcdctl --endpoints="$eps" --command-timeout=90s check perf --load=s \
      > "$out/checkperf.$phase.$sys.txt" 2>&1 || true
    python3 - "$phase" "$sys" "$l" "$out/checkperf.$phase.$sys.txt" >> "$meta" <<'EOF'
import json, re, sys
text = open(sys.argv[4]).read()
# The verdict lines follow a progress bar that ends without a newline.
lines = [l.strip() for l in re.findall(r"(?:PASS|FAIL)[^\r\n]*", text)]
print(json.dumps({"checkperf_%s_%s" % (sys.argv[1], sys.argv[2]): {"load1": float(sys.argv[3]), "lines": lines or text.strip().splitlines()[-6:]}}))
EOF
  done
  [ -n "$benchmark_tool" ] || return 0
  local total=$((secs * 2000))
  for ((r = 1; r <= rounds; r++)); do
    for sys in aspen etcd; do
      eps=$([ "$sys" = aspen ] && echo "$A_EPS" || echo "$E_EPS")
      local spec
      for spec in "bm-put-c64:put --key-size=8 --val-size=8 --key-space-size=$keys --total=$total" \
                  "bm-range-l-c64:range 00000001 --consistency=l --total=$total" \
                  "bm-range-s-c64:range 00000001 --consistency=s --total=$total"; do
        local label=${spec%%:*} args=${spec#*:} l txt
        l=$(load1)
        # shellcheck disable=SC2086
        txt=$("$benchmark_tool" --endpoints="$eps" --conns=8 --clients=64 --precise $args 2>/dev/null) || true
        python3 "$repo/scripts/bench/parse_etcd_benchmark.py" "$phase" "$label" "$sys" "$r" "$l" \
          <<< "$txt" >> "$results" || log "could not parse benchmark output ($label $sys)"
      done
    done
  done
}

phase() {  # phase NAME MEMBERS
  local name=$1 n=$2 c
  log "== $name: starting Aspen and etcd ($n member(s) each)"
  start_cluster aspen "$n" "$data/$name-aspen"
  A_EPS=$CLUSTER_ENDPOINTS A_PIDS="${CLUSTER_PIDS[*]}"
  start_cluster etcd "$n" "$data/$name-etcd"
  E_EPS=$CLUSTER_ENDPOINTS E_PIDS="${CLUSTER_PIDS[*]}"
  log "prefill $keys keys into both"
  "$ASPEN" bench --endpoints "$A_EPS" --workload get --keys "$keys" --prefill --clients 16 \
    --conns 4 --total 1 -o json > /dev/null
  "$ASPEN" bench --endpoints "$E_EPS" --workload get --keys "$keys" --prefill --clients 16 \
    --conns 4 --total 1 -o json > /dev/null
  if [ "$n" = 1 ]; then
    local rs=() ws=()
    for spec in "${reads[@]}"; do rs+=("${spec%%:*}-fresh:${spec#*:}"); done
    alternate "$name" "${rs[@]}"
    for c in "${client_counts[@]}"; do
      ws+=("put-c$c:--workload put --clients $c --conns $(conns_for "$c")")
    done
    alternate "$name" "${ws[@]}" ${writes_1[@]+"${writes_1[@]}"}
    rs=()
    for spec in "${reads[@]}"; do rs+=("${spec%%:*}-after:${spec#*:}"); done
    alternate "$name" "${rs[@]}"
  else
    alternate "$name" "${writes_3[@]}" ${reads_3[@]+"${reads_3[@]}"}
  fi
  for c in 1 64; do
    [ "$quick" = 1 ] && [ "$c" = 64 ] && c=16
    fsyncs_per_write "$name" aspen "$A_EPS" "$A_PIDS" "$c"
    fsyncs_per_write "$name" etcd "$E_EPS" "$E_PIDS" "$c"
  done
  yardsticks "$name"
  stop_all
}

# BENCH_PHASES="1node" or "3node" runs one half (default: both).
for p in ${BENCH_PHASES:-1node 3node}; do
  case "$p" in
    1node) phase 1node 1 ;;
    3node) phase 3node 3 ;;
    *) log "unknown phase '$p' in BENCH_PHASES (1node, 3node)"; exit 1 ;;
  esac
done

meta_put finished "\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\""
python3 -c 'import json,sys; m={}; [m.update(json.loads(l)) for l in open(sys.argv[1])]; json.dump(m, open(sys.argv[2], "w"), indent=1)' \
  "$meta" "$out/meta.json"

# ---- 6. report -------------------------------------------------------------
report_args=(--results "$results" --meta "$out/meta.json" --out "$out")
# A smoke run fails if any run is missing or had errors.
[ "$quick" = 1 ] && report_args+=(--strict)
if [ "$write_docs" = 1 ]; then
  report_args+=(--docs "$repo/docs/BENCHMARKS.md" --chart "$repo/docs/bench-vs-etcd.png")
fi
python3 "$repo/scripts/bench/report.py" "${report_args[@]}"
