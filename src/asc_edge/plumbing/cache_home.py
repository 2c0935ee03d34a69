"""Where asc-edge keeps what it can rebuild (feature caches, the model files already probed): the user's cache
home, never a data folder (a data set may be read-only, shared, or copied elsewhere with its hidden cache)."""

from __future__ import annotations

import os
from pathlib import Path


def user_cache_home() -> Path:
    """``$ASC_EDGE_CACHE``, else ``$XDG_CACHE_HOME/asc-edge``, else ``~/.cache/asc-edge``."""
    root = os.environ.get("ASC_EDGE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "asc-edge")
    return Path(root)
