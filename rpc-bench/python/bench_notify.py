#!/usr/bin/env python3
"""The Python side of `rpc-bench notify`: oslo.messaging 18.3.1 sends --count notifications
(messagingv2, confirmed, from --threads threads sharing one Notifier), then one notification
listener (threading executor) drains them. Prints one JSON line:
    {"ok": true, "sent": N, "send_seconds": S, "sent_per_s": R,
     "consumed": N, "consume_seconds": S, "consumed_per_s": R}
The queues it declared are deleted at the end.
"""

import argparse
import concurrent.futures
import json
import logging
import os
import sys
import threading
import time
import uuid
import warnings

warnings.filterwarnings('ignore', message=r'(?s).*Eventlet is deprecated')
from oslo_service import backend  # noqa: E402

backend.init_backend(backend.BackendType.THREADING)

from oslo_config import cfg  # noqa: E402
import oslo_messaging  # noqa: E402


class Counter:
    def __init__(self, target):
        self.target = target
        self.n = 0
        self.lock = threading.Lock()
        self.done = threading.Event()

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        with self.lock:
            self.n += 1
            if self.n >= self.target:
                self.done.set()


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--url', default=os.environ.get(
        'RABBIT_URL', 'rabbit://guest:guest@127.0.0.1:5672/'))
    p.add_argument('--count', type=int, default=2000)
    p.add_argument('--threads', type=int, default=8)
    args = p.parse_args()
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    cfg.CONF([], project='rpc-bench', default_config_files=[], default_config_dirs=[])
    topic = 'bench-notify-py-%s' % uuid.uuid4().hex
    transport = oslo_messaging.get_notification_transport(cfg.CONF, url=args.url)
    notifier = oslo_messaging.Notifier(transport, 'bench.py', driver='messagingv2',
                                       topics=[topic])
    payload = {'id': 1, 'state': 'active', 'name': 'x' * 16}
    notifier.info({}, 'bench.warmup', payload)
    per_thread = [args.count // args.threads + (1 if i < args.count % args.threads else 0)
                  for i in range(args.threads)]

    def send(n):
        for _ in range(n):
            notifier.info({}, 'bench.event', payload)

    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.threads) as pool:
        list(pool.map(send, per_thread))
    send_seconds = time.monotonic() - start

    counter = Counter(args.count + 1)  # the warm-up one too
    listener = oslo_messaging.get_notification_listener(
        transport, [oslo_messaging.Target(topic=topic)], [counter], executor='threading')
    start = time.monotonic()
    listener.start()
    finished = counter.done.wait(600)
    consume_seconds = time.monotonic() - start
    listener.stop()
    listener.wait()
    out = {'ok': finished, 'sent': args.count, 'send_seconds': round(send_seconds, 4),
           'sent_per_s': round(args.count / send_seconds, 1), 'consumed': counter.n,
           'consume_seconds': round(consume_seconds, 4),
           'consumed_per_s': round(counter.n / consume_seconds, 1)}
    sys.stdout.write(json.dumps(out) + '\n')
    sys.stdout.flush()
    try:
        import kombu
        with kombu.Connection(args.url.replace('rabbit://', 'amqp://')) as conn:
            conn.default_channel.queue_delete(topic + '.info')
    except Exception as exc:  # noqa: BLE001
        print('cleanup: %r' % exc, file=sys.stderr)
    transport.cleanup()
    os._exit(0)


if __name__ == '__main__':
    main()
