#!/usr/bin/env python3
"""Captures what oslo.messaging 18.3.1 notifiers and notification listeners put on a real
RabbitMQ broker, for docs/spec-notifications.md and the test vectors in
rpc-runtime/tests/fixtures/oslo-18.3.1-notifications.json.

    PY=$(bash tests/interop/setup.sh | tail -n 1)
    $PY tests/interop/capture_notifications.py --out rpc-runtime/tests/fixtures/oslo-18.3.1-notifications.json

Needs `rabbitmqctl` (it creates scratch vhosts `notifycap-<uuid>` with the firehose tracer on,
and deletes them at the end; nothing outside them is touched) and the broker on
127.0.0.1:5672 with guest/guest.
"""

import argparse
import base64
import json
import logging
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
import warnings

warnings.filterwarnings('ignore', message=r'(?s).*Eventlet is deprecated')
from oslo_service import backend  # noqa: E402

backend.init_backend(backend.BackendType.THREADING)

import amqp  # noqa: E402
from oslo_config import cfg  # noqa: E402
from oslo_context import context as oslo_context  # noqa: E402
import oslo_messaging  # noqa: E402

LOG = logging.getLogger('capture')


def ctl(*args):
    out = subprocess.run(['rabbitmqctl', *args], check=True, capture_output=True, text=True,
                         timeout=60)
    return out.stdout


def listing(vhost, what, fields):
    rows = []
    out = ctl(what, '-p', vhost, '--quiet', '--formatter', 'json', *fields)
    for row in json.loads(out or '[]'):
        rows.append(row)
    return rows


class Firehose:
    """Consumes amq.rabbitmq.trace of one vhost into a list of events."""

    def __init__(self, vhost):
        self.vhost = vhost
        self.events = queue.Queue()
        self.conn = amqp.Connection('127.0.0.1:5672', userid='guest', password='guest',
                                    virtual_host=vhost)
        self.conn.connect()
        self.ch = self.conn.channel()
        q, _, _ = self.ch.queue_declare('', exclusive=True, auto_delete=True)
        self.ch.queue_bind(q, 'amq.rabbitmq.trace', 'publish.#')
        self.ch.queue_bind(q, 'amq.rabbitmq.trace', 'deliver.#')
        self.ch.basic_consume(q, callback=self._on, no_ack=True)
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _on(self, msg):
        headers = msg.properties.get('application_headers', {})
        body = msg.body if isinstance(msg.body, bytes) else msg.body.encode('utf-8')
        self.events.put({
            'event': msg.delivery_info['routing_key'],
            'exchange_name': headers.get('exchange_name'),
            'routing_keys': headers.get('routing_keys'),
            'routed_queues': headers.get('routed_queues'),
            'redelivered': headers.get('redelivered'),
            'properties': plain(headers.get('properties')),
            'body': body,
        })

    def _run(self):
        while not self._stop:
            try:
                self.conn.drain_events(timeout=0.2)
            except Exception:  # noqa: BLE001 - socket timeout
                pass

    def drain(self, settle=0.6):
        """Every event that arrived until none came for `settle` seconds."""
        out = []
        while True:
            try:
                out.append(self.events.get(timeout=settle))
            except queue.Empty:
                return out

    def close(self):
        self._stop = True
        self.thread.join(2)
        try:
            self.conn.close()
        except Exception:  # noqa: BLE001
            pass


def plain(value):
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bytes):
        return value.decode('utf-8', 'replace')
    return value


def describe(event):
    body = event['body']
    out = {
        'event': event['event'],
        'exchange': event['exchange_name'],
        'routing_keys': event['routing_keys'],
        'routed_queues': event['routed_queues'],
        'properties': event['properties'],
        'body': body.decode('utf-8'),
        'body_b64': base64.b64encode(body).decode('ascii'),
    }
    if event['redelivered'] is not None:
        out['redelivered'] = event['redelivered']
    try:
        outer = json.loads(body)
        if isinstance(outer, dict) and 'oslo.message' in outer:
            out['inner'] = outer['oslo.message']
            out['message'] = json.loads(outer['oslo.message'])
        else:
            out['message'] = outer
    except ValueError:
        pass
    return out


