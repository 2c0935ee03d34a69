"""What a full-integer file may contain: TFLite Micro's builtin ops and the integer tensor types. The gates that
apply them, with their messages, are in ``export/gates.py``."""

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
