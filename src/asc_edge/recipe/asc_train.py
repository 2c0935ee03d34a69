"""The ``asc-train`` command. ``asc-train cv ...`` cross-validates (recipe/cv.py); ``asc-train recipe ...`` runs
the whole system (this package, which sits above
``train`` and ``export``); every other form (``asc-train --data ...``, ``asc-train translator ...``) is
``train``'s own command line, which therefore never has to import a higher layer."""

from __future__ import annotations

import sys

from asc_edge.plumbing.cli_util import make_entry_point
from asc_edge.train.cli import PROG


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["recipe"]:
        from asc_edge.recipe.cli import main as recipe_main
        return recipe_main(argv[1:])
    if argv[:1] == ["cv"]:
        from asc_edge.recipe.cv_cli import main as cv_main
        return cv_main(argv[1:])
    from asc_edge.train.cli import main as train_main
    return train_main(argv)


entry_point = make_entry_point(main, PROG)


if __name__ == "__main__":
    entry_point()
