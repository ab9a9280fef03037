"""Prints what oslo.config 10.x (with oslo.messaging 18.3.1's options registered, as a
service using only oslo.messaging would) resolves from oslo INI files, as one JSON object.

    python oslo_config_dump.py [--config-file F]... [--config-dir D]...

Output: {"ok": true, "values": {"DEFAULT.transport_url": "...", "oslo_messaging_rabbit.ssl":
true, ...}} with every option we read, typed as oslo converts it (null for an empty integer),
or {"ok": false, "error": "<ExceptionClass>", "message": "..."} when oslo.config refuses the
files or a value. The Rust config reader is compared against this (tests/oslo_config.rs).
"""

import json
import sys

from oslo_config import cfg
from oslo_messaging import transport as om_transport
from oslo_messaging.rpc import client as om_client
from oslo_messaging._drivers import impl_rabbit, amqp


def main(argv):
    conf = cfg.ConfigOpts()
    conf.register_opts(om_transport._transport_opts)
    conf.register_opts(om_client._client_opts)
    group = cfg.OptGroup(name='oslo_messaging_rabbit')
    conf.register_group(group)
    conf.register_opts(impl_rabbit.rabbit_opts, group=group)
    conf.register_opts(amqp.amqp_opts, group=group)
    try:
        conf(argv, project='oslo-rpc-test', default_config_files=[],
             default_config_dirs=[], use_env=False)
        values = {}
        for opt in om_transport._transport_opts + om_client._client_opts:
            values['DEFAULT.' + opt.dest] = getattr(conf, opt.dest)
        for opt in impl_rabbit.rabbit_opts + amqp.amqp_opts:
            if opt.dest in ('hostname', 'processname'):
                # Their defaults are the machine's; compare only what a file sets.
                if conf.oslo_messaging_rabbit[opt.dest] == opt.default:
                    continue
            values['oslo_messaging_rabbit.' + opt.dest] = \
                conf.oslo_messaging_rabbit[opt.dest]
        print(json.dumps({'ok': True, 'values': values}, sort_keys=True))
    except Exception as exc:  # noqa: BLE001 - the class is what we compare
        print(json.dumps({'ok': False, 'error': type(exc).__name__,
                          'message': str(exc)}))


if __name__ == '__main__':
    main(sys.argv[1:])
