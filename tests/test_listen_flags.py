"""Outputs that cannot surprise and numeric flags bounded by what makes sense: ``asc-listen --out``, ``--hop``,
``--threads``, ``asc-bench --seconds``; each bad case is one line and a non-zero exit before any work."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from asc_edge.bench.cli import main as bench_main
from asc_edge.plumbing.cli_util import MAX_THREADS, run_cli
from asc_edge.plumbing.output_paths import file_mode
from asc_edge.runtime.listen_cli import main as listen_main


@pytest.fixture
def wav(tmp_path: Path) -> Path:
    path = tmp_path / "clip.wav"
    soundfile.write(path, (0.1 * np.random.default_rng(0).standard_normal(96000)).astype(np.float32), 16000)
    return path


def _run(main, args: list[str], capsys: pytest.CaptureFixture, prog: str = "asc-listen") -> tuple[int, str, str]:
    try:
        code = run_cli(main, args, prog=prog)
    except SystemExit as exc:  # argparse's own refusals
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _last_line_only_error(err: str) -> str:
    """argparse prints its usage, then the one error line; our own checks print only the line."""
    lines = [line for line in err.strip().splitlines() if "error:" in line]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("hop, expected", [("inf", "finite"), ("1e308", "between one frontend hop"),
                                           ("1e-9", "between one frontend hop"), ("nan", "finite"),
                                           ("0.01", "between one frontend hop"), ("86401", "between one frontend hop"),
                                           ("-1", "above 0"), ("abc", "not a number")])
def test_hop_is_between_one_frontend_hop_and_a_day(hop: str, expected: str, wav: Path,
                                                        capsys: pytest.CaptureFixture) -> None:
    code, out, err = _run(listen_main, [str(wav), "--hop", hop], capsys)
    assert code == 2 and out == "" and expected in _last_line_only_error(err) and "--hop" in err


def test_a_hop_longer_than_the_window_is_duty_cycling(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    # Issue 24: a 4.992 s window every 6 s (rounded to 188 frontend hops: 6.016 s), once refused; the gaps are
    # not classified, and the audio after the last window, where the next one would have started, gets a window
    # ending at the file's end
    path = tmp_path / "twenty.wav"
    soundfile.write(path, (0.1 * np.random.default_rng(0).standard_normal(20 * 16000)).astype(np.float32), 16000)
    code, out, err = _run(listen_main, [str(path), "--hop", "6", "--format", "csv"], capsys)
    assert code == 0 and "--hop 6 -> 6.016 s" in err and "duty cycling" in err
    rows = [row.split(",") for row in out.splitlines()[1:]]
    assert [row[3:5] for row in rows] == [["0.000", "4.992"], ["6.016", "11.008"], ["12.032", "17.024"],
                                          ["15.008", "20.000"], ["0.000", "20.000"]]
    assert [row[8] for row in rows] == ["0", "0", "0", "1", "0"]  # the tail column marks the last window


def test_hop_bounds_themselves_are_accepted(wav: Path, capsys: pytest.CaptureFixture) -> None:
    for hop in ("0.032", "4.992"):  # one frontend hop (512 / 16000) and one window of the packaged model
        code, out, err = _run(listen_main, [str(wav), "--hop", hop, "--format", "csv"], capsys)
        assert code == 0 and err == "" and out.count("\n") > 2


@pytest.mark.parametrize("threads", ["0", "100000", str(MAX_THREADS + 1), "2.5"])
def test_threads_are_bounded_by_the_cores(threads: str, wav: Path, capsys: pytest.CaptureFixture) -> None:
    code, out, err = _run(listen_main, [str(wav), "--threads", threads], capsys)
    assert code == 2 and out == "" and "--threads" in _last_line_only_error(err)


def test_threads_at_the_bound_work(wav: Path, capsys: pytest.CaptureFixture) -> None:
    code, out, err = _run(listen_main, [str(wav), "--threads", str(MAX_THREADS)], capsys)
    assert code == 0 and err == "" and "clip.wav" in out


@pytest.mark.parametrize("seconds", ["inf", "1e7", "nan", "0.5", "121"])
def test_bench_seconds_are_finite_and_bounded(seconds: str, capsys: pytest.CaptureFixture) -> None:
    code, out, err = _run(bench_main, ["--seconds", seconds, "--runs", "1"], capsys, prog="asc-bench")
    assert code == 2 and out == "" and "--seconds" in _last_line_only_error(err)


def test_bench_threads_are_bounded(capsys: pytest.CaptureFixture) -> None:
    code, out, err = _run(bench_main, ["--threads", "100000"], capsys, prog="asc-bench")
    assert code == 2 and "--threads" in _last_line_only_error(err)


def _out_cases(tmp_path: Path, wav: Path) -> dict:
    (tmp_path / "folder").mkdir()
    target = tmp_path / "kept.txt"
    target.write_text("keep me\n")
    (tmp_path / "link.csv").symlink_to(target)
    (tmp_path / "hardlink.wav").hardlink_to(wav)
    return {"a folder": (tmp_path / "folder", "is a folder"),
            "a symlink": (tmp_path / "link.csv", "symbolic link"),
            "a device": (Path("/dev/null"), "device"),
            "the input": (wav, "one of the inputs"),
            "a hard link to the input": (tmp_path / "hardlink.wav", "one of the inputs"),
            "a missing folder": (tmp_path / "nowhere" / "out.csv", "does not exist"),
            "no file name": (Path("."), "file name")}


@pytest.mark.parametrize("case", ["a folder", "a symlink", "a device", "the input", "a hard link to the input",
                                  "a missing folder", "no file name"])
def test_out_is_checked_before_any_work(case: str, tmp_path: Path, wav: Path,
                                        capsys: pytest.CaptureFixture) -> None:
    out_path, expected = _out_cases(tmp_path, wav)[case]
    before = wav.read_bytes()
    code, out, err = _run(listen_main, [str(wav), "--out", str(out_path), "--format", "csv"], capsys)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and expected in err, err
    assert wav.read_bytes() == before and (tmp_path / "kept.txt").read_text() == "keep me\n"
    assert (tmp_path / "link.csv").is_symlink() and Path("/dev/null").is_char_device()
    assert not list(tmp_path.glob(".*.partial*"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder anyway")
def test_out_in_a_read_only_folder_is_refused_before_any_work(tmp_path: Path, wav: Path,
                                                              capsys: pytest.CaptureFixture) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        code, _, err = _run(listen_main, [str(wav), "--out", str(locked / "out.csv")], capsys)
    finally:
        locked.chmod(0o755)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "cannot write" in err


def _limited_file_size(limit: int):
    def preexec() -> None:  # the child may write at most `limit` bytes per file: a full disk, reproducibly
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return preexec


def test_a_failing_write_is_one_line_exit_1_and_leaves_no_partial_output(tmp_path: Path, wav: Path) -> None:
    out = tmp_path / "results.csv"
    out.write_text("the previous, complete results\n")
    # Python ignores SIGXFSZ, so a write over the limit fails with EFBIG, as a full disk fails with ENOSPC.
    done = subprocess.run([sys.executable, "-m", "asc_edge.runtime.listen_cli", str(wav), "--format", "csv",
                           "--out", str(out)], capture_output=True, text=True, timeout=120,
                          preexec_fn=_limited_file_size(300))
    assert done.returncode == 1 and done.stdout == "", done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "cannot write the results to" in done.stderr
    assert out.read_text() == "the previous, complete results\n"  # the old file, whole; never a truncated one
    assert not list(tmp_path.glob(".*.partial*"))


def test_a_full_standard_output_is_one_line_and_exit_1(wav: Path) -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "asc_edge.runtime.listen_cli", str(wav)], stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    assert done.returncode == 1 and done.stderr.strip().splitlines() == [
        "asc-listen: error: cannot write the results to standard output: No space left on device"]


def test_out_written_whole_with_usual_permissions(tmp_path: Path, wav: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "results.jsonl"
    code, stdout, err = _run(listen_main, [str(wav), "--out", str(out), "--format", "jsonl"], capsys)
    assert code == 0 and stdout == "" and err == ""
    lines = out.read_text().splitlines()
    assert len(lines) >= 2 and all(json.loads(line)["file"] == str(wav) for line in lines)
    assert (out.stat().st_mode & 0o777) == file_mode()  # what open() would give, never world-writable



@pytest.mark.parametrize("args, expected", [(["--out", "{tmp}"], "is a folder"),
                                            (["--record", "/dev/null"], "device"),
                                            (["--out", "{tmp}/same", "--record", "{tmp}/same"], "the same file"),
                                            (["--hop", "86401"], "between one frontend hop"),
                                            (["--hop", "1e-9"], "between one frontend hop")])
def test_mic_mode_checks_outputs_and_hop_before_opening_a_device(args: list[str], expected: str, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture) -> None:
    code, out, err = _run(listen_main, ["--mic", "--device", "no-such-device",
                                        *[a.format(tmp=tmp_path) for a in args]], capsys)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and expected in err, err
