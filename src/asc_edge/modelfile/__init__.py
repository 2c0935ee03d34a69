"""The asc-edge model file, with numpy and the standard library alone (export and runtime share it).

* :mod:`~asc_edge.modelfile.flatbuffer_reader` - bounds-checked ``struct`` access to the flatbuffer and where
  its sections lie; :mod:`~asc_edge.modelfile.structure` - every index and size an interpreter dereferences;
* :mod:`~asc_edge.modelfile.digest` - the file's SHA-256 seal;
* :mod:`~asc_edge.modelfile.card` - :class:`~asc_edge.modelfile.card.ModelCard`, the one model card type and rule set;
* :mod:`~asc_edge.modelfile.read` - ``read_model_card`` / ``read_model_file``: all of the above, in order;
* :mod:`~asc_edge.modelfile.probe` - the interpreter choice and each file's first load in a child process;
* :mod:`~asc_edge.modelfile.quantization` - float <-> the file's integer input and output.
"""
