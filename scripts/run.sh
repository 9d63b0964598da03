#!/usr/bin/env bash
# `make run`: starts what exists of Aspen on its defaults.
set -euo pipefail
build=${1:-build}
exec "$build/src/cli/aspen" --help
