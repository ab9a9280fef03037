#!/usr/bin/env bash
# Python client -> Python server over the local RabbitMQ: proves the venv and both peers work
# before any Rust is involved. Uses a fresh uuid topic, deletes that topic's queues at the end,
# and bounds every step in time. Exit 0 only if every case passes.
#
#   RABBIT_URL  broker (default rabbit://guest:guest@127.0.0.1:5672/)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
py="$(bash "$here/setup.sh" | tail -n 1)"
peers="$here/peers"
url="${RABBIT_URL:-rabbit://guest:guest@127.0.0.1:5672/}"
topic="interop-smoke-$("$py" -c 'import uuid; print(uuid.uuid4().hex)')"
server_name="smoke1"
work="$(mktemp -d)"
server_pid=""

stop_server() {
  [ -n "$server_pid" ] || return 0
  if kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 80); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
cleanup() {
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "smoke: python $py, topic $topic"
"$py" "$peers/server.py" --url "$url" --topic "$topic" --server "$server_name" \
  --delete-queues >"$work/server.out" 2>"$work/server.err" &
server_pid=$!

for _ in $(seq 1 120); do   # 30 s
  grep -qx READY "$work/server.out" && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.25
done
if ! grep -qx READY "$work/server.out"; then
  echo "FAIL: server not READY within 30 s"; cat "$work/server.err"; exit 1
fi
echo "smoke: server READY"

passed=0; failed=0
# check NAME PYTHON_EXPR CLIENT_ARGS...   (r = the last JSON line printed, lines = all of them)
check() {
  local name="$1" expr="$2"; shift 2
  local out rc=0
  out="$(timeout 60 "$py" "$peers/client.py" --url "$url" --topic "$topic" "$@" 2>"$work/client.err")" || rc=$?
  if [ "$rc" -eq 0 ] && printf '%s\n' "$out" | "$py" -c '
import json, sys
lines = [json.loads(l) for l in sys.stdin.read().splitlines() if l.strip()]
r = lines[-1]
sys.exit(0 if eval(sys.argv[1]) else 1)' "$expr"; then
    passed=$((passed + 1)); echo "PASS $name: $(printf '%s' "$out" | tail -n 1 | cut -c1-220)"
  else
    failed=$((failed + 1)); echo "FAIL $name (rc=$rc): $(printf '%s' "$out" | tail -n 1 | cut -c1-600)"
    sed 's/^/    client stderr: /' "$work/client.err" | tail -n 20
  fi
}

calc=(--namespace calc --version 1.3 --timeout 15)
tag="tag-$("$py" -c 'import uuid; print(uuid.uuid4().hex)')"
"$py" -c 'import json; print(json.dumps({"payload": "\u00e9" * (512 * 1024)}))' >"$work/big.json"  # 1 MiB as UTF-8

check "add" 'r["ok"] and r["result"] == 5' \
  "${calc[@]}" call add '{"a": 2, "b": 3}'
check "echo unicode" 'r["ok"] and r["result"] == "h\u00e9llo \u2713 \U0001f600 \u65e5\u672c"' \
  "${calc[@]}" call echo '{"payload": "héllo ✓ 😀 日本"}'
check "echo NaN/Infinity" 'r["ok"] and r["result"][0] != r["result"][0] and r["result"][1:] == [float("inf"), float("-inf")]' \
  "${calc[@]}" call echo '{"payload": [NaN, Infinity, -Infinity]}'
check "echo 1 MiB" 'r["ok"] and r["result"] == "\u00e9" * (512 * 1024)' \
  "${calc[@]}" call echo "@$work/big.json"
check "context keys" 'r["ok"] and list(r["result"].items()) == [("request_id", "req-smoke"), ("user_id", "u1"), ("project_id", "p1"), ("client_timeout", None)]' \
  "${calc[@]}" --context '{"request_id": "req-smoke", "user_id": "u1", "project_id": "p1"}' call context
check "fail value -> builtins.ValueError" 'not r["ok"] and r["exception"] == "builtins.ValueError" and r["message"].startswith("bad value\n")' \
  "${calc[@]}" call fail '{"kind": "value"}'
check "fail custom -> calc_errors CalcError" 'not r["ok"] and r["exception"] == "calc_errors_Remote.CalcError_Remote" and r["args"] == ["custom err"] and r["kwargs"] == {"code": 7} and r["message"].startswith("custom err\n")' \
  "${calc[@]}" --allowed-exmods calc_errors call fail '{"kind": "custom"}'
check "fail other -> RemoteError" 'not r["ok"] and r["exception"] == "oslo_messaging.rpc.client.RemoteError" and r["remote"]["exc_type"] == "OtherError" and r["remote"]["value"] == "other err" and r["message"].startswith("Remote error: OtherError other err\n")' \
  "${calc[@]}" --allowed-exmods calc_errors call fail '{"kind": "other"}'
check "ping null namespace 2.0" 'r["ok"] and r["result"] == "pong"' \
  --null-namespace --version 2.0 --timeout 15 call ping
check "version 1.4 -> UnsupportedVersion" 'not r["ok"] and r["exception"] == "oslo_messaging.rpc.client.RemoteError" and r["remote"]["exc_type"] == "UnsupportedVersion" and "Endpoint does not support RPC version 1.4. Attempted method: add" in r["message"]' \
  --namespace calc --version 1.4 --timeout 15 call add '{"a": 1, "b": 1}'
check "nosuch -> NoSuchMethod" 'not r["ok"] and r["exception"] == "oslo_messaging.rpc.dispatcher_Remote.NoSuchMethod_Remote"' \
  "${calc[@]}" --allowed-exmods oslo_messaging.rpc.dispatcher call nosuch
check "version cap 1.2 -> RPCVersionCapError" 'not r["ok"] and r["exception"] == "oslo_messaging.rpc.client.RPCVersionCapError"' \
  "${calc[@]}" --version-cap 1.2 call add '{"a": 1, "b": 1}'
check "cast record" 'r["ok"] and r["result"] is None' \
  "${calc[@]}" cast record "{\"tag\": \"$tag\"}"
# A cast returns before dispatch: poll 'recorded' briefly.
for _ in $(seq 1 20); do grep -q "$tag" "$work/server.out" && break; sleep 0.25; done
check "recorded after cast" "r['ok'] and '$tag' in r['result']" \
  "${calc[@]}" call recorded
if grep -qx "{\"event\": \"cast\", \"tag\": \"$tag\", \"server\": \"$server_name\"}" "$work/server.out"; then
  passed=$((passed + 1)); echo "PASS cast event on server stdout: $(grep "$tag" "$work/server.out")"
else
  failed=$((failed + 1)); echo "FAIL cast event on server stdout"; cat "$work/server.out"
fi
check "sleep 3 with call_monitor_timeout 2" 'r["ok"] and r["result"] == 3 and r["elapsed"] >= 3' \
  --namespace calc --version 1.3 --server "$server_name" --timeout 10 --call-monitor-timeout 2 call sleep '{"seconds": 3}'
check "timeout -> MessagingTimeout" 'not r["ok"] and r["exception"] == "oslo_messaging.exceptions.MessagingTimeout" and 0.9 <= r["elapsed"] < 5' \
  "${calc[@]}" --timeout 1 call sleep '{"seconds": 2}'
check "32 concurrent calls" 'r["summary"] == {"ok": 32, "failed": 0, "elapsed": r["summary"]["elapsed"]} and sorted(l["result"] for l in lines[:-1]) == list(range(1000, 1032))' \
  "${calc[@]}" --concurrency 32 --index-arg a call add '{"b": 1000}'

# Graceful stop: SIGTERM -> exit 0 (the server also deletes its topic queues).
kill -TERM "$server_pid"
rc=0
for _ in $(seq 1 80); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.25; done
wait "$server_pid" || rc=$?
server_pid=""
if [ "$rc" -eq 0 ]; then
  passed=$((passed + 1)); echo "PASS server stopped on SIGTERM with exit 0"
else
  failed=$((failed + 1)); echo "FAIL server exit code $rc on SIGTERM"; tail -n 30 "$work/server.err"
fi

echo "smoke: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
