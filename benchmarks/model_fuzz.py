"""Fuzz the model-file checks: damage a real exported model and classify what the runtime's load path does.

    python benchmarks/model_fuzz.py [--model FILE] [--bytes 1000] [--bits 1000] [--resealed 100] [--json]

Each mutation changes one random byte (to another value) or flips one random bit of the file, writes it, and
loads it exactly as ``asc-listen --model`` does (``SceneModel``: digest, struct checks, card checks, the
child-process first load, the interpreter), then classifies two windows of fixed noise. Outcomes:

- refused:   one ``ModelFileError`` line (what ``asc-listen`` prints with exit code 2)
- identical: loaded, and the probabilities equal the original file's bit for bit
- different: loaded, and the probabilities differ with no refusal: the silent failure this guards against
- crashed:   the worker process died by a signal, or raised something else (a traceback)
- hung:      a mutation took longer than the probe timeout

Two modes. ``damaged``: the mutated bytes as they are (bit rot on an SD card, a bad copy); every one should be
refused by the digest. ``resealed``: a mutation of the *structure* (bytes outside the weight and metadata
buffers) with the digest recomputed afterwards, as someone editing the file on purpose would: the digest
cannot help, so this exercises the structural checks and the child-process load (outputs may differ here:
the file says what it is). ``--raw N`` adds N files with 1-3 random bytes changed that go straight to the
child-process first load with no check before it: the interpreter crashes it contains, and whether the checks
would have refused those files anyway. Mutations are drawn from ``--seed``, so a run is reproducible.
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

KINDS = ("byte", "bit")
HANG_S = 180.0  # longer than the child-process probe's own timeout (120 s)


def mutate(data: bytes, kind: str, seed: int, index: int, positions: np.ndarray | None = None) -> bytes:
    """Mutation ``index`` of ``kind``: one byte changed to another value, or one bit flipped."""
    rng = np.random.default_rng([seed, KINDS.index(kind), index])
    where = int(rng.choice(positions)) if positions is not None else int(rng.integers(len(data)))
    flip = int(rng.integers(1, 256)) if kind == "byte" else 1 << int(rng.integers(8))
    out = bytearray(data)
    out[where] ^= flip
    return bytes(out)


def structure_positions(data: bytes) -> np.ndarray:
    """Byte positions outside every buffer (weights, metadata): tables, vtables, shapes, indices, options."""
    from asc_edge.modelfile.flatbuffer_reader import buffer_spans

    inside = np.zeros(len(data), dtype=bool)
    for start, length in buffer_spans(data):
        inside[start:start + length] = True
    return np.flatnonzero(~inside)


def _probabilities(model, windows: int = 2) -> np.ndarray:
    rng = np.random.default_rng(7)
    return np.array([model.probabilities((0.1 * rng.standard_normal(model.window.samples)).astype(np.float32))
                     for _ in range(windows)])


def _raw(original: bytes, seed: int, index: int) -> dict:
    """Mutation ``index`` of the raw mode: 1-3 random bytes set to random values (as the issue's fuzzer did),
    handed straight to the child-process first load with no asc-edge check before it; then the checks a
    load applies (digest re-sealed, so only the structural and card checks judge it)."""
    import hashlib

    from asc_edge.modelfile.digest import seal
    from asc_edge.modelfile.probe import probe_model
    from asc_edge.modelfile.read import read_model_card
    from asc_edge.plumbing.errors import ModelFileError

    rng = np.random.default_rng([seed, 2, index])
    data = bytearray(original)
    for _ in range(int(rng.integers(1, 4))):
        data[int(rng.integers(len(data)))] = int(rng.integers(256))
    data = bytes(data)
    try:
        probe_model("FILE", data, hashlib.sha256(data).hexdigest(), "litert")
        outcome, reason = "loaded", ""
    except ModelFileError as exc:
        outcome = "crash contained" if "crashed" in str(exc) else "hung" if "did not finish" in str(exc) else "refused"
        reason = str(exc)
    try:
        read_model_card(seal(data))
        checks = "accepted"
    except Exception:  # noqa: BLE001 - any refusal (or a card too damaged to seal) counts as refused
        checks = "refused"
    return {"index": index, "outcome": outcome, "checks": checks, "reason": reason[:200]}


def _worker(model_path: str, mode: str, kind: str, seed: int, start: int, stop: int) -> None:
    """Run mutations ``start..stop-1``, printing one JSON line each (the parent sees how far a crash got)."""
    from asc_edge.modelfile.digest import seal
    from asc_edge.plumbing.errors import ModelFileError
    from asc_edge.runtime.model import SceneModel

    original = Path(model_path).read_bytes()
    if mode == "raw":
        for index in range(start, stop):
            print(json.dumps(_raw(original, seed, index)), flush=True)
        return
    reference = _probabilities(SceneModel(model_path))
    positions = structure_positions(original) if mode == "resealed" else None
    with tempfile.TemporaryDirectory(prefix="model-fuzz-") as work:
        path = Path(work) / "mutated.tflite"
        for index in range(start, stop):
            data = mutate(original, kind, seed, index, positions)
            if mode == "resealed":
                try:
                    data = seal(data)
                except (ModelFileError, Exception):  # noqa: BLE001 - the card itself no longer parses: as damaged
                    pass
            path.write_bytes(data)
            try:
                outcome, reason = "identical", ""
                if not np.array_equal(_probabilities(SceneModel(path)), reference):
                    outcome = "different"
            except ModelFileError as exc:
                outcome, reason = "refused", str(exc).replace(str(path), "FILE")
            except Exception as exc:  # noqa: BLE001 - a traceback is what we count
                outcome, reason = "crashed", f"traceback: {type(exc).__name__}: {exc}"
            print(json.dumps({"index": index, "outcome": outcome, "reason": reason[:200]}), flush=True)


def run_mode(model: str, mode: str, kind: str, count: int, seed: int, cache: str) -> tuple[Counter, list[dict]]:
    """Every mutation of one kind, in worker processes restarted after a crash or hang."""
    counts: Counter = Counter()
    records: list[dict] = []
    index = 0
    env = {**os.environ, "ASC_EDGE_CACHE": cache}
    while index < count:
        worker = subprocess.Popen([sys.executable, __file__, "--worker", model, mode, kind, str(seed), str(index),
                                   str(count)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        selector = selectors.DefaultSelector()
        selector.register(worker.stdout, selectors.EVENT_READ)
        while index < count:
            if not selector.select(timeout=HANG_S):
                worker.kill()
                counts["hung"] += 1
                records.append({"index": index, "outcome": "hung", "reason": ""})
                index += 1
                break
            line = worker.stdout.readline()
            if not line:  # the worker died in the middle of mutation `index`
                worker.wait()
                counts["crashed"] += 1
                tail = worker.stderr.read().decode("utf-8", "replace").strip().splitlines()[-1:]
                records.append({"index": index, "outcome": "crashed",
                                "reason": f"exit {worker.returncode} {' '.join(tail)}"[:200]})
                index += 1
                break
            record = json.loads(line)
            counts[record["outcome"]] += 1
            records.append(record)
            index = record["index"] + 1
        worker.wait()
        worker.stdout.close()
        worker.stderr.close()
    return counts, records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="an asc-export .tflite (default: the packaged model)")
    parser.add_argument("--bytes", type=int, default=1000, help="one-byte changes (default: 1000)")
    parser.add_argument("--bits", type=int, default=1000, help="one-bit flips (default: 1000)")
    parser.add_argument("--resealed", type=int, default=100,
                        help="structure mutations of each kind with the digest recomputed (default: 100)")
    parser.add_argument("--raw", type=int, default=0,
                        help="also: 1-3-byte changes loaded by the child process with no check before it, to "
                             "count the interpreter crashes it contains (~0.5 s each; default: 0)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the counts as JSON")
    args = parser.parse_args(argv)
    if args.model is None:
        from asc_edge.runtime.packaged import default_model_path

        with default_model_path() as path:
            args.model = str(path)
    results = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="model-fuzz-cache-") as cache:
        for mode, kind, count in (("damaged", "byte", args.bytes), ("damaged", "bit", args.bits),
                                  ("resealed", "byte", args.resealed), ("resealed", "bit", args.resealed)):
            if count <= 0:
                continue
            t0 = time.perf_counter()
            counts, records = run_mode(args.model, mode, kind, count, args.seed, cache)
            reasons = Counter(r["reason"].split(":")[1].strip() if r["outcome"] == "refused" and ":" in r["reason"]
                              else r["reason"] for r in records if r["outcome"] in ("refused", "crashed"))
            results[f"{mode} {kind}"] = {"mutations": count, "seconds": round(time.perf_counter() - t0, 1),
                                         **{k: counts.get(k, 0) for k in ("refused", "identical", "different",
                                                                          "crashed", "hung")},
                                         "top_reasons": dict(reasons.most_common(5))}
        if args.raw > 0:
            t0 = time.perf_counter()
            counts, records = run_mode(args.model, "raw", "byte", args.raw, args.seed, cache)
            contained = [r for r in records if r["outcome"] == "crash contained"]
            results["raw"] = {"mutations": args.raw, "seconds": round(time.perf_counter() - t0, 1),
                              **{k: counts.get(k, 0) for k in ("loaded", "refused", "crash contained", "crashed",
                                                               "hung")},
                              "contained crashes refused by the checks": sum(r["checks"] == "refused"
                                                                             for r in contained)}
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(f"model_fuzz.py on {args.model} (seed {args.seed}), {time.perf_counter() - started:.0f} s")
        print("| mode | mutations | refused | identical output | silently different | crashed | hung | s |")
        print("|---|---|---|---|---|---|---|---|")
        for name, r in results.items():
            if name != "raw":
                print(f"| {name} | {r['mutations']} | {r['refused']} | {r['identical']} | {r['different']} | "
                      f"{r['crashed']} | {r['hung']} | {r['seconds']} |")
        for name, r in results.items():
            if name != "raw":
                print(f"{name}: most common refusals/crashes: {r['top_reasons']}")
        if "raw" in results:
            r = results["raw"]
            print(f"raw (no checks before the child-process load): {r['mutations']} mutations, {r['loaded']} "
                  f"loaded, {r['refused']} refused by the interpreter, {r['crash contained']} interpreter crashes "
                  f"contained as one line ({r['contained crashes refused by the checks']} of them also refused "
                  f"by the struct/card checks), {r['crashed']} uncontained crashes, {r['hung']} hung, "
                  f"{r['seconds']} s")
    damaged_bad = sum(r["different"] + r["crashed"] + r["hung"] for n, r in results.items() if n.startswith("damaged"))
    resealed_bad = sum(r["crashed"] + r["hung"] for n, r in results.items() if n.startswith(("resealed", "raw")))
    return 1 if damaged_bad or resealed_bad else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        model_path, mode, kind, seed, start, stop = sys.argv[2:8]
        _worker(model_path, mode, kind, int(seed), int(start), int(stop))
    else:
        sys.exit(main())
