#!/usr/bin/env bash
# Makes sure the machine's RabbitMQ broker (127.0.0.1:5672, guest/guest) is up: installs it
# when missing, starts it when stopped, and waits until it accepts connections.
# Used by .ci/run and by the broker tests when the broker does not answer.
set -euo pipefail

log() { echo "ensure-rabbitmq: $*" >&2; }

if ! command -v rabbitmqctl >/dev/null 2>&1; then
  log "rabbitmq-server is not installed; installing it"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y rabbitmq-server >&2 || { apt-get update >&2 && apt-get install -y rabbitmq-server >&2; }
fi

if ! timeout 30 rabbitmqctl status >/dev/null 2>&1; then
  log "broker not running; starting it"
  rabbitmq-server -detached >&2 || true
fi

# await_startup fails at once while the node is still booting, so retry it (bounded).
for _ in $(seq 1 60); do
  if timeout 60 rabbitmqctl await_startup >/dev/null 2>&1; then
    exit 0
  fi
  sleep 2
done
log "RabbitMQ did not start within the time allowed"
exit 1
