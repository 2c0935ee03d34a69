"""Shared helpers for the thin command-line wrappers: one clear line and exit code 2 on bad input."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from asc_edge.errors import AscEdgeError

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def run_cli(main: Callable[[list[str] | None], int], argv: list[str] | None = None) -> int:
    """Run a command's ``main``; expected failures become ``prog: error: ...`` and exit code 2."""
    prog = getattr(main, "prog_name", None) or (sys.argv[0].rsplit("/", 1)[-1] if sys.argv else "asc")
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
