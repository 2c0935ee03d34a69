"""Read a .tflite flatbuffer with nothing but ``struct``: digest, validation and the embedded asc-edge model card.

Shared by ``asc-export`` (which writes the card and seals the file) and the runtime (which must check the file
with no TensorFlow and before any interpreter sees it: a malformed flatbuffer can crash an interpreter, so
every offset is bounds-checked and every index the interpreter will dereference is checked here first).
Layout: https://github.com/google/flatbuffers/blob/master/docs (tables with vtables, little-endian, offsets
relative to where they are stored); table and field numbers from the TFLite ``schema.fbs``.

The file digest. The model card (JSON in the ``Model.metadata`` entry named ``asc_edge``) holds
``"file_sha256": "<64 hex digits>"``: the SHA-256 of the *whole file* with those 64 digits replaced by 64
ASCII ``0``. It therefore covers every byte: the graph, the weights, the other metadata and the card's own
labels and frontend. Export writes the card with the 64 zeros, then :func:`seal` hashes the finished file
and writes the digits in place (nothing moves), so sealing is the very last step of building the file.
The digest detects damage (bit rot, a truncated copy); it is not a signature: anyone can re-seal an edited
file, so the structural checks below still run on every file whose digest matches.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import struct
from dataclasses import dataclass
from pathlib import Path

from asc_edge.plumbing.errors import ModelFileError

IDENTIFIER = b"TFL3"
CARD_NAME = "asc_edge"  # name of the Model.metadata entry holding the JSON model card
DIGEST_FIELD = "file_sha256"
DIGEST_PLACEHOLDER = "0" * 64
_DIGEST_PATTERN = re.compile(rb'"' + DIGEST_FIELD.encode() + rb'":"([^"]{0,64})"')
DAMAGED = "the model file is damaged"
CARD_FORMAT_VERSION = 1  # the newest model card format this runtime reads
MAX_FILE_BYTES = 64 << 20  # an asc-edge model is ~100 KB; refuse to read a huge file into memory

# Model table field numbers (schema.fbs): version, operator_codes, subgraphs, description, buffers,
# metadata_buffer, metadata, signature_defs
_MODEL_VERSION, _MODEL_OPCODES, _MODEL_SUBGRAPHS, _MODEL_DESCRIPTION, _MODEL_BUFFERS = 0, 1, 2, 3, 4
_MODEL_METADATA_BUFFER, _MODEL_METADATA, _MODEL_SIGNATURES = 5, 6, 7
_SUBGRAPH_TENSORS, _SUBGRAPH_INPUTS, _SUBGRAPH_OUTPUTS, _SUBGRAPH_OPERATORS, _SUBGRAPH_NAME = 0, 1, 2, 3, 4
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


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def _u(self, fmt: str, pos: int) -> int:
        size = struct.calcsize(fmt)
        if pos < 0 or pos + size > len(self.data):
            raise ModelFileError(f"offset {pos} is outside the {len(self.data)}-byte file (truncated?)")
        return struct.unpack_from(fmt, self.data, pos)[0]

    def table(self, pos: int) -> int:
        """Check the table at ``pos``: its vtable and every field it declares lie inside the file."""
        vtable = pos - self._u("<i", pos)
        vtable_size = self._u("<H", vtable)
        table_size = self._u("<H", vtable + 2)
        if vtable_size < 4 or vtable_size % 2 or table_size < 4:
            raise ModelFileError(f"a table at {pos} has a malformed vtable")
        self._u("<H", vtable + vtable_size - 2)
        if pos + table_size > len(self.data):
            raise ModelFileError(f"a table at {pos} runs past the end of the file (truncated?)")
        for entry in range(4, vtable_size, 2):
            offset = self._u("<H", vtable + entry)
            if offset >= table_size and offset:
                raise ModelFileError(f"a field of the table at {pos} lies outside the table")
        return pos

    def field(self, table: int, index: int) -> int | None:
        """Absolute position of field ``index`` of the table at ``table``, or None when absent."""
        vtable = table - self._u("<i", table)
        vtable_size = self._u("<H", vtable)
        entry = 4 + 2 * index
        if entry >= vtable_size:
            return None
        offset = self._u("<H", vtable + entry)
        return table + offset if offset else None

    def indirect(self, pos: int) -> int:
        return pos + self._u("<I", pos)

    def vector(self, pos: int, element_size: int = 1) -> tuple[int, int]:
        """``(start of elements, length)`` of the vector referenced at ``pos``, checked to fit the file."""
        start = self.indirect(pos)
        length = self._u("<I", start)
        if start + 4 + length * element_size > len(self.data):
            raise ModelFileError(f"a {length}-element vector at {start} runs past the end of the file (truncated?)")
        return start + 4, length

    def table_vector(self, table: int, index: int) -> list[int]:
        pos = self.field(table, index)
        if pos is None:
            return []
        start, length = self.vector(pos, 4)
        return [self.table(self.indirect(start + 4 * i)) for i in range(length)]

    def bytes_field(self, table: int, index: int) -> bytes:
        pos = self.field(table, index)
        if pos is None:
            return b""
        start, length = self.vector(pos, 1)
        return self.data[start:start + length]

    def bytes_span(self, table: int, index: int) -> tuple[int, int]:
        """``(start, length)`` of a byte vector field ((0, 0) when absent)."""
        pos = self.field(table, index)
        return (0, 0) if pos is None else self.vector(pos, 1)

    def numbers(self, table: int, index: int, fmt: str) -> list:
        pos = self.field(table, index)
        if pos is None:
            return []
        size = struct.calcsize(fmt)
        start, length = self.vector(pos, size)
        return [struct.unpack_from(fmt, self.data, start + size * i)[0] for i in range(length)]

    def int_vector(self, table: int, index: int) -> list[int]:
        return self.numbers(table, index, "<i")

    def scalar(self, table: int, index: int, fmt: str, default: int = 0) -> int:
        pos = self.field(table, index)
        return default if pos is None else self._u(fmt, pos)


def _check(data: bytes) -> _Reader:
    if len(data) < 8 or data[4:8] != IDENTIFIER:
        raise ModelFileError("not a TFLite flatbuffer (no 'TFL3' identifier)")
    return _Reader(data)


def _model(reader: _Reader) -> int:
    return reader.table(reader.indirect(0))


# ----------------------------------------------------------------------------------------------- the digest


def card_span(data: bytes) -> tuple[int, int] | None:
    """``(start, length)`` of the model card's JSON bytes in ``data``, or None when the file has no card."""
    reader = _check(data)
    model = _model(reader)
    buffers = reader.table_vector(model, _MODEL_BUFFERS)
    for entry in reader.table_vector(model, _MODEL_METADATA):
        if reader.bytes_field(entry, 0) == CARD_NAME.encode():
            index = reader.scalar(entry, 1, "<I")
            if index >= len(buffers):
                raise ModelFileError(f"metadata {CARD_NAME!r} names a buffer the file does not have")
            return reader.bytes_span(buffers[index], 0)
    return None


