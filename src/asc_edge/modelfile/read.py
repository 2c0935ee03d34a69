"""Read an asc-edge .tflite file the runtime's way: identifier, digest, structure, then the model card."""

from __future__ import annotations

import json
import struct
from pathlib import Path

from asc_edge.modelfile.card import ModelCard
from asc_edge.modelfile.digest import DAMAGED, DIGEST_FIELD, check_digest
from asc_edge.modelfile.flatbuffer_reader import card_span, read_metadata
from asc_edge.modelfile.structure import GraphSummary, validate
from asc_edge.plumbing.errors import ModelFileError

MAX_FILE_BYTES = 64 << 20  # an asc-edge model is ~100 KB; refuse to read a huge file into memory


def _validate_damaged(data: bytes) -> GraphSummary:
    """:func:`validate`, its failures worded as damage (except a file that is no TFLite flatbuffer at all)."""
    try:
        return validate(data)
    except ModelFileError as exc:
        if str(exc).startswith("not a TFLite"):
            raise
        raise ModelFileError(f"{DAMAGED}: {exc}") from exc


def _card_under_another_name(data: bytes) -> bool:
    """A metadata entry holds an asc-edge card under a name that is not the card's: a damaged name (a file
    whose card entry was removed, or a plain TFLite file, has no such entry)."""
    try:
        entries = read_metadata(data)
    except (ModelFileError, struct.error, IndexError, ValueError, OverflowError):
        return False
    return any(f'"{DIGEST_FIELD}":"'.encode() in payload for payload in entries.values())


def read_model_card(data: bytes, source: str = "model") -> ModelCard:
    """The checked asc-edge model card (labels, frontend, window, preset, version) of ``data``: what
    the runtime loads, what ``asc-export --info`` prints and what the export reads back before it reports success.

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
            if _card_under_another_name(data):
                raise ModelFileError(f"{DAMAGED}: its model card cannot be located (the metadata entry naming it "
                                     "is corrupt)")
            raise ModelFileError("no asc-edge metadata: export it with asc-export (a plain TFLite model does "
                                 "not say which labels and frontend it needs)")
        check_digest(data)
        graph = _validate_damaged(data)
        payload = data[span[0]:span[0] + span[1]]
        try:
            card = json.loads(payload.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelFileError(f"the asc-edge metadata is not valid JSON ({exc})") from exc
        return ModelCard.from_file_card(card, graph)
    except ModelFileError as exc:
        raise ModelFileError(f"{source}: {exc}") from exc
    except RecursionError as exc:  # a JSON card nested thousands deep
        raise ModelFileError(f"{source}: the model card is nested too deeply") from exc


def read_model_file(path: str | Path) -> tuple[bytes, ModelCard]:
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
