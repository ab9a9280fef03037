#!/usr/bin/env python3
"""A real Python oslo.messaging 18.3.1 RPC client, used as a peer by the Rust interop tests.

    client.py --topic T [options] {call,cast} METHOD [ARGS_JSON]

ARGS_JSON is a JSON object of keyword arguments (Python's json: NaN/Infinity accepted);
'-' reads it from stdin and '@PATH' from a file (a single argv string is limited to 128 KiB
on Linux, so 1 MiB payloads must come that way). --context takes the same forms.

One-shot mode prints exactly one JSON line on stdout:
    {"ok": true, "result": R, "elapsed": S}
    {"ok": false, "exception": "<module>.<Class>", "message": str(exc), "args": [...],
     "kwargs": {...} (only if the exception has them), "remote": {...} (RemoteError only),
     "elapsed": S}
Batch mode (--concurrency N and/or --repeat M) runs M calls over N threads on one client and
prints one such line per call, each with an "index", then {"summary": {"ok", "failed", "elapsed"}}.
The exit code is 0 whatever the RPC outcome; 2 means bad usage.
"""

import argparse
import concurrent.futures
import json
import logging
import os
import sys
import threading
import time
import warnings

# Trap 1: select oslo.service's threading backend BEFORE importing oslo_messaging.
warnings.filterwarnings('ignore', message=r'(?s).*Eventlet is deprecated')
from oslo_service import backend  # noqa: E402

backend.init_backend(backend.BackendType.THREADING)

# Trap 2: use the global cfg.CONF (spec section 10.2, bug 17).
from oslo_config import cfg  # noqa: E402
import oslo_messaging  # noqa: E402

LOG = logging.getLogger('interop.client')
_print_lock = threading.Lock()


def emit(obj):
    # json.dumps keeps NaN/Infinity as bare tokens, like oslo itself (spec section 3.1).
    line = json.dumps(obj, default=repr)
    with _print_lock:
        sys.stdout.write(line + '\n')
        sys.stdout.flush()


def number(text):
    """An int when the text is one (so call_monitor_timeout=2 goes out as `2`, not `2.0`)."""
    try:
        return int(text)
    except ValueError:
        return float(text)


def load_json_arg(parser, what, text):
    if text == '-':
        text = sys.stdin.read()
    elif text.startswith('@'):
        with open(text[1:], encoding='utf-8') as f:
            text = f.read()
    try:
        value = json.loads(text)
    except ValueError as e:
        parser.error('%s is not valid JSON: %s' % (what, e))
    if not isinstance(value, dict):
        parser.error('%s must be a JSON object' % what)
    return value


def parse_args(argv):
    p = argparse.ArgumentParser(
        description='oslo.messaging RPC client peer for the oslo-rpc interop tests')
    p.add_argument('--url', default=None,
                   help='transport URL (default: the config files\' transport_url with '
                        '--config-file, else $RABBIT_URL or the local guest broker)')
    p.add_argument('--config-file', action='append', default=[], metavar='FILE',
                   help='an oslo config file (nova.conf-style), read by oslo.config as a '
                        'service reads it; repeatable, later files win. Its [DEFAULT] '
                        'transport_url and control_exchange and its [oslo_messaging_rabbit] '
                        'and [oslo_concurrency] options apply')
    p.add_argument('--exchange', default=None,
                   help="control exchange (default: oslo's 'openstack')")
    p.add_argument('--topic', required=True)
    p.add_argument('--server', default=None, help='send to <topic>.<server>')
    ns = p.add_mutually_exclusive_group()
    ns.add_argument('--namespace', default=None, help='target namespace (default: none)')
    ns.add_argument('--null-namespace', action='store_true',
                    help='explicitly prepare(namespace=None): no "namespace" key is sent')
    p.add_argument('--version', default=None, help='target version, e.g. 1.3')
    p.add_argument('--version-cap', default=None, help='client version cap')
    p.add_argument('--timeout', type=number, default=None,
                   help='call timeout in seconds (default: rpc_response_timeout, 60)')
    p.add_argument('--call-monitor-timeout', type=number, default=None,
                   help='call monitor timeout in seconds (sent as _timeout)')
    p.add_argument('--retry', type=int, default=None,
                   help='connection retries (default: forever)')
    p.add_argument('--fanout', action='store_true', help='fanout (cast only)')
    p.add_argument('--context', default='{}',
                   help='context as a JSON object (plain dict, key order kept), - or @PATH')
    p.add_argument('--allowed-exmods', default='',
                   help='comma-separated allowed_remote_exmods, e.g. calc_errors')
    p.add_argument('--concurrency', type=int, default=None,
                   help='batch mode: number of threads (default 1)')
    p.add_argument('--repeat', type=int, default=None,
                   help='batch mode: number of calls (default: --concurrency)')
    p.add_argument('--index-arg', default=None,
                   help='batch mode: also pass the call index as this keyword argument')
    p.add_argument('--log-file', default=None, help='log here instead of stderr')
    p.add_argument('--debug', action='store_true', help='log at DEBUG (default WARNING)')
    p.add_argument('kind', choices=['call', 'cast'])
    p.add_argument('method')
    p.add_argument('args_json', nargs='?', default='{}', metavar='ARGS_JSON')
    args = p.parse_intermixed_args(argv)
    if args.url is None and not args.config_file:
        args.url = os.environ.get('RABBIT_URL', 'rabbit://guest:guest@127.0.0.1:5672/')

    args.call_args = load_json_arg(p, 'ARGS_JSON', args.args_json)
    args.ctxt = load_json_arg(p, '--context', args.context)
    args.exmods = [m.strip() for m in args.allowed_exmods.split(',') if m.strip()]
    args.batch = args.concurrency is not None or args.repeat is not None
    if args.batch:
        args.concurrency = args.concurrency or 1
        args.repeat = args.repeat if args.repeat is not None else args.concurrency
        if args.concurrency < 1 or args.repeat < 0:
            p.error('--concurrency must be >= 1 and --repeat >= 0')
    elif args.index_arg:
        p.error('--index-arg needs batch mode (--concurrency/--repeat)')
    return args


