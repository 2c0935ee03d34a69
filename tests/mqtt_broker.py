"""A real Mosquitto broker on a loopback port for the MQTT tests, and a subscriber that records what it gets.

The broker runs with its own config in a temporary folder (persistence on, so a persistent subscriber's
session survives a stop and restart on the same port); ``stop()`` sends SIGTERM as systemd would.
"""

from __future__ import annotations

import getpass
import json
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

MOSQUITTO = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    def __init__(self, folder: Path, extra: tuple[str, ...] = ("allow_anonymous true",)) -> None:
        self.folder, self.port = folder, free_port()
        (folder / "data").mkdir(parents=True, exist_ok=True)
        self.config = folder / "mosquitto.conf"
        # user: run as root, mosquitto would drop to the "mosquitto" user, who cannot read the test's folders
        self.config.write_text("\n".join([f"listener {self.port} 127.0.0.1", f"user {getpass.getuser()}",
                                          "persistence true",
                                          f"persistence_location {folder / 'data'}/", *extra]) + "\n")
        self.process: subprocess.Popen | None = None

    def start(self) -> Broker:
        self.process = subprocess.Popen([MOSQUITTO, "-c", str(self.config)], stdout=subprocess.DEVNULL,
                                        stderr=open(self.folder / "broker.log", "a"))  # noqa: SIM115
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not start: {(self.folder / 'broker.log').read_text()[-500:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


class Subscriber:
    """A persistent-session QoS 1 subscriber to ``topics`` that records (topic, payload, retained)."""

    def __init__(self, port: int, topics: list[str], client_id: str = "test-subscriber", **tls) -> None:
        import paho.mqtt.client as paho

        self.messages: list[tuple[str, str, bool]] = []
        self._lock = threading.Lock()
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
        if tls:
            self.client.tls_set(**tls)
        self.client.reconnect_delay_set(0.2, 1)
        subscribed = threading.Event()

        def on_connect(client, userdata, flags, reason_code, properties) -> None:
            client.subscribe([(t, 1) for t in topics])

        def on_subscribe(client, userdata, mid, reason_codes, properties) -> None:
            subscribed.set()

        def on_message(client, userdata, message) -> None:
            with self._lock:
                self.messages.append((message.topic, message.payload.decode(), bool(message.retain)))

        self.client.on_connect, self.client.on_subscribe, self.client.on_message = on_connect, on_subscribe, on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        if not subscribed.wait(10):
            raise RuntimeError("subscription not acknowledged")

    def on(self, topic: str) -> list[str]:
        with self._lock:
            return [payload for t, payload, _ in self.messages if t == topic]

    def decisions(self, topic: str) -> list[dict]:
        return [json.loads(p) for p in self.on(topic)]

    def wait_for(self, condition, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(0.05)
        return False

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