class Recorder:
    """A notification endpoint for every priority that records what it is given."""

    def __init__(self, name, results=None):
        self.name = name
        self.seen = queue.Queue()
        self.results = results or {}
        for prio in ('audit', 'debug', 'info', 'warn', 'error', 'critical', 'sample'):
            setattr(self, prio, self._make(prio))

    def _make(self, prio):
        def handler(ctxt, publisher_id, event_type, payload, metadata):
            key = (prio, event_type)
            result = self.results.get(key)
            if callable(result):
                result = result()
            self.seen.put({'endpoint': self.name, 'method': prio, 'ctxt': ctxt,
                           'publisher_id': publisher_id, 'event_type': event_type,
                           'payload': payload, 'metadata': metadata,
                           'returned': result})
            if result == 'raise':
                raise RuntimeError('endpoint failure')
            return result
        return handler

    def take(self, n, wait=10):
        out = []
        deadline = time.monotonic() + wait
        while len(out) < n and time.monotonic() < deadline:
            try:
                out.append(self.seen.get(timeout=max(0.01, deadline - time.monotonic())))
            except queue.Empty:
                break
        return out


def transport(vhost, query=''):
    url = 'rabbit://guest:guest@127.0.0.1:5672/%s%s' % (vhost, query)
    return oslo_messaging.get_notification_transport(cfg.CONF, url=url)


