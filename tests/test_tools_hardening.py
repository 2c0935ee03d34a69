"""Issue 16: asc-train, asc-export, asc-features and asc-synth refuse bad input early with one line, never report a
broken result as done, survive kills and concurrent runs, and take data as users have it.

Every case runs the real command (in process through ``run_cli``, or as a subprocess where a kill or two
processes are needed) on a real asc-synth data set.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from asc_edge.data.features import default_cache_root
from asc_edge.data.tau import load_tau
from asc_edge.export.cli import main as export_main
from asc_edge.plumbing.cli_util import run_cli
from asc_edge.plumbing.errors import DataError
from asc_edge.runtime.files import FileResult, WindowResult
from asc_edge.runtime.formats import render
from asc_edge.train.checkpoint import load_checkpoint, save_atomic
from asc_edge.train.cli import main as train_main

SMALL = ["--frontend", "small", "--batch-size", "16", "--quiet"]
VENV_BIN = str(Path(sys.executable).parent)


def _copy(tiny_synth: Path, target: Path) -> Path:
    shutil.copytree(tiny_synth, target, ignore=shutil.ignore_patterns(".asc-cache"))
    return target


def _one_error_line(capsys: pytest.CaptureFixture, *needles: str) -> str:
    err = capsys.readouterr().err.strip()
    lines = [line for line in err.splitlines() if not line.startswith(("usage:", " "))]
    assert len(lines) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def _cli(module: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}"}
    return subprocess.Popen([sys.executable, "-m", module, *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


# -- flags -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("module, argv, needle", [
    ("train", ["--lr", "nan"], "--lr"),
    ("train", ["--lr", "inf"], "--lr"),
    ("train", ["--warmup-epochs", "nan"], "--warmup-epochs"),
    ("train", ["--weight-decay", "nan"], "--weight-decay"),
    ("train", ["--seed", "-1"], "--seed"),
    ("synth", ["--duration", "nan"], "--duration"),
    ("synth", ["--seed", "-1"], "--seed"),
    ("synth", ["--duration", "1e9"], "--duration"),
])
def test_number_flags_that_escaped_the_checks_are_one_line(module, argv, needle, tmp_path, capsys) -> None:
    from asc_edge.data.synth.cli import main as synth_main

    if module == "train":
        main, prog, args = train_main, "asc-train", ["--data", str(tmp_path), "--out", str(tmp_path / "m.pt"), *argv]
    else:
        main, prog, args = synth_main, "asc-synth", [str(tmp_path / "set"), *argv]
    try:
        code = run_cli(main, args, prog=prog)
    except SystemExit as exc:  # argparse refuses the value itself
        code = exc.code
    assert code == 2
    _one_error_line(capsys, needle)
    assert list(tmp_path.iterdir()) == []


# -- non-finite training ---------------------------------------------------------------------------------------
def test_diverging_training_stops_with_one_line_and_writes_no_nan_checkpoint(tiny_synth, tiny_checkpoint, tmp_path,
                                                                             capsys) -> None:
    out = tmp_path / "m.pt"
    out.write_bytes(b"an earlier model")  # --overwrite must not replace it with a NaN one
    argv = ["--data", str(tiny_synth), "--out", str(out), "--preset", "tiny", "--epochs", "2", "--lr", "1e12",
            "--overwrite", "--cache-dir", str(tiny_checkpoint.parent / "cache"), *SMALL]  # reuses its cache
    assert run_cli(train_main, argv, prog="asc-train") == 2
    _one_error_line(capsys, "epoch 1, step", "learning rate", "1e+12", "wrote no checkpoint")
    assert out.read_bytes() == b"an earlier model"
    assert not (tmp_path / "m.best.pt").exists() and not (tmp_path / "m_report").exists()


def test_divergence_after_good_epochs_keeps_the_last_good_checkpoint(tiny_synth, tiny_checkpoint, tmp_path,
                                                                     capsys) -> None:
    out, cache = tmp_path / "m.pt", str(tiny_checkpoint.parent / "cache")
    common = ["--data", str(tiny_synth), "--out", str(out), "--cache-dir", cache, *SMALL]
    good = load_checkpoint(tiny_checkpoint)  # 2 float + 3 QAT epochs, all good
    done = good["training"]["epoch"]
    # The stored run continues at a learning rate that diverges (as if it had been set too high from the start).
    good["training"]["settings"]["lr"] = good["training"]["settings"]["qat_lr"] = 1e12  # QAT epochs too
    good["training"]["scheduler"]["base_lrs"] = [1e12 for _ in good["training"]["scheduler"]["base_lrs"]]
    for group in good["training"]["optimizer"]["param_groups"]:
        group["initial_lr"] = group["lr"] = 1e12
    save_atomic(good, out)
    before = out.read_bytes()
    capsys.readouterr()
    assert run_cli(train_main, [*common, "--resume", "--epochs", "3"], prog="asc-train") == 2
    line = _one_error_line(capsys, f"epoch {done + 1}, step", f"keeps epoch {done}")
    assert "learning rate" in line
    assert out.read_bytes() == before


# -- refuse before the work ------------------------------------------------------------------------------------
@pytest.mark.parametrize("flag", ["--out", "--report-dir"])
def test_unwritable_train_outputs_are_refused_before_any_feature(flag, tiny_synth, tmp_path, capsys) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    out = str(blocker / "m.pt") if flag == "--out" else str(tmp_path / "m.pt")
    argv = ["--data", str(tiny_synth), "--out", out, "--cache-dir", str(tmp_path / "cache"), *SMALL]
    if flag == "--report-dir":
        argv += ["--report-dir", str(blocker)]
    assert run_cli(train_main, argv, prog="asc-train") == 2
    _one_error_line(capsys, str(blocker))
    assert not (tmp_path / "cache").exists()  # refused before a single clip was read


def test_unwritable_translator_out_is_refused_before_any_feature(tiny_synth, tmp_path, capsys) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    argv = ["translator", "--data", str(tiny_synth), "--out", str(blocker / "t.pt"), "--frontend", "small",
            "--cache-dir", str(tmp_path / "cache"), "--quiet"]
    assert run_cli(train_main, argv, prog="asc-train") == 2
    _one_error_line(capsys, str(blocker))
    assert not (tmp_path / "cache").exists()


def _export(argv: list[str], capsys: pytest.CaptureFixture) -> int:
    code = run_cli(export_main, [*argv, "--quiet"], prog="asc-export")
    return code


def _edited(tiny_checkpoint: Path, tmp_path: Path, edit) -> Path:
    checkpoint = load_checkpoint(tiny_checkpoint)
    edit(checkpoint)
    path = tmp_path / "edited.pt"
    save_atomic(checkpoint, path)
    return path


def test_export_refuses_labels_that_disagree_with_the_outputs(tiny_checkpoint, tiny_synth, tmp_path, capsys):
    def three_labels(c: dict) -> None:
        c["labels"] = c["labels"][:3]

    path = _edited(tiny_checkpoint, tmp_path, three_labels)
    assert _export([str(path), "-o", str(tmp_path / "out"), "--calib", str(tiny_synth)], capsys) == 2
    _one_error_line(capsys, "labels", "3 names", "10")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("field, value, needle", [
    ("labels", ["airport"] * 10, "more than once"),
    ("labels", ["", *[f"x{i}" for i in range(9)]], "non-empty"),
    ("input_shape", [0, 32], "input_shape"),
    ("input_shape", [41, 32], "mel bands"),
])
def test_export_refuses_other_card_fields_that_do_not_fit(field, value, needle, tiny_checkpoint, tiny_synth,
                                                          tmp_path, capsys) -> None:
    path = _edited(tiny_checkpoint, tmp_path, lambda c: c.__setitem__(field, value))
    assert _export([str(path), "-o", str(tmp_path / "out"), "--calib", str(tiny_synth)], capsys) == 2
    _one_error_line(capsys, field, needle)
    assert not (tmp_path / "out").exists()


def test_export_refuses_non_finite_weights_before_any_gate(tiny_checkpoint, tiny_synth, tmp_path, capsys):
    def poison(c: dict) -> None:
        name = next(k for k, v in c["state_dict"].items() if v.is_floating_point() and v.ndim == 4)
        c["state_dict"][name].view(-1)[0] = float("nan")

    path = _edited(tiny_checkpoint, tmp_path, poison)
    assert _export([str(path), "-o", str(tmp_path / "out"), "--calib", str(tiny_synth)], capsys) == 2
    _one_error_line(capsys, "NaN or infinite")
    assert not (tmp_path / "out").exists()  # no report: refused before conversion and gates


def test_export_refuses_weights_that_compute_non_finite_logits(tiny_checkpoint, tiny_synth, tmp_path, capsys):
    def huge(c: dict) -> None:  # finite weights whose products overflow float32
        for name, value in c["state_dict"].items():
            if value.is_floating_point() and value.ndim >= 2:
                c["state_dict"][name] = value * 1e30

    path = _edited(tiny_checkpoint, tmp_path, huge)
    assert _export([str(path), "-o", str(tmp_path / "out"), "--calib", str(tiny_synth)], capsys) == 2
    _one_error_line(capsys, "non-finite")
    assert not (tmp_path / "out").exists()


def test_export_output_folder_that_is_a_file_is_refused_first(tiny_checkpoint, tiny_synth, tmp_path, capsys):
    target = tmp_path / "out"
    target.write_text("precious")
    assert _export([str(tiny_checkpoint), "-o", str(target), "--calib", str(tiny_synth)], capsys) == 2
    _one_error_line(capsys, "must be a folder")
    assert target.read_text() == "precious"


def test_export_over_the_byte_budget_is_refused_from_the_parameter_count(tiny_checkpoint, tiny_synth, tmp_path,
                                                                         capsys) -> None:
    from asc_edge.export.preflight import int8_weight_bytes
    from asc_edge.train.checkpoint import model_from_checkpoint

    bound = int8_weight_bytes(model_from_checkpoint(load_checkpoint(tiny_checkpoint)))
    assert bound > 1000
    start = time.monotonic()
    assert _export([str(tiny_checkpoint), "-o", str(tmp_path / "out"), "--calib", str(tiny_synth),
                    "--max-bytes", str(bound - 1)], capsys) == 2
    _one_error_line(capsys, "cannot fit", f"{bound:,}")
    assert not (tmp_path / "out").exists()  # no conversion ran: the size gate would have written a report
    assert time.monotonic() - start < 30


# -- kills and concurrency -------------------------------------------------------------------------------------
def _children(pid: int) -> list[int]:
    import psutil

    try:
        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_killed_cache_build_leaves_no_orphans_and_the_next_runs_share_one_cache(tiny_synth, tmp_path) -> None:
    data = _copy(tiny_synth, tmp_path / "data")
    cache = default_cache_root(data)
    # The dcase frontend (resampling, 4096-point FFT) takes seconds on this set: long enough to kill mid-build.
    first = _cli("asc_edge.data.features_cli", str(data), "--workers", "2", "--quiet")
    deadline, workers = time.monotonic() + 60, []
    while time.monotonic() < deadline and first.poll() is None:
        workers = _children(first.pid)
        if len(workers) >= 2 and cache.is_dir() and any(p.name.startswith(".features-") for p in cache.iterdir()):
            break
        time.sleep(0.02)
    assert first.poll() is None and workers, "the build ended before it could be killed"
    first.send_signal(signal.SIGKILL)
    first.wait()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers), "feature workers outlived their killed parent"
    assert [p for p in cache.iterdir() if ".partial-" in p.name], "expected the killed run's partial folder"

    # Two jobs on the same data set at once: one builds, the other waits and reuses; both succeed.
    jobs = [_cli("asc_edge.data.features_cli", str(data), "--workers", "1") for _ in range(2)]
    outputs = [job.communicate(timeout=300) for job in jobs]
    assert [job.returncode for job in jobs] == [0, 0], [err for _, err in outputs]
    summaries = [out for out, _ in outputs]
    assert sum("reused" in s for s in summaries) == 1 and sum("computed in" in s for s in summaries) == 1
    assert [p.name for p in cache.iterdir()] == [next(p.name for p in cache.iterdir())]  # one cache, no partials


def test_checkpoint_partials_of_dead_runs_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    stale = tmp_path / f".m.pt.partial-{_dead_pid()}-abc"
    live = tmp_path / f".m.pt.partial-{os.getppid()}-def"
    stale.write_bytes(b"half a checkpoint")
    live.write_bytes(b"being written")
    save_atomic({"x": torch.zeros(1)}, tmp_path / "m.pt")
    assert not stale.exists() and live.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, "m.pt"])


# The kernel stops a write once the file passes 1 KB (RLIMIT_FSIZE): with SIGXFSZ's default action the writer is
# killed half-way through the real write; ignored (Python's default) the write fails with EFBIG.
_REPORT_WRITE = ("import resource, signal, sys\nfrom pathlib import Path\n"
                 "from asc_edge.train.report import write_metrics_json\n"
                 "if sys.argv[2] == 'killed':\n    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)\n"
                 "resource.setrlimit(resource.RLIMIT_FSIZE, (1024, resource.RLIM_INFINITY))\n"
                 "write_metrics_json(Path(sys.argv[1]), {'values': list(range(5000))})\n")


def test_a_killed_report_write_leaves_a_partial_that_the_next_write_removes(tmp_path: Path) -> None:
    from asc_edge.train.report import write_metrics_json

    writer = subprocess.Popen([sys.executable, "-c", _REPORT_WRITE, str(tmp_path), "killed"], stderr=subprocess.PIPE,
                              text=True)
    _, err = writer.communicate(timeout=120)
    assert writer.returncode == -signal.SIGXFSZ, err
    left = [p.name for p in tmp_path.iterdir()]  # the temp name is the writer's partial_prefix("metrics.json")
    assert len(left) == 1 and re.fullmatch(rf"\.metrics\.json\.partial-{writer.pid}-\w+", left[0]), left
    write_metrics_json(tmp_path, {"accuracy": 0.5})  # its writer is gone: the partial is stale
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_a_failed_report_write_leaves_no_file(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", _REPORT_WRITE, str(tmp_path), "failed"], capture_output=True,
                          text=True)
    assert done.returncode == 1 and "File too large" in done.stderr, done.stderr
    assert list(tmp_path.iterdir()) == []


# -- data as users have it -------------------------------------------------------------------------------------
def test_byte_order_mark_in_every_csv_is_accepted(tiny_synth: Path, tmp_path: Path) -> None:
    data = _copy(tiny_synth, tmp_path / "data")
    for name in ("meta.csv", "evaluation_setup/fold1_train.csv", "evaluation_setup/fold1_evaluate.csv"):
        path = data / name
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    reference, with_bom = load_tau(tiny_synth), load_tau(data)
    assert with_bom.clips == reference.clips and with_bom.train == reference.train
    assert with_bom.evaluate == reference.evaluate


def test_duplicate_row_in_a_split_is_refused_with_the_row(tiny_synth: Path, tmp_path: Path, capsys) -> None:
    from asc_edge.data.features_cli import main as features_main

    data = _copy(tiny_synth, tmp_path / "data")
    split = data / "evaluation_setup" / "fold1_train.csv"
    lines = split.read_text().splitlines(keepends=True)
    split.write_text("".join(lines + [lines[3]]))
    with pytest.raises(DataError, match=r"line 4"):
        load_tau(data)
    assert run_cli(features_main, [str(data), "--quiet"], prog="asc-features") == 2
    name = lines[3].split("\t")[0]
    _one_error_line(capsys, f"line {len(lines) + 1}", name, "listed twice", "first on line 4")
    assert not default_cache_root(data).exists()


def test_non_utf8_names_relative_root_and_umask_end_to_end(tiny_synth: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Train from a relative --data whose clip name is not UTF-8, under umask 027: the checkpoint names the
    absolute root and where it came from, and every output has the permissions the umask gives."""
    data = _copy(tiny_synth, tmp_path / "work" / "data")
    old = next(c.filename for c in load_tau(data).train if c.device == "a").encode()
    new = old.replace(b"-a.wav", b"\xe9-a.wav")  # Latin-1 e-acute in the segment: not valid UTF-8
    os.rename(data / old.decode(), os.fsencode(data) + b"/" + new)
    for name in ("meta.csv", "evaluation_setup/fold1_train.csv", "evaluation_setup/fold1_evaluate.csv",
                 "evaluation_setup/fold1_test.csv"):
        path = data / name
        path.write_bytes(path.read_bytes().replace(old, new))
    monkeypatch.chdir(tmp_path / "work")
    previous = os.umask(0o027)
    try:
        code = run_cli(train_main, ["--data", "data", "--out", "models/m.pt", "--preset", "tiny", "--epochs", "1",
                                    *SMALL], prog="asc-train")
    finally:
        os.umask(previous)
    assert code == 0
    checkpoint_path = tmp_path / "work" / "models" / "m.pt"
    checkpoint = load_checkpoint(checkpoint_path)
    assert checkpoint["data"]["root"] == str(data) and checkpoint["data"]["given"] == "data"
    assert checkpoint["data"]["meta_csv_sha256"] and checkpoint["data"]["clips"]["train"] > 0
    # The cache holds the name exactly as the file system gives it.
    cache = next(default_cache_root(data).iterdir())
    assert new.decode("utf-8", "surrogateescape") in json.loads((cache / "manifest.json").read_text())["filenames"]
    assert stat.S_IMODE(checkpoint_path.stat().st_mode) == 0o640  # before: 0600 whatever the umask
    assert stat.S_IMODE(cache.stat().st_mode) == 0o750  # before: 0700
    assert stat.S_IMODE((cache / "features.npy").stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "work" / "models" / "m_report" / "metrics.json").stat().st_mode) == 0o640


