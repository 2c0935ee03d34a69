"""The gate thresholds as command-line flags, defined once for ``asc-export`` and ``asc-train recipe``."""

from __future__ import annotations

import argparse

from asc_edge.plumbing.cli_util import bounded, fraction, positive_int

# The default gates (asc-export's ExportSettings holds the same values).
DEFAULT_GATES = {"max_bytes": 128_000, "min_agreement": 0.99, "max_drop_pp": 0.5, "max_log_loss_increase": 0.05}
_FLAGS = {"max_bytes": "--max-bytes", "min_agreement": "--min-agreement", "max_drop_pp": "--max-drop",
          "max_log_loss_increase": "--max-log-loss-increase"}


def add_gate_flags(parser: argparse.ArgumentParser, defaults: bool = True) -> None:
    """``--max-bytes``, ``--min-agreement``, ``--max-drop``, ``--max-log-loss-increase``. ``defaults=False``
    leaves an unset flag None, so a caller can tell a threshold the user chose from the default."""
    d = DEFAULT_GATES if defaults else dict.fromkeys(DEFAULT_GATES)
    parser.add_argument("--max-bytes", type=positive_int, default=d["max_bytes"],
                        help="size budget (default: 128000)")
    parser.add_argument("--min-agreement", type=fraction, default=d["min_agreement"],
                        help="fidelity gate: least top-1 agreement with PyTorch (default: 0.99)")
    parser.add_argument("--max-drop", dest="max_drop_pp", type=bounded(float, minimum=0.0, maximum=100.0),
                        default=d["max_drop_pp"], metavar="PP",
                        help="fidelity gate: most macro-accuracy drop in percentage points (default: 0.5)")
    parser.add_argument("--max-log-loss-increase", type=bounded(float, minimum=0.0, maximum=100.0),
                        default=d["max_log_loss_increase"], metavar="NATS",
                        help="fidelity gate: most increase of the log loss, int8 minus float (default: 0.05)")


def chosen_gates(args: argparse.Namespace) -> dict:
    """The thresholds the user set (parsed with ``defaults=False``); {} means the defaults."""
    return {name: getattr(args, name) for name in DEFAULT_GATES if getattr(args, name) is not None}


def gate_flags_text(gates: dict) -> str:
    """``--min-agreement 0.95 --max-drop 1``: the flags that give ``gates``."""
    return " ".join(f"{_FLAGS[name]} {value:g}" for name, value in gates.items())
