#!/usr/bin/env python3
"""Interleaved A/B runs of peers.py for two rpc-bench binaries: medians of CPU per
operation (client + server) and context switches per operation, per workload.

    rpc-bench/profile/ab.py --repeat 5 before=target/prof/bin-base after=target/release/rpc-bench
"""
import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

PEERS = Path(__file__).with_name("peers.py")


def run(exe, system, workload, count, concurrency, extra, nice):
    argv = [sys.executable, str(PEERS), "--exe", exe, "--system", system, "--workload",
            workload, "--count", str(count), "--concurrency", str(concurrency), "--json"]
    if nice:
        # Ahead of other work on the machine (not of the broker): less noise.
        argv += ["--wrap-server", "nice -n -20", "--wrap-client", "nice -n -20"]
    argv += [f"--peer-arg={a}" for a in extra]
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--system", default="ours")
    p.add_argument("--workloads", default="inflight-32:20000,seq:3000")
    p.add_argument("--peer-arg", action="append", default=[])
    p.add_argument("--nice", action="store_true", help="run both peers at nice -20 (root)")
    p.add_argument("binaries", nargs="+", help="name=path")
    args = p.parse_args()
    bins = [b.split("=", 1) for b in args.binaries]
    for spec in args.workloads.split(","):
        key, count = spec.split(":")
        workload, _, k = key.partition("-")
        concurrency = int(k or 1)
        results = {name: [] for name, _ in bins}
        for _ in range(args.repeat):
            for name, exe in bins:
                results[name].append(run(exe, args.system, workload, int(count), concurrency,
                                         args.peer_arg, args.nice))
        for name, runs in results.items():
            med = lambda f: statistics.median(f(r) for r in runs)
            print(f"{key:12} {name:10} rate {med(lambda r: r['rate']):8.0f}/s  "
                  f"CPU/op client {med(lambda r: r['client_cpu_us_per_op']):6.1f} "
                  f"server {med(lambda r: r['server_cpu_us_per_op']):6.1f} "
                  f"sum {med(lambda r: r['client_cpu_us_per_op'] + r['server_cpu_us_per_op']):6.1f} µs  "
                  f"cs/op client {med(lambda r: r['client_cs_total_per_op']):5.2f} "
                  f"server {med(lambda r: r['server_cs_total_per_op']):5.2f}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
