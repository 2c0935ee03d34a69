"""Check a .tflite flatbuffer's structure before any interpreter sees it.

A malformed flatbuffer can crash an interpreter (native code), so every table, vector, index and size the
interpreter will dereference is checked here, with ``struct`` alone, against the file and against each other
(a tensor's buffer holds exactly its shape's bytes, an operator reads only tensors written before it, ...).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

from asc_edge.modelfile.flatbuffer_reader import (
    MODEL_BUFFERS,
    MODEL_DESCRIPTION,
    MODEL_METADATA,
    MODEL_METADATA_BUFFER,
    MODEL_OPCODES,
    MODEL_SIGNATURES,
    MODEL_SUBGRAPHS,
    MODEL_VERSION,
    SUBGRAPH_INPUTS,
    SUBGRAPH_NAME,
    SUBGRAPH_OPERATORS,
    SUBGRAPH_OUTPUTS,
    SUBGRAPH_TENSORS,
    FlatbufferReader,
    model_table,
    open_flatbuffer,
)
from asc_edge.plumbing.errors import ModelFileError

_CUSTOM_OPERATOR = 32
_LAST_BUILTIN_OPERATOR = 209  # schema.fbs of ai-edge-litert 2.x
_LAST_BUILTIN_OPTIONS = 126
# TensorType -> bytes per element, for the types an asc-edge model may hold (strings, resources, variants,
# complex and sub-byte types are refused: a full-int8 export never contains them)
_ELEMENT_BYTES = {0: 4, 1: 2, 2: 4, 3: 1, 4: 8, 6: 1, 7: 2, 9: 1}
_TYPE_NAMES = {0: "FLOAT32", 1: "FLOAT16", 2: "INT32", 3: "UINT8", 4: "INT64", 6: "BOOL", 7: "INT16", 9: "INT8"}
_INT8 = 9
# BuiltinOperator -> the BuiltinOptions type its options must have (0 = none stored, also always allowed):
# the operators asc-export writes. An operator whose options table is of another type is refused.
_OPTIONS_OF = {0: 11, 1: 5, 2: 10, 3: 1, 4: 2, 9: 8, 14: 0, 17: 5, 18: 21, 19: 0, 22: 17, 25: 9, 34: 22,
               39: 26, 40: 27, 41: 28, 45: 32, 74: 27, 76: 0, 99: 76}
MAX_TENSOR_ELEMENTS = 1 << 24  # 16 M elements: far above any window-sized activation, far below a crash
MAX_RANK = 6


@dataclass(frozen=True)
class TensorInfo:
    type: str
    shape: tuple[int, ...]
    scale: float | None
    zero_point: int | None


@dataclass(frozen=True)
class GraphSummary:
    """What the runtime needs from a validated file: its one input and one output."""

    input: TensorInfo
    output: TensorInfo


def _quantization(reader: FlatbufferReader, tensor: int, shape: list[int], type_code: int, where: str
                  ) -> tuple[float | None, int | None]:
    pos = reader.field(tensor, 4)
    if pos is None:
        return None, None
    q = reader.table(reader.indirect(pos))
    reader.numbers(q, 0, "<f")
    reader.numbers(q, 1, "<f")
    scales = reader.numbers(q, 2, "<f")
    zeros = reader.numbers(q, 3, "<q")
    if reader.scalar(q, 4, "<B") != 0:
        raise ModelFileError(f"{where} has custom quantisation details")
    dim = reader.scalar(q, 6, "<i")
    if scales or zeros:
        if len(zeros) != len(scales) or not 0 <= dim < max(len(shape), 1):
            raise ModelFileError(f"{where} has inconsistent quantisation parameters")
        if len(scales) not in (1, shape[dim] if shape else 1):
            raise ModelFileError(f"{where} has {len(scales)} scales for {shape[dim] if shape else 1} channels")
        if not all(math.isfinite(s) and s > 0 for s in scales):
            raise ModelFileError(f"{where} has a quantisation scale that is not a positive finite number")
        low, high = {_INT8: (-128, 127), 3: (0, 255), 7: (-32768, 32767)}.get(type_code, (-(2 ** 31), 2 ** 31 - 1))
        if not all(low <= z <= high for z in zeros):
            raise ModelFileError(f"{where} has a zero point outside its type's range")
        if (len(zeros) > 1 or type_code == 2) and any(zeros):
            # TFLite's quantisation spec: per-channel weights and int32 biases are symmetric (zero point 0);
            # LiteRT's XNNPACK delegate refuses anything else
            raise ModelFileError(f"{where} has a non-zero zero point where the quantisation spec requires 0")
    return (scales[0] if scales else None), (zeros[0] if zeros else None)


def _tensors(reader: FlatbufferReader, subgraph: int, buffer_bytes: list[int]) -> tuple[list[TensorInfo], set[int]]:
    """Every tensor's type, shape and quantisation, and the set of constant (weight-holding) tensors."""
    infos, constants = [], set()
    for index, tensor in enumerate(reader.table_vector(subgraph, SUBGRAPH_TENSORS)):
        where = f"tensor {index}"
        shape = reader.int_vector(tensor, 0)
        type_code = reader.scalar(tensor, 1, "<B")
        if type_code not in _ELEMENT_BYTES:
            raise ModelFileError(f"{where} has an unsupported element type ({type_code})")
        if len(shape) > MAX_RANK or any(d < 1 for d in shape):
            raise ModelFileError(f"{where} has an impossible shape {shape}")
        elements = math.prod(shape)
        if elements > MAX_TENSOR_ELEMENTS:
            raise ModelFileError(f"{where} has {elements} elements, more than any asc-edge model holds")
        signature = reader.int_vector(tensor, 7)
        if signature and (len(signature) != len(shape) or
                          any(s not in (-1, d) for s, d in zip(signature, shape))):
            raise ModelFileError(f"{where} has a shape signature that contradicts its shape")
        buffer = reader.scalar(tensor, 2, "<I")
        if buffer >= max(len(buffer_bytes), 1):
            raise ModelFileError(f"{where} names a buffer the file does not have")
        size = buffer_bytes[buffer] if buffer_bytes else 0
        if size:
            if size != elements * _ELEMENT_BYTES[type_code]:
                raise ModelFileError(f"{where} is {_TYPE_NAMES[type_code]} {shape} but its buffer holds "
                                     f"{size} bytes")
            constants.add(index)
        reader.bytes_field(tensor, 3)  # name
        if reader.scalar(tensor, 5, "<B") or reader.field(tensor, 6) is not None or reader.field(tensor, 9):
            raise ModelFileError(f"{where} is a variable, sparse or variant tensor (asc-export writes none)")
        scale, zero = _quantization(reader, tensor, shape, type_code, where)
        infos.append(TensorInfo(_TYPE_NAMES[type_code], tuple(shape), scale, zero))
    return infos, constants


