"""Topics and JSON payloads of ``asc-listen --mqtt``, and the Home Assistant discovery config.

``PREFIX/decision``: every decision (QoS 1, in order, a sequence number to drop repeats by);
``PREFIX/state``: the latest decision, retained (what a new subscriber or Home Assistant reads first);
``PREFIX/availability``: ``online`` / ``offline`` (retained; ``offline`` is also the Last Will, so a Pi that
dies reads offline). Discovery: ``DISCOVERY_PREFIX/sensor/NODE/scene/config``, retained, describes a "scene"
sensor whose state is the label and whose attributes are the probabilities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from asc_edge.plumbing.version import __version__

ONLINE, OFFLINE = "online", "offline"


@dataclass(frozen=True)
class Topics:
    prefix: str
    discovery_prefix: str

    @property
    def decision(self) -> str:
        return f"{self.prefix}/decision"

    @property
    def state(self) -> str:
        return f"{self.prefix}/state"

    @property
    def availability(self) -> str:
        return f"{self.prefix}/availability"

    @property
    def node_id(self) -> str:
        """The prefix as a Home Assistant node id (letters, digits, _ and - only)."""
        return re.sub(r"[^A-Za-z0-9_-]", "_", self.prefix)

    @property
    def discovery(self) -> str:
        return f"{self.discovery_prefix}/sensor/{self.node_id}/scene/config"


def decision_payload(sequence: int, source: str, start_s: float, end_s: float, label: str,
                     probabilities: np.ndarray, labels: list[str], top_k: int, level: float, model_sha256: str,
                     wall_time: float, tail: bool = False) -> dict:
    """One decision as published (``dropped`` is added when it is sent: the count of decisions the full
    queue has dropped so far)."""
    order = np.argsort(-probabilities, kind="stable")[:top_k]
    return {"seq": sequence, "time": round(wall_time, 3), "source": source, "start": round(start_s, 4),
            "end": round(end_s, 4), "tail": tail, "label": label,
            "confidence": round(float(probabilities.max()), 6),
            "top": [{"label": labels[i], "probability": round(float(probabilities[i]), 6)} for i in order],
            "probabilities": {name: round(float(p), 6) for name, p in zip(labels, probabilities)},
            "level": round(level, 6), "model_sha256": model_sha256}


def discovery_config(topics: Topics, model_name: str) -> dict:
    """Home Assistant MQTT discovery for a ``sensor``: the label as state, the probabilities as attributes."""
    return {
        "name": "Scene",
        "unique_id": f"{topics.node_id}_scene",
        "object_id": f"{topics.node_id}_scene",
        "state_topic": topics.state,
        "value_template": "{{ value_json.label }}",
        "json_attributes_topic": topics.state,
        "json_attributes_template": "{{ value_json.probabilities | tojson }}",
        "availability_topic": topics.availability,
        "payload_available": ONLINE,
        "payload_not_available": OFFLINE,
        "icon": "mdi:ear-hearing",
        "qos": 1,
        "device": {"identifiers": [f"asc_edge_{topics.node_id}"], "name": f"asc-edge {topics.prefix}",
                   "manufacturer": "asc-edge", "model": model_name, "sw_version": __version__},
    }
