#!/usr/bin/env bash
# Runs the Python oslo.messaging 18.3.1 side of the rpc-bench comparison against the local broker.
#
#   rpc-bench/python/run_python.sh [--quick] [--url URL] [--inflight "1 8 32 128"]
#                                  [--repeat R] [--workloads "seq inflight casts echo"]
#                                  [--count N]
#
# Sets up (or reuses) the interop venv (tests/interop/setup.sh), starts bench_server.py on a
# unique topic (rpc-bench-py-<uuid4 hex>), waits for READY (at most 60 s), then runs
# bench_client.py once per workload, in this order, R times each (default 1):
#
#   seq       --count 8000  (quick 500)   16 B payload, sequential call(echo)
#   inflight  --count 4000  (quick 400)   16 B, one line per K in --inflight (default 1 8 32 128)
#   casts     --count 30000 (quick 2000)  16 B, confirmed casts, then drained by the server
#   echo      --count 3000  (quick 200)   64 KiB payload, sequential call(echo)
#
# stdout: exactly one JSON line per client run (the bench_client.py line, fields documented
# there and in README.md), nothing else; progress and logs go to stderr. The default run takes
# about 1-2 minutes on a 2-core machine, --quick about 15 s.
#
# Then it closes the server's stdin (graceful stop: the server deletes its <topic>,
# <topic>.<server> and fanout queues) and waits for it (30 s at most; else SIGTERM, SIGKILL, and
# the two never-expiring queues are deleted from here). Exit status: 0 when every client printed
# "ok": true and the server exited 0; 1 on any failure (stops at the first failing workload; its
# {"ok": false, ...} line is still printed); 2 on bad usage.
#
# Environment: RABBIT_URL (default rabbit://guest:guest@127.0.0.1:5672/), OSLO_RPC_INTEROP_VENV
# (venv location, see tests/interop/README.md), RPC_BENCH_PY_CLIENT_TIMEOUT (seconds per client
# run, default 300).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

quick=0
url="${RABBIT_URL:-rabbit://guest:guest@127.0.0.1:5672/}"
inflight="1 8 32 128"
repeat=1
workloads="seq inflight casts echo"
count=""
usage() { sed -n '2,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --url) [ $# -ge 2 ] || usage; url="$2"; shift ;;
    --inflight) [ $# -ge 2 ] || usage; inflight="$2"; shift ;;
    --repeat) [ $# -ge 2 ] || usage; repeat="$2"; shift ;;
    --workloads) [ $# -ge 2 ] || usage; workloads="$2"; shift ;;
    --count) [ $# -ge 2 ] || usage; count="$2"; shift ;;
    -h|--help) usage ;;
    *) echo "run_python.sh: unknown argument $1" >&2; usage ;;
  esac
  shift
done
case "$repeat" in ''|*[!0-9]*|0) echo "run_python.sh: --repeat must be >= 1" >&2; exit 2 ;; esac
for w in $workloads; do
  case "$w" in seq|inflight|casts|echo) ;; *) echo "run_python.sh: unknown workload $w" >&2; exit 2 ;; esac
done
for k in $inflight; do
  case "$k" in ''|*[!0-9]*|0) echo "run_python.sh: bad concurrency $k" >&2; exit 2 ;; esac
done

if [ "$quick" = 1 ]; then
  n_seq=500; n_inflight=400; n_casts=2000; n_echo=200
else
  n_seq=8000; n_inflight=4000; n_casts=30000; n_echo=3000
fi
if [ -n "$count" ]; then
  # One count for every workload (rpc-bench suite sets its own).
  case "$count" in *[!0-9]*|0) echo "run_python.sh: --count must be >= 1" >&2; exit 2 ;; esac
  n_seq=$count; n_inflight=$count; n_casts=$count; n_echo=$count
fi
client_timeout="${RPC_BENCH_PY_CLIENT_TIMEOUT:-300}"

log() { echo "run_python.sh: $*" >&2; }

