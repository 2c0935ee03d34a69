"""Read a .tflite flatbuffer with nothing but ``struct``: bounds-checked tables and vectors, and where the
file's sections (buffers, metadata, the asc-edge model card) lie.

Shared by ``asc-export`` (which writes the card and seals the file) and the runtime (which must read the file
with no TensorFlow and before any interpreter sees it: every offset is bounds-checked here, so a malformed
file raises :class:`ModelFileError` instead of reading outside the bytes).
Layout: https://github.com/google/flatbuffers/blob/master/docs (tables with vtables, little-endian, offsets
relative to where they are stored); table and field numbers from the TFLite ``schema.fbs``. The structural
validation lives in :mod:`asc_edge.modelfile.structure`, the digest in :mod:`asc_edge.modelfile.digest`.
"""

from __future__ import annotations

import struct

from asc_edge.plumbing.errors import ModelFileError

IDENTIFIER = b"TFL3"
CARD_NAME = "asc_edge"  # name of the Model.metadata entry holding the JSON model card

# Model table field numbers (schema.fbs): version, operator_codes, subgraphs, description, buffers,
# metadata_buffer, metadata, signature_defs
MODEL_VERSION, MODEL_OPCODES, MODEL_SUBGRAPHS, MODEL_DESCRIPTION, MODEL_BUFFERS = 0, 1, 2, 3, 4
MODEL_METADATA_BUFFER, MODEL_METADATA, MODEL_SIGNATURES = 5, 6, 7
SUBGRAPH_TENSORS, SUBGRAPH_INPUTS, SUBGRAPH_OUTPUTS, SUBGRAPH_OPERATORS, SUBGRAPH_NAME = 0, 1, 2, 3, 4


class FlatbufferReader:
    """Bounds-checked access to the tables and vectors of one flatbuffer."""

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


def open_flatbuffer(data: bytes) -> FlatbufferReader:
    """A reader over ``data``; raise unless it carries the TFLite identifier."""
    if len(data) < 8 or data[4:8] != IDENTIFIER:
        raise ModelFileError("not a TFLite flatbuffer (no 'TFL3' identifier)")
    return FlatbufferReader(data)


def model_table(reader: FlatbufferReader) -> int:
    """Position of the root ``Model`` table."""
    return reader.table(reader.indirect(0))


def card_span(data: bytes) -> tuple[int, int] | None:
    """``(start, length)`` of the model card's JSON bytes in ``data``, or None when the file has no card."""
    reader = open_flatbuffer(data)
    model = model_table(reader)
    buffers = reader.table_vector(model, MODEL_BUFFERS)
    for entry in reader.table_vector(model, MODEL_METADATA):
        if reader.bytes_field(entry, 0) == CARD_NAME.encode():
            index = reader.scalar(entry, 1, "<I")
            if index >= len(buffers):
                raise ModelFileError(f"metadata {CARD_NAME!r} names a buffer the file does not have")
            return reader.bytes_span(buffers[index], 0)
    return None


def buffer_spans(data: bytes) -> list[tuple[int, int]]:
    """``(start, length)`` of every buffer's bytes (weights, metadata): what is not in them is structure."""
    reader = open_flatbuffer(data)
    return [reader.bytes_span(buffer, 0) for buffer in reader.table_vector(model_table(reader), MODEL_BUFFERS)]


def read_metadata(data: bytes) -> dict[str, bytes]:
    """Every ``Model.metadata`` entry: name -> bytes of the buffer it points to."""
    reader = open_flatbuffer(data)
    model = model_table(reader)
    buffers = reader.table_vector(model, MODEL_BUFFERS)
    entries = {}
    for entry in reader.table_vector(model, MODEL_METADATA):
        name = reader.bytes_field(entry, 0).decode("utf-8", "replace")
        index = reader.scalar(entry, 1, "<I")
        if index >= len(buffers):
            raise ModelFileError(f"metadata {name!r} names a buffer the file does not have")
        entries[name] = reader.bytes_field(buffers[index], 0)
    return entries
