#!/usr/bin/env bash
# Fails when a tracked C++ file differs from .clang-format.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cc' '*.h')
[ ${#files[@]} -eq 0 ] && exit 0
bad=()
for f in "${files[@]}"; do
  [ -f "$f" ] || continue
  clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
# Go sources (tests/goclient) against gofmt, when Go is installed.
if command -v gofmt > /dev/null; then
  mapfile -t gofiles < <(git ls-files '*.go')
  for f in "${gofiles[@]}"; do
    [ -f "$f" ] || continue
    [ -z "$(gofmt -l "$f")" ] || bad+=("$f")
  done
fi
if [ ${#bad[@]} -gt 0 ]; then
  echo "check-format: ${#bad[@]} file(s) differ from .clang-format (run 'make fmt'):"
  printf '  %s\n' "${bad[@]}"
  exit 1
fi
echo "check-format: ${#files[@]} files formatted"
