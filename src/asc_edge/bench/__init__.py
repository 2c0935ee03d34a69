"""``asc-bench``: the whole classification path timed per engine, each engine in a worker process of its own
(LiteRT and ONNX Runtime in ``worker``, PyTorch in ``torch_worker``; ``timing`` is their shared loop).

It sits above runtime, train and export and drives them only through those workers, so no lower layer imports
it. Kept import-free: every worker's cold start counts the imports it makes, and this file runs first.
"""