def _operators(reader: FlatbufferReader, subgraph: int, opcodes: list[int], n_tensors: int, constants: set[int],
               graph_inputs: list[int], graph_outputs: list[int]) -> None:
    """Operator indices and options, and data flow: each input is a weight, a graph input or the output of
    an earlier operator (else the interpreter reads a tensor nobody wrote)."""
    written = set(graph_inputs)
    for step, operator in enumerate(reader.table_vector(subgraph, SUBGRAPH_OPERATORS)):
        where = f"operator {step}"
        opcode_index = reader.scalar(operator, 0, "<I")
        if opcode_index >= len(opcodes):
            raise ModelFileError(f"{where} names an operator code the file does not have")
        code = opcodes[opcode_index]
        inputs, outputs = reader.int_vector(operator, 1), reader.int_vector(operator, 2)
        if not outputs or any(not 0 <= i < n_tensors for i in outputs) or \
                any(not -1 <= i < n_tensors for i in inputs):
            raise ModelFileError(f"{where} names a tensor the file does not have")
        for i in inputs:
            if i >= 0 and i not in constants and i not in written:
                raise ModelFileError(f"{where} reads tensor {i} before any operator writes it")
        for i in outputs:
            if i in constants or i in written:
                raise ModelFileError(f"{where} writes tensor {i}, which is a weight or already written")
            written.add(i)
        options_type = reader.scalar(operator, 3, "<B")
        if options_type > _LAST_BUILTIN_OPTIONS or options_type not in (0, _OPTIONS_OF.get(code, options_type)):
            raise ModelFileError(f"{where} has options of the wrong type ({options_type}) for operator {code}")
        options = reader.field(operator, 4)
        if options is not None:
            reader.table(reader.indirect(options))
        elif options_type:
            raise ModelFileError(f"{where} declares options it does not store")
        for absent in (5, 7, 8, 10, 12):  # custom options, mutating variables, intermediates, large/second options
            if reader.field(operator, absent) is not None and reader.scalar(operator, absent, "<I"):
                raise ModelFileError(f"{where} has custom options or intermediates (asc-export writes none)")
        if reader.scalar(operator, 11, "<B"):
            raise ModelFileError(f"{where} has second builtin options (asc-export writes none)")
    missing = [i for i in graph_outputs if i not in written]
    if missing:
        raise ModelFileError(f"the model output (tensor {missing[0]}) is never written")


