"""Read a .tflite flatbuffer with nothing but ``struct``: validation and the embedded asc-edge model card.

Shared by ``asc-export`` (which writes the card) and the runtime (which must read it with no TensorFlow and
before any interpreter sees the file: a malformed flatbuffer can crash an interpreter, so every offset is
bounds-checked here first). Layout: https://github.com/google/flatbuffers/blob/master/docs (tables with
vtables, little-endian, offsets relative to where they are stored); fields from the TFLite ``schema.fbs``.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

from asc_edge.errors import ModelFileError

IDENTIFIER = b"TFL3"
CARD_NAME = "asc_edge"  # name of the Model.metadata entry holding the JSON model card
# Model table field numbers (schema.fbs): operator_codes, subgraphs, description, buffers, metadata_buffer, metadata
_MODEL_SUBGRAPHS, _MODEL_BUFFERS, _MODEL_METADATA = 2, 4, 6
_SUBGRAPH_TENSORS, _SUBGRAPH_INPUTS, _SUBGRAPH_OUTPUTS, _SUBGRAPH_OPERATORS = 0, 1, 2, 3


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def _u(self, fmt: str, pos: int) -> int:
        size = struct.calcsize(fmt)
        if pos < 0 or pos + size > len(self.data):
            raise ModelFileError(f"offset {pos} is outside the {len(self.data)}-byte file")
        return struct.unpack_from(fmt, self.data, pos)[0]

    def table(self, pos: int) -> int:
        vtable = pos - self._u("<i", pos)
        self._u("<H", vtable)
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

    def vector(self, pos: int) -> tuple[int, int]:
        """``(start of elements, length)`` of the vector referenced at ``pos``."""
        start = self.indirect(pos)
        length = self._u("<I", start)
        return start + 4, length

    def table_vector(self, table: int, index: int) -> list[int]:
        pos = self.field(table, index)
        if pos is None:
            return []
        start, length = self.vector(pos)
        return [self.table(self.indirect(start + 4 * i)) for i in range(length)]

    def bytes_field(self, table: int, index: int) -> bytes:
        pos = self.field(table, index)
        if pos is None:
            return b""
        start, length = self.vector(pos)
        if start + length > len(self.data):
            raise ModelFileError(f"a {length}-byte field at {start} runs past the end of the file")
        return self.data[start:start + length]

    def int_vector(self, table: int, index: int) -> list[int]:
        pos = self.field(table, index)
        if pos is None:
            return []
        start, length = self.vector(pos)
        return [self._u("<i", start + 4 * i) for i in range(length)]

    def scalar(self, table: int, index: int, fmt: str, default: int = 0) -> int:
        pos = self.field(table, index)
        return default if pos is None else self._u(fmt, pos)


def _check(data: bytes) -> _Reader:
    if len(data) < 8 or data[4:8] != IDENTIFIER:
        raise ModelFileError("not a TFLite flatbuffer (no 'TFL3' identifier)")
    return _Reader(data)


def validate(data: bytes) -> None:
    """Walk every subgraph, tensor, operator and buffer reference; raise :class:`ModelFileError` if any
    offset or index points outside the file (a truncated or corrupt model)."""
    try:
        reader = _check(data)
        model = reader.table(reader.indirect(0))
        buffers = reader.table_vector(model, _MODEL_BUFFERS)
        for buffer in buffers:
            reader.bytes_field(buffer, 0)
            offset, size = reader.scalar(buffer, 1, "<Q"), reader.scalar(buffer, 2, "<Q")
            if offset and offset + size > len(data):
                raise ModelFileError("a weight buffer runs past the end of the file (truncated)")
        subgraphs = reader.table_vector(model, _MODEL_SUBGRAPHS)
        if not subgraphs:
            raise ModelFileError("the model has no subgraph")
        for subgraph in subgraphs:
            tensors = reader.table_vector(subgraph, _SUBGRAPH_TENSORS)
            for tensor in tensors:
                reader.int_vector(tensor, 0)  # shape
                if reader.scalar(tensor, 2, "<I") >= max(len(buffers), 1):
                    raise ModelFileError("a tensor names a buffer the file does not have")
                reader.bytes_field(tensor, 3)  # name
            for index_field in (_SUBGRAPH_INPUTS, _SUBGRAPH_OUTPUTS):
                if any(not 0 <= i < len(tensors) for i in reader.int_vector(subgraph, index_field)):
                    raise ModelFileError("a subgraph input or output names a tensor the file does not have")
            for operator in reader.table_vector(subgraph, _SUBGRAPH_OPERATORS):
                for index_field in (1, 2):  # operator inputs, outputs (-1 = optional input absent)
                    if any(not -1 <= i < len(tensors) for i in reader.int_vector(operator, index_field)):
                        raise ModelFileError("an operator names a tensor the file does not have")
    except ModelFileError:
        raise
    except (struct.error, IndexError, ValueError) as exc:  # any other malformed offset
        raise ModelFileError(f"malformed flatbuffer ({exc})") from exc


def read_metadata(data: bytes) -> dict[str, bytes]:
    """Every ``Model.metadata`` entry: name -> bytes of the buffer it points to."""
    reader = _check(data)
    model = reader.table(reader.indirect(0))
    buffers = reader.table_vector(model, _MODEL_BUFFERS)
    entries = {}
    for entry in reader.table_vector(model, _MODEL_METADATA):
        name = reader.bytes_field(entry, 0).decode("utf-8", "replace")
        index = reader.scalar(entry, 1, "<I")
        if index >= len(buffers):
            raise ModelFileError(f"metadata {name!r} names a buffer the file does not have")
        entries[name] = reader.bytes_field(buffers[index], 0)
    return entries


def read_model_card(data: bytes, source: str = "model") -> dict:
    """The asc-edge model card (labels, frontend, window, preset, version) embedded by ``asc-export``."""
    try:
        validate(data)
    except ModelFileError as exc:
        raise ModelFileError(f"{source}: {exc}") from exc
    payload = read_metadata(data).get(CARD_NAME)
    if payload is None:
        raise ModelFileError(f"{source}: no asc-edge metadata: export it with asc-export (a plain TFLite model "
                             f"does not say which labels and frontend it needs)")
    try:
        card = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{source}: the asc-edge metadata is not valid JSON ({exc})") from exc
    if not isinstance(card, dict) or "labels" not in card or "frontend_config" not in card:
        raise ModelFileError(f"{source}: the asc-edge metadata lacks labels or frontend config")
    return card


def read_model_file(path: str | Path) -> tuple[bytes, dict]:
    """``(file bytes, model card)`` of a validated asc-edge .tflite file."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    data = path.read_bytes()
    return data, read_model_card(data, str(path))
