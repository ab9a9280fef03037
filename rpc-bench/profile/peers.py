#!/usr/bin/env python3
"""Runs one rpc-bench peer-server and one peer-client like `rpc-bench suite` does, with
either process optionally wrapped (valgrind, strace, perf), and prints per-operation
counts that do not depend on how busy the machine is:

* CPU (user + system) per operation of each process, over the measured part;
* context switches per operation of each process (voluntary and involuntary, summed
  over its threads, from /proc/<pid>/task/*/status), and per thread name;

Wrapped processes are measured by their wrapper (valgrind writes its own output files).
Instruction counts per operation come from two runs with different counts (the
difference cancels start-up and warm-up): see BENCHMARKS.md, "Profile".

Example:
    rpc-bench/profile/peers.py --system ours --count 4000 --concurrency 32
    rpc-bench/profile/peers.py --system raw --count 4000 --concurrency 32 \
        --wrap-server 'valgrind --tool=callgrind --callgrind-out-file=target/cg.server.%p'
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
import uuid
from collections import defaultdict


def thread_counts(pid):
    """{tid: (thread name, voluntary, involuntary)} and CPU ticks of a process."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        out[tid] = (fields["Name"].strip(), int(fields["voluntary_ctxt_switches"]),
                    int(fields["nonvoluntary_ctxt_switches"]))
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read().rsplit(")", 1)[1].split()
    ticks = int(stat[11]) + int(stat[12])
    return out, ticks


def diff(after, before):
    """Context switches per thread name over the interval: threads that started meanwhile
    count from zero; threads that ended meanwhile are not counted (their last figures are
    gone with them)."""
    (a, ta), (b, tb) = after, before
    per = defaultdict(lambda: [0, 0])
    for tid, (name, vol, invol) in a.items():
        _, vol0, invol0 = b.get(tid, (name, 0, 0))
        per[name][0] += vol - vol0
        per[name][1] += invol - invol0
    return dict(per), ta - tb


class Peer:
    def __init__(self, argv):
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )

    def read(self):
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"peer exited: {self.proc.args}")
        return line.strip()

    def ask(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.read()

    def finish(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=120)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--exe", default="target/release/rpc-bench")
    p.add_argument("--system", choices=["ours", "raw"], required=True)
    p.add_argument("--workload", default="inflight")
    p.add_argument("--count", type=int, default=4000)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--peer-arg", action="append", default=[],
                   help="extra argument for both peers (e.g. --no-confirms)")
    p.add_argument("--server-arg", action="append", default=[])
    p.add_argument("--client-arg", action="append", default=[])
    p.add_argument("--wrap-server", default="")
    p.add_argument("--wrap-client", default="")
    p.add_argument("--json", action="store_true")
    p.add_argument("--callgrind", action="store_true",
                   help="the wrapped peers run callgrind with --instr-atstart=no: turn "
                        "instrumentation on for the measured part only, dump after it")
    args = p.parse_args()

    name = f"rpc-bench-profile-{uuid.uuid4().hex}"
    common = ["--system", args.system, "--name", name] + args.peer_arg
    server = Peer(shlex.split(args.wrap_server) + [args.exe, "peer-server"] + common
                  + args.server_arg)
    ready = server.read()
    assert ready == "READY", ready
    client = Peer(shlex.split(args.wrap_client) + [args.exe, "peer-client"] + common + [
        "--workload", args.workload, "--count", str(args.count),
        "--concurrency", str(args.concurrency)] + args.client_arg)
    warm = client.read()
    assert warm.startswith("WARM"), warm
    warm_casts = int(warm.split()[1])
    while warm_casts and json.loads(server.ask("stats"))["processed"] < warm_casts:
        time.sleep(0.02)
    assert server.ask("reset") == "ok"
    before = {"server": thread_counts(server.proc.pid), "client": thread_counts(client.proc.pid)}
    wrapped = [peer.proc.pid for peer, wrap in ((server, args.wrap_server),
                                                (client, args.wrap_client)) if wrap]
    if args.callgrind:
        for pid in wrapped:
            subprocess.run(["callgrind_control", "-i", "on", str(pid)], check=True,
                           stdout=subprocess.DEVNULL)
    client.proc.stdin.write("GO\n")
    client.proc.stdin.flush()
    result = json.loads(client.read())
    if args.workload == "casts":
        while json.loads(server.ask("stats"))["processed"] < args.count:
            time.sleep(0.02)
    stats = json.loads(server.ask("stats"))
    after = {"server": thread_counts(server.proc.pid), "client": thread_counts(client.proc.pid)}
    if args.callgrind:
        for pid in wrapped:
            subprocess.run(["callgrind_control", "-d", "measured", str(pid)], check=True,
                           stdout=subprocess.DEVNULL)
            subprocess.run(["callgrind_control", "-i", "off", str(pid)], check=True,
                           stdout=subprocess.DEVNULL)
    client.finish()
    server.finish()
    if not result.get("ok"):
        raise SystemExit(f"client failed: {result}")
    n = args.count
    tick = os.sysconf("SC_CLK_TCK")
    report = {
        "rate": result.get("calls_per_s") or result.get("sent_per_s"),
        "p50_us": result["p50_us"],
        "client_cpu_us_per_op": result["client_cpu_s"] / n * 1e6,
        "server_cpu_us_per_op": stats["cpu_s"] / n * 1e6,
    }
    for side in ("client", "server"):
        per, ticks = diff(after[side], before[side])
        report[f"{side}_ticks_cpu_us_per_op"] = ticks / tick / n * 1e6
        report[f"{side}_cs_per_op"] = {
            k: [round(v[0] / n, 3), round(v[1] / n, 3)] for k, v in sorted(per.items())
            if v[0] or v[1]
        }
        report[f"{side}_cs_total_per_op"] = round(sum(sum(v) for v in per.values()) / n, 3)
    if args.json:
        print(json.dumps(report))
    else:
        for k, v in report.items():
            print(f"{k:28} {v}")


if __name__ == "__main__":
    sys.exit(main())
