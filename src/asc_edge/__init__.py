"""asc-edge: device-robust acoustic scene classification, from training to an int8 model on a Pi."""

__version__ = "0.1.0"
