#!/usr/bin/env python3
"""A Python oslo.messaging 18.3.1 RPC server passing oslo.versionedobjects 3.12.0 objects
through a ``VersionedObjectSerializer``: the peer of the Rust object interop tests.

    objects_server.py --topic T --server S [--widget-version 1.0|1.1|1.2|1.3] [--url URL]
                      [--log-file F] [--debug]

Endpoint ``WidgetEndpoint``, ``Target(namespace='widgets', version='1.0')`` (the Rust
``WidgetApi`` trait in ``tests/bar/mod.rs``): echo_widget, describe, make_widget,
make_shelf, echo_widgets, rename, touch_owner. ``make_widget(id=-1)`` returns a Person,
to show a Rust client what a mismatched object gives. Prints ``READY`` once consuming;
stops on SIGTERM/SIGINT or when stdin closes; deletes its queues on the way out.
"""

import argparse
import logging
import os
import signal
import sys
import threading
import warnings

warnings.filterwarnings('ignore', message=r'(?s).*Eventlet is deprecated')
from oslo_service import backend  # noqa: E402

backend.init_backend(backend.BackendType.THREADING)

from oslo_config import cfg  # noqa: E402
import oslo_messaging  # noqa: E402

import bar_objects  # noqa: E402
import server as calc_server  # noqa: E402  (delete_queues)

LOG = logging.getLogger('interop.objects_server')


class WidgetEndpoint:
    target = oslo_messaging.Target(namespace='widgets', version='1.0')

    def __init__(self, classes):
        self.Person, self.Widget, self.Shelf = classes

    def echo_widget(self, ctxt, widget):
        return widget

    def describe(self, ctxt, widget):
        return bar_objects.describe(widget)

    def make_widget(self, ctxt, id, with_owner):
        if id == -1:
            return self.Person(name='not a widget', email=None)
        return bar_objects.new_widget(self.Widget, self.Person, id=id,
                                      tz='unnamed', with_owner=with_owner)

    def make_shelf(self, ctxt, count):
        widgets = [bar_objects.new_widget(self.Widget, self.Person, id=i)
                   for i in range(count)]
        return self.Shelf(label='s', widgets=widgets)

    def echo_widgets(self, ctxt, widgets):
        return widgets

    def rename(self, ctxt, widget, name):
        widget.obj_reset_changes(recursive=True)
        widget.name = name
        return widget

    def touch_owner(self, ctxt, widget, email):
        widget.obj_reset_changes(recursive=True)
        widget.owner.email = email
        return widget


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    p.add_argument('--url', default=os.environ.get(
        'RABBIT_URL', 'rabbit://guest:guest@127.0.0.1:5672/'))
    p.add_argument('--topic', required=True)
    p.add_argument('--server', required=True)
    p.add_argument('--widget-version', default='1.2', choices=bar_objects.WIDGET_VERSIONS)
    p.add_argument('--log-file', default=None)
    p.add_argument('--debug', action='store_true')
    args = p.parse_args()
    logging.basicConfig(filename=args.log_file,
                        level=logging.DEBUG if args.debug else logging.WARNING,
                        format='%(asctime)s %(levelname)s %(name)s %(message)s')

    cfg.CONF([], project='oslo-rpc-interop', default_config_files=[], default_config_dirs=[])
    classes = bar_objects.define(args.widget_version)
    transport = oslo_messaging.get_rpc_transport(cfg.CONF, url=args.url)
    target = oslo_messaging.Target(topic=args.topic, server=args.server)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        server = oslo_messaging.get_rpc_server(
            transport, target, [WidgetEndpoint(classes)], executor='threading',
            serializer=bar_objects.BarSerializer())

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    def watch_stdin():
        sys.stdin.read()
        stop.set()
    threading.Thread(target=watch_stdin, name='stdin-eof', daemon=True).start()

    server.start()
    sys.stdout.write('READY\n')
    sys.stdout.flush()
    while not stop.wait(0.5):
        pass

    stopper = threading.Thread(target=lambda: (server.stop(), server.wait()), daemon=True)
    stopper.start()
    stopper.join(15)
    graceful = not stopper.is_alive()
    try:
        transport.cleanup()
    except Exception:  # noqa: BLE001 - best effort on the way out
        LOG.exception('transport cleanup failed')
    if graceful:
        try:
            calc_server.delete_queues(
                args.url, ['%s.%s' % (args.topic, args.server), args.topic])
        except Exception:  # noqa: BLE001
            LOG.exception('deleting the queues failed')
    sys.stdout.flush()
    logging.shutdown()
    os._exit(0 if graceful else 3)


if __name__ == '__main__':
    main()
