"""One ``asc-bench`` measurement in a fresh process (so cold start and peak RSS are this engine's alone).

    python -m asc_edge.bench.worker ENGINE MODEL.tflite WAV THREADS RUNS [ONNX]

ENGINE is ``litert`` (the int8 file, the device path) or ``onnx`` (the float ONNX file under ONNX Runtime).
Prints one JSON object. The PyTorch column comes from ``asc_edge.bench.torch_worker`` the same way.
"""

from __future__ import annotations

import time

_STARTED = time.perf_counter()  # before any other import: cold start counts the imports too

import json  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402


def _litert(model_path: str, threads: int):
    def load():
        from asc_edge.runtime.model import SceneModel

        model = SceneModel(model_path, threads=threads)
        return model.frontend, model.window.samples, model.window.sample_rate, model.logits
    return load


def _onnx(model_path: str, onnx_path: str, threads: int):
    def load():
        import onnxruntime

        from asc_edge.audio.frontend import LogMelFrontend
        from asc_edge.modelfile.read import read_model_file

        _, card = read_model_file(model_path)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        session = onnxruntime.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        frontend = LogMelFrontend(card.frontend)

        def infer(features: np.ndarray):
            return session.run(None, {name: features[None, None].astype(np.float32)})
        return frontend, card.window.samples, frontend.config.sample_rate, infer
    return load


def main(argv: list[str]) -> None:
    engine, model_path, wav, threads, runs = argv[:5]
    load = _litert(model_path, int(threads)) if engine == "litert" else _onnx(model_path, argv[5], int(threads))
    from asc_edge.bench.timing import time_path

    result = time_path(load, wav, int(runs), started=_STARTED)
    if engine == "litert":
        result["torch_loaded"] = "torch" in sys.modules
        result["tensorflow_loaded"] = "tensorflow" in sys.modules
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
