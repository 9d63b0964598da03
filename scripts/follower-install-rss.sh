#!/bin/bash
# The peak RSS of a follower installing a leader's raft snapshot
# (docs/BENCHMARKS.md, "A follower's snapshot install through SST files").
#
#   scripts/follower-install-rss.sh ASPEN_BINARY BACKUP.snap WORK_DIR
#
# Restores BACKUP.snap (from `aspen snapshot save`) into members a and b of a
# 3-member cluster on 127.0.0.1 ports 33379-33581, starts c with an empty data
# dir and --initial-cluster-state existing (so the leader sends c the whole
# state as a raft snapshot), and prints c's VmHWM/VmRSS before the snapshot
# and once c logged "installed a snapshot", with c's CPU time. WORK_DIR is
# removed first and left behind for inspection.
set -u
if [ $# -ne 3 ]; then
  echo "usage: $0 ASPEN_BINARY BACKUP.snap WORK_DIR" >&2
  exit 2
fi
A=$(realpath "$1")
SNAP=$(realpath "$2")
W=$3
rm -rf "$W"
mkdir -p "$W"
cd "$W" || exit 1
IC="a=http://127.0.0.1:33380,b=http://127.0.0.1:33480,c=http://127.0.0.1:33580"
"$A" snapshot restore "$SNAP" --data-dir a --name a --initial-cluster "$IC" \
  --initial-advertise-peer-urls http://127.0.0.1:33380 >restore-a.log 2>&1 || exit 1
"$A" snapshot restore "$SNAP" --data-dir b --name b --initial-cluster "$IC" \
  --initial-advertise-peer-urls http://127.0.0.1:33480 >restore-b.log 2>&1 || exit 1
start() { # name port-prefix state
  "$A" serve --name "$1" --data-dir "$1" --listen-client-urls "http://127.0.0.1:${2}79" \
    --listen-peer-urls "http://127.0.0.1:${2}80" --listen-metrics-urls "http://127.0.0.1:${2}81" \
    --initial-cluster "$IC" --initial-cluster-state "$3" >"$1.log" 2>&1 &
  echo $!
}
PA=$(start a 333 new)
PB=$(start b 334 new)
trap 'kill $PA $PB ${PC:-} 2>/dev/null' EXIT
sleep 3
PC=$(start c 335 existing)
sleep 1
field() { awk -v f="$1:" '$1 == f {print $2}' "/proc/$PC/status"; }
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "c before: VmHWM $(field VmHWM) kB, VmRSS $(field VmRSS) kB"
t0=$(date +%s.%N)
for _ in $(seq 1 2400); do
  grep -q "installed a snapshot" c.log && break
  kill -0 "$PC" 2>/dev/null || { echo "c exited; see $W/c.log"; exit 1; }
  sleep 0.25
done
t1=$(date +%s.%N)
echo "c after: VmHWM $(field VmHWM) kB, VmRSS $(field VmRSS) kB," \
  "$(echo "$t1 - $t0" | bc) s, CPU $(awk '{print ($14 + $15) / 100}' "/proc/$PC/stat") s"
grep -h "installed a snapshot" c.log | head -1
