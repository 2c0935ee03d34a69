"""Which files of the TFLite Micro tree a model needs: the tree's Makefile lists (``NAME := \\`` blocks) filtered
to the framework and to the kernels of the model's operators, CMSIS-NN's or TFLM's reference ones."""

from __future__ import annotations

import re
from pathlib import Path

from asc_edge.mcu.tree import McuError

# TFLite builtin operator -> the TFLM kernel file stems that implement it (each with its *_common.cc when the
# tree has one). Only operators asc-export's graphs use, or are close to, are listed.
OP_KERNELS = {
    "ADD": ("add",), "SUB": ("sub",), "MUL": ("mul",), "MEAN": ("reduce",), "SUM": ("reduce",),
    "CONV_2D": ("conv",), "DEPTHWISE_CONV_2D": ("depthwise_conv",), "FULLY_CONNECTED": ("fully_connected",),
    "AVERAGE_POOL_2D": ("pooling",), "MAX_POOL_2D": ("pooling",), "PAD": ("pad",), "PADV2": ("pad",),
    "RESHAPE": ("reshape",), "TRANSPOSE": ("transpose",), "SOFTMAX": ("softmax",), "RELU": ("activations",),
    "RELU6": ("activations",), "LOGISTIC": ("logistic",), "HARD_SWISH": ("hard_swish",), "QUANTIZE": ("quantize",),
    "DEQUANTIZE": ("dequantize",), "CONCATENATION": ("concatenation",), "SQUEEZE": ("squeeze",),
    "MAXIMUM": ("maximum_minimum",), "MINIMUM": ("maximum_minimum",), "SQUARED_DIFFERENCE": ("squared_difference",),
    "RSQRT": ("elementwise",), "STRIDED_SLICE": ("strided_slice",),
}
# CMSIS-NN source folders each kernel's CMSIS-NN version calls into (NNSupportFunctions: always).
CMSIS_NN_DIRS = {
    "add": ("BasicMathFunctions",), "mul": ("BasicMathFunctions",), "maximum_minimum": ("BasicMathFunctions",),
    "conv": ("ConvolutionFunctions",), "depthwise_conv": ("ConvolutionFunctions",),
    "fully_connected": ("FullyConnectedFunctions",), "pooling": ("PoolingFunctions",), "pad": ("PadFunctions",),
    "softmax": ("SoftmaxFunctions",), "transpose": ("TransposeFunctions",),
}
# Framework files an interpreter never calls (test scaffolding): left out to keep the build short.
UNUSED_CORE = ("test_helpers.cc", "test_helper_custom_ops.cc", "mock_micro_graph.cc", "fake_micro_context.cc")
KERNELS_DIR = "tensorflow/lite/micro/kernels/"


def makefile_lists(root: Path) -> dict[str, list[str]]:
    """Every ``NAME := \\`` source list of the tree's Makefile."""
    lists: dict[str, list[str]] = {}
    for match in re.finditer(r"^(\w+_SRCS) := \\\n((?:[ \t]+\S+ \\\n)*)", (root / "Makefile").read_text(), re.M):
        lists[match.group(1)] = [line.strip().rstrip("\\").strip() for line in match.group(2).splitlines()]
    return lists


def model_sources(root: Path, ops: list[str], cmsis_nn: bool, cortex_m: bool) -> tuple[list[str], list[str]]:
    """``(core, kernels)``: the tree's framework files and the kernel files (with CMSIS-NN's C sources when
    ``cmsis_nn``) that ``ops`` (builtin operator names) need. :class:`McuError` names an operator not listed."""
    lists = makefile_lists(root)
    try:
        core = lists["COMMON_CORE_SRCS"] + lists["CORTEX_M_CORE_SRCS" if cortex_m else "HOST_CORE_SRCS"]
        common, reference = lists["COMMON_KERNEL_SRCS"], lists["REFERENCE_KERNEL_SRCS"]
        optimised, cmsis_c = lists["CMSIS_NN_TFLM_KERNEL_SRCS"], lists["CMSIS_NN_SRCS"]
    except KeyError as exc:
        raise McuError(f"{root / 'Makefile'}: no source list {exc}; not the pinned tflm-cortex-m-src tree") from None
    unknown = sorted(op for op in ops if op not in OP_KERNELS)
    if unknown:
        raise McuError(f"no TFLite Micro kernel mapping for operator(s) {', '.join(unknown)} (asc_edge.mcu.sources)")
    stems = sorted({stem for op in ops for stem in OP_KERNELS[op]})
    kernels = [f"{KERNELS_DIR}kernel_util.cc", f"{KERNELS_DIR}micro_tensor_utils.cc"]
    for stem in stems:
        tuned = f"{KERNELS_DIR}cmsis_nn/{stem}.cc"
        plain = f"{KERNELS_DIR}{stem}.cc"
        if cmsis_nn and tuned in optimised:
            kernels.append(tuned)
        elif plain in reference or plain in common:
            kernels.append(plain)
        if f"{KERNELS_DIR}{stem}_common.cc" in common:
            kernels.append(f"{KERNELS_DIR}{stem}_common.cc")
    if cmsis_nn:
        dirs = {"NNSupportFunctions", *(d for stem in stems for d in CMSIS_NN_DIRS.get(stem, ()))}
        kernels += [path for path in cmsis_c if path.split("/")[3] in dirs]
    core = [path for path in core if Path(path).name not in UNUSED_CORE]
    return core, kernels
