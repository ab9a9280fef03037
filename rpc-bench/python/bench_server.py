#!/usr/bin/env python3
"""Python oslo.messaging RPC server for the rpc-bench comparison (the "python" system).

    bench_server.py --topic T --server S [--url URL] [--exit-on-stdin-eof]
                    [--stop-timeout SECONDS] [--log-file F] [--debug]

An oslo.messaging 18.3.1 RPC server with the threading executor and DEFAULT options (no config
file, no tuning: what OpenStack services run). URL default: $RABBIT_URL, else
rabbit://guest:guest@127.0.0.1:5672/. One endpoint, null namespace, default version:

    echo(ctxt, payload)  -> payload
    sink(ctxt, payload)  -> None; counts one processed cast (meant for cast)
    reset(ctxt)          -> None; zeroes the counters and takes a CPU and time baseline
    stats(ctxt)          -> {"processed": n,             # sink calls since the last reset
                             "echoed": n,                # echo calls since the last reset
                             "cpu_user": s, "cpu_sys": s, # getrusage(RUSAGE_SELF) since reset,
                                                          # whole process, all threads
                             "max_rss_kb": k,             # peak RSS of the process lifetime
                             "since_reset_s": s,          # seconds since the last reset
                             "last_processed_s": s|null}  # seconds from reset to the last sink

Prints "READY" (flushed) on stdout once consuming, and nothing else on stdout. Stops gracefully
on SIGTERM/SIGINT, or on stdin EOF with --exit-on-stdin-eof; then deletes its queues <topic>,
<topic>.<server> (both never expire) and its <topic>_fanout_<uuid> queue, each only if unused,
and exits 0 (3 if in-flight requests outlived --stop-timeout; 1 on start-up failure).
"""

import argparse
import os
import signal
import sys
import threading
import time
import warnings

import _benchlib  # noqa: F401  (first: selects the threading backend before oslo_messaging)
from _benchlib import LOG, cfg, oslo_messaging  # noqa: E402


class BenchEndpoint:
    # Null namespace, default version (1.0).
    target = oslo_messaging.Target()

    def __init__(self):
        self._lock = threading.Lock()
        self._reset_locked()

    def _reset_locked(self):
        self._processed = 0
        self._echoed = 0
        self._t0 = time.perf_counter()
        self._t_last = None
        self._cpu0 = _benchlib.rusage()

    def echo(self, ctxt, payload):
        with self._lock:
            self._echoed += 1
        return payload

    def sink(self, ctxt, payload):
        with self._lock:
            self._processed += 1
            self._t_last = time.perf_counter()

    def reset(self, ctxt):
        with self._lock:
            self._reset_locked()

    def stats(self, ctxt):
        user, sys_, rss = _benchlib.rusage()
        with self._lock:
            return {
                'processed': self._processed,
                'echoed': self._echoed,
                'cpu_user': round(user - self._cpu0[0], 6),
                'cpu_sys': round(sys_ - self._cpu0[1], 6),
                'max_rss_kb': rss,
                'since_reset_s': round(time.perf_counter() - self._t0, 6),
                'last_processed_s': (None if self._t_last is None
                                     else round(self._t_last - self._t0, 6)),
            }


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    p.add_argument('--url', default=_benchlib.DEFAULT_URL,
                   help='transport URL (default: $RABBIT_URL or the local guest broker)')
    p.add_argument('--topic', required=True, help='use a unique one on a shared broker')
    p.add_argument('--server', required=True)
    p.add_argument('--exit-on-stdin-eof', action='store_true',
                   help='stop gracefully when stdin closes (whoever started us is gone)')
    p.add_argument('--stop-timeout', type=float, default=15.0,
                   help='seconds to wait for in-flight requests on shutdown (default 15)')
    p.add_argument('--log-file', default=None, help='log here instead of stderr')
    p.add_argument('--debug', action='store_true', help='log at DEBUG (default WARNING)')
    return p.parse_args(argv)


def listener_queue_names(server):
    """Names of the queues the server consumes (to find the random fanout one). Best effort:
    oslo has no public API for it."""
    try:
        conn = server.listener._poll_style_listener.conn.connection
        return [c.queue_name for c in conn._consumers]
    except Exception:  # noqa: BLE001
        LOG.warning('could not list the listener queues', exc_info=True)
        return []


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    _benchlib.setup_logging(args.debug, args.log_file)
    _benchlib.init_conf()

    transport = oslo_messaging.get_rpc_transport(cfg.CONF, url=args.url)
    target = oslo_messaging.Target(topic=args.topic, server=args.server)
    with warnings.catch_warnings():
        # 'executor' is deprecated in 18.x (threading is the default); naming it documents it.
        warnings.simplefilter('ignore', DeprecationWarning)
        server = oslo_messaging.get_rpc_server(transport, target, [BenchEndpoint()],
                                               executor='threading')

    stop_requested = threading.Event()
    started = threading.Event()
    first_signal_at = []

    def early_exit(why):
        # Still inside server.start() (e.g. no broker: oslo retries forever): nothing graceful
        # to do; whoever started us cleans the queues up.
        LOG.warning('%s before READY: exiting', why)
        os._exit(1)

    def on_signal(signum, frame):
        if not started.is_set():
            early_exit('signal %d' % signum)
        if stop_requested.is_set():
            # `timeout` may signal both us and our process group: only a later repeat forces.
            if first_signal_at and time.monotonic() - first_signal_at[0] > 2.0:
                LOG.warning('repeated signal %d: exiting at once', signum)
                os._exit(1)
            return
        first_signal_at.append(time.monotonic())
        stop_requested.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    if args.exit_on_stdin_eof:
        def watch_stdin():
            try:
                while sys.stdin.buffer.read(65536):
                    pass
            except Exception:  # noqa: BLE001
                pass
            if not started.is_set():
                early_exit('stdin EOF')
            stop_requested.set()
        threading.Thread(target=watch_stdin, name='stdin-eof', daemon=True).start()

    try:
        server.start()  # returns once the topic, server and fanout consumers are consuming
    except Exception:  # noqa: BLE001
        LOG.exception('server start failed')
        sys.stderr.flush()
        os._exit(1)
    queues = ['%s.%s' % (args.topic, args.server), args.topic]
    queues += [q for q in listener_queue_names(server) if q not in queues]
    started.set()
    sys.stdout.write('READY\n')
    sys.stdout.flush()

    while not stop_requested.wait(0.5):
        pass

    def shutdown():
        server.stop()
        server.wait()

    stopper = threading.Thread(target=shutdown, name='bench-stop', daemon=True)
    stopper.start()
    stopper.join(args.stop_timeout)
    graceful = not stopper.is_alive()
    if not graceful:
        LOG.warning('in-flight requests still running after %.1f s', args.stop_timeout)
    cleaner = threading.Thread(target=transport.cleanup, daemon=True)
    cleaner.start()
    cleaner.join(10)
    if graceful:
        try:
            res = _benchlib.delete_queues(args.url, queues)
            LOG.info('queue clean-up: %s', res)
        except Exception:  # noqa: BLE001
            LOG.exception('deleting the queues failed')
    sys.stdout.flush()
    sys.stderr.flush()
    # os._exit: oslo's non-daemon helper threads must not hold the process.
    os._exit(0 if graceful else 3)


if __name__ == '__main__':
    main()
