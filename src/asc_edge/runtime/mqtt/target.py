"""Where to publish: ``mqtt://host[:port]/PREFIX`` or ``mqtts://`` (TLS), and who we are to the broker.

Every check here runs before any audio is read, and each failure is one line (:class:`ConfigError`).
The password never comes from the command line (other users of the Pi see it in ``ps``): from
``--mqtt-password-file`` (one line ``user:password``) or from ``ASC_MQTT_USERNAME`` / ``ASC_MQTT_PASSWORD``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from asc_edge.plumbing.errors import ConfigError

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}
USERNAME_VARIABLE, PASSWORD_VARIABLE = "ASC_MQTT_USERNAME", "ASC_MQTT_PASSWORD"


@dataclass(frozen=True)
class MqttTarget:
    host: str
    port: int
    prefix: str  # topics: PREFIX/decision, PREFIX/state, PREFIX/availability
    tls: bool

    @property
    def display(self) -> str:
        """The URL as given, without credentials: safe for logs."""
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}/{self.prefix}"


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str | None


def parse_mqtt_url(url: str) -> MqttTarget:
    """The checked target of ``--mqtt URL``."""
    where = f"--mqtt {url!r}"
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS:
        raise ConfigError(f"{where}: the scheme must be mqtt:// or mqtts:// (TLS), not {parts.scheme or 'none'!r}")
    if parts.username is not None or parts.password is not None:
        raise ConfigError(f"{where}: no user name or password in the URL (other users see it in ps); use "
                          f"--mqtt-password-file or {USERNAME_VARIABLE}/{PASSWORD_VARIABLE}")
    if not parts.hostname:
        raise ConfigError(f"{where}: no host (mqtt://HOST[:PORT]/PREFIX)")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"{where}: the port must be a number from 1 to 65535") from None
    if port == 0:
        raise ConfigError(f"{where}: the port must be a number from 1 to 65535")
    if "#" in url:  # urlsplit reads it as the start of a fragment
        raise ConfigError(f"{where}: the topic prefix may not hold the wildcards # or +")
    if parts.query or parts.fragment:
        raise ConfigError(f"{where}: no query or fragment; the path is the topic prefix")
    prefix = parts.path.strip("/")
    if not prefix:
        raise ConfigError(f"{where}: no topic prefix (mqtt://HOST[:PORT]/PREFIX, e.g. /asc-edge/kitchen)")
    if "#" in prefix or "+" in prefix or "\x00" in prefix or "//" in prefix:
        raise ConfigError(f"{where}: the topic prefix {prefix!r} may not hold the wildcards # or +, a NUL or "
                          f"an empty level")
    return MqttTarget(parts.hostname, port or DEFAULT_PORTS[parts.scheme], prefix, parts.scheme == "mqtts")


def read_credentials(password_file: str | None, environ: dict | None = None) -> Credentials | None:
    """The broker login: the password file (``user:password`` on its first line) when given, else the
    environment, else None (anonymous)."""
    environ = os.environ if environ is None else environ
    if password_file is not None:
        try:
            first = Path(password_file).read_text(encoding="utf-8").splitlines()[:1]
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise ConfigError(f"--mqtt-password-file {password_file}: cannot read it: {reason}") from None
        username, colon, password = (first[0] if first else "").partition(":")
        if not username or not colon:
            raise ConfigError(f"--mqtt-password-file {password_file}: the first line must be user:password")
        return Credentials(username, password)
    username = environ.get(USERNAME_VARIABLE)
    if username:
        return Credentials(username, environ.get(PASSWORD_VARIABLE))
    return None
