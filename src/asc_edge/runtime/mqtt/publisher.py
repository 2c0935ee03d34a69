"""The MQTT side of ``asc-listen``: decisions queued, published in order with QoS 1, never blocking the audio.

The classifier only appends to a bounded queue (``publish``); a sender thread takes the oldest decision,
publishes it and waits for the broker's PUBACK before the next, so decisions arrive in order even across a
reconnect (paho resends an unacknowledged QoS 1 message after reconnecting, with the DUP flag: consumers drop
repeats by ``seq``). While the broker is away the queue fills; when it is full the oldest decision goes, is
counted in the log, and the count rides in every later message (``dropped``). paho reconnects with backoff
(``RECONNECT_DELAY_S``). Refusals the user must fix (wrong credentials, a certificate that does not check)
are raised by ``start`` as one line, before any audio is read; an unreachable broker is not: classification
goes on and the queue waits.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable

from asc_edge.plumbing.errors import ConfigError
from asc_edge.runtime.mqtt.messages import OFFLINE, ONLINE, Topics, discovery_config
from asc_edge.runtime.mqtt.target import Credentials, MqttTarget

RECONNECT_DELAY_S = (1, 30)  # paho doubles the wait from the first to the second after each failed attempt
CONNECT_TIMEOUT_S = 10.0  # for the broker's answer to the first CONNECT (refused credentials are fatal)
KEEPALIVE_S = 30  # the broker fires the Last Will within 1.5x this after a silent death (at once on a reset)
_POLL_S = 0.05


def paho_client_module():
    try:
        import paho.mqtt.client as paho
    except ImportError as exc:
        raise ConfigError("--mqtt needs the 'paho-mqtt' package: pip install 'asc-edge[mqtt]'") from exc
    return paho


class MqttPublisher:
    def __init__(self, target: MqttTarget, credentials: Credentials | None, topics: Topics, queue_size: int,
                 model_name: str, ca_file: str | None = None, flush_seconds: float = 10.0,
                 log: Callable[[str], None] = print) -> None:
        if queue_size < 1:
            raise ConfigError(f"--mqtt-queue {queue_size}: must be at least 1")
        paho = paho_client_module()
        self.target, self.topics, self.log, self.flush_seconds = target, topics, log, flush_seconds
        self.queue_size, self._model_name = queue_size, model_name
        self._queue: deque[dict] = deque()
        self._lock = threading.Condition()
        self._connected = threading.Event()
        self._refusal: str | None = None  # the broker's reason for refusing our CONNECT
        self._closing = False
        self._in_flight = False  # a decision taken from the queue and not yet acknowledged
        self.sent = self.dropped = 0
        self._client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"asc-listen-{topics.node_id}",
                                   protocol=paho.MQTTv311, clean_session=True)
        self._client.will_set(topics.availability, OFFLINE, qos=1, retain=True)
        if credentials is not None:
            self._client.username_pw_set(credentials.username, credentials.password)
        if target.tls:
            try:  # the default context: the chain and the host name are checked
                self._client.tls_set(ca_certs=ca_file)
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(f"--mqtt-ca {ca_file}: cannot use it: {exc}") from None
        self._client.reconnect_delay_set(*RECONNECT_DELAY_S)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._sender = threading.Thread(target=self._send_loop, name="mqtt-sender", daemon=True)

    def start(self) -> None:
        """Connect (or start retrying in the background when the broker is unreachable); raises ConfigError when
        the broker refuses our credentials or its certificate does not check."""
        where = f"--mqtt {self.target.display}"
        try:
            self._client.connect(self.target.host, self.target.port, keepalive=KEEPALIVE_S)
        except ssl.SSLCertVerificationError as exc:
            raise ConfigError(f"{where}: the broker's certificate does not check: {exc.verify_message}") from None
        except ssl.SSLError as exc:
            raise ConfigError(f"{where}: TLS failed: {exc.reason or exc}") from None
        except OSError as exc:
            self.log(f"mqtt: broker {self.target.display} unreachable ({exc.strerror or exc}); classifying "
                     f"anyway, up to {self.queue_size} decisions wait for it")
            self._client.connect_async(self.target.host, self.target.port, keepalive=KEEPALIVE_S)
            self._client.loop_start()
            self._sender.start()
            return
        self._client.loop_start()
        deadline = time.monotonic() + CONNECT_TIMEOUT_S
        while not self._connected.is_set() and self._refusal is None and time.monotonic() < deadline:
            time.sleep(_POLL_S)
        if self._refusal is not None:
            self._client.loop_stop()
            self._client.disconnect()
            raise ConfigError(f"{where}: the broker refused the connection: {self._refusal}")
        if not self._connected.is_set():
            self.log(f"mqtt: no answer from {self.target.display} in {CONNECT_TIMEOUT_S:g} s; classifying anyway")
        self._sender.start()

    def publish(self, payload: dict) -> None:
        """Queue one decision (never blocks); when the queue is full the oldest one is dropped and counted."""
        with self._lock:
            if len(self._queue) >= self.queue_size:
                self._queue.popleft()
                self.dropped += 1
                self.log(f"mqtt: queue full ({self.queue_size}), dropped the oldest decision "
                         f"({self.dropped} dropped so far)")
            self._queue.append(payload)
            self._lock.notify()

    def close(self) -> None:
        """Deliver what is queued for at most ``flush_seconds``, then publish "offline" and disconnect."""
        with self._lock:
            self._closing = True
            self._lock.notify()
        if self._sender.is_alive():
            self._sender.join(self.flush_seconds)
        with self._lock:
            left = len(self._queue) + self._in_flight
            self._queue.clear()
        if self._connected.is_set():
            info = self._client.publish(self.topics.availability, OFFLINE, qos=1, retain=True)
            self._wait_published(info, time.monotonic() + 2.0)
            self._client.disconnect()
        self._client.loop_stop()
        note = f", {left} not delivered (broker unreachable for {self.flush_seconds:g} s at exit)" if left else ""
        self.log(f"mqtt: {self.sent} decisions published to {self.target.display}, {self.dropped} dropped "
                 f"(queue full){note}")

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self._refusal = str(reason_code)
            return
        # Retained: a Home Assistant that starts later still finds the sensor and its availability.
        client.publish(self.topics.discovery, json.dumps(discovery_config(self.topics, self._model_name)),
                       qos=1, retain=True)
        client.publish(self.topics.availability, ONLINE, qos=1, retain=True)
        self._connected.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self._connected.clear()

    def _send_loop(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._closing:
                    self._lock.wait()
                if not self._queue:
                    return
                # Out of the queue now: the decision in flight is paho's to deliver (it resends it after a
                # reconnect), so a full queue drops only decisions that were never sent.
                payload = dict(self._queue.popleft(), dropped=self.dropped)
                self._in_flight = True
            while not self._connected.wait(_POLL_S * 4):
                pass
            text = json.dumps(payload)
            info = self._client.publish(self.topics.decision, text, qos=1)
            self._client.publish(self.topics.state, text, qos=1, retain=True)
            self._wait_published(info, None)
            with self._lock:
                self._in_flight = False
                self.sent += 1

    @staticmethod
    def _wait_published(info, deadline: float | None) -> bool:
        """Wait for the PUBACK (paho resends after a reconnect); False when ``deadline`` passed first."""
        while not info.is_published():
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(_POLL_S / 10)
        return True
