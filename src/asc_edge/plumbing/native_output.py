"""Silence what native libraries (TensorFlow, LiteRT) print straight to file descriptors 1 and 2."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator


@contextlib.contextmanager
def quiet_native_output(fds: tuple[int, ...] = (1, 2), keep: int | None = 5) -> Iterator[list[str]]:
    """Send writes to ``fds`` to a temp file; the yielded list receives its last ``keep`` lines on exit (every
    line when ``keep`` is None, e.g. a report to parse), for error messages. Python's own exceptions are raised,
    not printed, so nothing of ours is lost."""
    captured: list[str] = []
    with tempfile.TemporaryFile(mode="w+", errors="replace") as sink:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = [os.dup(fd) for fd in fds]
        for fd in fds:
            os.dup2(sink.fileno(), fd)
        try:
            yield captured
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            for fd, copy in zip(fds, saved):
                os.dup2(copy, fd)
                os.close(copy)
            sink.seek(0)
            lines = sink.read().splitlines()
            captured.extend(lines if keep is None else lines[-keep:])
