"""``asc-eval``'s console report: the figures of runtime/evaluate.py as text."""

from __future__ import annotations


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def format_report(report: dict) -> str:
    """Accuracy (micro and macro) and log loss, per class, per device, the confusion matrix, what failed."""
    labels = report["labels"]
    layout = "TAU layout" if report["layout"] == "tau" else "a folder per label"
    lines = [f"{report['model']} on {report['data']} ({layout}, {report['subset']}): {report['recordings']} "
             "recordings, each classified as asc-listen classifies a file"]
    skipped = [f"{n} {what}" for what, n in report["skipped"].items()]
    if report["label_map"]:
        skipped.append("labels mapped: " + ", ".join(f"{a}={b}" for a, b in report["label_map"].items()))
    if skipped:
        lines.append("  skipped: " + "; ".join(skipped))
    lines.append(f"accuracy {_pct(report['accuracy'])} % of recordings right (micro), macro accuracy "
                 f"{_pct(report['macro_accuracy'])} % (mean of class accuracies), log loss {report['log_loss']:.3f}")
    width = max(len("class"), *(len(label) for label in labels))
    lines.append(f"  {'class':<{width}}  {'n':>5}  {'accuracy':>8}  {'precision':>9}  (accuracy = recall)")
    for label in labels:
        c = report["per_class"][label]
        lines.append(f"  {label:<{width}}  {c['n']:>5}  {_pct(c['accuracy']):>8}  {_pct(c['precision']):>9}")
    if "per_device" in report:
        unseen = set(report.get("unseen_devices", ()))
        cells = [f"{d}{'*' if d in unseen else ''} {_pct(m['accuracy'])} (n {m['n']})"
                 for d, m in sorted(report["per_device"].items())]
        lines.append("macro accuracy per device: " + "  ".join(cells))
        if "seen" in report:
            lines.append(f"  seen devices {_pct(report['seen']['accuracy'])} %, unseen (*) "
                         f"{_pct(report['unseen']['accuracy'])} %")
    lines.append("confusion matrix (rows: true class; columns: predicted class, numbered as the rows):")
    counts = report["confusion"]
    cell = max(3, len(str(max(max(row) for row in counts))))
    lines.append(f"  {'':>3} {'':<{width}}  " + " ".join(f"{j:>{cell}}" for j in range(len(labels))))
    for i, (label, row) in enumerate(zip(labels, counts)):
        lines.append(f"  {i:>3} {label:<{width}}  " + " ".join(f"{v:>{cell}}" for v in row))
    if report["unreadable"]:
        lines.append(f"{len(report['unreadable'])} recording(s) could not be classified and are not scored:")
        lines += [f"  {u['error']}" for u in report["unreadable"]]
    return "\n".join(lines) + "\n"
