#!/usr/bin/env python3
"""Counts heap allocations per operation in callgrind output files (one per thread,
`--separate-threads=yes`) and names the sites that make them.

    rpc-bench/profile/allocs.py --ops 2000 target/prof/cg.ours.server.1-*

An allocation is a call of malloc, calloc or realloc (glibc's, which Rust's global
allocator calls). Each is charged to the nearest caller up the call graph that is not an
allocation wrapper (`__rust_alloc`, `RawVec` growth, `exchange_malloc`, ...): where a
wrapper has several callers its count is split among them in proportion to the calls
they made.
"""

import argparse
import re
import sys
from collections import defaultdict

ALLOCATE = re.compile(r"^(malloc|calloc|realloc|__libc_malloc|__libc_calloc|__libc_realloc)$")
WRAPPER = re.compile(
    r"__rust_alloc|__rust_realloc|__rdl_alloc|__rdl_realloc|__rust_alloc_zeroed|__rdl_alloc_zeroed|"
    r"alloc::alloc::|alloc::raw_vec|RawVec|RawVecInner|finish_grow|exchange_malloc|grow_one|"
    r"grow_amortized|do_reserve_and_handle|reserve_for_push|::reserve$|with_capacity|"
    r"alloc::boxed::Box<T>::new|Box<T,A>::new|try_allocate_in|__rg_alloc|__rg_realloc"
)


def parse(path, calls):
    names = {}
    fn = cfn = None
    pending = None

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
                pending = int(line[6:].split()[0])
            elif pending is not None and (line[:1].isdigit() or line[:1] in "+-*"):
                calls[(fn, cfn)] += pending
                pending = None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ops", type=int, required=True)
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--callers", action="append", default=[],
                   help="also list the callers of functions whose name contains this")
    p.add_argument("files", nargs="+")
    args = p.parse_args()
    calls = defaultdict(int)
    for path in args.files:
        parse(path, calls)
    callers = defaultdict(dict)
    for (caller, callee), n in calls.items():
        callers[callee][caller] = callers[callee].get(caller, 0) + n
    direct = defaultdict(float)
    for callee in callers:
        if ALLOCATE.match(callee or ""):
            for caller, n in callers[callee].items():
                direct[caller] += n
    total = sum(direct.values())
    # Push counts up through wrappers, splitting by call counts.
    sites = defaultdict(float)
    work = list(direct.items())
    depth = 0
    while work and depth < 12:
        depth += 1
        nxt = defaultdict(float)
        for fn, n in work:
            if fn and WRAPPER.search(fn) and callers.get(fn):
                up = callers[fn]
                s = sum(up.values())
                for caller, k in up.items():
                    nxt[caller] += n * k / s
            else:
                sites[fn] += n
        work = list(nxt.items())
    for fn, n in work:
        sites[fn] += n
    print(f"allocations (malloc/calloc/realloc calls): {total / args.ops:.1f} per operation")
    for fn, n in sorted(sites.items(), key=lambda kv: -kv[1])[: args.top]:
        print(f"  {n / args.ops:6.2f}  {fn}")
    for wanted in args.callers:
        for callee, up in sorted(callers.items(), key=lambda kv: str(kv[0])):
            if callee and wanted in callee:
                print(f"callers of {callee} (calls per operation):")
                for caller, n in sorted(up.items(), key=lambda kv: -kv[1])[: args.top]:
                    print(f"  {n / args.ops:6.2f}  {caller}")


if __name__ == "__main__":
    sys.exit(main())