def _dead_pid() -> int:
    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True).stdout)


def test_synth_follows_the_umask_is_never_world_writable_and_cleans_killed_runs(tmp_path: Path) -> None:
    from asc_edge.data.synth.generate import generate_dataset

    leftover = tmp_path / f".set.partial-{_dead_pid()}-xyz"  # what a killed asc-synth leaves
    (leftover / "audio").mkdir(parents=True)
    previous = os.umask(0)
    try:
        generate_dataset(tmp_path / "set", clips_per_class=4, duration=0.5, sample_rate=16000, progress=False,
                         workers=1)
    finally:
        os.umask(previous)
    modes = {p: stat.S_IMODE(p.stat().st_mode) for p in [tmp_path / "set", *(tmp_path / "set").rglob("*")]}
    assert stat.S_IMODE((tmp_path / "set").stat().st_mode) == 0o775  # before: 0700
    assert not [p for p, mode in modes.items() if mode & 0o002]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["set"]


# -- output formats --------------------------------------------------------------------------------------------
def _results(*names: str) -> list[FileResult]:
    probs = np.linspace(1, 2, 10) / np.linspace(1, 2, 10).sum()
    return [FileResult(source=name, seconds=2.0, source_rate=16000, source_channels=1,
                       windows=[WindowResult(0.0, 1.0, probs), WindowResult(1.0, 2.0, probs)]) for name in names]


