#!/usr/bin/env python3
"""Sums callgrind output files (one per thread, `--separate-threads=yes`) of one peer
into instructions per operation, split by thread kind and by where they go.

    rpc-bench/profile/breakdown.py --ops 2000 target/prof/cg.ours.server.1-*

Self cost of every function goes to one category by its name (see CATEGORIES).
memcpy/memmove and malloc/free are charged to the function that called them, so
"lapin" includes the copies lapin makes and "tokio" the tasks it allocates.
A thread is a lapin I/O thread if it ran `lapin::io_loop`.
"""

import argparse
import re
import sys
from collections import defaultdict

# First match wins; matched against the function name.
CATEGORIES = [
    ("acks (lapin Acker, internal RPC)", r"lapin::acker|InternalRPC|internal_rpc|settle_delivery|DeliveryResolver"),
    ("confirms (lapin)", r"publisher_confirm|PublisherConfirm|returned_messages|on_basic_ack_received|ConfirmGuard|acknowledgement"),
    ("lapin frames and I/O loop", r"lapin::io_loop|lapin::buffer|lapin::frames|socket_state|amq_protocol|nom::|cookie_factory|lapin::channels::Channels::flow"),
    ("lapin channels, consumers, promises", r"lapin::|flume::|async_rs|futures_lite|async_global|event_listener|pinky_swear"),
    ("tokio scheduling, timers, wake-ups", r"tokio::"),
    ("oslo wire codec (JSON, envelope)", r"rpc_runtime::wire|serde_json|serde::|serde_core|ryu::|itoa::"),
    ("oslo-rpc client/server/transport", r"rpc_runtime::"),
    ("benchmark harness", r"rpc_bench::"),
    ("kernel entry (syscall wrappers)", r"epoll|futex|__GI___|syscall|send|recv|read|write|clock_gettime"),
]
ALLOC = re.compile(r"malloc|free|_int_|__rust_(alloc|dealloc|realloc)|__rdl_|realloc|calloc|tcache|unlink_chunk|malloc_consolidate|alloc::alloc|cfree")
COPY = re.compile(r"memcpy|memmove|memset|__memcpy|__memmove|__memset")


def category(name):
    for label, pattern in CATEGORIES:
        if re.search(pattern, name):
            return label
    return "std and other"


def parse(path):
    """(self cost per fn, {(caller, callee): inclusive}, is_io_thread)."""
    names = {}
    self_cost = defaultdict(int)
    calls = defaultdict(int)
    fn = None
    cfn = None
    pending_call = False

    def resolve(text):
        m = re.match(r"\((\d+)\)(?: (.*))?", text)
        if not m:
            return text
        if m.group(2) is not None:
            names[m.group(1)] = m.group(2)
        return names.get(m.group(1), text)

    with open(path) as f:
        for line in f:
            if line.startswith("fn="):
                fn = resolve(line[3:].strip())
            elif line.startswith("cfn="):
                cfn = resolve(line[4:].strip())
            elif line.startswith("calls="):
                pending_call = True
            elif line[:1].isdigit() or line[:1] in "+-*":
                parts = line.split()
                if len(parts) < 2:
                    continue
                cost = int(parts[1])
                if pending_call:
                    calls[(fn, cfn)] += cost
                    pending_call = False
                else:
                    self_cost[fn] += cost
            # Other lines (fl=, fi=, fe=, ob=, cfi=, cob=: files and objects, which have
            # their own name compression) do not matter here.
    io = any("lapin::io_loop" in name for name in self_cost)
    return self_cost, calls, io


def charge(self_cost, calls):
    """Self costs with allocation and copy routines charged to their nearest caller that
    is neither (one level; deeper chains inside malloc are rare and small)."""
    out = defaultdict(int)
    helper = lambda name: bool(ALLOC.search(name) or COPY.search(name))
    # Inclusive cost of calls into helpers, per non-helper caller.
    into_helpers = defaultdict(int)
    for (caller, callee), cost in calls.items():
        if caller and callee and helper(callee) and not helper(caller):
            into_helpers[caller] += cost
    total_helper_self = sum(c for n, c in self_cost.items() if helper(n))
    charged = sum(into_helpers.values())
    for name, cost in self_cost.items():
        if not helper(name):
            out[category(name)] += cost
    for caller, cost in into_helpers.items():
        out[category(caller)] += cost
    # Whatever helper cost was not reached through a non-helper caller in this file
    # (instrumentation switched on inside a call chain) stays apart.
    rest = total_helper_self - charged
    if rest > 0:
        out["allocation and copies (caller unknown)"] += rest
    helpers = {
        "malloc/free (self)": sum(c for n, c in self_cost.items() if ALLOC.search(n)),
        "memcpy/memmove (self)": sum(c for n, c in self_cost.items() if COPY.search(n) and not ALLOC.search(n)),
    }
    return out, helpers


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ops", type=int, required=True)
    p.add_argument("files", nargs="+")
    args = p.parse_args()
    by_kind = defaultdict(lambda: defaultdict(int))
    helpers_total = defaultdict(int)
    for path in args.files:
        self_cost, calls, io = parse(path)
        out, helpers = charge(self_cost, calls)
        kind = "lapin I/O threads" if io else "runtime threads"
        for cat, cost in out.items():
            by_kind[kind][cat] += cost
        for k, v in helpers.items():
            helpers_total[k] += v
    grand = sum(sum(v.values()) for v in by_kind.values())
    print(f"total: {grand / args.ops / 1000:.1f} k instructions per operation")
    for kind, cats in sorted(by_kind.items()):
        total = sum(cats.values())
        print(f"  {kind}: {total / args.ops / 1000:.1f} k")
        for cat, cost in sorted(cats.items(), key=lambda kv: -kv[1]):
            if cost / args.ops >= 50:
                print(f"    {cat:42} {cost / args.ops / 1000:6.1f} k")
    for k, v in helpers_total.items():
        print(f"  of which {k}: {v / args.ops / 1000:.1f} k")


if __name__ == "__main__":
    sys.exit(main())
