"""What oslo.config (with oslo.messaging 18.3.1's options registered, as a service that only
uses oslo.messaging would register them) resolves from oslo INI files.

Reads a JSON list of cases on stdin, each {"args": [...], "register": [...]}: the command
line (["--config-file", "a.conf", "--config-dir", "d"]) and the names of [DEFAULT] string
options the service itself registers (nova's `host`, say, for `$host`). Prints one JSON line
per case:

    {"ok": true, "values": {"DEFAULT.transport_url": "...", "oslo_messaging_rabbit.ssl": true, ...}}
    {"ok": false, "error": "<ExceptionClass>", "message": "..."}

"values" holds every option the Rust reader reads, typed as oslo.config converts it (null for
an empty integer); hostname and processname only when a file sets them (their defaults are
the machine's). tests/oslo_config.rs compares the Rust reader with this.
"""

import json
import sys
import warnings

warnings.filterwarnings('ignore')

from oslo_config import cfg  # noqa: E402
from oslo_messaging import transport as om_transport  # noqa: E402
from oslo_messaging.rpc import client as om_client  # noqa: E402
from oslo_messaging._drivers import amqp, impl_rabbit  # noqa: E402

DEFAULT_OPTS = om_transport._transport_opts + om_client._client_opts
RABBIT_OPTS = impl_rabbit.rabbit_opts + amqp.amqp_opts


def resolve(args, register):
    conf = cfg.ConfigOpts()
    conf.register_opts(DEFAULT_OPTS)
    conf.register_opts([cfg.StrOpt(name) for name in register])
    group = cfg.OptGroup(name='oslo_messaging_rabbit')
    conf.register_group(group)
    conf.register_opts(RABBIT_OPTS, group=group)
    try:
        conf(args, project='oslo-rpc-test', default_config_files=[],
             default_config_dirs=[], use_env=False)
        values = {}
        for opt in DEFAULT_OPTS:
            values['DEFAULT.' + opt.dest] = getattr(conf, opt.dest)
        rabbit = conf.oslo_messaging_rabbit
        for opt in RABBIT_OPTS:
            value = rabbit[opt.dest]
            if opt.dest in ('hostname', 'processname') and value == opt.default:
                continue
            values['oslo_messaging_rabbit.' + opt.dest] = value
        return {'ok': True, 'values': values}
    except Exception as exc:  # noqa: BLE001 - the class is what we compare
        return {'ok': False, 'error': type(exc).__name__, 'message': str(exc)}


def main():
    for case in json.load(sys.stdin):
        result = resolve(case['args'], case.get('register', []))
        print(json.dumps(result, sort_keys=True), flush=True)


if __name__ == '__main__':
    main()
