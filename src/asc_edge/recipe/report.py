"""The recipe's per-stage report: ``RUN_DIR/report.json``, ``report.md`` and ``accuracy_vs_size.png``.

Every figure comes from the stage records (``RUN_DIR/<stage>/stage.json``), which hold what the stage's own
checkpoint or export report measured on ``fold1_evaluate``: the last epoch's model, the one the next stage
starts from (not the ``.best.pt`` selected on the evaluate fold, whose figure would be optimistic).
"""

from __future__ import annotations

import json
from pathlib import Path

from asc_edge.export.gate_flags import gate_flags_text
from asc_edge.modelfile.quantization import file_kind
from asc_edge.plumbing.atomic_io import write_text_atomic
from asc_edge.recipe.config import RecipeConfig

REPORT_JSON, REPORT_MD, PLOT = "report.json", "report.md", "accuracy_vs_size.png"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _num(value: float | int | None, fmt: str = ",") -> str:
    return "-" if value is None else format(value, fmt)


def stage_row(name: str, record: dict | None) -> dict:
    """One report row: what the stage measured (None where it does not apply or has not run)."""
    row = {"stage": name, "status": "pending", "wall_s": None, "resumed": None, "accuracy": None, "seen": None,
           "unseen": None, "log_loss": None, "parameters": None, "nonzero_parameters": None,
           "dcase2021_size_bytes": None, "tflite_bytes": None, "top1_agreement": None, "accuracy_drop_pp": None,
           "note": ""}
    if not record:
        return row
    summary = record.get("summary") or {}
    row.update(status=record.get("status"), wall_s=record.get("wall_s"), resumed=record.get("resumed"),
               kind=record.get("kind"))
    if record.get("kind") == "translator":
        fit = summary.get("fit") or {}
        if fit:
            before = sum(d["mse_untranslated"] for d in fit.values()) / len(fit)
            after = sum(d["mse_translated"] for d in fit.values()) / len(fit)
            row["note"] = f"{len(fit)} devices; held-out log-mel MSE {before:.3f} -> {after:.3f}"
    elif record.get("kind") == "export":
        fidelity = summary.get("fidelity") or {}
        row.update(accuracy=fidelity.get("int8_macro_accuracy"), log_loss=fidelity.get("int8_log_loss"),
                   parameters=summary.get("parameters"),
                   nonzero_parameters=summary.get("nonzero_parameters"),
                   dcase2021_size_bytes=summary.get("dcase2021_size_bytes"), tflite_bytes=summary.get("file_bytes"),
                   top1_agreement=fidelity.get("top1_agreement"), accuracy_drop_pp=fidelity.get("accuracy_drop_pp"))
        passed = summary.get("passed")
        agreement = [fidelity.get(f"top1_agreement_{k}_devices") for k in ("seen", "unseen")]
        # The stage's settings hold the width even for an export record written before the summary carried it.
        activations = (summary.get("settings") or record.get("settings") or {}).get("activations", "int8")
        gates = (record.get("settings") or {}).get("gates")
        relaxed = (f"gates relaxed by the user ({gate_flags_text(gates['relaxed by the user'])})"
                   if isinstance(gates, dict) else "default gates")
        row["note"] = (f"{file_kind(activations)} TFLite, {relaxed} passed; agreement seen "
                       f"{_pct(agreement[0])} / unseen {_pct(agreement[1])}" if passed else
                       f"refused: {'; '.join(summary.get('failures') or [record.get('error', '')])}")
    else:
        metrics, size = summary.get("metrics") or {}, summary.get("size") or {}
        row.update(accuracy=metrics.get("accuracy"), seen=metrics.get("seen"), unseen=metrics.get("unseen"),
                   log_loss=metrics.get("log_loss"), parameters=size.get("parameters"),
                   nonzero_parameters=size.get("nonzero_parameters"),
                   dcase2021_size_bytes=size.get("dcase_size_bytes"))
        settings = record.get("settings") or {}
        epochs = summary.get("epochs")
        row["note"] = f"{summary.get('preset')}, {epochs} epoch{'' if epochs == 1 else 's'}" + (
            ", QAT: accuracy of its int8 simulation" if settings.get("qat") else "") + (
            f", pruned {settings.get('prune_structured', 0):g} structured / "
            f"{settings.get('prune_unstructured', 0):g} unstructured" if record.get("kind") == "prune" else "")
    return row


