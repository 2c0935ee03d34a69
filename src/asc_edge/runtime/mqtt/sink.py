"""Decisions of any mode (files, stdin, ``--mic``) -> numbered MQTT payloads on the publisher's queue."""

from __future__ import annotations

import time

import numpy as np

from asc_edge.runtime.mqtt.messages import decision_payload
from asc_edge.runtime.mqtt.publisher import MqttPublisher


class DecisionSink:
    """``sink(source, start_s, end_s, label, probabilities, level)``: queue one decision with the next ``seq``."""

    def __init__(self, publisher: MqttPublisher, labels: list[str], top_k: int, model_sha256: str) -> None:
        self.publisher, self.labels, self.top_k, self.model_sha256 = publisher, labels, top_k, model_sha256
        self.sequence = 0

    def __call__(self, source: str, start_s: float, end_s: float, label: str, probabilities: np.ndarray,
                 level: float, tail: bool = False) -> None:
        self.publisher.publish(decision_payload(self.sequence, source, start_s, end_s, label, probabilities,
                                                self.labels, self.top_k, level, self.model_sha256, time.time(),
                                                tail))
        self.sequence += 1
