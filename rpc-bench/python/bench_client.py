#!/usr/bin/env python3
"""Python oslo.messaging RPC client for the rpc-bench comparison (the "python" system).

    bench_client.py --topic T [--url URL] [common options] WORKLOAD [workload options]

    seq      --count N [--payload-bytes 16]                     N sequential call(echo)
    inflight --count N --concurrency K [--payload-bytes 16]     K threads sharing one RPCClient
                                                                and transport, N calls in total
    casts    --count N [--payload-bytes 16] [--drain-timeout 120]
                                                                one publisher, cast(sink) N times
                                                                (each publish waits for its broker
                                                                confirm: oslo's default), then poll
                                                                stats until the server processed N
    echo     --count N [--payload-bytes 65536]                  N sequential call(echo), big payload

Common options (before WORKLOAD): --warmup W (default 20 calls, not measured), --timeout S
(per-call RPC timeout, default oslo's 60), --max-seconds S (bound of the measured part, default
600: past it the run stops and fails), --log-file F, --debug.

Talks to bench_server.py (same --topic; calls go to the shared <topic> queue). Default oslo
options. Output: exactly ONE JSON line on stdout; exit 0 if "ok" is true, 1 otherwise
(failures still print one line: {"ok": false, "system", "workload", "error": "..."}), 2 on bad
usage. Fields (latencies in microseconds, CPU in seconds, RSS in KiB):

  ok, system ("python-oslo.messaging-18.3.1"), workload, count, payload_bytes, concurrency,
  warmup, elapsed_s (measured part), errors (0 when ok),
  calls_per_s                           seq/inflight/echo: count / elapsed_s
  p50_us, p90_us, p99_us, mean_us, min_us, max_us   seq/inflight/echo (nearest-rank)
  sent_per_s, send_elapsed_s            casts: count / time to publish (and confirm) all casts
  processed, processed_per_s, processed_elapsed_s
                                        casts: server-side, from reset to the last sink processed
  client_cpu_user_s, client_cpu_sys_s, client_cpu_s, client_max_rss_kb
                                        this process, getrusage(RUSAGE_SELF), all threads, over
                                        the measured part (casts: the sending part); RSS = peak
  server_cpu_user_s, server_cpu_sys_s, server_cpu_s, server_max_rss_kb
                                        from the server's stats: reset just before the measured
                                        part, stats right after it (casts: when processed == N)
  cpu_per_call_us                       (client_cpu_s + server_cpu_s) / count * 1e6
  server_echoed                         echo calls the server saw in the measured part
  python, oslo_messaging, cpus, loadavg ([1, 5, 15] min, read before the measured part)
"""

import argparse
import json
import math
import os
import platform
import sys
import threading
import time

import _benchlib  # noqa: F401  (first: selects the threading backend before oslo_messaging)
from _benchlib import LOG, cfg, oslo_messaging  # noqa: E402


class BenchFailure(Exception):
    pass


def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100.0 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def latency_fields(lat_s):
    lat = sorted(lat_s)
    if not lat:
        return {}
    us = lambda v: round(v * 1e6, 1)  # noqa: E731
    return {
        'p50_us': us(percentile(lat, 50)),
        'p90_us': us(percentile(lat, 90)),
        'p99_us': us(percentile(lat, 99)),
        'mean_us': us(sum(lat) / len(lat)),
        'min_us': us(lat[0]),
        'max_us': us(lat[-1]),
    }


def loadavg():
    try:
        with open('/proc/loadavg') as f:
            return [float(x) for x in f.read().split()[:3]]
    except OSError:
        return None


