#!/usr/bin/env bash
# Runs every fuzz target in turn, niced (the machine is shared), each for SECONDS
# (default 600), with the limits the issue sets: no input slower than 1 s, no more than
# 2 GiB. Logs go to LOG_DIR (default ../target/fuzz-logs); a summary line per target
# (exit status, runs, seconds) is printed at the end. New inputs land in corpus/<target>;
# minimise them with `cargo +nightly fuzz cmin <target>` before committing.
#   usage: bash fuzz/run-all.sh [SECONDS] [TARGET...]
set -uo pipefail
cd "$(dirname "$0")"
seconds="${1:-600}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(request reply json url schema config_reader)
log_dir="${LOG_DIR:-../target/fuzz-logs}"
mkdir -p "$log_dir"
for target in "${targets[@]}"; do
  log="$log_dir/$target.log"
  start=$(date +%s)
  nice -n 19 cargo +nightly fuzz run -O "$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=1 -dict=oslo.dict \
    -print_final_stats=1 >"$log" 2>&1
  status=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  echo "$target: exit $status, ${runs:-?} runs, $(( $(date +%s) - start )) s (log $log)"
done
