"""Soak ``asc-listen --mic`` on the PulseAudio virtual microphone: RSS over time, overflows, windows decided.

    python benchmarks/mic_soak.py [--seconds 600] [--hop 1]

Feeds asc-synth-like scene audio (looped) in real time through a pipe source, runs the real CLI as a child
process and samples its resident memory every 10 s. Needs pulseaudio, pactl and PortAudio (as the tests do).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import virtual_mic  # noqa: E402  (the tests' virtual microphone)


def rss_mb(pid: int) -> float:
    match = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    return int(match.group(1)) / 1024 if match else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--hop", type=float, default=1.0)
    args = parser.parse_args()
    reason = virtual_mic.available()
    if reason:
        sys.exit(f"mic_soak: cannot run: {reason}")
    root = Path(tempfile.mkdtemp(prefix="asc-soak-"))
    mic = virtual_mic.VirtualMic(root)
    mic.start()
    rng = np.random.default_rng(0)
    t = np.arange(16000 * 30) / 16000
    scene = 0.05 * rng.standard_normal(t.size) + 0.1 * np.sin(2 * np.pi * 300 * t) * (np.sin(2 * np.pi * 0.2 * t) > 0)
    mic.feed(np.tile(scene, int(args.seconds / 30) + 2))
    out = root / "decisions.jsonl"
    command = [sys.executable, "-m", "asc_edge.runtime.listen_cli", "--mic", "--device", "pulse", "--hop",
               str(args.hop), "--seconds", str(args.seconds), "--format", "jsonl", "--out", str(out)]
    started = time.monotonic()
    child = subprocess.Popen(command, env=mic.env, stderr=subprocess.PIPE, text=True)
    samples = []
    while child.poll() is None:
        try:
            samples.append((time.monotonic() - started, rss_mb(child.pid)))
        except (FileNotFoundError, ProcessLookupError):
            break
        time.sleep(10)
    stderr = child.stderr.read()
    mic.close()
    decisions = [json.loads(line) for line in out.read_text().splitlines()]
    window = decisions[0]["end"] - decisions[0]["start"] if decisions else 0.0
    expected = int((args.seconds - window) / args.hop) + 1
    settled = [rss for elapsed, rss in samples if elapsed >= 30]
    overflows = re.search(r"(\d+) input overflows", stderr)
    print(f"$ python benchmarks/mic_soak.py --seconds {args.seconds:g} --hop {args.hop:g}")
    print(f"exit code {child.returncode}; {len(decisions)} decisions (expected {expected}); "
          f"overflows {overflows.group(1) if overflows else '?'}")
    if settled:
        print(f"RSS after 30 s {settled[0]:.1f} MB, at the end {settled[-1]:.1f} MB, max {max(settled):.1f} MB, "
              f"growth {settled[-1] - settled[0]:+.1f} MB")
    latencies = sorted(d["latency_ms"] for d in decisions)
    if latencies:
        p99 = latencies[int(0.99 * len(latencies))]
        print(f"latency median {latencies[len(latencies) // 2]:.1f} ms, p99 {p99:.1f} ms")
    print(stderr.strip().splitlines()[-1] if stderr.strip() else "")


if __name__ == "__main__":
    main()
