"""An exported asc-edge model: validated file, model card, interpreter, and audio -> class probabilities."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from asc_edge.audio.frontend import LogMelFrontend
from asc_edge.audio.input_norm import apply_input_resnorm
from asc_edge.modelfile.quantization import dequantize, quantize
from asc_edge.modelfile.read import read_model_file
from asc_edge.plumbing.errors import ModelFileError
from asc_edge.plumbing.memory import keep_freed_memory
from asc_edge.plumbing.native_output import quiet_native_output
from asc_edge.runtime.backend import interpreter_class, make_interpreter, probe_model


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


class SceneModel:
    """Load once, then :meth:`probabilities` for windows of ``window.samples`` mono samples at the model rate."""

    def __init__(self, path: str | Path, backend: str = "auto", threads: int = 1) -> None:
        self.path = Path(path)
        # Validated before any interpreter sees it: digest, structure, then every card field (modelfile.card).
        data, self.card = read_model_file(self.path)
        self.labels: list[str] = list(self.card.labels)
        self.frontend_config = self.card.frontend
        self.window = self.card.window
        self.frontend = LogMelFrontend(self.frontend_config)
        # Float32 steps between the log-mels and the int8 input (asc_edge.audio.input_norm); None for older files.
        self.input_resnorm = self.card.input_resnorm
        keep_freed_memory()
        self.backend, interpreter = interpreter_class(backend)
        # First load of this exact file with this interpreter: in a child process, so a native crash is a line.
        probe_model(self.path, data, self.card.file_sha256, self.backend, threads)
        try:
            # LiteRT prints "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." to fd 2
            with quiet_native_output(fds=(2,)):
                self._interpreter = make_interpreter(interpreter, data, threads)
        except (ValueError, RuntimeError) as exc:
            raise ModelFileError(f"{self.path}: the interpreter refused the model ({str(exc).splitlines()[0]})") \
                from exc
        (self._input,), (self._output,) = (self._interpreter.get_input_details(),
                                           self._interpreter.get_output_details())
        expected = (1, self.window.n_mels, self.window.n_frames, 1)
        # int8, or int16 for a file exported with --activations int16 (int8 weights either way)
        if tuple(self._input["shape"]) != expected or self._input["dtype"] not in (np.int8, np.int16):
            raise ModelFileError(f"{self.path}: input is {self._input['dtype'].__name__} "
                                 f"{tuple(self._input['shape'])}, expected int8 {expected}")
        if int(self._output["shape"][-1]) != len(self.labels):
            raise ModelFileError(f"{self.path}: {self._output['shape'][-1]} outputs for {len(self.labels)} labels")
        self._in_scale, self._in_zero = self._input["quantization"]
        self._out_scale, self._out_zero = self._output["quantization"]

    def features(self, window_samples: np.ndarray) -> np.ndarray:
        """Log-mels ``(n_mels, n_frames)`` of one window (exactly the training frontend)."""
        if window_samples.size != self.window.samples:
            raise ValueError(f"a window has {self.window.samples} samples, got {window_samples.size}")
        return self.frontend(window_samples)

    def logits(self, features: np.ndarray) -> np.ndarray:
        """Dequantised logits for one window's log-mels ``(n_mels, n_frames)``."""
        if self.input_resnorm is not None:
            features = apply_input_resnorm(features, self.input_resnorm)
        quantised = quantize(features, self._in_scale, self._in_zero, self._input["dtype"])
        self._interpreter.set_tensor(self._input["index"], quantised[None, :, :, None])
        self._interpreter.invoke()
        raw = self._interpreter.get_tensor(self._output["index"])[0]
        return dequantize(raw, self._out_scale, self._out_zero)

    def probabilities(self, window_samples: np.ndarray) -> np.ndarray:
        """Softmax class probabilities of one window."""
        return self.probabilities_of_features(self.features(window_samples))

    def probabilities_of_features(self, features: np.ndarray) -> np.ndarray:
        """Softmax class probabilities of one window's log-mels (``audio.windowed.WindowedLogMel`` computes
        them once for overlapping windows)."""
        return softmax(self.logits(features).astype(np.float64))
