"""The file digest: damage (bit rot, a truncated copy) is found before anything else reads the file.

The model card (JSON in the ``Model.metadata`` entry named ``asc_edge``) holds
``"file_sha256": "<64 hex digits>"``: the SHA-256 of the *whole file* with those 64 digits replaced by 64
ASCII ``0``. It therefore covers every byte: the graph, the weights, the other metadata and the card's own
labels and frontend. Export writes the card with the 64 zeros, then :func:`seal` hashes the finished file
and writes the digits in place (nothing moves), so sealing is the very last step of building the file.
The digest detects damage; it is not a signature: anyone can re-seal an edited file, so the structural
checks (:mod:`asc_edge.modelfile.structure`) still run on every file whose digest matches.
"""

from __future__ import annotations

import hashlib
import re

from asc_edge.modelfile.flatbuffer_reader import card_span
from asc_edge.plumbing.errors import ModelFileError

DIGEST_FIELD = "file_sha256"
DIGEST_PLACEHOLDER = "0" * 64
_DIGEST_PATTERN = re.compile(rb'"' + DIGEST_FIELD.encode() + rb'":"([^"]{0,64})"')
DAMAGED = "the model file is damaged"


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
