"""A dependency-free progress bar on stderr: redrawn in place on a terminal, a few lines in a log."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """``with Progress(total, "features") as bar: bar.advance()``."""

    def __init__(self, total: int, label: str, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.total = max(int(total), 0)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.done = 0
        self._start = time.monotonic()
        self._interactive = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_draw = 0.0
        self._last_tenth = -1
        self.status = ""  # free text shown after the bar, e.g. running loss and accuracy

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.enabled and self._interactive:
            self.stream.write("\n")
            self.stream.flush()

    def advance(self, n: int = 1, status: str | None = None) -> None:
        self.done += n
        if status is not None:
            self.status = status
        if not self.enabled:
            return
        now = time.monotonic()
        if self._interactive:
            if now - self._last_draw >= 0.1 or self.done >= self.total:
                self._last_draw = now
                self.stream.write("\r" + self._line(now))
                self.stream.flush()
        else:
            tenth = self.done * 10 // max(self.total, 1)
            if tenth != self._last_tenth:
                self._last_tenth = tenth
                self.stream.write(self._line(now) + "\n")
                self.stream.flush()

    def _line(self, now: float) -> str:
        elapsed = now - self._start
        fraction = self.done / self.total if self.total else 1.0
        width = 24
        filled = int(round(width * fraction))
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        return (f"{self.label} [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
                f"{elapsed:5.1f}s elapsed, {eta:5.1f}s left" + (f"  {self.status}" if self.status else ""))
