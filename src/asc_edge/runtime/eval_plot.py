"""``asc-eval --plot``: the confusion matrix and per-class bars in one picture (PNG or SVG).

matplotlib is the optional ``plot`` extra (a Raspberry Pi's runtime does without it): imported only here, and
:func:`require_matplotlib` says how to install it before any recording is classified.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from asc_edge.data.confusion_figure import draw_confusion
from asc_edge.plumbing.atomic_io import write_atomic
from asc_edge.plumbing.errors import ConfigError

FORMATS = (".png", ".svg")


def check_plot_path(path: str | Path) -> None:
    """The picture's format comes from its suffix: refuse another before any work."""
    if Path(path).suffix.lower() not in FORMATS:
        raise ConfigError(f"--plot {path}: name a .png or .svg file")


def require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ConfigError("--plot needs matplotlib, which is not installed: pip install 'asc-edge[plot]' "
                          "(or pip install matplotlib)") from None


def write_plot(path: str | Path, report: dict) -> Path:
    """Row-normalised confusion matrix (% of each true class, counts in the cells) beside each class's recall
    (its accuracy) and precision; written atomically."""
    import matplotlib

    matplotlib.use("Agg")  # no display on a Pi or in CI
    from matplotlib import pyplot as plt

    path = Path(path)
    labels = report["labels"]
    size = max(5.0, 0.55 * len(labels) + 2.5)
    fig, (left, right) = plt.subplots(1, 2, figsize=(2 * size, size), gridspec_kw={"width_ratios": [1.2, 1]})
    draw_confusion(left, labels, report["confusion"], numbers="counts")
    left.set_title("confusion (colour: % of the true class; numbers: recordings)", fontsize=9)

    def share(key: str) -> list[float]:
        return [100 * (report["per_class"][label][key] or 0.0) for label in labels]

    rows = np.arange(len(labels))
    right.barh(rows - 0.2, share("recall"), height=0.4, label="accuracy (recall)", color="tab:blue")
    right.barh(rows + 0.2, share("precision"), height=0.4, label="precision", color="tab:orange")
    right.axvline(100 * report["macro_accuracy"], color="grey", linestyle="--", linewidth=1,
                  label=f"macro accuracy {100 * report['macro_accuracy']:.1f} %")
    right.set_yticks(rows, labels, fontsize=8)
    right.invert_yaxis()  # the rows read top-down like the matrix's
    right.set_xlim(0, 100)
    right.set_xlabel("%")
    right.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3)  # clear of the bars
    right.set_title(f"per class: {report['recordings']} recordings, accuracy {100 * report['accuracy']:.1f} % "
                    "of them right", fontsize=9)
    fig.suptitle(f"{report['model']} on {report['data']} ({report['subset']})", fontsize=10)
    fig.tight_layout()
    write_atomic(path, lambda handle: fig.savefig(handle, dpi=110, format=path.suffix.lower()[1:]))
    plt.close(fig)
    return path
