#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD/tests/fuzz for SECONDS each, starting
# from the checked-in seed corpus. Any crash, leak or sanitizer report fails.
set -euo pipefail
build=${1:-build-fuzz}
seconds=${2:-30}
cd "$(dirname "$0")/.."
shopt -s nullglob
targets=("$build"/tests/fuzz/fuzz_*)
if [ ${#targets[@]} -eq 0 ]; then
  echo "run-fuzzers: no fuzz targets built in $build/tests/fuzz" >&2
  exit 1
fi
passed=0
for t in "${targets[@]}"; do
  name=$(basename "$t")
  seeds="tests/fuzz/corpus/${name#fuzz_}"
  work="$build/fuzz-work/$name"
  mkdir -p "$work"
  args=("$work")
  [ -d "$seeds" ] && args+=("$seeds")
  echo "run-fuzzers: $name for ${seconds}s"
  if ! "$t" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$work/" \
      "${args[@]}" >"$work/log.txt" 2>&1; then
    tail -n 60 "$work/log.txt"
    echo "run-fuzzers: $name FAILED (artifacts in $work)"
    echo "0 passed, 1 failed"
    exit 1
  fi
  grep -E 'stat::number_of_executed_units' "$work/log.txt" || true
  passed=$((passed + 1))
done
echo "fuzz: $passed passed, 0 failed"