py="$(bash "$root/tests/interop/setup.sh" | tail -n 1)"
[ -x "$py" ] || { log "no venv python ($py)"; exit 1; }

topic="rpc-bench-py-$("$py" -c 'import uuid; print(uuid.uuid4().hex)')"
server_name="bench"
workdir="$(mktemp -d "${TMPDIR:-/tmp}/rpc-bench-py.XXXXXX")"
server_log="$workdir/server.log"
client_log="$workdir/client.log"
: >"$client_log"
server_pid=""
server_rc=""

# Waits (bounded) for the server to exit; sets server_rc. Returns 1 if it is still running.
wait_server() {
  local deadline=$(( $(date +%s) + $1 ))
  while kill -0 "$server_pid" 2>/dev/null; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.2
  done
  set +e; wait "$server_pid" 2>/dev/null; server_rc=$?; set -e
  return 0
}

stop_server() {
  [ -n "$server_pid" ] || return 0
  # Closing its stdin is the graceful stop (--exit-on-stdin-eof); SIGTERM backs it up.
  if [ -n "${SERVER[1]:-}" ]; then exec {SERVER[1]}>&-; fi
  if ! wait_server 30; then
    log "server still running 30 s after stdin EOF: SIGTERM"
    kill -TERM "$server_pid" 2>/dev/null || true
    if ! wait_server 10; then
      log "server still running: SIGKILL"
      kill -KILL "$server_pid" 2>/dev/null || true
      wait_server 5 || true
    fi
    server_rc="${server_rc:-1}"
    [ "$server_rc" != 0 ] || server_rc=1
  fi
  if [ "$server_rc" != 0 ]; then
    # It did not clean up: delete the queues that never expire (the fanout one expires in 30 min).
    timeout 30 "$py" "$here/_benchlib.py" delete-queues --url "$url" \
      "$topic.$server_name" "$topic" >&2 || true
  fi
  server_pid=""
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_server || true
  if [ "$rc" != 0 ] || [ "${server_rc:-0}" != 0 ]; then
    log "server log ($server_log), last lines:"; tail -n 20 "$server_log" >&2 || true
    log "client log ($client_log), last lines:"; tail -n 20 "$client_log" >&2 || true
    [ "$rc" != 0 ] || rc=1
  fi
  rm -rf "$workdir"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "python $py, topic $topic, load: $(cut -d' ' -f1-3 /proc/loadavg)"
coproc SERVER { exec "$py" "$here/bench_server.py" --url "$url" --topic "$topic" \
  --server "$server_name" --exit-on-stdin-eof 2>"$server_log"; }
server_pid=$SERVER_PID

line=""
if ! read -r -t 60 -u "${SERVER[0]}" line || [ "$line" != "READY" ]; then
  log "bench_server.py did not print READY within 60 s (got: '$line')"
  exit 1
fi
log "server ready"

run_client() {
  local out rc
  set +e
  out="$(timeout -k 5 "$client_timeout" "$py" "$here/bench_client.py" --url "$url" \
    --topic "$topic" --max-seconds $(( client_timeout - 60 )) "$@" 2>>"$client_log")"
  rc=$?
  set -e
  [ -z "$out" ] || printf '%s\n' "$out"
  if [ "$rc" != 0 ]; then
    log "bench_client.py $* failed (exit $rc)"
    exit 1
  fi
  log "done: $*"
}

for w in $workloads; do
  for _ in $(seq "$repeat"); do
    case "$w" in
      seq) run_client seq --count "$n_seq" --payload-bytes 16 ;;
      inflight)
        for k in $inflight; do
          run_client inflight --concurrency "$k" --count "$n_inflight" --payload-bytes 16
        done ;;
      casts) run_client casts --count "$n_casts" --payload-bytes 16 ;;
      echo) run_client echo --count "$n_echo" --payload-bytes 65536 ;;
    esac
  done
done

stop_server
if [ "$server_rc" != 0 ]; then
  log "bench_server.py exited $server_rc"
  exit 1
fi
log "ok"
