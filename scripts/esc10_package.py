"""Writes what the packaged ESC-10 model carries besides its weights: the card's descriptive fields (``--about``
for asc-export: the data, the classes, the cross-validation estimate) and the NOTICE with ESC-10's attribution.

    python scripts/esc10_package.py ESC10_DIR RUN_DIR   # RUN_DIR: a finished `asc-train cv` run on ESC10_DIR

Used by scripts/build_esc10_model.sh, which rebuilds the packaged model from the data folder.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTICE = ROOT / "src/asc_edge/runtime/default_model/NOTICE"
ESC10_COMMIT = "553c8f1743b9dba6b282e1323c3ca8fa76923448"
CLIP_CREDITS = "Licensing details for individual clips:"


def about(cv: dict, held_out_fold: int, labels: list[str]) -> dict:
    file = cv["int8_file"]
    held_out = next(r for r in cv["per_fold"] if r["fold"] == held_out_fold)["int8_file"]
    return {
        "training_data": {
            "name": "ESC-10 (K. J. Piczak, ESC: Dataset for Environmental Sound Classification, ACM MM 2015)",
            "source": f"github.com/karolpiczak/ESC-10 at {ESC10_COMMIT}",
            "license": "CC BY 3.0; attribution and per-clip credits in the NOTICE beside this file",
            "classes": labels,
            "trained_on": f"official folds other than {held_out_fold} (320 of 400 recordings)",
            "held_out": f"official fold {held_out_fold} (80 recordings): the export's gates; never trained on",
            # this very model's score on its held-out fold, as asc-listen decides each recording
            "held_out_micro_accuracy": held_out["micro_accuracy"],
        },
        "cross_validation": {
            "folds": cv["folds"], "split": "ESC-10's official folds (sources never straddle folds)",
            "int8_file_micro_accuracy": {k: round(v, 4) for k, v in file["micro_accuracy"].items()},
            "int8_file_macro_accuracy": {k: round(v, 4) for k, v in file["macro_accuracy"].items()},
            "command": "asc-train cv --data ESC10 --folds ESC10/folds.csv --frontend small",
        },
        "intended_use": "a demo of real environmental sounds (5 s clips); not a model of acoustic scenes",
    }


def notice(readme_original: str) -> str:
    credits = readme_original[readme_original.index(CLIP_CREDITS):]
    return (
        "esc10_student_int8.tflite - attribution\n\n"
        "This model was trained on ESC-10, a subset of ESC-50:\n"
        "K. J. Piczak. ESC: Dataset for Environmental Sound Classification. Proceedings of the ACM International\n"
        "Conference on Multimedia, 2015. doi:10.1145/2733373.2806390\n"
        f"Source: https://github.com/karolpiczak/ESC-10 (commit {ESC10_COMMIT}).\n"
        "The dataset is licensed under Creative Commons Attribution 3.0 (http://creativecommons.org/licenses/by/3.0/).\n"
        "Its clips are derived from Freesound.org recordings; their credits, as the dataset's README gives them:\n\n"
        + credits.rstrip() + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("run", type=Path)
    parser.add_argument("--held-out-fold", type=int, default=5)
    args = parser.parse_args()
    cv = json.loads((args.run / "cv.json").read_text())
    labels = cv["int8_file_confusion"]["labels"]
    (args.run / "about.json").write_text(json.dumps(about(cv, args.held_out_fold, labels), indent=1))
    NOTICE.write_text(notice((args.data / "README_original.md").read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {args.run / 'about.json'} and {NOTICE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
