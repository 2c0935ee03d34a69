"""Shared helpers for the thin command-line wrappers: one clear line and exit code 2 on bad input."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from asc_edge.errors import AscEdgeError

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def positive_int(text: str) -> int:
    """argparse type for counts that must be at least 1 (refused, never silently clamped)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def make_entry_point(main: Callable[[list[str] | None], int], prog: str) -> Callable[[], None]:
    """The console-script function of a command: runs ``main`` through :func:`run_cli` and exits."""

    def entry_point() -> None:
        sys.exit(run_cli(main, prog=prog))

    return entry_point


def run_cli(main: Callable[[list[str] | None], int], argv: list[str] | None = None, prog: str = "asc") -> int:
    """Run a command's ``main``; expected failures become ``prog: error: ...`` and exit code 2."""
    try:
        return main(argv)
    except AscEdgeError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # Output piped into `head` and closed early: not an error. Point stdout at devnull so the
        # interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