class Bench:
    def __init__(self, args, transport):
        self.args = args
        client = oslo_messaging.get_rpc_client(
            transport, oslo_messaging.Target(topic=args.topic))
        opts = {}
        if args.timeout is not None:
            opts['timeout'] = args.timeout
        self.cctx = client.prepare(**opts)
        self.payload = 'x' * args.payload_bytes
        self.deadline = None

    def call(self, method, **kw):
        return self.cctx.call({}, method, **kw)

    def echo_once(self):
        result = self.cctx.call({}, 'echo', payload=self.payload)
        if result != self.payload:
            raise BenchFailure('echo returned a different payload (%d chars)' % len(result))

    def check_deadline(self):
        if time.perf_counter() > self.deadline:
            raise BenchFailure('measured part exceeded --max-seconds %s' % self.args.max_seconds)

    def warmup(self, concurrency=1):
        """Unmeasured echo calls; returns how many were made."""
        n = self.args.warmup
        if n <= 0:
            return 0
        if concurrency <= 1:
            for _ in range(n):
                self.echo_once()
            return n
        # Let every thread (and so every pooled send connection) warm up.
        n = max(n, 2 * concurrency)
        self._run_threads(n, concurrency, [])
        return n

    def _run_threads(self, count, concurrency, latencies):
        lock = threading.Lock()
        state = {'next': 0, 'errors': []}
        per_thread = [[] for _ in range(concurrency)]

        def worker(i):
            mine = per_thread[i]
            while True:
                with lock:
                    if state['errors'] or state['next'] >= count:
                        return
                    state['next'] += 1
                try:
                    if self.deadline is not None:
                        self.check_deadline()
                    t0 = time.perf_counter()
                    self.echo_once()
                    mine.append(time.perf_counter() - t0)
                except Exception as e:  # noqa: BLE001
                    with lock:
                        state['errors'].append(e)
                    return

        threads = [threading.Thread(target=worker, args=(i,), name='bench-%d' % i, daemon=True)
                   for i in range(concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if state['errors']:
            e = state['errors'][0]
            raise BenchFailure('%d call(s) failed, first: %s: %s'
                               % (len(state['errors']), type(e).__name__, e))
        for mine in per_thread:
            latencies.extend(mine)

    # ---- measured parts -------------------------------------------------------------------

    def measure(self, body):
        """reset server, run body() (returns extra fields), stats server; CPU of both sides."""
        self.call('reset')
        load = loadavg()
        c0 = _benchlib.rusage()
        t0 = time.perf_counter()
        self.deadline = t0 + self.args.max_seconds
        extra = body(t0)
        t1 = extra.pop('_t_end', None) or time.perf_counter()
        c1 = extra.pop('_c_end', None) or _benchlib.rusage()
        self.deadline = None
        server = extra.pop('_server_stats', None) or self.call('stats')
        out = {'elapsed_s': round(t1 - t0, 6)}
        out.update(extra)
        cu, cs = c1[0] - c0[0], c1[1] - c0[1]
        su, ss = server['cpu_user'], server['cpu_sys']
        out.update({
            'client_cpu_user_s': round(cu, 6),
            'client_cpu_sys_s': round(cs, 6),
            'client_cpu_s': round(cu + cs, 6),
            'client_max_rss_kb': c1[2],
            'server_cpu_user_s': round(su, 6),
            'server_cpu_sys_s': round(ss, 6),
            'server_cpu_s': round(su + ss, 6),
            'server_max_rss_kb': server['max_rss_kb'],
            'server_echoed': server['echoed'],
            'cpu_per_call_us': round((cu + cs + su + ss) / self.args.count * 1e6, 1),
            'loadavg': load,
        })
        return out

    def run_seq(self):
        self.warmed_up = self.warmup()
        n = self.args.count
        lat = []

        def body(t0):
            for _ in range(n):
                self.check_deadline()
                s = time.perf_counter()
                self.echo_once()
                lat.append(time.perf_counter() - s)
            t1 = time.perf_counter()
            c1 = _benchlib.rusage()
            return {'_t_end': t1, '_c_end': c1, 'calls_per_s': round(n / (t1 - t0), 1)}

        out = self.measure(body)
        out.update(latency_fields(lat))
        return out

    run_echo = run_seq

    def run_inflight(self):
        k = self.args.concurrency
        self.warmed_up = self.warmup(k)
        n = self.args.count
        lat = []

        def body(t0):
            self._run_threads(n, k, lat)
            t1 = time.perf_counter()
            c1 = _benchlib.rusage()
            return {'_t_end': t1, '_c_end': c1, 'calls_per_s': round(n / (t1 - t0), 1)}

        out = self.measure(body)
        out.update(latency_fields(lat))
        return out

    def wait_processed(self, target, timeout):
        """Poll stats until processed >= target; returns the last stats."""
        end = time.perf_counter() + timeout
        while True:
            st = self.call('stats')
            if st['processed'] >= target:
                return st
            if time.perf_counter() > end:
                raise BenchFailure('server processed %d of %d casts within %s s'
                                   % (st['processed'], target, timeout))
            time.sleep(0.1)

    def run_casts(self):
        self.warmed_up = self.warmup()
        w = self.args.warmup
        if w:
            # Warm-up casts must all be processed before measure() resets the counter.
            self.call('reset')
            for _ in range(w):
                self.cctx.cast({}, 'sink', payload=self.payload)
            self.wait_processed(w, 30)
        n = self.args.count

        def body(t0):
            for _ in range(n):
                self.check_deadline()
                # Returns once the broker has confirmed the publish (confirm_publish default).
                self.cctx.cast({}, 'sink', payload=self.payload)
            t1 = time.perf_counter()
            c1 = _benchlib.rusage()
            st = self.wait_processed(n, self.args.drain_timeout)
            if st['processed'] != n:
                raise BenchFailure('server processed %d casts, expected %d'
                                   % (st['processed'], n))
            pe = st['last_processed_s']
            return {
                '_t_end': t1,
                '_c_end': c1,
                '_server_stats': st,
                'send_elapsed_s': round(t1 - t0, 6),
                'sent_per_s': round(n / (t1 - t0), 1),
                'processed': st['processed'],
                'processed_elapsed_s': pe,
                'processed_per_s': round(n / pe, 1) if pe else None,
            }

        return self.measure(body)


def parse_args(argv):
    p = argparse.ArgumentParser(
        description=__doc__.split('\n')[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--url', default=_benchlib.DEFAULT_URL,
                   help='transport URL (default: $RABBIT_URL or the local guest broker)')
    p.add_argument('--topic', required=True)
    p.add_argument('--warmup', type=int, default=20,
                   help='unmeasured warm-up calls (default 20; inflight: at least 2*K)')
    p.add_argument('--timeout', type=float, default=None,
                   help="per-call RPC timeout in s (default: oslo's rpc_response_timeout, 60)")
    p.add_argument('--max-seconds', type=float, default=600.0,
                   help='fail if the measured part takes longer (default 600)')
    p.add_argument('--log-file', default=None)
    p.add_argument('--debug', action='store_true')
    sub = p.add_subparsers(dest='workload', required=True)
    for name, payload in (('seq', 16), ('inflight', 16), ('casts', 16), ('echo', 65536)):
        s = sub.add_parser(name)
        s.add_argument('--count', type=int, required=True)
        s.add_argument('--payload-bytes', type=int, default=payload)
        if name == 'inflight':
            s.add_argument('--concurrency', type=int, required=True)
        if name == 'casts':
            s.add_argument('--drain-timeout', type=float, default=120.0,
                           help='seconds to wait for the server to process every cast')
    args = p.parse_args(argv)
    if args.count < 1 or args.payload_bytes < 0 or args.warmup < 0:
        p.error('--count must be >= 1, --payload-bytes and --warmup >= 0')
    if getattr(args, 'concurrency', 1) < 1:
        p.error('--concurrency must be >= 1')
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    _benchlib.setup_logging(args.debug, args.log_file)
    _benchlib.init_conf()
    out = {
        'ok': False,
        'system': _benchlib.SYSTEM,
        'workload': args.workload,
        'count': args.count,
        'payload_bytes': args.payload_bytes,
        'concurrency': getattr(args, 'concurrency', 1),
        'warmup': args.warmup,
    }
    transport = None
    reply_q = None
    code = 1
    try:
        transport = oslo_messaging.get_rpc_transport(cfg.CONF, url=args.url)
        bench = Bench(args, transport)
        out.update(getattr(bench, 'run_' + args.workload)())
        out['warmup'] = bench.warmed_up
        out.update({'ok': True, 'errors': 0})
        code = 0
    except Exception as e:  # noqa: BLE001 - always one JSON line
        LOG.debug('benchmark failed', exc_info=True)
        out['error'] = '%s: %s' % (type(e).__name__, e)
    finally:
        out.update({'python': platform.python_version(),
                    'oslo_messaging': _benchlib.oslo_version(),
                    'cpus': os.cpu_count()})
        sys.stdout.write(json.dumps(out) + '\n')
        sys.stdout.flush()
        if transport is not None:
            reply_q = getattr(getattr(transport, '_driver', None), '_reply_q', None)
            t = threading.Thread(target=transport.cleanup, daemon=True)
            t.start()
            t.join(5)
            if reply_q:
                # Ours alone; it would otherwise linger 30 min (x-expires, spec section 2.1).
                try:
                    _benchlib.delete_queues(args.url, [reply_q])
                except Exception:  # noqa: BLE001
                    LOG.warning('could not delete %s', reply_q, exc_info=True)
        sys.stderr.flush()
        os._exit(code)


if __name__ == '__main__':
    main()
