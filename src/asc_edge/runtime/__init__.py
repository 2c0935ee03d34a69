"""The device runtime: classify audio files and a live microphone with an exported int8 .tflite.

Imports only numpy, scipy (FFT, resampling), soundfile, sounddevice (lazily, for ``--mic``) and one TFLite
interpreter; never torch, TensorFlow (unless chosen as the interpreter backend), ``asc_edge.train``,
``asc_edge.export`` or ``asc_edge.bench`` (asc-bench sits above the runtime and times it).
"""
