"""``asc-listen --mqtt`` against a real Mosquitto broker on a loopback port: ordered QoS 1 decisions, Home
Assistant discovery, availability and the Last Will, a broker restart mid-stream, passwords and TLS; and the
flags refused before anything starts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

from asc_edge.plumbing.cli_util import run_cli
from asc_edge.runtime.listen_cli import main as listen_main
from mqtt_broker import MOSQUITTO, Broker, Subscriber

LISTEN = [sys.executable, "-m", "asc_edge.runtime.listen_cli"]
PREFIX = "asc-edge/test"
DECISION, STATE, AVAILABILITY = f"{PREFIX}/decision", f"{PREFIX}/state", f"{PREFIX}/availability"
DISCOVERY = "homeassistant/sensor/asc-edge_test/scene/config"
RATE = 16000
needs_broker = pytest.mark.skipif(MOSQUITTO is None, reason="mosquitto is not installed (scripts/system_packages.sh)")
pytest.importorskip("paho.mqtt.client", reason="the mqtt extra (paho-mqtt) is not installed")


def _scene(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.05 * rng.standard_normal(t.size) + 0.15 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


@pytest.fixture
def broker(tmp_path: Path):
    if MOSQUITTO is None:
        pytest.skip("mosquitto is not installed (scripts/system_packages.sh)")
    running = Broker(tmp_path / "broker").start()
    yield running
    running.stop()


def _in_order_once(decisions: list[dict]) -> list[int]:
    """Sequence numbers after dropping QoS 1 repeats; asserts they never go backwards."""
    seen: list[int] = []
    for d in decisions:
        if seen and d["seq"] <= seen[-1]:
            assert d["seq"] in seen, f"seq {d['seq']} out of order after {seen[-1]}"
            continue
        seen.append(d["seq"])
    return seen


# Home Assistant's MQTT sensor schema (homeassistant/components/mqtt/sensor.py and the entity base schema):
# the keys our config uses, with the type each must have.
HA_SENSOR_KEYS = {"name": str, "unique_id": str, "object_id": str, "state_topic": str, "value_template": str,
                  "json_attributes_topic": str, "json_attributes_template": str, "availability_topic": str,
                  "payload_available": str, "payload_not_available": str, "icon": str, "qos": int, "device": dict}
HA_DEVICE_KEYS = {"identifiers": list, "name": str, "manufacturer": str, "model": str, "sw_version": str}


@needs_broker
def test_every_decision_arrives_once_in_order_with_discovery_state_and_availability(broker: Broker,
                                                                                     tmp_path: Path) -> None:
    wav = tmp_path / "scene.wav"
    # 20.7 s: the last full window at 1 s hops ends at 19.992 s, so 0.708 s (over a tenth of a window) is left for the
    # tail window, which ends at the file's end (a file only 8 ms longer gets none: audio/windows.py)
    soundfile.write(wav, _scene(20.7), RATE)
    subscriber = Subscriber(broker.port, [f"{PREFIX}/#", "homeassistant/#"])
    try:
        done = subprocess.run([*LISTEN, str(wav), "--hop", "1", "--format", "jsonl", "--mqtt",
                               f"mqtt://127.0.0.1:{broker.port}/{PREFIX}"], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        windows = [json.loads(line) for line in done.stdout.splitlines() if '"kind": "window"' in line]
        assert subscriber.wait_for(lambda: len(subscriber.on(DECISION)) >= len(windows)
                                   and subscriber.on(AVAILABILITY)[-1:] == ["offline"])
        decisions = subscriber.decisions(DECISION)
        assert [d["seq"] for d in decisions] == list(range(len(windows))) == _in_order_once(decisions)
        for d, w in zip(decisions, windows):
            assert (d["start"], d["end"], d["label"], d["tail"]) == (w["start"], w["end"], w["label"], w["tail"])
            assert d["probabilities"] == w["probabilities"] and d["dropped"] == 0 and len(d["top"]) == 3
            assert len(d["model_sha256"]) == 64 and d["source"] == str(wav) and 0 < d["level"] < 1
        assert decisions[-1]["tail"] and decisions[-1]["end"] == 20.7  # the last window ends at the file's end
        assert subscriber.on(AVAILABILITY) == ["online", "offline"]
        assert f"{len(windows)} decisions published" in done.stderr and "0 dropped" in done.stderr
    finally:
        subscriber.close()
    # Retained: a subscriber that arrives afterwards (Home Assistant restarting) gets the config and the state.
    late = Subscriber(broker.port, [DISCOVERY, STATE, AVAILABILITY], client_id="late")
    try:
        assert late.wait_for(lambda: late.on(DISCOVERY) and late.on(STATE) and late.on(AVAILABILITY), 10)
        assert all(retained for _, _, retained in late.messages)
        config, state = json.loads(late.on(DISCOVERY)[0]), json.loads(late.on(STATE)[0])
        assert state["seq"] == decisions[-1]["seq"] and late.on(AVAILABILITY) == ["offline"]
    finally:
        late.close()
    assert set(config) <= set(HA_SENSOR_KEYS) and "state_topic" in config
    assert all(isinstance(config[k], HA_SENSOR_KEYS[k]) for k in config)
    assert set(config["device"]) <= set(HA_DEVICE_KEYS) and config["device"]["identifiers"]
    assert config["state_topic"] == config["json_attributes_topic"] == STATE
    assert config["availability_topic"] == AVAILABILITY and config["qos"] in (0, 1, 2)
    # The templates Home Assistant renders (Jinja) give the label as state and the probabilities as attributes.
    jinja2 = pytest.importorskip("jinja2")
    environment = jinja2.Environment()
    assert environment.from_string(config["value_template"]).render(value_json=state) == state["label"]
    attributes = json.loads(environment.from_string(config["json_attributes_template"]).render(value_json=state))
    assert attributes == state["probabilities"] and len(attributes) == 10


def _wav_header(n_samples: int) -> bytes:
    import struct

    data = 2 * n_samples
    fmt = struct.pack("<IHHIIHH", 16, 1, 1, RATE, 2 * RATE, 2, 16)  # PCM, mono, 16-bit
    return b"RIFF" + struct.pack("<I", 36 + data) + b"WAVEfmt " + fmt + b"data" + struct.pack("<I", data)


def _pcm(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


@needs_broker
def test_the_last_will_says_offline_when_asc_listen_is_killed(broker: Broker) -> None:
    subscriber = Subscriber(broker.port, [AVAILABILITY])
    listener = subprocess.Popen([*LISTEN, "-", "--mqtt", f"mqtt://127.0.0.1:{broker.port}/{PREFIX}"],
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        listener.stdin.write(_wav_header(RATE * 60) + _pcm(_scene(6.0)))
        listener.stdin.flush()
        assert subscriber.wait_for(lambda: subscriber.on(AVAILABILITY) == ["online"])
        listener.kill()  # no DISCONNECT: the broker publishes the Last Will
        assert subscriber.wait_for(lambda: subscriber.on(AVAILABILITY) == ["online", "offline"], 10)
    finally:
        listener.kill()
        listener.wait()
        listener.stdin.close()
        listener.stderr.close()
        subscriber.close()


def _stream(listener: subprocess.Popen, seconds: float, seed: int) -> None:
    listener.stdin.write(_pcm(_scene(seconds, seed)))
    listener.stdin.flush()


@needs_broker
@pytest.mark.parametrize("queue", [1000, 5])
def test_a_broker_restart_mid_stream_loses_nothing_within_the_queue_bound(broker: Broker, queue: int) -> None:
    """Audio streams in on stdin; the broker is stopped (SIGTERM), 20 s more audio is classified, then it comes
    back on the same port: with room in the queue every decision arrives, in order; with a queue of 5 the
    oldest go, and the count says how many."""
    subscriber = Subscriber(broker.port, [DECISION], client_id=f"restart-{queue}")
    total_s = 40.0
    listener = subprocess.Popen([*LISTEN, "-", "--hop", "1", "--format", "jsonl", "--mqtt-queue", str(queue),
                                 "--mqtt", f"mqtt://127.0.0.1:{broker.port}/{PREFIX}"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        listener.stdin.write(_wav_header(int(RATE * total_s)))
        _stream(listener, 10.0, 1)  # read in blocks of 4 s (65,536 samples): 8 s hold 4 windows
        assert subscriber.wait_for(lambda: len(subscriber.on(DECISION)) >= 3)
        broker.stop()
        _stream(listener, 20.0, 2)  # classified while the broker is away: queued
        time.sleep(2.0)
        broker.start()
        _stream(listener, total_s - 30.0, 3)
        out, err = listener.communicate(timeout=60)  # closes stdin: the end of the audio
    finally:
        listener.kill()
    assert listener.returncode == 0, err
    windows = [json.loads(line) for line in out.decode().splitlines() if '"kind": "window"' in line]
    assert subscriber.wait_for(lambda: _in_order_once(subscriber.decisions(DECISION))[-1:] == [len(windows) - 1])
    received = _in_order_once(subscriber.decisions(DECISION))
    subscriber.close()
    sent = len(windows)
    dropped = sent - len(received)
    print(f"broker restart, queue {queue}: {sent} decisions made, {len(received)} received, {dropped} dropped, "
          f"{len(subscriber.on(DECISION)) - len(received)} repeats")
    if queue >= sent:
        assert received == list(range(sent))
        assert "0 dropped" in err.decode()
    else:
        assert 0 < dropped and f"{dropped} dropped" in err.decode()
        assert subscriber.decisions(DECISION)[-1]["dropped"] == dropped  # the count rides in later messages


@needs_broker
def test_a_password_file_logs_in_and_a_wrong_password_is_one_line_before_any_audio(tmp_path: Path) -> None:
    folder = tmp_path / "broker"
    folder.mkdir()
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(folder / "passwd"), "pi", "right horse"], check=True)
    broker = Broker(folder, ("allow_anonymous false", f"password_file {folder / 'passwd'}")).start()
    wav = tmp_path / "scene.wav"
    soundfile.write(wav, _scene(6.0), RATE)
    try:
        (tmp_path / "good").write_text("pi:right horse\n")
        (tmp_path / "bad").write_text("pi:wrong\n")
        url = f"mqtt://127.0.0.1:{broker.port}/{PREFIX}"
        good = subprocess.run([*LISTEN, str(wav), "--mqtt", url, "--mqtt-password-file", str(tmp_path / "good")],
                              capture_output=True, text=True, timeout=60)
        assert good.returncode == 0 and "2 decisions published" in good.stderr, good.stderr
        env = {**os.environ, "ASC_MQTT_USERNAME": "pi", "ASC_MQTT_PASSWORD": "right horse"}
        by_env = subprocess.run([*LISTEN, str(wav), "--mqtt", url], capture_output=True, text=True, env=env, timeout=60)
        assert by_env.returncode == 0, by_env.stderr
        bad = subprocess.run([*LISTEN, str(wav), "--mqtt", url, "--mqtt-password-file", str(tmp_path / "bad")],
                             capture_output=True, text=True, timeout=60)
        assert bad.returncode == 2 and bad.stdout == "", bad.stderr
        assert bad.stderr.count("\n") == 1 and "refused" in bad.stderr and "Traceback" not in bad.stderr
    finally:
        broker.stop()


def _certificates(folder: Path) -> dict[str, Path]:
    """A test CA, a server certificate for 127.0.0.1 signed by it, and a second CA that signed nothing."""
    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=folder)

    for ca in ("ca", "other-ca"):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN=asc-edge test {ca}",
                "-keyout", f"{ca}.key", "-out", f"{ca}.crt")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key",
            "-out", "server.csr")
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
            "-extfile", "san.ext", "-out", "server.crt")
    return {name: folder / name for name in ("ca.crt", "other-ca.crt", "server.crt", "server.key")}


@needs_broker
def test_tls_with_the_right_ca_publishes_and_a_wrong_ca_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "broker"
    folder.mkdir()
    certs = _certificates(folder)
    broker = Broker(folder, ("allow_anonymous true", f"cafile {certs['ca.crt']}", f"certfile {certs['server.crt']}",
                             f"keyfile {certs['server.key']}")).start()
    wav = tmp_path / "scene.wav"
    soundfile.write(wav, _scene(6.0), RATE)
    url = f"mqtts://127.0.0.1:{broker.port}/{PREFIX}"
    try:
        subscriber = Subscriber(broker.port, [DECISION], ca_certs=str(certs["ca.crt"]))
        good = subprocess.run([*LISTEN, str(wav), "--mqtt", url, "--mqtt-ca", str(certs["ca.crt"])],
                              capture_output=True, text=True, timeout=60)
        assert good.returncode == 0, good.stderr
        assert subscriber.wait_for(lambda: len(subscriber.on(DECISION)) == 2, 10)
        subscriber.close()
        wrong = subprocess.run([*LISTEN, str(wav), "--mqtt", url, "--mqtt-ca", str(certs["other-ca.crt"])],
                               capture_output=True, text=True, timeout=60)
        assert wrong.returncode == 2 and wrong.stdout == "" and wrong.stderr.count("\n") == 1, wrong.stderr
        assert "certificate" in wrong.stderr and "Traceback" not in wrong.stderr
        plain = subprocess.run([*LISTEN, str(wav), "--mqtt", url], capture_output=True, text=True, timeout=60)
        assert plain.returncode == 2 and "certificate" in plain.stderr  # checks on by default: the system CAs
    finally:
        broker.stop()


@pytest.mark.parametrize("flags, expected", [
    (["--mqtt", "http://127.0.0.1/x"], "scheme"),
    (["--mqtt", "mqtt:///x"], "no host"),
    (["--mqtt", "mqtt://127.0.0.1:70000/x"], "port"),
    (["--mqtt", "mqtt://127.0.0.1:0/x"], "port"),
    (["--mqtt", "mqtt://127.0.0.1"], "prefix"),
    (["--mqtt", "mqtt://127.0.0.1/home/#"], "wildcards"),
    (["--mqtt", "mqtt://127.0.0.1/home/+/x"], "wildcards"),
    (["--mqtt", "mqtt://pi:secret@127.0.0.1/x"], "password"),
    (["--mqtt", "mqtt://127.0.0.1/x", "--mqtt-password-file", "/nonexistent/pw"], "cannot read"),
    (["--mqtt", "mqtt://127.0.0.1/x", "--mqtt-queue", "0"], "between 1 and"),
    (["--mqtt", "mqtt://127.0.0.1/x", "--mqtt-queue", "-3"], "between 1 and"),
])
def test_bad_mqtt_flags_are_one_line_and_exit_2_before_anything_starts(flags: list[str], expected: str,
                                                                        tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture) -> None:
    wav = tmp_path / "clip.wav"
    soundfile.write(wav, _scene(6.0), RATE)
    try:
        code = run_cli(listen_main, [str(wav), *flags], prog="asc-listen")
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if "error:" in line]
    assert code == 2 and captured.out == "" and len(errors) == 1 and expected in errors[0], captured.err


def test_sigterm_is_not_a_traceback_without_a_broker(tmp_path: Path) -> None:
    """An unreachable broker does not stop the classification; SIGTERM ends the run with the queue reported."""
    listener = subprocess.Popen([*LISTEN, "-", "--format", "jsonl", "--mqtt", "mqtt://127.0.0.1:1/x",
                                 "--mqtt-flush-seconds", "0.5"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    listener.stdin.write(_wav_header(RATE * 60) + _pcm(_scene(12.0)))
    listener.stdin.flush()
    time.sleep(3.0)
    listener.send_signal(signal.SIGTERM)
    out, err = listener.communicate(timeout=30)
    assert "unreachable" in err.decode() and "not delivered" in err.decode() and "Traceback" not in err.decode()
    assert out.count(b"\n") >= 1  # the windows classified before the stop were written as they were made
