"""Pick a TFLite interpreter: ai-edge-litert first, then tflite-runtime, then TensorFlow's ``tf.lite``.

The choice lives in :mod:`asc_edge.modelfile.probe` (below both export and runtime), because ``asc-export --info``
loads a file the same way the runtime does; this module is the runtime's name for it.
"""

from __future__ import annotations

import argparse

from asc_edge.modelfile.probe import BACKENDS, interpreter_class, make_interpreter, probe_model

__all__ = ["BACKENDS", "add_interpreter_arguments", "interpreter_class", "make_interpreter", "probe_model"]


def add_interpreter_arguments(parser: argparse.ArgumentParser) -> None:
    """``--backend`` and ``--threads``: how every runtime command runs a model file, said once."""
    from asc_edge.plumbing.cli_util import thread_count

    parser.add_argument("--backend", default="auto", choices=("auto", *BACKENDS),
                        help="interpreter (default: ai-edge-litert, else tflite-runtime, else tensorflow)")
    parser.add_argument("--threads", type=thread_count, default=1,
                        help="interpreter threads, at most 4 per core (default: 1)")
