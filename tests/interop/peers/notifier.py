#!/usr/bin/env python3
"""A real Python oslo.messaging 18.3.1 Notifier, used as a peer by the Rust interop tests.

    notifier.py --topic T [--topic T2] [options] PAYLOAD_JSON

Sends one notification per priority given (--priority, repeatable; default info), --repeat
times each (the index goes in the payload under --index-key when given). PAYLOAD_JSON is any
JSON value; '-' reads it from stdin, '@PATH' from a file. --context is a plain dict (which
oslo drops, notify spec section 1.4) unless --request-context, which builds an oslo.context
RequestContext from it. Prints {"ok": true, "sent": N} or {"ok": false, "error": ...}.
"""

import argparse
import json
import logging
import os
import sys
import warnings

warnings.filterwarnings('ignore', message=r'(?s).*Eventlet is deprecated')
from oslo_service import backend  # noqa: E402

backend.init_backend(backend.BackendType.THREADING)

from oslo_config import cfg  # noqa: E402
from oslo_context import context as oslo_context  # noqa: E402
import oslo_messaging  # noqa: E402


def load(text):
    if text == '-':
        text = sys.stdin.read()
    elif text.startswith('@'):
        with open(text[1:], encoding='utf-8') as f:
            text = f.read()
    return json.loads(text)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--url', default=os.environ.get(
        'RABBIT_URL', 'rabbit://guest:guest@127.0.0.1:5672/'))
    p.add_argument('--exchange', default=None, help='control exchange')
    p.add_argument('--topic', action='append', required=True)
    p.add_argument('--driver', default='messagingv2')
    p.add_argument('--publisher-id', default=None)
    p.add_argument('--event-type', default='interop.event')
    p.add_argument('--priority', action='append', default=None)
    p.add_argument('--context', default='{}')
    p.add_argument('--request-context', action='store_true')
    p.add_argument('--repeat', type=int, default=1)
    p.add_argument('--index-key', default=None)
    p.add_argument('--retry', type=int, default=None)
    p.add_argument('payload', nargs='?', default='{}')
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if args.exchange:
        oslo_messaging.set_transport_defaults(control_exchange=args.exchange)
    cfg.CONF([], project='oslo-rpc-interop', default_config_files=[], default_config_dirs=[])
    payload = load(args.payload)
    ctxt = load(args.context)
    if args.request_context:
        ctxt = oslo_context.RequestContext(**ctxt)
    transport = oslo_messaging.get_notification_transport(cfg.CONF, url=args.url)
    notifier = oslo_messaging.Notifier(transport, args.publisher_id, driver=args.driver,
                                       topics=args.topic, retry=args.retry)
    sent = 0
    try:
        for priority in args.priority or ['info']:
            method = getattr(notifier, priority)
            for i in range(args.repeat):
                body = payload
                if args.index_key:
                    body = dict(payload, **{args.index_key: i})
                method(ctxt, args.event_type, body)
                sent += 1
        out = {'ok': True, 'sent': sent}
    except Exception as exc:  # noqa: BLE001
        out = {'ok': False, 'error': repr(exc), 'sent': sent}
    sys.stdout.write(json.dumps(out) + '\n')
    sys.stdout.flush()
    transport.cleanup()
    os._exit(0)


if __name__ == '__main__':
    main()
