"""Pick a TFLite interpreter, and load each model file the first time in a child process.

The struct checks in :mod:`asc_edge.modelfile.structure` cover every index and size we know the interpreter reads, but
an interpreter is native code: a file we did not foresee could still crash it, and a crash would kill the
process with no message (or with native output silenced, none at all). So the first time a file is seen
(keyed by its verified SHA-256, the backend and the interpreter's version) it is loaded, allocated and invoked
once on a zero input in a child process; a signal, an error or a hang there becomes one line naming the file,
and success is remembered in a small cache folder so later loads cost nothing. Shared by the runtime
(``SceneModel``) and ``asc-export --info`` (which therefore applies the same checks as a load).

    python -m asc_edge.modelfile.probe BACKEND THREADS < model.tflite     (the child; prints "ok")
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path

from asc_edge.plumbing.cache_home import user_cache_home
from asc_edge.plumbing.errors import ModelFileError
from asc_edge.plumbing.native_output import quiet_native_output

BACKENDS = ("litert", "tflite-runtime", "tensorflow")
_MODULES = {"litert": "ai_edge_litert.interpreter", "tflite-runtime": "tflite_runtime.interpreter",
            # tf.lite is a lazy alias that importlib cannot import; this is the module it points to
            "tensorflow": "tensorflow.lite.python.interpreter"}
_DISTRIBUTIONS = {"litert": "ai-edge-litert", "tflite-runtime": "tflite-runtime", "tensorflow": "tensorflow"}
_MODEL_FAILED = 3  # the child's exit code when the interpreter raised on the model
PROBE_TIMEOUT_S = 120.0  # TensorFlow's import alone takes ~4 s on 2 cores; a load that takes minutes is hung


def interpreter_class(backend: str = "auto") -> tuple[str, type]:
    """``(backend name, Interpreter class)``; ``auto`` takes the first that imports."""
    if backend != "auto" and backend not in BACKENDS:
        raise ModelFileError(f"unknown backend {backend!r}; choose auto or one of {', '.join(BACKENDS)}")
    failures = []
    for name in (BACKENDS if backend == "auto" else (backend,)):
        try:
            # TensorFlow's import prints dozens of native log lines (CUDA, oneDNN) to fd 2 and Python
            # deprecation warnings: neither is ours to show
            with warnings.catch_warnings(), quiet_native_output(fds=(2,)):
                warnings.simplefilter("ignore")
                module = importlib.import_module(_MODULES[name])
        except ImportError as exc:  # includes tflite-runtime's numpy-2 "_ARRAY_API not found" ImportError
            failures.append(f"{name}: {exc}")
            continue
        return name, module.Interpreter
    wanted = "pip install ai-edge-litert" if backend in ("auto", "litert") else \
        {"tflite-runtime": "pip install tflite-runtime 'numpy<2'", "tensorflow": "pip install tensorflow"}[backend]
    raise ModelFileError(f"no TFLite interpreter could be imported ({'; '.join(failures)[:200]}); "
                         f"install one: {wanted} (or pip install 'asc-edge[runtime]')")


def make_interpreter(interpreter: type, data: bytes, threads: int):
    """An interpreter over ``data`` with tensors allocated (tf.lite's deprecation warning silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        instance = interpreter(model_content=data, num_threads=threads)
    instance.allocate_tensors()
    return instance


def _cache_dir() -> Path:
    return user_cache_home() / "probed"


def _cache_key(digest: str, backend: str) -> str:
    try:
        version = importlib.metadata.version(_DISTRIBUTIONS[backend])
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return f"{digest}-{backend}-{version}"


def probe_model(source: str | Path, data: bytes, digest: str, backend: str, threads: int = 1,
                timeout: float = PROBE_TIMEOUT_S) -> None:
    """Load, allocate and invoke ``data`` once in a child process unless this exact file (``digest``, the
    SHA-256 :func:`asc_edge.modelfile.digest.check_digest` verified) already passed with this interpreter; raise
    :class:`ModelFileError` naming ``source`` when the child crashes, fails or hangs."""
    marker = _cache_dir() / _cache_key(digest, backend)
    if marker.is_file():
        return
    env = {k: v for k, v in os.environ.items() if k != "PYTHONFAULTHANDLER"}  # a crash is reported as one line
    package_root = str(Path(__file__).resolve().parents[2])  # the child imports this very asc_edge
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    try:
        done = subprocess.run([sys.executable, "-m", "asc_edge.modelfile.probe", backend, str(threads)], input=data,
                              capture_output=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise ModelFileError(f"{source}: the interpreter did not finish loading the model in {timeout:g} s "
                             f"(a damaged file?)") from None
    except OSError:  # no child process here (e.g. qemu-user without binfmt): load in-process, unprotected
        return
    if done.returncode < 0:
        try:
            name = signal.Signals(-done.returncode).name
        except ValueError:
            name = f"signal {-done.returncode}"
        raise ModelFileError(f"{source}: the {backend} interpreter crashed loading the model ({name}); the file "
                             f"is damaged or was not written by asc-export")
    if done.returncode not in (0, _MODEL_FAILED):
        # The child never reached the model (it could not import asc_edge or numpy: a foreign sys.executable
        # under emulation): that says nothing about the file, so load it in-process as before the probe.
        return
    if done.returncode != 0 or done.stdout.strip().splitlines()[-1:] != [b"ok"]:
        lines = [line for line in done.stderr.decode("utf-8", "replace").splitlines() if line.strip()]
        reason = lines[-1].strip()[:200] if lines else f"exit code {done.returncode}"
        raise ModelFileError(f"{source}: the {backend} interpreter refused the model ({reason})")
    with contextlib.suppress(OSError):  # a read-only home only costs a probe per load
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()


def _child(backend: str, threads: int) -> int:
    import numpy as np

    data = sys.stdin.buffer.read()
    try:
        _, interpreter = interpreter_class(backend)
        instance = make_interpreter(interpreter, data, threads)
        for detail in instance.get_input_details():
            instance.set_tensor(detail["index"], np.zeros(detail["shape"], dtype=detail["dtype"]))
        instance.invoke()
        for detail in instance.get_output_details():
            instance.get_tensor(detail["index"])
    except Exception as exc:  # noqa: BLE001 - any failure is the parent's one line
        print(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__, file=sys.stderr)
        return _MODEL_FAILED
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1], int(sys.argv[2])))