def _digest_span(data: bytes) -> tuple[int, int] | None:
    """Where the digest's 64 characters lie in ``data`` (None: a card without a digest, an older export)."""
    span = card_span(data)
    if span is None:
        return None
    start, length = span
    found = list(_DIGEST_PATTERN.finditer(data, start, start + length))
    if not found:
        if f'"{DIGEST_FIELD}"'.encode() in data[start:start + length]:
            raise ModelFileError(f"{DAMAGED}: its model card's {DIGEST_FIELD} is malformed")
        return None
    if len(found) > 1 or len(found[0].group(1)) != 64:
        raise ModelFileError(f"{DAMAGED}: its model card's {DIGEST_FIELD} is malformed")
    return found[0].start(1), 64


def file_digest(data: bytes) -> str:
    """SHA-256 of ``data`` with the card's digest digits read as 64 ``0`` (see the module docstring)."""
    span = _digest_span(data)
    if span is None:
        raise ModelFileError(f"the model card has no {DIGEST_FIELD} field to seal")
    start, length = span
    return hashlib.sha256(data[:start] + DIGEST_PLACEHOLDER.encode() + data[start + length:]).hexdigest()


def seal(data: bytes) -> bytes:
    """``data`` with the digest written into its card's ``file_sha256`` placeholder: the last step of export."""
    start, length = _digest_span(data) or (0, 0)
    if not length:
        raise ModelFileError(f"the model card has no {DIGEST_FIELD} field to seal")
    return data[:start] + file_digest(data).encode() + data[start + length:]