LABELS = ["airport", "bus", "metro", "metro_station", "park", "public_square", "shopping_mall",
          "street_pedestrian", "street_traffic", "tram"]


def test_audacity_labels_stay_three_fields_per_line_whatever_the_file_name() -> None:
    text = render(_results("tab\there.wav", "new\nline.wav", "caf\udce9.wav"), LABELS, "audacity", 2)
    lines = text.splitlines()
    assert len(lines) == 6 and all(len(line.split("\t")) == 3 for line in lines)
    assert "tab\\there.wav" in lines[0] and "new\\nline.wav" in lines[2] and "caf\\xe9.wav" in lines[4]
    text.encode("utf-8")  # writable as UTF-8


@pytest.mark.parametrize("name", ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"])
def test_csv_file_names_that_spreadsheets_run_as_formulas_are_escaped(name: str) -> None:
    text = render(_results(name, "plain, \"quoted\"\nname.wav"), LABELS, "csv", 3)
    rows = list(csv.DictReader(io.StringIO(text)))
    shown = "\\rcmd" if name == "\rcmd" else "'" + name  # a bare CR would end the row: written as \r
    assert {row["file"] for row in rows} == {shown, "plain, \"quoted\"\nname.wav"}
    assert float(rows[0]["confidence"]) > 0  # numbers stay numbers
