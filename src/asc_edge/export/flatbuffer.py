"""Rewrite and inspect .tflite flatbuffers with the schema's object API (no TensorFlow needed)."""

from __future__ import annotations

import json
from collections import Counter
from functools import cache

import numpy as np

from asc_edge.modelfile.digest import DIGEST_FIELD, DIGEST_PLACEHOLDER, seal
from asc_edge.modelfile.flatbuffer_reader import CARD_NAME


def _schema():
    from ai_edge_litert import schema_py_generated

    return schema_py_generated


def _unpack(tflite: bytes):
    return _schema().ModelT.InitFromPackedBuf(tflite, 0)


def _pack(model) -> bytes:
    # The sharing builder writes each identical vector/table once and keeps Buffer.data 16-byte aligned, so
    # a file compacted by asc_edge.export.compact stays compact through every later rewrite (the card).
    from asc_edge.export.compact import SharingBuilder

    builder = SharingBuilder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def strip_tensor_names(tflite: bytes) -> bytes:
    """Empty every tensor name except the model's inputs and outputs: the interpreter never reads them
    (measured: ~9-11 KB of a small model's file, outputs bit-identical)."""
    model = _unpack(tflite)
    for subgraph in model.subgraphs:
        keep = set(subgraph.inputs) | set(subgraph.outputs)
        for index, tensor in enumerate(subgraph.tensors):
            if index not in keep:
                tensor.name = b""
    return _pack(model)


def embed_model_card(tflite: bytes, card: dict) -> bytes:
    """Store ``card`` as compact, key-sorted JSON in a ``Model.metadata`` entry (replacing an older one's
    contents), then seal the file: the card's ``file_sha256`` digest covers every byte, so this must stay
    the LAST step that builds the file (see ``asc_edge.modelfile.digest``)."""
    schema = _schema()
    model = _unpack(tflite)
    card = {**card, DIGEST_FIELD: DIGEST_PLACEHOLDER}
    payload = np.frombuffer(json.dumps(card, sort_keys=True, separators=(",", ":")).encode("utf-8"), dtype=np.uint8)
    old = [m for m in (model.metadata or []) if m.name in (CARD_NAME, CARD_NAME.encode())]
    if old:  # re-embedding: reuse the card's buffer rather than leave the old card behind
        model.buffers[old[0].buffer].data = payload
        model.metadata = [m for m in model.metadata if m not in old[1:]]
        return seal(_pack(model))
    buffer = schema.BufferT()
    buffer.data = payload
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name, entry.buffer = CARD_NAME, len(model.buffers) - 1
    model.metadata = [*(model.metadata or []), entry]
    return seal(_pack(model))


@cache
def _enum_names(enum_name: str) -> dict[int, str]:
    """Value -> name of a schema enum (``BuiltinOperator``, ``TensorType``)."""
    return {v: k for k, v in vars(getattr(_schema(), enum_name)).items() if not k.startswith("_")}


def _op_names(model) -> list[str]:
    schema = _schema()
    names = _enum_names("BuiltinOperator")
    out = []
    for code in model.operatorCodes:
        builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
        out.append(f"CUSTOM:{code.customCode.decode() if code.customCode else '?'}"
                   if builtin == schema.BuiltinOperator.CUSTOM else names.get(builtin, f"BUILTIN_{builtin}"))
    return out


def tensor_producers(tflite: bytes) -> dict[int, str]:
    """Tensor index -> builtin name of the operator that writes it (first subgraph)."""
    model = _unpack(tflite)
    names = _op_names(model)
    return {output: names[op.opcodeIndex] for op in model.subgraphs[0].operators for output in op.outputs}


def op_histogram(tflite: bytes) -> dict[str, int]:
    """Builtin operator name -> count, over every subgraph."""
    model = _unpack(tflite)
    names = _op_names(model)
    counts: Counter = Counter(names[op.opcodeIndex] for subgraph in model.subgraphs for op in subgraph.operators)
    return dict(sorted(counts.items()))


def _type_name(code: int) -> str:
    return _enum_names("TensorType").get(code, str(code))


def tensor_types(tflite: bytes) -> dict[str, int]:
    """Tensor element type -> count (a full-integer model has only INT8 and INT32 tensors)."""
    model = _unpack(tflite)
    return dict(Counter(_type_name(t.type) for s in model.subgraphs for t in s.tensors))


