#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD/tests/fuzz for SECONDS each, starting
# from the checked-in seed corpus, JOBS targets at a time (default: one per
# CPU; each fuzzer is single-threaded). Any crash, leak or sanitizer report
# fails.
set -euo pipefail
build=${1:-build-fuzz}
seconds=${2:-30}
jobs=${3:-$(nproc)}
cd "$(dirname "$0")/.."
shopt -s nullglob
targets=("$build"/tests/fuzz/fuzz_*)
if [ ${#targets[@]} -eq 0 ]; then
  echo "run-fuzzers: no fuzz targets built in $build/tests/fuzz" >&2
  exit 1
fi

# run_one TARGET: fuzzes it; its output goes to its work directory's log.txt.
run_one() {
  local t=$1 name seeds work
  name=$(basename "$t")
  seeds="tests/fuzz/corpus/${name#fuzz_}"
  work="$build/fuzz-work/$name"
  mkdir -p "$work"
  local args=("$work")
  [ -d "$seeds" ] && args+=("$seeds")
  "$t" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$work/" \
    "${args[@]}" > "$work/log.txt" 2>&1
}

declare -A pid_of=()
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  echo "run-fuzzers: $(basename "$t") for ${seconds}s"
  run_one "$t" &
  pid_of[$t]=$!
done

passed=0
failed=0
for t in "${targets[@]}"; do
  name=$(basename "$t")
  work="$build/fuzz-work/$name"
  if wait "${pid_of[$t]}"; then
    grep -E 'stat::number_of_executed_units' "$work/log.txt" | sed "s/^/$name: /" || true
    passed=$((passed + 1))
  else
    tail -n 60 "$work/log.txt"
    echo "run-fuzzers: $name FAILED (artifacts in $work)"
    failed=$((failed + 1))
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
