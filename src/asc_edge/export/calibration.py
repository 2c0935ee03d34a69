"""Which clips calibrate the int8 ranges and which measure fidelity.

Calibration draws real log-mels from the *training* split, spread evenly over scenes and devices in a seeded
order (the TAU lists are sorted by scene, so "the first N" would calibrate on two scenes only); fidelity is
measured on the evaluate split, which calibration never sees.
"""

from __future__ import annotations

import numpy as np

from asc_edge.train.data import Split


def calibration_rows(split: Split, count: int, seed: int = 0) -> np.ndarray:
    """Up to ``count`` cache rows of ``split``, round-robin over (scene, device) groups in seeded order."""
    rng = np.random.default_rng(seed)
    groups: dict[tuple[int, str], list[int]] = {}
    for position in rng.permutation(len(split)):
        groups.setdefault((int(split.labels[position]), split.devices[position]), []).append(int(position))
    queues = [groups[key] for key in sorted(groups)]
    chosen: list[int] = []
    while len(chosen) < min(count, len(split)):
        for queue in queues:
            if queue and len(chosen) < count:
                chosen.append(queue.pop())
    return split.rows[np.array(chosen, dtype=np.int64)]