def check_digest(data: bytes) -> str:
    """Raise ``ModelFileError`` unless ``data`` matches the digest its card records; return the digest."""
    span = _digest_span(data)
    if span is None:
        raise ModelFileError(f"{DAMAGED} or too old: its model card carries no {DIGEST_FIELD} digest (damage "
                             f"cannot be detected; an older asc-export wrote none): export it again")
    start, length = span
    recorded = data[start:start + length].decode("ascii", "replace")
    actual = file_digest(data)
    if recorded != actual:
        raise ModelFileError(f"{DAMAGED}: its SHA-256 is {actual[:16]}..., its model card says "
                             f"{recorded[:16]}... (a changed, truncated or extended copy): copy or export it again")
    return actual


# ------------------------------------------------------------------------------------------ the flatbuffer


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


def _quantization(reader: _Reader, tensor: int, shape: list[int], type_code: int, where: str
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


def _tensors(reader: _Reader, subgraph: int, buffer_bytes: list[int]) -> tuple[list[TensorInfo], set[int]]:
    """Every tensor's type, shape and quantisation, and the set of constant (weight-holding) tensors."""
    infos, constants = [], set()
    for index, tensor in enumerate(reader.table_vector(subgraph, _SUBGRAPH_TENSORS)):
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


def _operators(reader: _Reader, subgraph: int, opcodes: list[int], n_tensors: int, constants: set[int],
               graph_inputs: list[int], graph_outputs: list[int]) -> None:
    """Operator indices and options, and data flow: each input is a weight, a graph input or the output of
    an earlier operator (else the interpreter reads a tensor nobody wrote)."""
    written = set(graph_inputs)
    for step, operator in enumerate(reader.table_vector(subgraph, _SUBGRAPH_OPERATORS)):
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
    reader = _check(data)
    model = _model(reader)
    if reader.scalar(model, _MODEL_VERSION, "<I") != 3:
        raise ModelFileError("the flatbuffer is not TFLite schema version 3")
    reader.bytes_field(model, _MODEL_DESCRIPTION)
    buffer_bytes = []
    for buffer in reader.table_vector(model, _MODEL_BUFFERS):
        buffer_bytes.append(reader.bytes_span(buffer, 0)[1])
        if reader.scalar(buffer, 1, "<Q") or reader.scalar(buffer, 2, "<Q"):
            # weights stored after the flatbuffer (files over 2 GB): asc-export never writes them
            raise ModelFileError("a weight buffer points outside the flatbuffer (truncated or not an asc-edge model)")
    opcodes = []
    for opcode in reader.table_vector(model, _MODEL_OPCODES):
        code = max(reader.scalar(opcode, 0, "<b"), reader.scalar(opcode, 3, "<i"))
        if not 0 <= code <= _LAST_BUILTIN_OPERATOR or code == _CUSTOM_OPERATOR:
            raise ModelFileError(f"operator code {code} is not a builtin TFLite operator")
        reader.bytes_field(opcode, 1)
        opcodes.append(code)
    subgraphs = reader.table_vector(model, _MODEL_SUBGRAPHS)
    if len(subgraphs) != 1:
        raise ModelFileError(f"the model has {len(subgraphs)} subgraphs; an asc-edge model has exactly one")
    subgraph = subgraphs[0]
    reader.bytes_field(subgraph, _SUBGRAPH_NAME)
    tensors, constants = _tensors(reader, subgraph, buffer_bytes)
    inputs, outputs = reader.int_vector(subgraph, _SUBGRAPH_INPUTS), reader.int_vector(subgraph, _SUBGRAPH_OUTPUTS)
    if any(not 0 <= i < len(tensors) for i in inputs + outputs):
        raise ModelFileError("a subgraph input or output names a tensor the file does not have")
    if len(inputs) != 1 or len(outputs) != 1 or inputs[0] in constants:
        raise ModelFileError(f"the model has {len(inputs)} inputs and {len(outputs)} outputs; "
                             f"an asc-edge model has one of each")
    _operators(reader, subgraph, opcodes, len(tensors), constants, inputs, outputs)
    for index in reader.int_vector(model, _MODEL_METADATA_BUFFER):
        if not 0 <= index < len(buffer_bytes):
            raise ModelFileError("a metadata buffer index names a buffer the file does not have")
    for entry in reader.table_vector(model, _MODEL_METADATA):
        reader.bytes_field(entry, 0)
        if reader.scalar(entry, 1, "<I") >= len(buffer_bytes):
            raise ModelFileError("a metadata entry names a buffer the file does not have")
    for signature in reader.table_vector(model, _MODEL_SIGNATURES):
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


def buffer_spans(data: bytes) -> list[tuple[int, int]]:
    """``(start, length)`` of every buffer's bytes (weights, metadata): what is not in them is structure."""
    reader = _check(data)
    return [reader.bytes_span(buffer, 0) for buffer in reader.table_vector(_model(reader), _MODEL_BUFFERS)]


def read_metadata(data: bytes) -> dict[str, bytes]:
    """Every ``Model.metadata`` entry: name -> bytes of the buffer it points to."""
    reader = _check(data)
    model = _model(reader)
    buffers = reader.table_vector(model, _MODEL_BUFFERS)
    entries = {}
    for entry in reader.table_vector(model, _MODEL_METADATA):
        name = reader.bytes_field(entry, 0).decode("utf-8", "replace")
        index = reader.scalar(entry, 1, "<I")
        if index >= len(buffers):
            raise ModelFileError(f"metadata {name!r} names a buffer the file does not have")
        entries[name] = reader.bytes_field(buffers[index], 0)
    return entries


# ------------------------------------------------------------------------------------------ the model card


def _field_error(name: str, problem: str) -> ModelFileError:
    return ModelFileError(f"model card field {name!r} {problem}")


def _number(card: dict, name: str, key: str, low: float, high: float, integer: bool = False) -> float:
    value = card.get(key)
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not math.isfinite(value):
        raise _field_error(name, f"must be {'an integer' if integer else 'a finite number'}, got {value!r}")
    if not low <= value <= high:
        raise _field_error(name, f"must be between {low:g} and {high:g}, got {value!r}")
    return value


# Bounds of a sane frontend (far wider than any preset; tight enough that nothing allocates gigabytes)
_FRONTEND_NUMBERS = {"sample_rate": (1000, 384_000, True), "n_fft": (16, 65_536, True),
                     "win_length": (16, 65_536, True), "hop_length": (1, 65_536, True),
                     "n_mels": (1, 1024, True), "fmin": (0, 192_000, False), "fmax": (1, 192_000, False),
                     "log_floor": (1e-30, 1.0, False)}
_FRONTEND_CHOICES = {"window": ("hann", "hamming"), "log": ("ln", "db"), "mel_scale": ("slaney", "htk"),
                     "mel_norm": ("slaney", "none")}


def _check_frontend(config: object) -> dict:
    if not isinstance(config, dict):
        raise _field_error("frontend_config", f"must be an object, got {type(config).__name__}")
    for key, (low, high, integer) in _FRONTEND_NUMBERS.items():
        if key in config:
            _number(config, f"frontend_config.{key}", key, low, high, integer)
    for key, choices in _FRONTEND_CHOICES.items():
        if key in config and config[key] not in choices:
            raise _field_error(f"frontend_config.{key}", f"must be one of {', '.join(choices)}, got {config[key]!r}")
    if "center" in config and not isinstance(config["center"], bool):
        raise _field_error("frontend_config.center", f"must be true or false, got {config['center']!r}")
    if "name" in config and not isinstance(config["name"], str):
        raise _field_error("frontend_config.name", "must be a string")
    return config


def check_card(card: object, graph: GraphSummary) -> dict:
    """Check the card field by field against itself and the graph; raise naming the first bad field."""
    if not isinstance(card, dict):
        raise ModelFileError(f"the model card must be a JSON object, got {type(card).__name__}")
    if card.get("format", "asc-edge-model") != "asc-edge-model":
        raise _field_error("format", f"must be 'asc-edge-model', got {card['format']!r}")
    if "format_version" in card:
        version = _number(card, "format_version", "format_version", 1, 1_000_000, integer=True)
        if version > CARD_FORMAT_VERSION:
            raise _field_error("format_version", f"is {version}: this file needs a newer asc-edge "
                                                 f"(this one reads version {CARD_FORMAT_VERSION})")
    labels = card.get("labels")
    if not isinstance(labels, list) or not labels:
        raise _field_error("labels", f"must be a non-empty list of names, got {type(labels).__name__}")
    if not all(isinstance(label, str) and 0 < len(label) <= 100 and label.isprintable() for label in labels):
        raise _field_error("labels", "must hold printable names of 1 to 100 characters")
    duplicates = sorted({label for label in labels if labels.count(label) > 1})
    if duplicates:
        raise _field_error("labels", f"names {duplicates[0]!r} more than once")
    outputs = graph.output.shape[-1] if graph.output.shape else 1
    if len(labels) != outputs or len(graph.output.shape) != 2 or graph.output.shape[0] != 1:
        raise _field_error("labels", f"has {len(labels)} names for a model output of shape {list(graph.output.shape)}")
    if "frontend_config" not in card:
        raise _field_error("frontend_config", "is missing")
    config = _check_frontend(card["frontend_config"])
    window = card.get("window")
    if not isinstance(window, dict):
        raise _field_error("window", f"must be an object, got {type(window).__name__}")
    rate = config.get("sample_rate", 16000)
    samples = _number(window, "window.samples", "samples", 1, 600 * rate, integer=True)
    n_mels = _number(window, "window.n_mels", "n_mels", 1, 1024, integer=True)
    n_frames = _number(window, "window.n_frames", "n_frames", 1, 1 << 20, integer=True)
    if "seconds" in window and not math.isclose(_number(window, "window.seconds", "seconds", 0, 600),
                                                samples / rate, rel_tol=1e-3):
        raise _field_error("window.seconds", f"is {window['seconds']!r}, not samples / sample_rate")
    if config.get("n_mels", n_mels) != n_mels:
        raise _field_error("window.n_mels", f"is {n_mels} but frontend_config.n_mels is {config['n_mels']}")
    hop, n_fft = config.get("hop_length", 1), config.get("n_fft", 0)
    expected_frames = 1 + samples // hop if config.get("center", True) else 1 + (samples - n_fft) // hop
    if n_frames != expected_frames:
        raise _field_error("window.n_frames", f"is {n_frames} but {samples} samples give {expected_frames} frames")
    # int8, or int16 for a file exported with --activations int16 (int8 weights either way); input and output
    # share the type.
    if graph.input.type not in ("INT8", "INT16") or graph.input.shape != (1, n_mels, n_frames, 1):
        raise _field_error("window", f"says ({n_mels} mels, {n_frames} frames) but the model input is "
                                     f"{graph.input.type} {list(graph.input.shape)}")
    if graph.output.type != graph.input.type or graph.input.scale is None or graph.output.scale is None:
        raise ModelFileError("the model's input and output must be quantised int8 (or both int16) tensors")
    return card


def _validate_damaged(data: bytes) -> GraphSummary:
    """:func:`validate`, its failures worded as damage (except a file that is no TFLite flatbuffer at all)."""
    try:
        return validate(data)
    except ModelFileError as exc:
        if str(exc).startswith("not a TFLite"):
            raise
        raise ModelFileError(f"{DAMAGED}: {exc}") from exc


def read_model_card(data: bytes, source: str = "model") -> dict:
    """The checked asc-edge model card (labels, frontend, window, preset, version) of ``data``.

    Order: the identifier; the card and the digest (a damaged file is named damaged, whatever else is
    wrong with it); then every structure the interpreter will read; then the card field by field.
    """
    try:
        try:
            span = card_span(data)
        except (ModelFileError, struct.error, IndexError, ValueError, OverflowError):
            span = None  # cannot even find the card: the structural check below says why
        if span is None:
            _validate_damaged(data)
            raise ModelFileError("no asc-edge metadata: export it with asc-export (a plain TFLite model does "
                                 "not say which labels and frontend it needs)")
        check_digest(data)
        graph = _validate_damaged(data)
        payload = data[span[0]:span[0] + span[1]]
        try:
            card = json.loads(payload.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelFileError(f"the asc-edge metadata is not valid JSON ({exc})") from exc
        return check_card(card, graph)
    except ModelFileError as exc:
        raise ModelFileError(f"{source}: {exc}") from exc
    except RecursionError as exc:  # a JSON card nested thousands deep
        raise ModelFileError(f"{source}: the model card is nested too deeply") from exc


def read_model_file(path: str | Path) -> tuple[bytes, dict]:
    """``(file bytes, model card)`` of a checked asc-edge .tflite file (digest, structure, card)."""
    path = Path(path)
    try:
        if not path.is_file():
            raise ModelFileError(f"{path}: no such model file")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ModelFileError(f"{path}: {path.stat().st_size} bytes is far larger than any asc-edge model")
        data = path.read_bytes()
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot read the model file ({exc.strerror or exc})") from exc
    return data, read_model_card(data, str(path))
