"""The recipe takes asc-export's gate flags: unset, the export stage keeps the defaults; set, it uses them and the
report says they were relaxed by the user (never a silent config field)."""

from __future__ import annotations

from pathlib import Path

from asc_edge.export.pipeline import ExportSettings
from asc_edge.recipe.cli import build_parser
from asc_edge.recipe.config import load_config
from asc_edge.recipe.report import stage_row
from asc_edge.recipe.run import _relaxed_gates, plan


def _export_stage(argv: list[str], tmp_path: Path):
    from asc_edge.export.gate_flags import chosen_gates

    args = build_parser().parse_args(["--data", "D", "--out", "R", *argv])
    return next(s for s in plan(load_config("quick"), tmp_path, chosen_gates(args)) if s.kind == "export")


def test_no_gate_flag_means_asc_exports_defaults(tmp_path: Path) -> None:
    stage = _export_stage([], tmp_path)
    assert stage.settings["gates"] == "asc-export defaults" and _relaxed_gates(stage.settings["gates"]) == {}
    record = {"kind": "export", "settings": stage.settings, "summary": {"passed": True, "fidelity": {}}}
    assert "default gates passed" in stage_row("export", record)["note"]


def test_relaxed_gates_reach_the_export_and_the_report_names_them(tmp_path: Path) -> None:
    stage = _export_stage(["--min-agreement", "0.95", "--max-drop", "1"], tmp_path)
    relaxed = _relaxed_gates(stage.settings["gates"])
    assert relaxed == {"min_agreement": 0.95, "max_drop_pp": 1.0}
    settings = ExportSettings(checkpoint="x", **relaxed)
    assert settings.min_agreement == 0.95 and settings.max_drop_pp == 1.0
    assert settings.max_log_loss_increase == ExportSettings(checkpoint="x").max_log_loss_increase
    record = {"kind": "export", "settings": stage.settings, "summary": {"passed": True, "fidelity": {}}}
    note = stage_row("export", record)["note"]
    assert "gates relaxed by the user (--min-agreement 0.95 --max-drop 1) passed" in note
