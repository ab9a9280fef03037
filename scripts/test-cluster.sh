#!/usr/bin/env bash
# A RabbitMQ test cluster beside the machine's own broker, for the tests that need TLS, a
# cluster or a node they may stop: three clustered nodes (default), or one node of its own
# (--single) that a test may stop, start or put under a memory alarm.
#
#   scripts/test-cluster.sh [--single] start    start (or reuse) the nodes; prints `env`
#   scripts/test-cluster.sh [--single] stop     stop the nodes and discard their data
#   scripts/test-cluster.sh [--single] status   exit 0 when every node answers
#   scripts/test-cluster.sh [--single] env      the shell assignments tests read (eval them)
#
# Everything it writes is under target/test-cluster/<mode>/ of this checkout: certificates,
# node configs, data, logs. It never touches the machine broker (rabbit@localhost, 5672) or
# its data. Node names and ports derive from the checkout's path, so checkouts side by side
# get clusters of their own (TEST_CLUSTER_SLOT overrides: 0..399). Calls are serialized
# with flock, so concurrent `start`s are safe; every wait is bounded.
#
# Certificates come from the openssl command-line tool, made at each fresh start: a CA, a
# server certificate (SAN localhost and 127.0.0.1) the nodes present, a client certificate,
# and for error tests an unrelated CA with a client certificate of its own. Two TLS
# endpoints beside the cluster (openssl s_server) present a certificate of the test CA that
# has expired and one for another host name, since a RabbitMQ node presents one
# certificate on all its TLS listeners.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODE=cluster
if [ "${1:-}" = "--single" ]; then
  MODE=single
  shift
fi
COMMAND=${1:-}

log() { echo "test-cluster($MODE): $*" >&2; }
die() {
  log "$*"
  exit 1
}

# --- identity: node names and ports of this checkout -------------------------------------

slot_of_checkout() {
  local sum
  sum=$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1)
  echo $((sum % 400))
}
SLOT=${TEST_CLUSTER_SLOT:-$(slot_of_checkout)}
case $SLOT in '' | *[!0-9]*) die "TEST_CLUSTER_SLOT must be a number from 0 to 399" ;; esac
[ "$SLOT" -lt 400 ] || die "TEST_CLUSTER_SLOT must be a number from 0 to 399"
# 20 ports per slot from 20000, below the kernel's ephemeral range (32768-60999); the slot
# holding the machine broker's distribution port 25672 is skipped.
BASE=$((20000 + SLOT * 20))
if [ "$BASE" -le 25672 ] && [ $((BASE + 20)) -gt 25672 ]; then
  BASE=$((BASE + 20))
fi

PREFIX="rpc$SLOT"
STATE="$ROOT/target/test-cluster/$MODE"
CERTS="$STATE/certs"
if [ "$MODE" = cluster ]; then
  NODES=(n1 n2 n3)
else
  NODES=(solo)
fi

node_name() { echo "$PREFIX-$1@localhost"; }
node_index() {
  case $1 in n1) echo 0 ;; n2) echo 1 ;; n3) echo 2 ;; solo) echo 3 ;; esac
}
amqp_port() {
  local i
  i=$(node_index "$1")
  if [ "$i" -eq 3 ]; then echo $((BASE + 13)); else echo $((BASE + 1 + i)); fi
}
amqps_port() {
  local i
  i=$(node_index "$1")
  if [ "$i" -eq 3 ]; then echo $((BASE + 14)); else echo $((BASE + 4 + i)); fi
}
dist_port() {
  local i
  i=$(node_index "$1")
  if [ "$i" -eq 3 ]; then echo $((BASE + 15)); else echo $((BASE + 7 + i)); fi
}
EXPIRED_PORT=$((BASE + 10))
WRONG_HOST_PORT=$((BASE + 11))

# --- helpers -------------------------------------------------------------------------------

# True when something accepts TCP connections on 127.0.0.1:$1 (2 s at most).
port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

