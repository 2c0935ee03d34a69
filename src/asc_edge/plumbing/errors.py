"""Typed exceptions shared by every layer.

Library users catch these; the command-line tools turn them into one line on stderr and exit code 2.
"""


class AscEdgeError(Exception):
    """Base class of every error asc-edge raises on purpose (bad input, not a bug)."""


class AudioError(AscEdgeError):
    """An audio file is missing, unreadable, empty, non-finite or too short."""


class ConfigError(AscEdgeError):
    """A frontend profile or other configuration value is unknown or invalid."""


class DataError(AscEdgeError):
    """A dataset folder does not follow the TAU layout, or a cache is unusable."""


class CheckpointError(AscEdgeError):
    """A checkpoint or translator file is missing, corrupt, foreign or incompatible."""


class ExportError(AscEdgeError):
    """A conversion step failed or its result breaks a gate (size, fidelity, ops)."""


class ModelFileError(AscEdgeError):
    """A .tflite file is missing, malformed, truncated or lacks asc-edge metadata."""