def setup_logging(args):
    level = logging.DEBUG if args.debug else logging.WARNING
    fmt = '%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s'
    if args.log_file:
        logging.basicConfig(filename=args.log_file, level=level, format=fmt)
    else:
        logging.basicConfig(stream=sys.stderr, level=level, format=fmt)


def describe_exception(exc):
    cls = type(exc)
    out = {
        'ok': False,
        'exception': '%s.%s' % (cls.__module__, cls.__name__),
        'message': str(exc),
        'args': list(exc.args),
    }
    kwargs = getattr(exc, 'kwargs', None)
    if isinstance(kwargs, dict):
        out['kwargs'] = kwargs
    if isinstance(exc, oslo_messaging.RemoteError):
        out['remote'] = {'exc_type': exc.exc_type, 'value': exc.value,
                         'traceback': exc.traceback}
    return out


def invoke(cctx, args, ctxt, call_args):
    start = time.monotonic()
    try:
        if args.kind == 'call':
            result = cctx.call(ctxt, args.method, **call_args)
        else:
            result = cctx.cast(ctxt, args.method, **call_args)
        out = {'ok': True, 'result': result}
    except Exception as exc:  # noqa: BLE001 - every failure is reported as JSON
        LOG.debug('%s %s failed', args.kind, args.method, exc_info=True)
        out = describe_exception(exc)
    out['elapsed'] = round(time.monotonic() - start, 6)
    return out


def prepare_options(args):
    opts = {}
    if args.server is not None:
        opts['server'] = args.server
    if args.null_namespace:
        opts['namespace'] = None
    elif args.namespace is not None:
        opts['namespace'] = args.namespace
    if args.version is not None:
        opts['version'] = args.version
    if args.version_cap is not None:
        opts['version_cap'] = args.version_cap
    if args.timeout is not None:
        opts['timeout'] = args.timeout
    if args.call_monitor_timeout is not None:
        opts['call_monitor_timeout'] = args.call_monitor_timeout
    if args.retry is not None:
        opts['retry'] = args.retry
    if args.fanout:
        opts['fanout'] = True
    return opts


def run(args, transport):
    client = oslo_messaging.get_rpc_client(transport, oslo_messaging.Target(topic=args.topic))
    cctx = client.prepare(**prepare_options(args))

    if not args.batch:
        # A plain dict context: packed as _context_<key> in insertion order.
        emit(invoke(cctx, args, dict(args.ctxt), args.call_args))
        return

    def one(index):
        call_args = dict(args.call_args)
        if args.index_arg:
            call_args[args.index_arg] = index
        out = invoke(cctx, args, dict(args.ctxt), call_args)
        out['index'] = index
        emit(out)
        return out['ok']

    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        oks = list(pool.map(one, range(args.repeat)))
    emit({'summary': {'ok': sum(oks), 'failed': len(oks) - sum(oks),
                      'elapsed': round(time.monotonic() - start, 6)}})


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    setup_logging(args)

    if args.exchange:
        oslo_messaging.set_transport_defaults(control_exchange=args.exchange)
    # Only the files given, as `nova-compute --config-file F` reads them (no default
    # files or directories are searched); without any, defaults only.
    config_args = [arg for path in args.config_file for arg in ('--config-file', path)]
    cfg.CONF(config_args, project='oslo-rpc-interop', default_config_files=[],
             default_config_dirs=[])

    transport = None
    try:
        transport = oslo_messaging.get_rpc_transport(
            cfg.CONF, url=args.url, allowed_remote_exmods=args.exmods)
        run(args, transport)
    except Exception as exc:  # noqa: BLE001 - e.g. a bad URL: still one JSON line
        out = describe_exception(exc)
        out['elapsed'] = 0.0
        emit(out)
    finally:
        if transport is not None:
            # Bounded: cleanup must not keep a test waiting.
            t = threading.Thread(target=transport.cleanup, daemon=True)
            t.start()
            t.join(5)
        sys.stdout.flush()
        sys.stderr.flush()
        logging.shutdown()
        os._exit(0)


if __name__ == '__main__':
    main()
