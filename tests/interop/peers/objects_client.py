#!/usr/bin/env python3
"""A Python oslo.messaging 18.3.1 RPC client with oslo.versionedobjects 3.12.0's
``VersionedObjectSerializer``, calling the ``widgets`` endpoint of a (Rust) server.

    objects_client.py --topic T [--widget-version V] [--url URL] SCENARIO

Each scenario builds real Python objects, makes one call and prints one JSON line:
``{"ok": true, "sent": <describe(argument)>, "got": <describe(result)>}`` or ``{"ok": false,
"exception": "<module>.<Class>", "message": ...}`` (``describe`` is in ``bar_objects``).
Scenarios: echo (a widget at +05:30), echo_unnamed_tz (a ``timezone(timedelta(-3h))``,
which Python writes as ``UTC-03:00``), describe, make, shelf, widgets (a list of two),
rename, touch, person_as_widget (a Person where a Widget is expected),
nova_object_as_widget (an object of serial namespace ``nova_object``).
"""

import argparse
import json
import os
import sys
import warnings

warnings.filterwarnings('ignore', message=r'(?s).*Eventlet is deprecated')
warnings.filterwarnings('ignore', category=FutureWarning)
from oslo_service import backend  # noqa: E402

backend.init_backend(backend.BackendType.THREADING)

from oslo_config import cfg  # noqa: E402
import oslo_messaging  # noqa: E402

import bar_objects  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    p.add_argument('--url', default=os.environ.get(
        'RABBIT_URL', 'rabbit://guest:guest@127.0.0.1:5672/'))
    p.add_argument('--topic', required=True)
    p.add_argument('--widget-version', default='1.2', choices=bar_objects.WIDGET_VERSIONS)
    p.add_argument('--timeout', type=float, default=30)
    p.add_argument('scenario')
    args = p.parse_args()

    cfg.CONF([], project='oslo-rpc-interop', default_config_files=[], default_config_dirs=[])
    Person, Widget, Shelf = bar_objects.define(args.widget_version)
    transport = oslo_messaging.get_rpc_transport(cfg.CONF, url=args.url)
    target = oslo_messaging.Target(topic=args.topic, namespace='widgets', version='1.0')
    client = oslo_messaging.get_rpc_client(transport, target, timeout=args.timeout,
                                           serializer=bar_objects.BarSerializer())

    def widget(**kwargs):
        return bar_objects.new_widget(Widget, Person, **kwargs)

    scenario = args.scenario
    if scenario == 'echo':
        sent = widget()
        call = ('echo_widget', dict(widget=sent))
    elif scenario == 'echo_unnamed_tz':
        sent = widget(tz='unnamed')
        call = ('echo_widget', dict(widget=sent))
    elif scenario == 'describe':
        sent = widget()
        call = ('describe', dict(widget=sent))
    elif scenario == 'make':
        sent = None
        call = ('make_widget', dict(id=5, with_owner=True))
    elif scenario == 'shelf':
        sent = None
        call = ('make_shelf', dict(count=2))
    elif scenario == 'widgets':
        sent = [widget(id=1), widget(id=2, with_owner=False)]
        call = ('echo_widgets', dict(widgets=sent))
    elif scenario == 'rename':
        sent = widget()
        call = ('rename', dict(widget=sent, name='z'))
    elif scenario == 'touch':
        sent = widget()
        call = ('touch_owner', dict(widget=sent, email='e'))
    elif scenario == 'person_as_widget':
        sent = Person(name='p', email=None)
        call = ('echo_widget', dict(widget=sent))
    elif scenario == 'nova_object_as_widget':
        class NovaObject(bar_objects.base.VersionedObject):
            OBJ_SERIAL_NAMESPACE = 'nova_object'
            OBJ_PROJECT_NAMESPACE = 'nova'

        @bar_objects.base.VersionedObjectRegistry.register
        class Gadget(NovaObject):
            VERSION = '1.0'
            fields = {'id': bar_objects.fields.IntegerField()}

        sent = Gadget(id=1)
        call = ('echo_widget', dict(widget=sent))
    else:
        sys.exit('unknown scenario %r' % scenario)

    try:
        result = client.call({}, call[0], **call[1])
    except Exception as exc:  # noqa: BLE001 - the outcome is what we print
        print(json.dumps({'ok': False,
                          'exception': '%s.%s' % (type(exc).__module__, type(exc).__name__),
                          'message': str(exc)}))
    else:
        if isinstance(result, Shelf):
            got = {'label': result.label, 'widgets': bar_objects.describe(result.widgets),
                   'changes': sorted(result.obj_what_changed())}
        elif isinstance(result, (list, bar_objects.base.VersionedObject)):
            got = bar_objects.describe(result)
        else:
            got = result
        print(json.dumps({'ok': True, 'sent': bar_objects.describe(sent), 'got': got}))
    sys.stdout.flush()
    transport.cleanup()
    os._exit(0)


if __name__ == '__main__':
    main()
