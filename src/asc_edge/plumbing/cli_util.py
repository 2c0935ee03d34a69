"""Shared helpers for the thin command-line wrappers: one clear line and exit code 2 on bad input."""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable

from asc_edge.plumbing.errors import AscEdgeError

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def bounded(cast: type = float, minimum: float | None = None, maximum: float | None = None,
            above: float | None = None) -> Callable[[str], float]:
    """An argparse type for a number in range: out-of-range values are refused, never silently clamped.

    ``minimum``/``maximum`` are inclusive bounds, ``above`` an exclusive lower bound.
    """

    def parse(text: str):
        try:
            value = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not {'an integer' if cast is int else 'a number'}") from None
        if isinstance(value, float) and not math.isfinite(value):  # nan passes no comparison, inf passes "above"
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
        if minimum is not None and maximum is not None and not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"must be between {minimum:g} and {maximum:g}, got {value}")
        if minimum is not None and maximum is None and not value >= minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum:g}, got {value}")
        if above is not None and not value > above:
            raise argparse.ArgumentTypeError(f"must be above {above:g}, got {value}")
        return value

    return parse


positive_int = bounded(int, minimum=1)  # counts: at least 1
non_negative_int = bounded(int, minimum=0)
fraction = bounded(float, minimum=0.0, maximum=1.0)  # probabilities, shares, thresholds
non_negative = bounded(float, minimum=0.0)
positive = bounded(float, above=0.0)
# Interpreter threads: more than a few per core only adds contention, and an absurd count (100000) makes the
# interpreter's thread pool hang the process instead of failing.
MAX_THREADS = 4 * (os.cpu_count() or 1)
thread_count = bounded(int, minimum=1, maximum=MAX_THREADS)


# The flags several commands share, each defined once so their meaning, default and help read the same everywhere.
def add_cache_dir(parser: argparse.ArgumentParser, data: str = "DATA") -> None:
    """``--cache-dir``: where the feature cache lives; ``data`` names the dataset argument in the help."""
    parser.add_argument("--cache-dir", default=None,
                        help=f"feature cache folder (default: a folder per {data} under $ASC_EDGE_CACHE, "
                             "$XDG_CACHE_HOME/asc-edge or ~/.cache/asc-edge; never inside the data folder)")


def add_workers(parser: argparse.ArgumentParser) -> None:
    """``--workers``: processes for the command's parallel part (None: one per core)."""
    parser.add_argument("--workers", type=positive_int, default=None, help="processes to use (default: all cores)")


def add_quiet(parser: argparse.ArgumentParser) -> None:
    """``--quiet``: no progress bars or progress lines; results and errors still print."""
    parser.add_argument("--quiet", action="store_true", help="no progress output")


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
