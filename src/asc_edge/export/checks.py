"""The gates a full-int8 file must pass: integer-only tensors and I/O, allowed builtin ops, size budget."""

from __future__ import annotations

# Builtin int8 kernels present in both LiteRT and TFLite Micro's MicroMutableOpResolver (its Add* method
# name is the second element). QUANTIZE and DEQUANTIZE are deliberately absent: a full-integer graph has none.
MICRO_OPS: dict[str, str] = {
    "ADD": "AddAdd", "AVERAGE_POOL_2D": "AddAveragePool2D", "CONCATENATION": "AddConcatenation",
    "CONV_2D": "AddConv2D", "DEPTHWISE_CONV_2D": "AddDepthwiseConv2D", "FULLY_CONNECTED": "AddFullyConnected",
    "LOGISTIC": "AddLogistic", "MAX_POOL_2D": "AddMaxPool2D", "MEAN": "AddMean", "MUL": "AddMul",
    "PAD": "AddPad", "RELU": "AddRelu", "RESHAPE": "AddReshape", "RSQRT": "AddRsqrt", "SOFTMAX": "AddSoftmax",
    "SQUARED_DIFFERENCE": "AddSquaredDifference", "STRIDED_SLICE": "AddStridedSlice", "SUB": "AddSub",
    "SUM": "AddSum", "TRANSPOSE": "AddTranspose",
}
INTEGER_TENSOR_TYPES = {"INT8", "INT32"}
# ``--activations int16`` (int16 activations, int8 weights): int16 tensors and I/O, int64 conv biases.
INT16_TENSOR_TYPES = {"INT8", "INT16", "INT32", "INT64"}


def integer_types(activations: str = "int8") -> set[str]:
    return INT16_TENSOR_TYPES if activations == "int16" else INTEGER_TENSOR_TYPES


def op_problems(ops: dict[str, int]) -> list[str]:
    bad = sorted(set(ops) - set(MICRO_OPS))
    return [f"operators outside the TFLite Micro builtin allow-list: {', '.join(bad)}"] if bad else []


def integer_problems(types: dict[str, int], io: dict, activations: str = "int8") -> list[str]:
    problems = []
    io_type = activations.upper()
    float_types = sorted(set(types) - integer_types(activations))
    if float_types:
        problems.append(f"non-integer tensors ({', '.join(float_types)}): part of the graph fell back to float")
    for side in ("input", "output"):
        if io[side]["type"] != io_type:
            problems.append(f"the {side} tensor is {io[side]['type']}, not {io_type}")
    return problems


def size_message(size: int, budget: int, breakdown: dict[str, int]) -> str:
    parts = ", ".join(f"{name.replace('_', ' ')} {value:,}" for name, value in
                      sorted(breakdown.items(), key=lambda kv: -kv[1]) if value)
    return (f"the int8 file is {size:,} bytes, over the {budget:,}-byte budget by {size - budget:,} "
            f"(bytes: {parts}); use a smaller preset or prune (asc-train --init M.pt --prune-structured F)")
