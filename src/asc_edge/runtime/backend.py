"""Pick a TFLite interpreter: ai-edge-litert first, then tflite-runtime, then TensorFlow's ``tf.lite``."""

from __future__ import annotations

import importlib

from asc_edge.errors import ModelFileError

BACKENDS = ("litert", "tflite-runtime", "tensorflow")
_MODULES = {"litert": "ai_edge_litert.interpreter", "tflite-runtime": "tflite_runtime.interpreter",
            "tensorflow": "tensorflow.lite"}


def interpreter_class(backend: str = "auto") -> tuple[str, type]:
    """``(backend name, Interpreter class)``; ``auto`` takes the first that imports."""
    if backend != "auto" and backend not in BACKENDS:
        raise ModelFileError(f"unknown backend {backend!r}; choose auto or one of {', '.join(BACKENDS)}")
    failures = []
    for name in (BACKENDS if backend == "auto" else (backend,)):
        try:
            module = importlib.import_module(_MODULES[name])
        except ImportError as exc:  # includes tflite-runtime's numpy-2 "_ARRAY_API not found" ImportError
            failures.append(f"{name}: {exc}")
            continue
        return name, module.Interpreter
    wanted = "pip install ai-edge-litert" if backend in ("auto", "litert") else \
        {"tflite-runtime": "pip install tflite-runtime 'numpy<2'", "tensorflow": "pip install tensorflow"}[backend]
    raise ModelFileError(f"no TFLite interpreter could be imported ({'; '.join(failures)[:200]}); "
                         f"install one: {wanted} (or pip install 'asc-edge[runtime]')")