def io_details(tflite: bytes) -> dict:
    """Type, shape and quantisation (scale, zero point) of the first subgraph's input and output."""
    model = _unpack(tflite)
    subgraph = model.subgraphs[0]

    def describe(index: int) -> dict:
        tensor = subgraph.tensors[index]
        q = tensor.quantization
        scale = float(q.scale[0]) if q is not None and q.scale is not None and len(q.scale) else None
        zero = int(q.zeroPoint[0]) if q is not None and q.zeroPoint is not None and len(q.zeroPoint) else None
        return {"name": (tensor.name or b"").decode(), "type": _type_name(tensor.type),
                "shape": [int(v) for v in tensor.shape], "scale": scale, "zero_point": zero}

    return {"input": describe(subgraph.inputs[0]), "output": describe(subgraph.outputs[0])}


_ELEMENT_BYTES = {"INT8": 1, "UINT8": 1, "INT16": 2, "FLOAT16": 2, "INT32": 4, "FLOAT32": 4, "INT64": 8, "BOOL": 1}


def _stored_quantisation_bytes(tflite: bytes) -> int:
    """Bytes of quantisation vectors (min, max, scale, zero point) as stored: a vector that several tensors
    share (asc_edge.export.compact) is counted once, by its position in the file."""
    root = _schema().Model.GetRootAs(tflite, 0)
    seen: set[int] = set()
    total = 0
    for s in range(root.SubgraphsLength()):
        subgraph = root.Subgraphs(s)
        for t in range(subgraph.TensorsLength()):
            q = subgraph.Tensors(t).Quantization()
            if q is None:
                continue
            # vtable slots of QuantizationParameters: min 4, max 6, scale 8 (float32), zero_point 10 (int64)
            for slot, width in ((4, 4), (6, 4), (8, 4), (10, 8)):
                offset = q._tab.Offset(slot)
                if offset and q._tab.Vector(offset) not in seen:
                    seen.add(q._tab.Vector(offset))
                    total += width * q._tab.VectorLen(offset)
    return total


def size_breakdown(tflite: bytes) -> dict[str, int]:
    """Where the file's bytes go: weights (int8 constants), biases (int32 constants), other constants,
    quantisation parameters, tensor names, metadata, and structure (everything else: graph, shapes, tables)."""
    model = _unpack(tflite)
    used = {"weights": 0, "biases": 0, "other_constants": 0, "quantisation_parameters": 0, "names": 0}
    for subgraph in model.subgraphs:
        for tensor in subgraph.tensors:
            used["names"] += len(tensor.name or b"")
            data = model.buffers[tensor.buffer].data if tensor.buffer < len(model.buffers) else None
            if data is None or not len(data):
                continue
            kind = {"INT8": "weights", "INT32": "biases"}.get(_type_name(tensor.type), "other_constants")
            used[kind] += len(data)
    used["quantisation_parameters"] = _stored_quantisation_bytes(tflite)
    metadata_buffers = {m.buffer for m in (model.metadata or [])}
    used["metadata"] = sum(len(model.buffers[i].data) for i in metadata_buffers
                           if model.buffers[i].data is not None)
    used["structure"] = len(tflite) - sum(used.values())
    return used


def activation_memory(tflite: bytes) -> dict[str, int]:
    """Peak bytes of activation tensors alive at once, running the operators in file order (the order every
    TFLite interpreter uses). A tensor lives from the operator that writes it (the input: from the start)
    to the last operator that reads it (the output: to the end). TFLite Micro's greedy planner places these
    same lifetimes in its arena, so this is the arena's lower bound; we add 16-byte alignment per tensor."""
    model = _unpack(tflite)
    subgraph = model.subgraphs[0]
    n_ops = len(subgraph.operators)
    first: dict[int, int] = {i: -1 for i in subgraph.inputs}
    last: dict[int, int] = {i: n_ops for i in subgraph.outputs}
    for step, op in enumerate(subgraph.operators):
        for i in op.inputs:
            if i >= 0 and i in first:
                last[i] = max(last.get(i, step), step)
        for i in op.outputs:
            first.setdefault(i, step)
            last.setdefault(i, step)

    def nbytes(index: int) -> int:
        tensor = subgraph.tensors[index]
        count = int(np.prod(tensor.shape)) if tensor.shape is not None and len(tensor.shape) else 1
        return -(-count * _ELEMENT_BYTES.get(_type_name(tensor.type), 4) // 16) * 16

    peak = 0
    for step in range(-1, n_ops + 1):
        live = sum(nbytes(i) for i in first if first[i] <= step <= last[i])
        peak = max(peak, live)
    largest = max((nbytes(i) for i in first), default=0)
    return {"peak_activation_bytes": peak, "largest_tensor_bytes": largest, "activation_tensors": len(first)}
