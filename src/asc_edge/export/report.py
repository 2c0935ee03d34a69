"""The printed export summary and ``asc-export --info``."""

from __future__ import annotations

from asc_edge.export.c_frontend.memory import input_bytes_of, mcu_memory_line, report_memory
from asc_edge.export.gates import gate_lines


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def _scale(value: float | None) -> str:
    return "none (not quantised)" if value is None else f"{value:.6g}"  # a float fallback has no scale


def _ops_line(ops: dict[str, int]) -> str:
    return ", ".join(f"{name} x{count}" for name, count in sorted(ops.items()))


def _reference_name(report: dict) -> str:
    """What the file is compared with: the float model, or a QAT checkpoint's int8 simulation."""
    return "int8 simulation" if "simulation" in (report.get("fidelity") or {}).get("reference", "") else "float"


def _tflm_lines(micro: dict | None, reference: str = "float") -> list[str]:
    """TFLite Micro's measured arena and both interpreters' agreement with the reference model."""
    if not micro:
        return []
    if not micro.get("runs"):
        return [f"  TFLite Micro    cannot run the file: {micro.get('problem')}"]
    t, lite = micro["fidelity_tflm"], micro["fidelity_litert"]
    return [
        f"  TFLite Micro    arena {micro['arena_measured_bytes']:,} bytes measured (estimate "
        f"{micro['arena_estimate_bytes']:,}); top-1 agreement with {reference}: TFLM {_pct(t['top1_agreement'])}, "
        f"LiteRT {_pct(lite['top1_agreement'])}; TFLM vs LiteRT max {micro['max_diff_vs_litert_lsb']} LSB, "
        f"{micro['clips_identical_to_litert']}/{t['clips']} clips identical"
        + (f" (an even subset of {micro['clips_total']})" if micro.get("clips_total", 0) > t["clips"] else ""),
    ]


def _npu_lines(npu: dict | None) -> list[str]:
    if not npu:
        return []
    if "problem" in npu:
        return [f"  NPU             {npu['accelerator']}: {npu['problem']}"]
    from asc_edge.export.npu import npu_lines

    return npu_lines(npu)


def summary_lines(report: dict) -> list[str]:
    """The human summary of an export report (every figure comes from the report dict)."""
    status = "PASSED" if report["passed"] else "FAILED"
    lines = [f"{status}  {report['checkpoint']} ({report['preset']})"]
    if "stopped_at" not in report:  # a stopped export has no file to describe
        lines += _file_lines(report)
    lines.append("  time            " + ", ".join(f"{k} {v:.1f} s" for k, v in report["timings_s"].items()) +
                 f" (total {sum(report['timings_s'].values()):.1f} s)")
    # Each gate as "measured <comparison> threshold  verdict", from the report's gates list only.
    gates = report.get("gates") if isinstance(report.get("gates"), list) else []
    lines += [f"  {'gates' if i == 0 else '':<16}{line}" for i, line in enumerate(gate_lines(gates))]
    if report.get("gates_not_run"):
        lines.append(f"  not run         {', '.join(report['gates_not_run'])} (stopped at the failed "
                     f"{report['stopped_at']} gate)")
    lines += [f"  failed          {failure}" for failure in report["failures"]]
    return lines


def _file_lines(report: dict) -> list[str]:
    f, io, mem = report["fidelity"], report["io"], report["memory"]
    parts = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in report["bytes_by_part"].items() if v)
    return [
        f"  file            {report['file_bytes']:,} bytes (budget {report['max_bytes']:,}): {parts}",
        f"  parameters      {report['parameters']:,} dense, {report['nonzero_parameters']:,} non-zero; "
        f"DCASE2021 size {report['dcase2021_size_bytes'] / 1000:.1f} KB (int8); {report['macs'] / 1e6:.2f} M MACs",
        f"  ops             {report['op_count']} ({_ops_line(report['ops'])})",
        f"  input           {io['input']['type']} {io['input']['shape']} scale {_scale(io['input']['scale'])} "
        f"zero point {io['input']['zero_point']}",
        f"  output          {io['output']['type']} {io['output']['shape']} scale {_scale(io['output']['scale'])} "
        f"zero point {io['output']['zero_point']}",
        f"  activations     peak {mem['peak_activation_bytes']:,} bytes live (tensor arena estimate), "
        f"largest tensor {mem['largest_tensor_bytes']:,}",
        *_tflm_lines(report.get("tflm"), _reference_name(report)),
        *([f"  MCU memory      {mcu_memory_line(report['mcu_memory'])}"] if report.get("mcu_memory") else []),
        *_npu_lines(report.get("npu")),
        f"  fidelity        top-1 agreement {_pct(f['top1_agreement'])} (seen devices "
        f"{_pct(f['top1_agreement_seen_devices'])}, unseen {_pct(f['top1_agreement_unseen_devices'])}) on "
        f"{f['clips']} evaluate clips; macro accuracy {_pct(f['float_macro_accuracy'])} "
        f"{_reference_name(report)} -> "
        f"{_pct(f['int8_macro_accuracy'])} int8 (drop {f['accuracy_drop_pp']:.2f} pp); ONNX max |diff| "
        f"{report['onnx_max_abs_diff']:.1e}",
        *_plain_float_lines(f.get("vs_plain_float")),
    ]


