"""The log-mel frontend of an exported model's card as C for a microcontroller (``asc-export --c-array``).

``generate.frontend_files`` writes ``asc_frontend.c/.h`` (framing, window, CMSIS-DSP real FFT, power, sparse
mel filterbank, log, the input ResNorm and the input quantisation, static memory only, a streaming API) and
``asc_features_main.c`` (a host program: 16-bit PCM on stdin -> one line of input-tensor integers per window).
``spec.frontend_spec`` refuses, in one line, a card the generator cannot express.
"""
