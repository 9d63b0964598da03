#!/usr/bin/env bash
# `make run`: starts a single-node Aspen on its defaults (data in ./aspen-data,
# client 127.0.0.1:2379, peer 127.0.0.1:2380, HTTP 127.0.0.1:2381) and prints
# how to talk to it. Ctrl-C (SIGINT) stops it cleanly.
set -euo pipefail
build=${1:-build}
aspen="$build/src/cli/aspen"
cat <<MSG
Starting: $aspen serve   (data dir ./aspen-data; Ctrl-C stops it)

Talk to it from another terminal:
  ETCDCTL_API=3 etcdctl --endpoints=127.0.0.1:2379 put greeting hello
  ETCDCTL_API=3 etcdctl --endpoints=127.0.0.1:2379 get greeting
  ETCDCTL_API=3 etcdctl --endpoints=127.0.0.1:2379 endpoint status -w table
  $aspen put greeting hello && $aspen get greeting
  curl -s http://127.0.0.1:2381/health ; curl -s http://127.0.0.1:2381/metrics
See docs/OPERATIONS.md for flags, the config file and a 3-node cluster.

MSG
exec "$aspen" serve
