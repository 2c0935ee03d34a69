"""Checkpoint -> ONNX -> full-int8 TFLite. Started: prepare (SSN folding), onnx_file (export + ORT parity),
int8 (onnx2tf SavedModel + calibrated int8 conversion), flatbuffer (op histogram, name stripping). The
``asc-export`` command, gates, metadata and C array are the export issue's remaining work."""
