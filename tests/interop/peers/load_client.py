#!/usr/bin/env python3
"""A Python oslo.messaging 18.3.1 RPC client keeping N calls in flight, for the failover
tests (tests/cluster_failover.rs).

    load_client.py --url URL --topic T [--exchange X] [--concurrency 32] [--timeout 5]
                   [--duration 120]

N threads share one RPC client; each calls ``add(a=<thread>, b=1)`` in the ``calc``
namespace in a loop until stdin closes or --duration seconds passed. Prints ``READY`` once
the transport exists, then one JSON line per call as it ends:
    {"ok": true, "elapsed": S}
    {"ok": false, "exception": "<module>.<Class>", "message": str(exc), "elapsed": S}
A result other than a + b is reported as {"ok": false, "exception": "wrong-result", ...}.
"""

import argparse
import json
import logging
import os
import sys
import threading
import time
import warnings

# Select oslo.service's threading backend BEFORE importing oslo_messaging (see client.py).
warnings.filterwarnings('ignore', message=r'(?s).*Eventlet is deprecated')
from oslo_service import backend  # noqa: E402

backend.init_backend(backend.BackendType.THREADING)

from oslo_config import cfg  # noqa: E402
import oslo_messaging  # noqa: E402

_print_lock = threading.Lock()


def emit(obj):
    line = json.dumps(obj, default=repr)
    with _print_lock:
        sys.stdout.write(line + '\n')
        sys.stdout.flush()


def main():
    p = argparse.ArgumentParser(description='oslo.messaging load client for failover tests')
    p.add_argument('--url', required=True)
    p.add_argument('--exchange', default=None)
    p.add_argument('--topic', required=True)
    p.add_argument('--concurrency', type=int, default=32)
    p.add_argument('--timeout', type=float, default=5.0)
    p.add_argument('--duration', type=float, default=120.0)
    p.add_argument('--log-file', default=None)
    args = p.parse_args()
    if args.concurrency < 1 or args.timeout <= 0 or args.duration <= 0:
        p.error('--concurrency, --timeout and --duration must be positive')
    fmt = '%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s'
    if args.log_file:
        logging.basicConfig(filename=args.log_file, level=logging.WARNING, format=fmt)
    else:
        logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format=fmt)

    if args.exchange:
        oslo_messaging.set_transport_defaults(control_exchange=args.exchange)
    cfg.CONF([], project='oslo-rpc-interop', default_config_files=[], default_config_dirs=[])
    transport = oslo_messaging.get_rpc_transport(cfg.CONF, url=args.url)
    client = oslo_messaging.get_rpc_client(
        transport, oslo_messaging.Target(topic=args.topic, namespace='calc'),
        timeout=args.timeout)

    stop = threading.Event()
    deadline = time.monotonic() + args.duration

    def watch_stdin():
        sys.stdin.read()
        stop.set()

    def worker(index):
        while not stop.is_set() and time.monotonic() < deadline:
            start = time.monotonic()
            try:
                result = client.call({}, 'add', a=index, b=1)
                if result == index + 1:
                    out = {'ok': True}
                else:
                    out = {'ok': False, 'exception': 'wrong-result', 'message': repr(result)}
            except Exception as exc:  # noqa: BLE001 - every failure is reported
                cls = type(exc)
                out = {'ok': False, 'exception': '%s.%s' % (cls.__module__, cls.__name__),
                       'message': str(exc)}
            out['elapsed'] = round(time.monotonic() - start, 6)
            emit(out)

    threading.Thread(target=watch_stdin, daemon=True).start()
    threads = [threading.Thread(target=worker, args=(i,), daemon=True)
               for i in range(args.concurrency)]
    with _print_lock:
        sys.stdout.write('READY\n')
        sys.stdout.flush()
    for t in threads:
        t.start()
    for t in threads:
        # A call ends within its timeout (oslo bounds it); a little slack on top.
        t.join(max(0.0, deadline - time.monotonic()) + args.timeout + 5)
    sys.stdout.flush()
    logging.shutdown()
    # oslo's non-daemon threads must not keep the process alive.
    os._exit(0)


if __name__ == '__main__':
    main()
