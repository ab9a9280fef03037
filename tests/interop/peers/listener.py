#!/usr/bin/env python3
"""A real Python oslo.messaging 18.3.1 notification listener, used as a peer by the Rust
interop tests.

    listener.py --topic T [options]

Endpoints: 'all' handles every priority given (--priority, repeatable; default all seven);
with a --filter-* option, a second endpoint 'filtered' with that NotificationFilter. Prints
READY once consuming, then one JSON line per endpoint call:
    {"endpoint", "priority", "publisher_id", "event_type", "payload", "ctxt", "metadata"}
(batch mode: {"endpoint": "batch", "priority", "batch": [messages]}). --requeue-event E
returns REQUEUE for the first delivery of event type E. Stops on --count lines printed,
--max-seconds, or SIGTERM/SIGINT, with stop() and wait(); the queues stay, as oslo leaves
them.
"""

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
import warnings

warnings.filterwarnings('ignore', message=r'(?s).*Eventlet is deprecated')
from oslo_service import backend  # noqa: E402

backend.init_backend(backend.BackendType.THREADING)

from oslo_config import cfg  # noqa: E402
import oslo_messaging  # noqa: E402

PRIORITIES = ['audit', 'debug', 'info', 'warn', 'error', 'critical', 'sample']
_lock = threading.Lock()
_printed = [0]
_done = threading.Event()


def emit(obj, limit):
    with _lock:
        sys.stdout.write(json.dumps(obj) + '\n')
        sys.stdout.flush()
        _printed[0] += 1
        if limit is not None and _printed[0] >= limit:
            _done.set()


class Endpoint:
    def __init__(self, name, priorities, requeue_event, limit, batch):
        self.name = name
        self.limit = limit
        self.requeue_event = requeue_event
        self.requeued = False
        for prio in priorities:
            if batch:
                setattr(self, prio, self._make_batch(prio))
            else:
                setattr(self, prio, self._make(prio))

    def _make(self, prio):
        def handler(ctxt, publisher_id, event_type, payload, metadata):
            emit({'endpoint': self.name, 'priority': prio, 'publisher_id': publisher_id,
                  'event_type': event_type, 'payload': payload, 'ctxt': ctxt,
                  'metadata': metadata}, self.limit)
            if event_type == self.requeue_event and not self.requeued:
                self.requeued = True
                return oslo_messaging.NotificationResult.REQUEUE
            return oslo_messaging.NotificationResult.HANDLED
        return handler

    def _make_batch(self, prio):
        def handler(messages):
            emit({'endpoint': 'batch', 'priority': prio, 'batch': messages}, self.limit)
        return handler


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--url', default=os.environ.get(
        'RABBIT_URL', 'rabbit://guest:guest@127.0.0.1:5672/'))
    p.add_argument('--exchange', default=None, help='target exchange')
    p.add_argument('--topic', action='append', required=True)
    p.add_argument('--pool', default=None)
    p.add_argument('--priority', action='append', default=None)
    p.add_argument('--requeue-event', default=None)
    p.add_argument('--filter-event-type', default=None)
    p.add_argument('--filter-publisher-id', default=None)
    p.add_argument('--filter-payload', action='append', default=[], help='KEY=PATTERN')
    p.add_argument('--batch-size', type=int, default=None)
    p.add_argument('--batch-timeout', type=float, default=None)
    p.add_argument('--count', type=int, default=None)
    p.add_argument('--max-seconds', type=float, default=60)
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    cfg.CONF([], project='oslo-rpc-interop', default_config_files=[], default_config_dirs=[])
    transport = oslo_messaging.get_notification_transport(cfg.CONF, url=args.url)
    targets = [oslo_messaging.Target(topic=t, exchange=args.exchange) for t in args.topic]
    priorities = args.priority or PRIORITIES
    batch = args.batch_size is not None
    endpoints = [Endpoint('all', priorities, args.requeue_event, args.count, batch)]
    if args.filter_event_type or args.filter_publisher_id or args.filter_payload:
        filtered = Endpoint('filtered', priorities, None, args.count, False)
        filtered.filter_rule = oslo_messaging.NotificationFilter(
            event_type=args.filter_event_type, publisher_id=args.filter_publisher_id,
            payload=dict(kv.split('=', 1) for kv in args.filter_payload) or None)
        endpoints.append(filtered)
    if batch:
        listener = oslo_messaging.get_batch_notification_listener(
            transport, targets, endpoints, executor='threading', pool=args.pool,
            allow_requeue=True, batch_size=args.batch_size, batch_timeout=args.batch_timeout)
    else:
        listener = oslo_messaging.get_notification_listener(
            transport, targets, endpoints, executor='threading', pool=args.pool,
            allow_requeue=True)
    signal.signal(signal.SIGTERM, lambda *_: _done.set())
    signal.signal(signal.SIGINT, lambda *_: _done.set())
    listener.start()
    sys.stdout.write('READY\n')
    sys.stdout.flush()
    _done.wait(args.max_seconds)
    listener.stop()
    listener.wait()
    transport.cleanup()
    os._exit(0)


if __name__ == '__main__':
    main()
