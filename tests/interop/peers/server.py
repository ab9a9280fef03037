#!/usr/bin/env python3
"""A real Python oslo.messaging 18.3.1 RPC server, used as a peer by the Rust interop tests.

    server.py --topic T --server S [--url URL | --config-file F ...] [--exchange X]
              [--log-file F] [--debug]

Endpoints, in registration order (spec section 6.1):

* ``CalcEndpoint``, ``Target(namespace='calc', version='1.3')``: add, echo, sleep, fail,
  resize, echo_floats, context, record (meant for cast), recorded;
* ``PingEndpoint``, ``Target(version='2.0')`` (null namespace): ping.

Prints ``READY`` on stdout once the consumers are up, one JSON line per ``record`` cast
(``{"event": "cast", "tag": ..., "server": ...}``), and stops gracefully on SIGTERM/SIGINT
(exit 0; exit 3 if in-flight requests did not finish within --stop-timeout seconds).
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

# Trap 1: oslo.service 4.x (imported by oslo.messaging) defaults to the eventlet backend.
# The threading backend must be selected BEFORE oslo_messaging is imported.
warnings.filterwarnings('ignore', message=r'(?s).*Eventlet is deprecated')
from oslo_service import backend  # noqa: E402

backend.init_backend(backend.BackendType.THREADING)

# Trap 2: oslo.messaging 18.3.x registers its tracing/metrics options on the global CONF
# only; a private ConfigOpts makes call()/cast() fail (spec section 10.2, bug 17).
from oslo_config import cfg  # noqa: E402
import oslo_messaging  # noqa: E402

import calc_errors  # noqa: E402  (next to this file, so on sys.path[0])

LOG = logging.getLogger('interop.server')
_print_lock = threading.Lock()


def emit(obj):
    with _print_lock:
        sys.stdout.write(json.dumps(obj) + '\n')
        sys.stdout.flush()


class OtherError(Exception):
    """Defined in the server's own module (``__main__``): clients cannot import it,
    so it always arrives as ``RemoteError``."""


class CalcEndpoint:
    target = oslo_messaging.Target(namespace='calc', version='1.3')

    def __init__(self, server_name):
        self.server_name = server_name
        self._lock = threading.Lock()
        self._recorded = []

    def add(self, ctxt, a, b):
        return a + b

    def echo(self, ctxt, payload):
        return payload

    def sleep(self, ctxt, seconds):
        time.sleep(seconds)
        return seconds

    def fail(self, ctxt, kind):
        if kind == 'value':
            raise ValueError('bad value')
        if kind == 'key':
            raise KeyError('k')
        if kind == 'custom':
            raise calc_errors.CalcError('custom err', code=7)
        if kind == 'other':
            raise OtherError('other err')
        raise ValueError('unknown kind %r' % (kind,))

    def resize(self, ctxt, size, force=None):
        # The rolling-upgrade example: `force` appeared in 1.3 and may be absent.
        return None

    def echo_floats(self, ctxt, values):
        return values

    def context(self, ctxt):
        # The context as received; oslo adds 'client_timeout' (spec section 3.3).
        return dict(ctxt)

    def record(self, ctxt, tag):
        with self._lock:
            self._recorded.append(tag)
        emit({'event': 'cast', 'tag': tag, 'server': self.server_name})

    def recorded(self, ctxt):
        with self._lock:
            return list(self._recorded)


class PingEndpoint:
    target = oslo_messaging.Target(version='2.0')

    def ping(self, ctxt):
        return 'pong'


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[1])
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
    p.add_argument('--server', required=True)
    p.add_argument('--log-file', default=None, help='log here instead of stderr')
    p.add_argument('--debug', action='store_true', help='log at DEBUG (default WARNING)')
    p.add_argument('--delete-queues', action='store_true',
                   help='after a graceful stop, delete the queues <topic>.<server> and, if no '
                        'other consumer uses it, <topic> (oslo itself never deletes them)')
    p.add_argument('--exit-on-stdin-eof', action='store_true',
                   help='stop gracefully when stdin closes (the test that started us is gone)')
    p.add_argument('--stop-timeout', type=float, default=15.0,
                   help='seconds to wait for in-flight requests on shutdown (default 15)')
    args = p.parse_args(argv)
    if args.url is None and not args.config_file:
        args.url = os.environ.get('RABBIT_URL', 'rabbit://guest:guest@127.0.0.1:5672/')
    if args.delete_queues and args.url is None:
        p.error('--delete-queues needs --url (it connects without TLS to its first host)')
    return args


def setup_logging(args):
    level = logging.DEBUG if args.debug else logging.WARNING
    fmt = '%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s'
    if args.log_file:
        logging.basicConfig(filename=args.log_file, level=level, format=fmt)
    else:
        logging.basicConfig(stream=sys.stderr, level=level, format=fmt)


def delete_queues(url, names):
    """Delete this server's non-expiring queues (topic queues have no TTL, spec section 2.1).

    Only queues without consumers are deleted (if_unused), so a topic queue still shared
    with another running server stays."""
    import amqp

    parsed = oslo_messaging.TransportURL.parse(cfg.CONF, url)
    host = parsed.hosts[0] if parsed.hosts else None
    conn = amqp.Connection(
        host='%s:%s' % (host.hostname if host else '127.0.0.1', (host.port if host else None) or 5672),
        userid=(host.username if host else None) or 'guest',
        password=(host.password if host else None) or 'guest',
        virtual_host=parsed.virtual_host or '/', connect_timeout=5)
    conn.connect()
    try:
        for name in names:
            ch = conn.channel()
            try:
                ch.queue_delete(name, if_unused=True)
            except Exception as e:  # noqa: BLE001 - e.g. still in use: keep it
                LOG.warning('queue %s not deleted: %s', name, e)
                continue
            try:
                ch.close()
            except Exception:  # noqa: BLE001
                pass
    finally:
        conn.close()


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

    transport = oslo_messaging.get_rpc_transport(cfg.CONF, url=args.url)
    target = oslo_messaging.Target(topic=args.topic, server=args.server)
    endpoints = [CalcEndpoint(args.server), PingEndpoint()]
    with warnings.catch_warnings():
        # 'executor' is deprecated in 18.x, but naming it documents the choice.
        warnings.simplefilter('ignore', DeprecationWarning)
        server = oslo_messaging.get_rpc_server(transport, target, endpoints,
                                               executor='threading')

    stop_requested = threading.Event()
    first_signal_at = []

    def on_signal(signum, frame):
        if stop_requested.is_set():
            # The same signal often arrives twice at once (e.g. `timeout` signals both
            # the child and its process group): only a later, repeated one forces exit.
            # (Stopping may also have begun on stdin EOF, which records no time.)
            if first_signal_at and time.monotonic() - first_signal_at[0] > 2.0:
                LOG.warning('repeated signal %d: exiting at once', signum)
                os._exit(1)
            return
        LOG.info('signal %d: stopping', signum)
        first_signal_at.append(time.monotonic())
        stop_requested.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    if args.exit_on_stdin_eof:
        def watch_stdin():
            sys.stdin.read()
            LOG.info('stdin closed: stopping')
            stop_requested.set()
        threading.Thread(target=watch_stdin, name='stdin-eof', daemon=True).start()

    server.start()  # returns once the three consumers are declared and consuming
    sys.stdout.write('READY\n')
    sys.stdout.flush()

    while not stop_requested.wait(0.5):
        pass

    def shutdown():
        server.stop()
        server.wait()

    stopper = threading.Thread(target=shutdown, name='interop-stop', daemon=True)
    stopper.start()
    stopper.join(args.stop_timeout)
    graceful = not stopper.is_alive()
    if not graceful:
        LOG.warning('in-flight requests still running after %.1f s: forcing exit',
                    args.stop_timeout)
    try:
        transport.cleanup()
    except Exception:  # noqa: BLE001 - best effort on the way out
        LOG.exception('transport cleanup failed')
    if graceful and args.delete_queues:
        try:
            delete_queues(args.url, ['%s.%s' % (args.topic, args.server), args.topic])
        except Exception:  # noqa: BLE001
            LOG.exception('deleting the queues failed')
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    # os._exit: oslo's call-monitor watchdog threads are non-daemon and can outlive
    # a NoSuchMethod reply (spec section 10.2, bug 2); do not let them hold the process.
    os._exit(0 if graceful else 3)


if __name__ == '__main__':
    main()
