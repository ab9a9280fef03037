"""What oslo.messaging 18.3.1 verifies over TLS, observed: for each case, oslo's own
``Connection._fetch_ssl_params`` builds the ``ssl`` argument from the options, and kombu
connects with it as impl_rabbit does (py-amqp's SSLTransport, Python's ssl module).

    python tls_semantics.py CERTS EXPIRED_PORT WRONG_HOST_PORT NODE_TLS_PORT

CERTS is the test cluster's certificate directory. Prints one JSON object: case name ->
"ok" (connected, AMQP included), "handshake" (the TLS handshake passed, the peer is not
AMQP), "verify: <reason>" (certificate refused) or "error: <type>: <message>".
``tests/rabbit_tls.rs`` runs it with SSL_CERT_FILE set to the test CA, so that "the
system's roots" trust the test CA, and pins the results documented in
``rpc-runtime/src/transport/rabbit/tls.rs``.
"""

import json
import ssl
import sys
import types

import kombu
from oslo_config import cfg
from oslo_messaging._drivers import impl_rabbit


def ssl_params(ssl_version='', key='', cert='', ca='', hosts=1):
    """impl_rabbit.Connection._fetch_ssl_params on the options of a connection."""
    conn = types.SimpleNamespace(
        ssl=True, ssl_version=ssl_version, ssl_key_file=key, ssl_cert_file=cert,
        ssl_ca_file=ca,
        # _get_ssl_server_hostname(url): the host name with one host, None with several.
        ssl_server_hostname='localhost' if hosts == 1 else None,
        validate_ssl_version=impl_rabbit.Connection.validate_ssl_version)
    return impl_rabbit.Connection._fetch_ssl_params(conn)


def attempt(ports, params):
    url = ';'.join('amqp://guest:guest@localhost:%d//' % port for port in ports)
    conn = kombu.Connection(url, ssl=params, connect_timeout=3)
    try:
        # One attempt, as kombu makes each (kombu.transport.pyamqp.establish_connection:
        # localhost -> 127.0.0.1, server_hostname filled in, py-amqp's SSLTransport).
        conn.transport.establish_connection().close()
        return 'ok'
    except ssl.SSLCertVerificationError as e:
        return 'verify: %s' % e.verify_message
    except ssl.SSLError as e:
        return 'error: %s: %s' % (type(e).__name__, e)
    except Exception as e:  # noqa: BLE001 - the peer is not AMQP after a passed handshake
        text = '%s: %s' % (type(e).__name__, e)
        return 'handshake' if 'SSL' not in text and 'certificate' not in text else 'error: ' + text
    finally:
        try:
            conn.release()
        except Exception:  # noqa: BLE001
            pass


def main():
    certs, expired, wrong_host, node = sys.argv[1], *map(int, sys.argv[2:5])
    cfg.CONF([], project='tls-semantics', default_config_files=[], default_config_dirs=[])
    ca = certs + '/ca.pem'
    client = dict(cert=certs + '/client.pem', key=certs + '/client.key')
    out = {
        'ca, one host, good node': attempt([node], ssl_params(ca=ca, **client)),
        'ca, one host, wrong host name': attempt([wrong_host], ssl_params(ca=ca)),
        'ca, one host, expired': attempt([expired], ssl_params(ca=ca)),
        # Several hosts: kombu fills server_hostname with the host connected to, after
        # rewriting localhost to 127.0.0.1 (the wrong-host certificate names neither).
        'ca, two hosts, wrong host name': attempt([wrong_host, wrong_host],
                                                  ssl_params(ca=ca, hosts=2)),
        'no ca, wrong host name': attempt([wrong_host], ssl_params()),
        'no ca, expired': attempt([expired], ssl_params()),
        'ssl_version TLSv1_2, no ca, expired': attempt([expired],
                                                       ssl_params(ssl_version='TLSv1_2')),
    }
    try:
        ssl_params(ssl_version='SSLv3')
        out['ssl_version SSLv3'] = 'accepted'
    except RuntimeError as e:
        out['ssl_version SSLv3'] = 'error: RuntimeError: %s' % e
    print(json.dumps(out, sort_keys=True))


if __name__ == '__main__':
    main()
