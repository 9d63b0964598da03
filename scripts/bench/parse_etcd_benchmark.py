#!/usr/bin/env python3
"""Turns the text report of etcd's `benchmark` tool (stdin) into one JSON line
shaped like `aspen bench -o json` (ops_per_s, latency_us), tagged with the run.

  parse_etcd_benchmark.py PHASE LABEL SYSTEM ROUND LOAD1 < report.txt
Exits 1 when the report has no Requests/sec line (the run failed).
"""
import json
import re
import sys


def main():
    phase, label, system, rnd, load1 = sys.argv[1:6]
    text = sys.stdin.read()
    rps = re.search(r"Requests/sec:\s+([0-9.]+)", text)
    if rps is None:
        return 1
    lat = {}
    names = {"50": "p50", "90": "p90", "99": "p99", "99.9": "p99_9"}
    for pct, secs in re.findall(r"^\s*([0-9.]+)% in ([0-9.]+) secs", text, re.M):
        if pct in names:
            lat[names[pct]] = float(secs) * 1e6
    for key, name in (("Slowest", "max"), ("Fastest", "min"), ("Average", "mean")):
        m = re.search(key + r":\s+([0-9.]+) secs", text)
        if m:
            lat[name] = float(m.group(1)) * 1e6
    total = re.search(r"Total:\s+([0-9.]+) secs", text)
    print(json.dumps({"phase": phase, "label": label, "system": system, "round": int(rnd),
                      "load1": float(load1), "tool": "etcd benchmark",
                      "ops_per_s": float(rps.group(1)), "latency_us": lat,
                      "elapsed_s": float(total.group(1)) if total else 0.0,
                      "errors": sum(int(n) for n in re.findall(r"^\s*\[(\d+)\]\s", text, re.M))}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
