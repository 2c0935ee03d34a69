"""Export: checkpoint -> ONNX -> full-int8 TFLite, with size and fidelity gates (built in a later issue)."""