pid_alive() {
  [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

ctl() {
  # Every rabbitmqctl call is bounded; the CLI boots an Erlang VM each time (~1 s).
  timeout 90 rabbitmqctl "$@"
}

require_tools() {
  [ "$(id -u)" -eq 0 ] || die "must run as root: rabbitmq-server switches to the rabbitmq user"
  command -v openssl >/dev/null || die "the openssl command-line tool is needed to make the test certificates"
  command -v flock >/dev/null || die "flock (util-linux) is needed"
  if ! command -v rabbitmq-server >/dev/null || ! command -v rabbitmqctl >/dev/null; then
    log "rabbitmq-server is not installed; installing it through scripts/ensure-rabbitmq.sh"
    bash "$ROOT/scripts/ensure-rabbitmq.sh" >&2 || die "could not install rabbitmq-server"
  fi
  id rabbitmq >/dev/null 2>&1 || die "the rabbitmq user does not exist (is rabbitmq-server installed?)"
  [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || die "/usr/lib/rabbitmq/bin/rabbitmq-server not found"
}

# --- certificates --------------------------------------------------------------------------

make_certs() {
  rm -rf "$CERTS"
  mkdir -p "$CERTS"
  (
    cd "$CERTS"
    local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
    # Two unrelated CAs.
    for ca in ca other-ca; do
      openssl req -x509 "${ec[@]}" -keyout "$ca.key" -out "$ca.pem" -days 3650 \
        -subj "/CN=oslo-rpc test $ca" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    done
    cat >server.ext <<'EOF'
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1
EOF
    cat >wrong-host.ext <<'EOF'
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:wrong-host.invalid
EOF
    cat >client.ext <<'EOF'
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth
EOF
    # name, CN, extensions, signing CA
    issue() {
      openssl req -new "${ec[@]}" -keyout "$1.key" -out "$1.csr" -subj "/CN=$2" 2>/dev/null
      openssl x509 -req -in "$1.csr" -CA "$4.pem" -CAkey "$4.key" -CAcreateserial \
        -days 825 -sha256 -extfile "$3" -out "$1.pem" 2>/dev/null
    }
    issue server localhost server.ext ca
    issue wrong-host wrong-host.invalid wrong-host.ext ca
    issue client oslo-rpc-test-client client.ext ca
    issue other-client oslo-rpc-other-client client.ext other-ca
    # A certificate and its key in one file (ssl_cert_file without ssl_key_file).
    cat client.pem client.key >client-bundle.pem
    # Expired: valid for January 2020 only (openssl x509 cannot backdate; openssl ca can).
    mkdir -p ca-db
    : >ca-db/index.txt
    echo 1000 >ca-db/serial
    cat >ca.cnf <<'EOF'
[ca]
default_ca = test
[test]
database = ca-db/index.txt
new_certs_dir = ca-db
serial = ca-db/serial
default_md = sha256
policy = any
[any]
commonName = supplied
EOF
    openssl req -new "${ec[@]}" -keyout expired.key -out expired.csr -subj "/CN=localhost" 2>/dev/null
    openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -notext \
      -startdate 20200101000000Z -enddate 20200201000000Z \
      -extfile server.ext -in expired.csr -out expired.pem 2>/dev/null
    rm -f ./*.csr
  )
  [ -s "$CERTS/expired.pem" ] && [ -s "$CERTS/client.pem" ] && [ -s "$CERTS/server.pem" ] ||
    die "could not make the test certificates with openssl"
}

# --- nodes ---------------------------------------------------------------------------------

write_node_config() {
  local node=$1 dir="$STATE/$1"
  mkdir -p "$dir/mnesia" "$dir/log"
  cat >"$dir/rabbitmq.conf" <<EOF
listeners.tcp.default = 127.0.0.1:$(amqp_port "$node")
listeners.ssl.default = 127.0.0.1:$(amqps_port "$node")
ssl_options.cacertfile = $CERTS/ca.pem
ssl_options.certfile = $CERTS/server.pem
ssl_options.keyfile = $CERTS/server.key
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = false
loopback_users = none
log.console = false
log.file.level = info
EOF
  echo '[].' >"$dir/enabled_plugins"
  : >"$dir/rabbitmq-env.conf"
}

launch_node() {
  local node=$1 dir="$STATE/$1"
  log "starting $(node_name "$node") (amqp $(amqp_port "$node"), amqps $(amqps_port "$node"))"
  chown -R rabbitmq:rabbitmq "$STATE"
  # A clean environment: nothing of the caller's (ERL_FLAGS, RABBITMQ_*) leaks in, and the
  # machine broker's rabbitmq-env.conf (NODENAME=rabbit@localhost) is not read.
  setsid runuser -u rabbitmq -- env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/var/lib/rabbitmq LANG=C.UTF-8 LC_ALL=C.UTF-8 \
    RABBITMQ_NODENAME="$(node_name "$node")" \
    RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf" \
    RABBITMQ_ADVANCED_CONFIG_FILE="$dir/advanced.config" \
    RABBITMQ_CONF_ENV_FILE="$dir/rabbitmq-env.conf" \
    RABBITMQ_MNESIA_BASE="$dir/mnesia" \
    RABBITMQ_LOG_BASE="$dir/log" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" \
    RABBITMQ_FEATURE_FLAGS_FILE="$dir/feature_flags" \
    RABBITMQ_PID_FILE="$dir/pid" \
    RABBITMQ_DIST_PORT="$(dist_port "$node")" \
    ERL_EPMD_ADDRESS=127.0.0.1 \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
    /usr/lib/rabbitmq/bin/rabbitmq-server >"$dir/stdout.log" 2>&1 </dev/null 9>&- &
  echo $! >"$dir/launcher.pid"
}

node_log_tail() {
  local dir="$STATE/$1"
  {
    echo "--- $dir/stdout.log"
    tail -n 30 "$dir/stdout.log" 2>/dev/null || true
    echo "--- $dir/log (last lines)"
    tail -n 30 "$dir"/log/*.log 2>/dev/null || true
  } >&2
}

# Waits (at most 180 s) until the node's RabbitMQ application runs.
await_node() {
  local node=$1 name deadline
  name=$(node_name "$node")
  deadline=$((SECONDS + 180))
  while [ $SECONDS -lt $deadline ]; do
    # await_startup fails at once while the node is not reachable yet: retry it.
    if ctl -n "$name" await_startup --timeout 60 >/dev/null 2>&1; then
      return 0
    fi
    if ! pid_alive "$STATE/$node/launcher.pid" && ! pid_alive "$STATE/$node/pid"; then
      node_log_tail "$node"
      die "$name exited while starting"
    fi
    sleep 1
  done
  node_log_tail "$node"
  die "$name did not start within 180 s"
}

node_up() {
  pid_alive "$STATE/$1/pid" && port_open "$(amqp_port "$1")" && port_open "$(amqps_port "$1")"
}

running_cluster_size() {
  { ctl -n "$(node_name n1)" eval 'length(rabbit_mnesia:cluster_nodes(running)).' 2>/dev/null || true; } |
    tr -d '[:space:]'
}

join_n1() {
  local node=$1 name
  name=$(node_name "$node")
  log "joining $name to $(node_name n1)"
  ctl -n "$name" stop_app >/dev/null
  ctl -n "$name" join_cluster "$(node_name n1)" >/dev/null
  ctl -n "$name" start_app >/dev/null
  await_node "$node"
}

stop_node() {
  local node=$1 dir="$STATE/$1" pid
  [ -d "$dir" ] || return 0
  if pid_alive "$dir/pid"; then
    ctl -n "$(node_name "$node")" stop >/dev/null 2>&1 || true
  fi
  for file in "$dir/pid" "$dir/launcher.pid"; do
    if pid_alive "$file"; then
      pid=$(cat "$file")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 30); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 1
      done
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
}

# --- the TLS fault endpoints ---------------------------------------------------------------

start_fault_endpoint() {
  local name=$1 port=$2
  if pid_alive "$STATE/$name.pid" && port_open "$port"; then
    return 0
  fi
  setsid openssl s_server -accept "127.0.0.1:$port" -cert "$CERTS/$name.pem" \
    -key "$CERTS/$name.key" -www -quiet >"$STATE/$name.log" 2>&1 </dev/null 9>&- &
  echo $! >"$STATE/$name.pid"
  for _ in $(seq 1 50); do
    port_open "$port" && return 0
    sleep 0.2
  done
  die "the $name TLS endpoint did not listen on $port; $(tail -n 5 "$STATE/$name.log" 2>/dev/null)"
}

stop_fault_endpoints() {
  for name in expired wrong-host; do
    if pid_alive "$STATE/$name.pid"; then
      kill "$(cat "$STATE/$name.pid")" 2>/dev/null || true
    fi
    rm -f "$STATE/$name.pid"
  done
}

# --- commands ------------------------------------------------------------------------------

print_env() {
  local names="" amqp="" amqps="" url="" tls_url="" sep="" node
  for node in "${NODES[@]}"; do
    names+="$sep$(node_name "$node")"
    amqp+="$sep$(amqp_port "$node")"
    amqps+="$sep$(amqps_port "$node")"
    url+="${url:+,}guest:guest@localhost:$(amqp_port "$node")"
    tls_url+="${tls_url:+,}guest:guest@localhost:$(amqps_port "$node")"
    sep=" "
  done
  local query="ssl=true&ssl_ca_file=$CERTS/ca.pem&ssl_cert_file=$CERTS/client.pem&ssl_key_file=$CERTS/client.key"
  printf 'TEST_CLUSTER_MODE=%q\n' "$MODE"
  printf 'TEST_CLUSTER_NODES=%q\n' "$names"
  printf 'TEST_CLUSTER_AMQP_PORTS=%q\n' "$amqp"
  printf 'TEST_CLUSTER_AMQPS_PORTS=%q\n' "$amqps"
  printf 'TEST_CLUSTER_URL=%q\n' "rabbit://$url/"
  printf 'TEST_CLUSTER_TLS_URL=%q\n' "rabbit://$tls_url/?$query"
  printf 'TEST_CLUSTER_CERTS=%q\n' "$CERTS"
  printf 'TEST_CLUSTER_CA=%q\n' "$CERTS/ca.pem"
  printf 'TEST_CLUSTER_CLIENT_CERT=%q\n' "$CERTS/client.pem"
  printf 'TEST_CLUSTER_CLIENT_KEY=%q\n' "$CERTS/client.key"
  printf 'TEST_CLUSTER_CLIENT_BUNDLE=%q\n' "$CERTS/client-bundle.pem"
  printf 'TEST_CLUSTER_OTHER_CA=%q\n' "$CERTS/other-ca.pem"
  printf 'TEST_CLUSTER_OTHER_CLIENT_CERT=%q\n' "$CERTS/other-client.pem"
  printf 'TEST_CLUSTER_OTHER_CLIENT_KEY=%q\n' "$CERTS/other-client.key"
  if [ "$MODE" = cluster ]; then
    printf 'TEST_CLUSTER_EXPIRED_PORT=%q\n' "$EXPIRED_PORT"
    printf 'TEST_CLUSTER_WRONG_HOST_PORT=%q\n' "$WRONG_HOST_PORT"
  fi
}

all_up() {
  [ -f "$STATE/ready" ] || return 1
  local node
  for node in "${NODES[@]}"; do
    node_up "$node" || return 1
  done
  if [ "$MODE" = cluster ]; then
    pid_alive "$STATE/expired.pid" && port_open "$EXPIRED_PORT" &&
      pid_alive "$STATE/wrong-host.pid" && port_open "$WRONG_HOST_PORT" || return 1
  fi
}

# The lock is fd 9; every background child is started with 9>&- so that it never holds it.
lock() {
  mkdir -p "$ROOT/target/test-cluster"
  exec 9>"$ROOT/target/test-cluster/$MODE.lock"
  flock -w 600 9 || die "another test-cluster.sh held the lock for 10 minutes"
}

cmd_start() {
  lock
  if all_up; then
    print_env
    return 0
  fi
  require_tools
  local started=$SECONDS node any_up=false
  for node in "${NODES[@]}"; do
    if pid_alive "$STATE/$node/pid"; then any_up=true; fi
  done
  rm -f "$STATE/ready"
  if ! $any_up && { [ "$MODE" = cluster ] || [ ! -d "$STATE/${NODES[0]}/mnesia" ] || [ ! -s "$CERTS/ca.pem" ]; }; then
    # Nothing runs: start afresh (a cluster whose nodes all stopped would wait for each
    # other to come back; a new one is quicker). A single node keeps its data.
    stop_fault_endpoints
    for node in "${NODES[@]}"; do stop_node "$node"; done
    rm -rf "$STATE"
    mkdir -p "$STATE"
    make_certs
    for node in "${NODES[@]}"; do write_node_config "$node"; done
  fi
  for node in "${NODES[@]}"; do
    # A launcher without a live node is either booting one (the pid file comes soon) or
    # winding down after a `rabbitmqctl stop` (it exits soon): wait (10 s) to tell which.
    for _ in $(seq 1 50); do
      pid_alive "$STATE/$node/launcher.pid" && ! pid_alive "$STATE/$node/pid" || break
      sleep 0.2
    done
    if ! pid_alive "$STATE/$node/pid" && ! pid_alive "$STATE/$node/launcher.pid"; then
      for port in "$(amqp_port "$node")" "$(amqps_port "$node")" "$(dist_port "$node")"; do
        ! port_open "$port" || die "port $port is taken by another program (set TEST_CLUSTER_SLOT to move)"
      done
      [ -f "$STATE/$node/rabbitmq.conf" ] || write_node_config "$node"
      launch_node "$node"
    fi
  done
  for node in "${NODES[@]}"; do await_node "$node"; done
  if [ "$MODE" = cluster ]; then
    if [ "$(running_cluster_size)" != 3 ]; then
      for node in n2 n3; do
        if ! ctl -n "$(node_name n1)" eval "lists:member('$(node_name "$node")', rabbit_mnesia:cluster_nodes(running))." 2>/dev/null | grep -q true; then
          join_n1 "$node"
        fi
      done
    fi
    local size
    size=$(running_cluster_size)
    [ "$size" = 3 ] || die "the cluster runs $size node(s), not 3"
    start_fault_endpoint expired "$EXPIRED_PORT"
    start_fault_endpoint wrong-host "$WRONG_HOST_PORT"
  fi
  for node in "${NODES[@]}"; do
    node_up "$node" || die "$(node_name "$node") does not accept connections on its ports"
  done
  print_env >"$STATE/ready"
  log "ready in $((SECONDS - started)) s"
  print_env
}

cmd_stop() {
  lock
  stop_fault_endpoints
  local node
  for node in "${NODES[@]}"; do stop_node "$node"; done
  rm -rf "$STATE"
  log "stopped"
}

cmd_status() {
  local node ok=0
  for node in "${NODES[@]}"; do
    if node_up "$node"; then
      log "$(node_name "$node"): up"
    else
      log "$(node_name "$node"): down"
      ok=1
    fi
  done
  return $ok
}

case $COMMAND in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) print_env ;;
  *)
    echo "usage: $0 [--single] start|stop|status|env" >&2
    exit 2
    ;;
esac
