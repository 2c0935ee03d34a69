"""Make the int8 flatbuffer smaller without changing what any interpreter computes.

A converted int8 file stores, per tensor, its own copy of vectors that are very often identical: the
per-channel int64 zero points (all zeros: 8 B per output channel, LiteRT insists there be as many as
scales), shape vectors, scalar-only option tables, empty names. A flatbuffer lets any number of tables point
at one vector or table, so the file is re-serialised through a builder that writes each distinct scalar
vector / string / table once and points every later copy at it. It also drops what no interpreter reads:
every tensor without data points at the shared empty buffer 0 instead of an empty buffer of its own.

The result is the same model (same tensors, operators, scales, zero points, data), so LiteRT and TFLite
Micro compute bit-identical outputs; the flatbuffer verifier accepts shared references (it checks bounds
and alignment, not uniqueness).
"""

from __future__ import annotations

import flatbuffers
import numpy as np

# Offsets stored in a flatbuffer are relative to where they are written, so a vector or table that holds
# offsets is only equal to another if their targets are: such objects are keyed by their targets too.


class SharingBuilder(flatbuffers.Builder):
    """A ``flatbuffers.Builder`` that writes each distinct vector, string and table once.

    Positions are kept as offsets from the end of the buffer (``Offset()``), which stay valid when the
    builder grows its byte array. A duplicate is undone by moving ``head`` back to where the object began
    (its bytes are overwritten by whatever comes next) and returning the earlier copy's offset."""

    def __init__(self, size: int = 1024) -> None:
        super().__init__(size)
        self._seen: dict[tuple, int] = {}
        self._start = 0
        self._holds_offsets = False
        self._offset_slots: dict[int, int] = {}

    def _begin(self) -> None:
        self._start = self.Offset()
        self._holds_offsets = False

    def _bytes_since(self, start: int) -> bytes:
        return bytes(self.Bytes[self.head:len(self.Bytes) - start])

    def _share(self, key: tuple, offset: int) -> int:
        """Return the first offset seen for ``key``, rolling back this copy when it is a duplicate."""
        first = self._seen.setdefault(key, offset)
        if first != offset:
            self.head = len(self.Bytes) - self._start
        return first

    # Vectors and strings ----------------------------------------------------------------------------
    def StartVector(self, elemSize: int, numElems: int, alignment: int) -> int:  # noqa: N802, N803
        self._begin()
        self._alignment, self._element, self._terminator = alignment, elemSize, 0
        return super().StartVector(elemSize, numElems, alignment)

    def CreateString(self, s, encoding: str = "utf-8", errors: str = "strict") -> int:  # noqa: N802
        self._begin()
        self._alignment, self._element, self._terminator = 4, 1, 1  # strings end in a 0 byte
        return super().CreateString(s, encoding, errors)

    def CreateByteVector(self, x: bytes) -> int:  # noqa: N802
        self._begin()
        self._alignment, self._element, self._terminator = 4, 1, 0
        return super().CreateByteVector(x)

    def CreateNumpyVector(self, x) -> int:  # noqa: N802
        if x.dtype != np.uint8:
            return super().CreateNumpyVector(x)
        # uint8 vectors are Buffer.data, which the schema declares force_align: 16 (the converter writes them
        # so; the Python object API does not): int32 biases and int8 weights stay aligned for MCU kernels.
        self.StartVector(1, x.size, 16)
        self.head -= x.size
        self.Bytes[self.head:self.head + x.size] = x.tobytes()
        self.vectorNumElems = x.size
        return self.EndVector()

    def EndVector(self, numElems: int | None = None) -> int:  # noqa: N802, N803
        offset = super().EndVector(numElems)
        if self._holds_offsets:
            return offset  # a vector of tables: its bytes are relative offsets, never shared
        # Key: length prefix and elements (not the alignment padding after them, which differs with where the
        # copy landed) and the alignment asked for.
        length = int.from_bytes(self.Bytes[self.head:self.head + 4], "little")
        end = self.head + 4 + length * self._element + self._terminator
        return self._share(("vector", self._alignment, self._element, bytes(self.Bytes[self.head:end])), offset)

    def PrependUOffsetTRelative(self, off: int) -> None:  # noqa: N802
        self._holds_offsets = True
        super().PrependUOffsetTRelative(off)

    # Tables ------------------------------------------------------------------------------------------
    def StartObject(self, numfields: int) -> None:  # noqa: N802
        super().StartObject(numfields)
        self._begin()
        self._offset_slots = {}

    def PrependUOffsetTRelativeSlot(self, o: int, x: int, d: int) -> None:  # noqa: N802
        if x != d:
            self._offset_slots[o] = x
        super().PrependUOffsetTRelativeSlot(o, x, d)

    def EndObject(self) -> int:  # noqa: N802
        slots = dict(self._offset_slots)
        field_positions = [self.current_vtable[o] for o in slots]
        vtables_before = len(self.vtables)
        offset = super().EndObject()
        if len(self.vtables) != vtables_before:
            return offset  # a new vtable: no earlier table has this layout, so no duplicate
        table = bytearray(self._bytes_since(self._start))
        for position in field_positions:  # relative offsets: compare their targets instead
            index = len(table) - (position - self._start)
            table[index:index + 4] = b"\0\0\0\0"
        vtable = offset + int.from_bytes(table[:4], "little", signed=True)
        key = ("table", vtable, bytes(table[4:]), tuple(sorted(slots.items())))
        return self._share(key, offset)


def _unpack(tflite: bytes):
    from ai_edge_litert import schema_py_generated

    return schema_py_generated.ModelT.InitFromPackedBuf(tflite, 0)


def compact(tflite: bytes) -> bytes:
    """The same model in fewer bytes: shared identical vectors, strings and tables; tensors without data
    on the empty buffer 0. Run it before embedding the model card (the card's buffer is left alone)."""
    model = _unpack(tflite)
    buffers = model.buffers or []
    if not buffers or (buffers[0].data is not None and len(buffers[0].data)):
        return tflite  # buffer 0 is not the empty sentinel: not a converter's file, leave it as it is
    metadata = {m.buffer for m in (model.metadata or [])}
    used = set(metadata)
    for subgraph in model.subgraphs:
        for tensor in subgraph.tensors:
            data = buffers[tensor.buffer].data if tensor.buffer < len(buffers) else None
            if data is None or not len(data):
                tensor.buffer = 0
            used.add(tensor.buffer)
    # Renumber the buffers still referenced (0 first), dropping the empty ones nothing points at.
    keep = [0] + sorted(i for i in used if i)
    index = {old: new for new, old in enumerate(keep)}
    model.buffers = [buffers[i] for i in keep]
    for subgraph in model.subgraphs:
        for tensor in subgraph.tensors:
            tensor.buffer = index[tensor.buffer]
    for entry in model.metadata or []:
        entry.buffer = index[entry.buffer]
    builder = SharingBuilder(len(tflite))
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
