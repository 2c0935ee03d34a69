"""Pick a TFLite interpreter: ai-edge-litert first, then tflite-runtime, then TensorFlow's ``tf.lite``.

The choice lives in :mod:`asc_edge.modelfile.probe` (below both export and runtime), because ``asc-export --info``
loads a file the same way the runtime does; this module is the runtime's name for it.
"""

from __future__ import annotations

from asc_edge.modelfile.probe import BACKENDS, interpreter_class, make_interpreter, probe_model

__all__ = ["BACKENDS", "interpreter_class", "make_interpreter", "probe_model"]
