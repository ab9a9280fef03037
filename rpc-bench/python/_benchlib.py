"""Shared helpers of bench_server.py and bench_client.py (not a CLI of its own except
``python _benchlib.py delete-queues --url URL QUEUE...``, which run_python.sh uses to clean up
after a server that had to be killed).

Importing this module initialises oslo.service's THREADING backend before oslo_messaging is
imported (trap 1 of tests/interop/README.md): import it before anything from oslo_messaging.
"""

import logging
import os
import resource
import sys
import warnings

# Trap 1: oslo.service 4.x (imported by oslo.messaging) defaults to the eventlet backend.
warnings.filterwarnings('ignore', message=r'(?s).*Eventlet is deprecated')
from oslo_service import backend  # noqa: E402

backend.init_backend(backend.BackendType.THREADING)

# Trap 2: the global cfg.CONF only (oslo.messaging 18.3.x registers its tracing/metrics
# options there; a private ConfigOpts makes call()/cast() fail).
from oslo_config import cfg  # noqa: E402
import oslo_messaging  # noqa: E402

LOG = logging.getLogger('rpc-bench.python')

DEFAULT_URL = os.environ.get('RABBIT_URL', 'rabbit://guest:guest@127.0.0.1:5672/')


def oslo_version():
    from importlib.metadata import version
    return version('oslo.messaging')


SYSTEM = 'python-oslo.messaging-%s' % oslo_version()


def init_conf():
    """Defaults only: no command line, no config file (we measure what services run)."""
    cfg.CONF([], project='oslo-rpc-bench', default_config_files=[], default_config_dirs=[])


def setup_logging(debug=False, log_file=None):
    level = logging.DEBUG if debug else logging.WARNING
    fmt = '%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s'
    if log_file:
        logging.basicConfig(filename=log_file, level=level, format=fmt)
    else:
        logging.basicConfig(stream=sys.stderr, level=level, format=fmt)


def rusage():
    """(user seconds, system seconds, max RSS KiB) of the whole process (all threads)."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime, ru.ru_stime, ru.ru_maxrss


def _ssl_options(query, host):
    """py-amqp's ``ssl`` for a URL's oslo TLS options, as impl_rabbit builds it."""
    if str(query.get('ssl', '')).lower() not in ('1', 'true', 'yes', 'on'):
        return False
    import ssl
    options = {}
    if query.get('ssl_cert_file'):
        options['certfile'] = query['ssl_cert_file']
        if query.get('ssl_key_file'):
            options['keyfile'] = query['ssl_key_file']
    if query.get('ssl_ca_file'):
        options['ca_certs'] = query['ssl_ca_file']
        options['cert_reqs'] = ssl.CERT_REQUIRED
        options['server_hostname'] = host.hostname if host else None
    return options or True


def delete_queues(url, names, timeout=5.0):
    """Delete the named queues if nobody consumes them (if_unused); best effort.

    Only for queues this benchmark created itself: topic queues never expire (spec section 2.1),
    reply_* and *_fanout_* ones only after 30 min. Returns {name: "deleted" | "error: ..."}."""
    import amqp

    parsed = oslo_messaging.TransportURL.parse(cfg.CONF, url)
    host = parsed.hosts[0] if parsed.hosts else None
    conn = amqp.Connection(
        host='%s:%s' % ((host.hostname if host else None) or '127.0.0.1',
                        (host.port if host else None) or 5672),
        userid=(host.username if host else None) or 'guest',
        password=(host.password if host else None) or 'guest',
        virtual_host=parsed.virtual_host or '/', connect_timeout=timeout,
        read_timeout=timeout, write_timeout=timeout,
        ssl=_ssl_options(parsed.query or {}, host))
    conn.connect()
    out = {}
    try:
        for name in names:
            if not name:
                continue
            ch = conn.channel()
            try:
                ch.queue_delete(name, if_unused=True)
                out[name] = 'deleted'
            except Exception as e:  # noqa: BLE001 - e.g. in use: keep it (channel is closed)
                out[name] = 'error: %s' % (e,)
                LOG.warning('queue %s not deleted: %s', name, e)
                continue
            try:
                ch.close()
            except Exception:  # noqa: BLE001
                pass
    finally:
        try:
            conn.close()
        except Exception:  # noqa: BLE001
            pass
    return out


def _main(argv):
    import argparse
    import json
    p = argparse.ArgumentParser(description='delete this benchmark\'s own queues (if unused)')
    p.add_argument('command', choices=['delete-queues'])
    p.add_argument('--url', default=DEFAULT_URL)
    p.add_argument('queues', nargs='+')
    args = p.parse_args(argv)
    setup_logging()
    init_conf()
    try:
        print(json.dumps(delete_queues(args.url, args.queues)))
    except Exception as e:  # noqa: BLE001 - e.g. no broker
        print(json.dumps({'error': '%s: %s' % (type(e).__name__, e)}))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(_main(sys.argv[1:]))
