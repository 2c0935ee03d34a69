"""``asc-listen``'s MQTT flags, and the publisher they describe (checked before any audio is read)."""

from __future__ import annotations

import argparse
import sys

from asc_edge.plumbing.cli_util import bounded
from asc_edge.plumbing.errors import ConfigError
from asc_edge.runtime.mqtt.messages import Topics
from asc_edge.runtime.mqtt.publisher import MqttPublisher
from asc_edge.runtime.mqtt.target import PASSWORD_VARIABLE, USERNAME_VARIABLE, parse_mqtt_url, read_credentials

DEFAULT_QUEUE = 10_000  # decisions held while the broker is away: 2.8 h at one per second, ~10 MB at most


def add_mqtt_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("MQTT (Home Assistant)")
    group.add_argument("--mqtt", default=None, metavar="URL",
                       help="also publish every decision to mqtt://HOST[:PORT]/PREFIX (mqtts:// for TLS): JSON on "
                            "PREFIX/decision (QoS 1, in order, 'seq' to drop repeats by), the latest retained on "
                            "PREFIX/state, online/offline on PREFIX/availability (the Last Will says offline), "
                            "and Home Assistant discovery for a 'scene' sensor")
    group.add_argument("--mqtt-password-file", default=None, metavar="FILE",
                       help=f"broker login, 'user:password' on the first line (else {USERNAME_VARIABLE} and "
                            f"{PASSWORD_VARIABLE} from the environment; never on the command line)")
    group.add_argument("--mqtt-ca", default=None, metavar="FILE",
                       help="CA certificates for mqtts:// (default: the system's); the certificate and host name "
                            "are always checked")
    group.add_argument("--mqtt-queue", type=bounded(int, minimum=1, maximum=1_000_000), default=DEFAULT_QUEUE,
                       help=f"decisions kept while the broker is unreachable (default: {DEFAULT_QUEUE:,}); when "
                            "full the oldest are dropped, counted in the log and in the next message ('dropped')")
    group.add_argument("--mqtt-discovery-prefix", default="homeassistant",
                       help="Home Assistant's discovery prefix (default: homeassistant)")
    group.add_argument("--mqtt-flush-seconds", type=bounded(float, minimum=0.0, maximum=600.0), default=10.0,
                       help="at exit (end of input, Ctrl-C, SIGTERM), wait at most this long for queued decisions "
                            "to be delivered (default: 10)")


def open_publisher(args: argparse.Namespace, model_name: str, prog: str) -> MqttPublisher | None:
    """The started publisher of ``--mqtt``, or None without it; a refusal raises ConfigError (exit 2)."""
    if args.mqtt is None:
        return None
    target = parse_mqtt_url(args.mqtt)
    credentials = read_credentials(args.mqtt_password_file)
    topics = Topics(target.prefix, args.mqtt_discovery_prefix.strip("/") or "homeassistant")
    publisher = MqttPublisher(target, credentials, topics, args.mqtt_queue, model_name, ca_file=args.mqtt_ca,
                              flush_seconds=args.mqtt_flush_seconds,
                              log=lambda line: print(f"{prog}: {line}", file=sys.stderr, flush=True))
    publisher.start()
    return publisher


def check_mqtt_arguments(args: argparse.Namespace) -> None:
    """The checks that need no broker and no model (URL, password file), so bad flags fail first."""
    if args.mqtt is None:
        return
    parse_mqtt_url(args.mqtt)
    read_credentials(args.mqtt_password_file)
    if any(c in args.mqtt_discovery_prefix for c in "#+\x00"):
        raise ConfigError(f"--mqtt-discovery-prefix {args.mqtt_discovery_prefix!r}: no wildcards (# +) or NUL")
