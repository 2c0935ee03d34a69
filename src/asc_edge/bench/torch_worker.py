"""``asc-bench``'s PyTorch column, run in its own process: the checkpoint's float model on the same path.

    python -m asc_edge.bench.torch_worker CHECKPOINT WAV THREADS RUNS
"""

from __future__ import annotations

import json
import sys


def main(argv: list[str]) -> None:
    checkpoint_path, wav, threads, runs = argv[:4]

    def load():
        import torch

        from asc_edge.audio.frontend import LogMelFrontend
        from asc_edge.train.checkpoint import frontend_of, load_checkpoint, model_from_checkpoint

        torch.set_num_threads(int(threads))
        checkpoint = load_checkpoint(checkpoint_path)
        model = model_from_checkpoint(checkpoint, checkpoint_path).eval()
        frontend = LogMelFrontend(frontend_of(checkpoint))
        # The same window as the exported file's model card (FrontendConfig.window_samples).
        window = frontend.config.window_samples(int(checkpoint["input_shape"][1]))

        def infer(features):
            with torch.no_grad():
                return model(torch.from_numpy(features[None, None]))
        return frontend, window, frontend.config.sample_rate, infer

    from asc_edge.bench.timing import time_path

    print(json.dumps(time_path(load, wav, int(runs))))


if __name__ == "__main__":
    main(sys.argv[1:])