def _plain_float_lines(plain: dict | None) -> list[str]:
    """A QAT checkpoint's file against the plain float forward of the same weights (reported, not gated)."""
    if not plain:
        return []
    return [f"  vs plain float  top-1 agreement {_pct(plain['top1_agreement'])} (decisive clips "
            f"{_pct(plain['top1_agreement_decisive'])}); macro accuracy {_pct(plain['float_macro_accuracy'])} "
            f"float -> {_pct(plain['int8_macro_accuracy'])} int8 (the gates compare with the simulation)"]


def _preprocessing_text(card: dict) -> str:
    spec = (card.get("preprocessing") or {}).get("input_resnorm")
    if not spec:
        return "none (the graph takes the log-mels)"
    return (f"input ResNorm in float32 before quantising: {spec['lambda']:g} * x + {spec['mode']}-norm(x), "
            f"eps {spec['eps']:g}")


def info_lines(path: str, size: int, card: dict, ops: dict[str, int], io: dict, memory: dict) -> list[str]:
    window = card.get("window", {})
    frontend = card["frontend_config"]
    arena = memory.get("tflm_arena_bytes")
    mcu = report_memory(size, {"arena_measured_bytes": arena}, card, input_bytes_of(io))
    return [
        f"{path}: {size:,} bytes, asc-edge {card.get('package_version')}, preset {card.get('preset')}",
        f"  labels     {', '.join(card['labels'])}",
        f"  frontend   {frontend.get('name')}: {frontend['sample_rate']} Hz, {frontend['n_mels']} mels, "
        f"n_fft {frontend['n_fft']}, hop {frontend['hop_length']}, {frontend['window']} window, log {frontend['log']}",
        f"  window     {window.get('seconds', 0):.3f} s = {window.get('samples')} samples -> "
        f"{window.get('n_mels')} x {window.get('n_frames')} log-mels",
        f"  preprocess {_preprocessing_text(card)}",
        f"  input      {io['input']['type']} {io['input']['shape']} scale {io['input']['scale']} "
        f"zero point {io['input']['zero_point']}",
        f"  output     {io['output']['type']} {io['output']['shape']} scale {io['output']['scale']} "
        f"zero point {io['output']['zero_point']}",
        f"  ops        {sum(ops.values())}: {_ops_line(ops)}",
        f"  arena      ~{memory['peak_activation_bytes']:,} bytes of live activations at peak"
        + (f"; TFLite Micro measured {memory['tflm_arena_bytes']:,} bytes" if "tflm_arena_bytes" in memory else ""),
        f"  MCU memory {mcu_memory_line(mcu)}",
        f"  checkpoint sha256 {card.get('checkpoint_sha256')}",
    ] + _about_lines(card)


def _about_lines(card: dict) -> list[str]:
    """The descriptive fields asc-export --about sealed in (the packaged model's data and CV estimate)."""
    lines = []
    data, cv = card.get("training_data"), card.get("cross_validation")
    if isinstance(data, dict):
        lines.append(f"  data       {data.get('name')}; {data.get('trained_on')}; license {data.get('license')}")
    if isinstance(cv, dict) and isinstance(cv.get("int8_file_micro_accuracy"), dict):
        mean, sd = (100 * cv["int8_file_micro_accuracy"].get(k, float("nan")) for k in ("mean", "sd"))
        lines.append(f"  estimate   {cv.get('folds')}-fold cross-validation, int8 file: {mean:.1f} % +- {sd:.1f} "
                     f"of recordings right ({cv.get('split')})")
    return lines

