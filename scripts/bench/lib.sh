# Helpers of scripts/bench-vs-etcd.sh: start and stop Aspen and etcd members
# on loopback, wait for health, sample CPU and load. Sourced, not run.
#
# Every member started here is recorded in MEMBER_PIDS and stopped by
# stop_all (the caller traps EXIT to it).

MEMBER_PIDS=()

# A TCP port nobody listens on now (the kernel picks it).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

load1() { cut -d' ' -f1 /proc/loadavg; }

# Sum of utime+stime (clock ticks) over the given pids.
cpu_ticks() {
  local t=0 p v
  for p in "$@"; do
    v=$(awk '{print $14+$15}' "/proc/$p/stat" 2>/dev/null || echo 0)
    t=$((t + v))
  done
  echo "$t"
}

# Voluntary + involuntary context switches over every thread of the pids.
ctx_switches() {
  local t=0 p v
  for p in "$@"; do
    v=$(cat /proc/"$p"/task/*/status 2>/dev/null |
          awk '/ctxt_switches/ {s += $2} END {print s + 0}')
    t=$((t + v))
  done
  echo "$t"
}

# wait_healthy ENDPOINTS(comma) SECONDS: until a write through etcdctl works
# and every member answers a linearizable read through its own endpoint (a
# cluster with a quorum but one member down is not a fair bench target).
wait_healthy() {
  local eps=$1 secs=$2 i ep ok
  for ((i = 0; i < secs * 5; i++)); do
    if etcdctl --endpoints="$eps" --dial-timeout=1s --command-timeout=2s \
         put bench-health ok > /dev/null 2>&1; then
      ok=1
      for ep in ${eps//,/ }; do
        etcdctl --endpoints="$ep" --dial-timeout=1s --command-timeout=2s \
          get bench-health > /dev/null 2>&1 || ok=0
      done
      [ "$ok" = 1 ] && return 0
    fi
    sleep 0.2
  done
  return 1
}

# start_cluster SYSTEM N DIR: starts N members of SYSTEM (aspen|etcd) with
# data under DIR; sets CLUSTER_ENDPOINTS (host:port, comma-separated) and
# CLUSTER_PIDS. Both systems get the same heartbeat (100 ms) and election
# timeout (1000 ms); both fsync every commit (etcd's default, Aspen's only
# mode). ASPEN_SERVE_FLAGS (optional) adds flags to every aspen member.
start_cluster() {
  local sys=$1 n=$2 dir=$3 i
  local names=() cports=() pports=() mports=() initial=""
  rm -rf "$dir"
  mkdir -p "$dir"
  for ((i = 1; i <= n; i++)); do
    names+=("${sys}${i}")
    cports+=("$(free_port)")
    pports+=("$(free_port)")
    mports+=("$(free_port)")
    initial+="${initial:+,}${sys}${i}=http://127.0.0.1:${pports[-1]}"
  done
  CLUSTER_PIDS=()
  CLUSTER_ENDPOINTS=""
  for ((i = 0; i < n; i++)); do
    local name=${names[$i]} c=${cports[$i]} p=${pports[$i]} m=${mports[$i]}
    if [ "$sys" = aspen ]; then
      "$ASPEN" serve --name "$name" --data-dir "$dir/$name" \
        --listen-client-urls "http://127.0.0.1:$c" --listen-peer-urls "http://127.0.0.1:$p" \
        --listen-metrics-urls "http://127.0.0.1:$m" --initial-cluster "$initial" \
        --initial-cluster-token bench ${ASPEN_SERVE_FLAGS:-} > "$dir/$name.log" 2>&1 &
    else
      etcd --name "$name" --data-dir "$dir/$name" \
        --listen-client-urls "http://127.0.0.1:$c" --advertise-client-urls "http://127.0.0.1:$c" \
        --listen-peer-urls "http://127.0.0.1:$p" --initial-advertise-peer-urls "http://127.0.0.1:$p" \
        --listen-metrics-urls "http://127.0.0.1:$m" --initial-cluster "$initial" \
        --initial-cluster-token bench --initial-cluster-state new \
        --heartbeat-interval 100 --election-timeout 1000 \
        --logger zap --log-level warn > "$dir/$name.log" 2>&1 &
    fi
    CLUSTER_PIDS+=("$!")
    MEMBER_PIDS+=("$!")
    CLUSTER_ENDPOINTS+="${CLUSTER_ENDPOINTS:+,}127.0.0.1:$c"
  done
  if ! wait_healthy "$CLUSTER_ENDPOINTS" 30; then
    echo "bench-vs-etcd: $sys ($n members) did not become healthy; log tails:" >&2
    for ((i = 0; i < n; i++)); do tail -n 5 "$dir/${names[$i]}.log" >&2; done
    return 1
  fi
}

# stop_pids PID...: SIGTERM, then SIGKILL after 5 s.
stop_pids() {
  local p i
  for p in "$@"; do kill -TERM "$p" 2> /dev/null || true; done
  for ((i = 0; i < 50; i++)); do
    local alive=0
    for p in "$@"; do kill -0 "$p" 2> /dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for p in "$@"; do kill -KILL "$p" 2> /dev/null || true; done
  for p in "$@"; do wait "$p" 2> /dev/null || true; done
}

stop_all() {
  [ ${#MEMBER_PIDS[@]} -gt 0 ] && stop_pids "${MEMBER_PIDS[@]}"
  MEMBER_PIDS=()
}
