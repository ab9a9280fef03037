#!/bin/bash
# Instructions and allocations per operation of oslo-rpc, raw lapin and lapin minimal under
# callgrind, one peer wrapped at a time (the other runs natively), for 32-in-flight calls,
# confirmed casts (64 awaiting their confirm) and the 64 KiB echo. Instruction counts do not
# depend on the machine's load (issue 16).
#
#   rpc-bench/profile/callgrind.sh [BINARY [TAG [SYSTEMS...]]]
#   e.g. rpc-bench/profile/callgrind.sh target/release/rpc-bench now ours raw minimal
#
# Writes target/prof/TAG-SYSTEM-WORKLOAD.SIDE.* (callgrind files, peers.py's JSON) and prints
# one line per run: thousands of instructions and allocations per operation.
set -u
BIN=${1:-target/release/rpc-bench}
TAG=${2:-now}
shift 2 2>/dev/null
SYSTEMS=${*:-ours raw minimal}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p target/prof

run() { # LABEL SYSTEM WORKLOAD COUNT CONCURRENCY SIDE [PEER ARGS...]
  local label=$1 system=$2 workload=$3 count=$4 conc=$5 side=$6
  shift 6
  local out=target/prof/$label.$side
  rm -f "$out".*
  local vg="valgrind --tool=callgrind --separate-threads=yes --instr-atstart=no --dump-instr=no --callgrind-out-file=$out.%p"
  local extra=() wrap=()
  for a in "$@"; do extra+=(--peer-arg="$a"); done
  if [ "$side" = server ]; then wrap=(--wrap-server "$vg"); else wrap=(--wrap-client "$vg"); fi
  timeout 900 python3 "$HERE/peers.py" --exe "$BIN" --system "$system" --workload "$workload" \
    --count "$count" --concurrency "$conc" --callgrind "${wrap[@]}" "${extra[@]}" --json \
    > "$out.json" 2> "$out.err" || { echo "$label $side: failed (see $out.err)"; return; }
  # The measured part is the dump named ".1"; the files without it are the (empty) exit dumps.
  local instr allocs
  instr=$(python3 "$HERE/breakdown.py" --ops "$count" "$out".*.1-* 2>/dev/null | head -1 | awk '{print $2}')
  allocs=$(python3 "$HERE/allocs.py" --ops "$count" --top 0 "$out".*.1-* 2>/dev/null | head -1 | awk '{print $(NF-2)}')
  printf '%-28s %-6s %8s k instructions %6s allocations per operation\n' "$label" "$side" "$instr" "$allocs"
}

for side in server client; do
  for s in $SYSTEMS; do
    case $s in
      ours) sys=ours; args=() ;;
      raw) sys=raw; args=() ;;
      minimal) sys=raw; args=(--minimal --workers=1) ;;
      *) echo "unknown system $s"; exit 2 ;;
    esac
    run "$TAG-$s-inflight32" $sys inflight 2000 32 $side "${args[@]}"
    if [ "$s" != minimal ]; then
      run "$TAG-$s-casts" $sys casts 4000 64 $side "${args[@]}"
      run "$TAG-$s-echo64k" $sys echo 300 1 $side "${args[@]}"
    fi
  done
done
