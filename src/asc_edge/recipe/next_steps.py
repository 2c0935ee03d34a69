"""What a newcomer runs after the main job: the same tools on their own audio, their own model, and a Pi.

The main job (``scripts/quickstart.sh``) ends with these lines. Every line that starts with ``$`` runs as
printed from the repository root on the machine that ran the main job (``tests/test_next_steps.py`` runs them
at CI size); lines that start with ``pi$`` run on the Raspberry Pi.
"""

from __future__ import annotations

import shlex

from asc_edge.plumbing.version import __version__

BIN = ".venv/bin/"  # works as printed without activating the venv; `source .venv/bin/activate` drops the prefix
WHEEL = f"asc_edge-{__version__}-py3-none-any.whl"


def next_steps(out_dir: str, clip: str, checkpoint: str, model: str, export_args: str = "") -> list[str]:
    """The "next" block: classify your audio, score a model on labelled audio, export your model, run it on a
    Pi. Paths as the main job gave them (relative to the repository root); ``export_args``: the gate flags the
    main job exported with."""
    q = shlex.quote
    pi_dir = f"{out_dir.rstrip('/')}/pi"
    my_export = f"{out_dir.rstrip('/')}/my_export"
    data = f"{out_dir.rstrip('/')}/data"
    return [
        "Next: the same tools on your own audio and model. Run from this folder, or `source .venv/bin/activate`",
        "once and drop the .venv/bin/ prefix.",
        "  1. classify your audio: a file, or a folder of your own recordings (searched recursively; WAV, FLAC or",
        "     OGG, any sample rate and channel count; --mic listens to a microphone, --format csv|jsonl|audacity):",
        f"     $ {BIN}asc-listen {q(clip)} --model {q(model)}",
        "  2. score a model on labelled audio: a folder per label of your own recordings (my_sounds/<label>/*.wav)",
        "     or a TAU folder, here the main job's evaluate split (accuracy per class and device, confusion",
        "     matrix; --plot FILE.png draws them):",
        f"     $ {BIN}asc-eval {q(model)} {q(data)}",
        "  3. export a model, here the main job's checkpoint; yours comes from `asc-train --data my_sounds --out",
        "     my.pt` on a folder per label of your own recordings (or a TAU folder); --calib DATA if its data",
        "     moved; every gate prints measured, threshold and verdict:",
        f"     $ {BIN}asc-export {q(checkpoint)} -o {q(my_export)} --c-array{' ' + export_args if export_args else ''}",
        "  4. run it on a Raspberry Pi (64-bit Raspberry Pi OS, Python 3.11; firmware_notes/raspberry-pi.md):",
        "     build the runtime wheel here and put the model beside it,",
        f"     $ {BIN}pip wheel --no-deps --no-build-isolation -q -w {q(pi_dir)} . && cp {q(model)} {q(pi_dir)}/",
        f"     copy {pi_dir} to the Pi (e.g. scp -r {q(pi_dir)} pi@raspberrypi.local:), then on the Pi:",
        f'     pi$ python3 -m venv ~/asc && ~/asc/bin/pip install "pi/{WHEEL}[runtime]"',
        "     pi$ ~/asc/bin/asc-listen --mic --model pi/model_int8.tflite",
        "     (the runtime is numpy, scipy, soundfile, sounddevice and ai-edge-litert: no torch, no TensorFlow;",
        "     `sudo apt install libportaudio2` for --mic)",
    ]


def commands(lines: list[str], prompt: str = "$") -> list[str]:
    """The commands of ``lines`` that start with ``prompt`` (``$``: here, ``pi$``: on the Pi)."""
    marker = f"{prompt} "
    return [line.strip()[len(marker):] for line in lines if line.strip().startswith(marker)]