def _validate(data: bytes) -> GraphSummary:
    reader = open_flatbuffer(data)
    model = model_table(reader)
    if reader.scalar(model, MODEL_VERSION, "<I") != 3:
        raise ModelFileError("the flatbuffer is not TFLite schema version 3")
    reader.bytes_field(model, MODEL_DESCRIPTION)
    buffer_bytes = []
    for buffer in reader.table_vector(model, MODEL_BUFFERS):
        buffer_bytes.append(reader.bytes_span(buffer, 0)[1])
        if reader.scalar(buffer, 1, "<Q") or reader.scalar(buffer, 2, "<Q"):
            # weights stored after the flatbuffer (files over 2 GB): asc-export never writes them
            raise ModelFileError("a weight buffer points outside the flatbuffer (truncated or not an asc-edge model)")
    opcodes = []
    for opcode in reader.table_vector(model, MODEL_OPCODES):
        code = max(reader.scalar(opcode, 0, "<b"), reader.scalar(opcode, 3, "<i"))
        if not 0 <= code <= _LAST_BUILTIN_OPERATOR or code == _CUSTOM_OPERATOR:
            raise ModelFileError(f"operator code {code} is not a builtin TFLite operator")
        reader.bytes_field(opcode, 1)
        opcodes.append(code)
    subgraphs = reader.table_vector(model, MODEL_SUBGRAPHS)
    if len(subgraphs) != 1:
        raise ModelFileError(f"the model has {len(subgraphs)} subgraphs; an asc-edge model has exactly one")
    subgraph = subgraphs[0]
    reader.bytes_field(subgraph, SUBGRAPH_NAME)
    tensors, constants = _tensors(reader, subgraph, buffer_bytes)
    inputs, outputs = reader.int_vector(subgraph, SUBGRAPH_INPUTS), reader.int_vector(subgraph, SUBGRAPH_OUTPUTS)
    if any(not 0 <= i < len(tensors) for i in inputs + outputs):
        raise ModelFileError("a subgraph input or output names a tensor the file does not have")
    if len(inputs) != 1 or len(outputs) != 1 or inputs[0] in constants:
        raise ModelFileError(f"the model has {len(inputs)} inputs and {len(outputs)} outputs; "
                             f"an asc-edge model has one of each")
    _operators(reader, subgraph, opcodes, len(tensors), constants, inputs, outputs)
    for index in reader.int_vector(model, MODEL_METADATA_BUFFER):
        if not 0 <= index < len(buffer_bytes):
            raise ModelFileError("a metadata buffer index names a buffer the file does not have")
    for entry in reader.table_vector(model, MODEL_METADATA):
        reader.bytes_field(entry, 0)
        if reader.scalar(entry, 1, "<I") >= len(buffer_bytes):
            raise ModelFileError("a metadata entry names a buffer the file does not have")
    for signature in reader.table_vector(model, MODEL_SIGNATURES):
        if reader.scalar(signature, 4, "<I") != 0:
            raise ModelFileError("a signature names a subgraph the file does not have")
        reader.bytes_field(signature, 2)
        for side in (0, 1):
            for tensor_map in reader.table_vector(signature, side):
                reader.bytes_field(tensor_map, 0)
                if reader.scalar(tensor_map, 1, "<I") >= len(tensors):
                    raise ModelFileError("a signature names a tensor the file does not have")
    return GraphSummary(tensors[inputs[0]], tensors[outputs[0]])


def validate(data: bytes) -> GraphSummary:
    """Walk every table, vector, index and size the interpreter will dereference; raise
    :class:`ModelFileError` when one points outside the file or contradicts another (a damaged, truncated
    or foreign model). Returns the model's input and output."""
    try:
        return _validate(data)
    except ModelFileError:
        raise
    except (struct.error, IndexError, ValueError, OverflowError) as exc:  # any other malformed offset
        raise ModelFileError(f"malformed flatbuffer ({exc})") from exc