def topology(vhost):
    return {
        'queues': listing(vhost, 'list_queues',
                          ['name', 'durable', 'auto_delete', 'exclusive', 'arguments',
                           'messages', 'consumers']),
        'exchanges': [e for e in listing(vhost, 'list_exchanges',
                                         ['name', 'type', 'durable', 'auto_delete',
                                          'arguments'])
                      if e['name'] and not e['name'].startswith('amq.')],
        'bindings': [b for b in listing(vhost, 'list_bindings',
                                        ['source_name', 'destination_name', 'routing_key'])
                     if b['source_name']],
        'consumers': listing(vhost, 'list_consumers',
                             ['queue_name', 'consumer_tag', 'ack_required', 'prefetch_count',
                              'arguments']),
        'channels': listing(vhost, 'list_channels',
                            ['connection', 'number', 'confirm', 'prefetch_count',
                             'consumer_count']),
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--out', required=True)
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    cfg.CONF([], project='oslo-rpc-capture', default_config_files=[], default_config_dirs=[])

    vhost = 'notifycap-%s' % uuid.uuid4().hex[:12]
    qvhost = vhost + '-quorum'
    result = {'env': {'oslo.messaging': '18.3.1', 'rabbitmq': ctl('version').strip()},
              'steps': []}
    created = []
    try:
        for vh in (vhost, qvhost):
            ctl('add_vhost', vh)
            created.append(vh)
            ctl('set_permissions', '-p', vh, 'guest', '.*', '.*', '.*')
            ctl('trace_on', '-p', vh)
        fire = Firehose(vhost)
        steps = result['steps']

        def step(title, code, **extra):
            events = [describe(e) for e in fire.drain()]
            entry = {'title': title, 'code': code, 'events': events}
            entry.update(extra)
            steps.append(entry)
            return entry

        t = transport(vhost)
        topic = 'ncap'

        # 1. messagingv2, dict context, before any listener exists.
        n = oslo_messaging.Notifier(t, 'compute.host1', driver='messagingv2', topics=[topic])
        n.info({'user': 'alice', 'request_id': 'req-1'}, 'compute.instance.create.end',
               {'id': 1, 'name': 'vm1'})
        step('messagingv2 info, dict context, no listener yet',
             "Notifier(t, 'compute.host1', driver='messagingv2', topics=['ncap'])"
             ".info({'user': 'alice', 'request_id': 'req-1'}, 'compute.instance.create.end', "
             "{'id': 1, 'name': 'vm1'})",
             topology_after=topology(vhost))

        # 2. every priority.
        for prio in ('audit', 'debug', 'info', 'warn', 'error', 'critical', 'sample'):
            getattr(n, prio)({}, 'prio.%s' % prio, {'p': prio})
        n.warning({}, 'prio.warning', {'p': 'warning'})
        step('every priority method (warning is an alias of warn)',
             "for p in priorities: getattr(n, p)({}, 'prio.' + p, {'p': p}); "
             "n.warning({}, 'prio.warning', {'p': 'warning'})")

        # 3. RequestContext.
        ctx = oslo_context.RequestContext(user_id='u1', project_id='p1',
                                          request_id='req-2b1e3c4d-0000-4000-8000-000000000001',
                                          auth_token='secret-token', roles=['admin'])
        n.info(ctx, 'ctx.request_context', {'k': 'v'})
        step('RequestContext context (redacted_copy().to_dict() packed as _context_*)',
             "n.info(RequestContext(user_id='u1', project_id='p1', request_id=..., "
             "auth_token='secret-token', roles=['admin']), 'ctx.request_context', {'k': 'v'})")

        # 4. messaging (1.0, no envelope).
        n1 = oslo_messaging.Notifier(t, 'compute.host1', driver='messaging', topics=[topic])
        n1.error({}, 'v1.error', {'x': [1, 2.5, None, True]})
        step('messaging driver (1.0 format, no envelope)',
             "Notifier(t, 'compute.host1', driver='messaging', topics=['ncap'])"
             ".error({}, 'v1.error', {'x': [1, 2.5, None, True]})")

        # 5. several topics, non-dict payloads, unicode, publisher_id None, prepare().
        nm = oslo_messaging.Notifier(t, None, driver='messagingv2', topics=['ncapA', 'ncapB'])
        nm.info({}, 'multi.topics', 'just a string')
        step('two topics, publisher_id None, string payload',
             "Notifier(t, None, driver='messagingv2', topics=['ncapA', 'ncapB'])"
             ".info({}, 'multi.topics', 'just a string')")
        n.prepare(publisher_id='other.pub').info({}, 'unicod\u00e9.\u2603',
                                                 {'text': 'caf\u00e9 \u2603 \U0001F600'})
        step('prepare(publisher_id), unicode event type and payload',
             "n.prepare(publisher_id='other.pub').info({}, 'unicod\\u00e9.\\u2603', "
             "{'text': 'caf\\u00e9 \\u2603 \\U0001F600'})")
        n.info({}, 'payload.none', None)
        n.info({}, 'payload.list', [1, 'two'])
        step('null and list payloads', "n.info({}, 'payload.none', None); "
             "n.info({}, 'payload.list', [1, 'two'])")

        # 6. a listener without pool: what it declares and consumes; backlog delivered.
        rec = Recorder('nopool')
        lst = oslo_messaging.get_notification_listener(
            t, [oslo_messaging.Target(topic=topic)], [rec], executor='threading',
            allow_requeue=True)
        lst.start()
        time.sleep(1.0)
        seen = rec.take(30, wait=3)
        step('listener without pool on ncap, every priority; backlog delivered',
             "get_notification_listener(t, [Target(topic='ncap')], [Recorder()], "
             "executor='threading', allow_requeue=True).start()",
             topology_after=topology(vhost), endpoint_saw=seen)

        # 7. requeue once then handled.
        state = {'n': 0}

        def once():
            state['n'] += 1
            return 'requeue' if state['n'] == 1 else 'handled'
        rec.results[('info', 'requeue.me')] = once
        n.info({}, 'requeue.me', {'r': 1})
        seen = rec.take(2, wait=5)
        step('endpoint returns REQUEUE once (allow_requeue=True): basic.reject requeue, '
             'redelivered', "rec returns NotificationResult.REQUEUE then HANDLED",
             endpoint_saw=seen)

        # 8. endpoint raises: requeue when allowed.
        state2 = {'n': 0}

        def raise_once():
            state2['n'] += 1
            return 'raise' if state2['n'] == 1 else None
        rec.results[('warn', 'raise.me')] = raise_once
        n.warn({}, 'raise.me', {'r': 2})
        seen = rec.take(2, wait=5)
        step('endpoint raises once (allow_requeue=True)', 'raise RuntimeError once',
             endpoint_saw=seen)

        # 9. undecodable message published by hand.
        raw = amqp.Connection('127.0.0.1:5672', userid='guest', password='guest',
                              virtual_host=vhost)
        raw.connect()
        ch = raw.channel()
        ch.basic_publish(amqp.Message('not json', content_type='application/json'),
                         exchange='openstack', routing_key=topic + '.info')
        ch.basic_publish(amqp.Message('{"priority": "INFO"}'),
                         exchange='openstack', routing_key=topic + '.info')
        seen = rec.take(2, wait=2)
        step('undecodable body and missing content type, published by hand',
             "basic_publish('not json', content_type=application/json); "
             "basic_publish('{\"priority\": \"INFO\"}') without content type",
             endpoint_saw=seen, topology_after=topology(vhost))
        dup = json.dumps({'oslo.version': '2.0', 'oslo.message': json.dumps({
            'message_id': str(uuid.uuid4()), 'publisher_id': 'dup.pub', 'event_type': 'dup.event',
            'priority': 'INFO', 'payload': {}, 'timestamp': '2026-01-01 00:00:00',
            '_unique_id': uuid.uuid4().hex})})
        for _ in range(2):
            ch.basic_publish(amqp.Message(dup, content_type='application/json',
                                          content_encoding='utf-8'),
                             exchange='openstack', routing_key=topic + '.info')
        seen = rec.take(2, wait=2)
        step('the same _unique_id twice (published by hand): the second is not dispatched and '
             'never acknowledged', 'basic_publish(same body) x2',
             endpoint_saw=seen,
             unacked=listing(vhost, 'list_queues', ['name', 'messages_ready',
                                                    'messages_unacknowledged']))
        ch.close()
        raw.close()

        lst.stop()
        lst.wait()
        step('listener stop() and wait()', 'lst.stop(); lst.wait()',
             topology_after=topology(vhost))

        # 10. pools: two pools and the default queue; filters.
        recA = Recorder('poolA')
        recB = Recorder('poolB')
        filt = Recorder('filtered')
        filt.filter_rule = oslo_messaging.NotificationFilter(
            publisher_id='^compute', event_type=r'^pool\.', context={'user': '^al'},
            metadata={'message_id': '.'}, payload={'state': '^active$'})
        la = oslo_messaging.get_notification_listener(
            t, [oslo_messaging.Target(topic=topic)], [recA], executor='threading',
            pool='ncap-poolA')
        filt2 = Recorder('filtered-no-context')
        filt2.filter_rule = oslo_messaging.NotificationFilter(
            publisher_id='^compute', event_type=r'^pool\.', metadata={'timestamp': '^20'},
            payload={'state': '^active$'})
        lb = oslo_messaging.get_notification_listener(
            t, [oslo_messaging.Target(topic=topic, exchange='otherx')], [recB, filt, filt2],
            executor='threading', pool='ncap-poolB')
        la.start()
        lb.start()
        time.sleep(1.0)
        step('listeners with pools (A on openstack, B on exchange otherx, endpoints on every '
             'priority)', "get_notification_listener(..., pool='ncap-poolA'); "
             "get_notification_listener(t, [Target(topic='ncap', exchange='otherx')], "
             "[recB, filtered], pool='ncap-poolB')",
             topology_after=topology(vhost))
        n.info({'user': 'alice'}, 'pool.event', {'state': 'active'})
        n.info({'user': 'bob'}, 'pool.event', {'state': 'active'})
        seen = recA.take(2, wait=5) + recB.take(1, wait=1) + filt.take(2, wait=1)
        step('notify to openstack: pool A (and the default queue) get it; pool B on otherx '
             'does not', "n.info({'user': 'alice'}, 'pool.event', {'state': 'active'}) x2",
             endpoint_saw=seen)
        oslo_messaging.set_transport_defaults(control_exchange='otherx')
        tx = transport(vhost)
        nx = oslo_messaging.Notifier(tx, 'compute.x', driver='messagingv2', topics=[topic])
        nx.info({'user': 'alice'}, 'pool.event', {'state': 'active'})
        nx.info({'user': 'bob'}, 'pool.event', {'state': 'active'})
        nx.info({'user': 'alice'}, 'pool.event', {'state': 'stopped'})
        seen = recB.take(3, wait=5) + filt.take(3, wait=1) + filt2.take(3, wait=1)
        step('notify on control exchange otherx: pool B endpoints; a context filter never '
             'matches a dict context; the other filter passes the two active ones',
             "set_transport_defaults(control_exchange='otherx'); three infos",
             endpoint_saw=seen)
        oslo_messaging.set_transport_defaults(control_exchange='openstack')
        la.stop()
        lb.stop()
        la.wait()
        lb.wait()
        step('pool listeners stopped', 'stop(); wait()', topology_after=topology(vhost))

        # 11. batch listener.
        brec = queue.Queue()

        class Batch:
            def info(self, messages):
                brec.put(messages)

        bl = oslo_messaging.get_batch_notification_listener(
            t, [oslo_messaging.Target(topic='ncapbatch')], [Batch()], executor='threading',
            batch_size=3, batch_timeout=1)
        bl.start()
        time.sleep(0.5)
        nb = oslo_messaging.Notifier(t, 'b', driver='messagingv2', topics=['ncapbatch'])
        for i in range(4):
            nb.info({}, 'batch.%d' % i, {'i': i})
        batches = []
        deadline = time.monotonic() + 5
        while sum(len(b) for b in batches) < 4 and time.monotonic() < deadline:
            try:
                batches.append(brec.get(timeout=0.5))
            except queue.Empty:
                pass
        bl.stop()
        bl.wait()
        step('batch listener (batch_size=3, batch_timeout=1) on ncapbatch, 4 infos',
             "get_batch_notification_listener(..., batch_size=3, batch_timeout=1)",
             batches=batches, topology_after=topology(vhost))
        fire.close()

        # 12. quorum queues (rabbit_quorum_queue=true) in a vhost of their own.
        qfire = Firehose(qvhost)
        qt = transport(qvhost, '?rabbit_quorum_queue=true')
        qn = oslo_messaging.Notifier(qt, 'q.pub', driver='messagingv2', topics=['ncapq'])
        qn.info({}, 'q.event', {'q': 1})
        ql = oslo_messaging.get_notification_listener(
            qt, [oslo_messaging.Target(topic='ncapq')], [Recorder('q')], executor='threading',
            pool='ncapq-pool')
        ql.start()
        time.sleep(1.0)
        qtop = topology(qvhost)
        ql.stop()
        ql.wait()
        qevents = [describe(e) for e in qfire.drain()]
        steps.append({'title': 'rabbit_quorum_queue=true: notifier and pool listener',
                      'code': "?rabbit_quorum_queue=true; Notifier.info; listener pool "
                              "'ncapq-pool'",
                      'events': qevents, 'topology_after': qtop})
        qfire.close()
    finally:
        for vh in created:
            try:
                ctl('trace_off', '-p', vh)
                ctl('delete_vhost', vh)
            except Exception as exc:  # noqa: BLE001
                print('could not delete vhost %s: %s' % (vh, exc), file=sys.stderr)

    with open(args.out, 'w', encoding='utf-8') as f:
        json.dump(result, f, indent=1, sort_keys=False, default=repr, ensure_ascii=True)
        f.write('\n')
    print('wrote', args.out, file=sys.stderr)
    os._exit(0)


if __name__ == '__main__':
    main()
