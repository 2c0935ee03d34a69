"""The models shipped inside the package: ``esc10_student_int8.tflite`` (the default, real sounds; attribution in
``NOTICE``) and ``synth_student_int8.tflite`` (synthetic scenes); see asc_edge.runtime.packaged."""