def _markdown(config: RecipeConfig, rows: list[dict], run_dir: Path) -> str:
    lines = [f"# asc-train recipe report ({config.name})", "",
             f"Run folder `{run_dir}`. Macro accuracy on `fold1_evaluate` (%), of each stage's last epoch; for "
             "`export` the quantised model's accuracy, top-1 agreement with PyTorch and the drop.", "",
             "| stage | status | all | seen | unseen | log loss | params | non-zero | DCASE2021 size | .tflite | "
             "agreement | drop (pp) | wall | notes |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        size = None if r["dcase2021_size_bytes"] is None else f"{r['dcase2021_size_bytes'] / 1000:.1f} KB"
        wall = "-" if r["wall_s"] is None else f"{r['wall_s']:.0f} s" + (" (resumed)" if r["resumed"] else "")
        lines.append(
            f"| {r['stage']} | {r['status']} | {_pct(r['accuracy'])} | {_pct(r['seen'])} | {_pct(r['unseen'])} | "
            f"{_num(r['log_loss'], '.3f')} | {_num(r['parameters'])} | {_num(r['nonzero_parameters'])} | "
            f"{size or '-'} | {_num(r['tflite_bytes'])}{' (not written)' if r['status'] == 'refused' else ''} | "
            f"{_pct(r['top1_agreement'])} | "
            f"{_num(r['accuracy_drop_pp'], '.2f')} | {wall} | {r['note']} |")
    if config.get("int8", "qat_epochs") == 0:
        lines += ["", "int8: `qat_epochs = 0`, so the model is post-training quantised at export."]
    lines += ["", f"![accuracy against size]({PLOT})", ""]
    return "\n".join(lines)


def _plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    points = [r for r in rows if r["accuracy"] is not None and r["dcase2021_size_bytes"]]
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    if points:  # the stages in order, so the path from the teacher to the int8 file reads left to right
        ax.plot([r["dcase2021_size_bytes"] / 1000 for r in points], [100 * r["accuracy"] for r in points],
                color="0.8", zorder=0)
    for index, r in enumerate(points):
        x = r["dcase2021_size_bytes"] / 1000
        ax.scatter(x, 100 * r["accuracy"], color="tab:blue" if r.get("kind") != "export" else "tab:red")
        if r["unseen"] is not None:
            ax.scatter(x, 100 * r["unseen"], color="tab:orange", marker="v")
        # Stages of equal size and accuracy (int8 and export) would print over each other: stagger the labels.
        ax.annotate(r["stage"], (x, 100 * r["accuracy"]), textcoords="offset points",
                    xytext=(4, 4 + 9 * (index % 3)), fontsize=8)
    if points:
        from matplotlib.ticker import ScalarFormatter

        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(ScalarFormatter())
    ax.set_xlabel("DCASE2021 size (KB of non-zero parameters)")
    ax.set_ylabel("macro accuracy on fold1_evaluate (%)")
    ax.set_title("accuracy against model size per stage (blue: all, orange: unseen devices, red: quantised file)",
                 fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.partial.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)


def write_report(run_dir: Path, config: RecipeConfig, stages: list) -> dict:
    """(Re)write the report from the stage records; returns the report dict."""
    rows = []
    for stage in stages:
        try:
            record = json.loads((run_dir / stage.name / "stage.json").read_text())
        except (OSError, ValueError):
            record = None
        row = stage_row(stage.name, record)
        row.setdefault("kind", stage.kind)
        rows.append(row)
    report = {"config": config.to_dict(), "stages": rows, "run_dir": str(run_dir),
              "complete": all(r["status"] == "done" for r in rows)}
    write_text_atomic(run_dir / REPORT_JSON, json.dumps(report, indent=2, sort_keys=True) + "\n")
    write_text_atomic(run_dir / REPORT_MD, _markdown(config, rows, run_dir))
    _plot(rows, run_dir / PLOT)
    return report
