"""An exported model on a Cortex-M4F: TFLite Micro built from a source tree (``ASC_TFLM_SRC``), only the core
and the kernels the model's operators need, a firmware (PCM -> generated C frontend -> MicroInterpreter ->
int8 outputs and label per window) run on QEMU's ``mps2-an386``, and the same program on the host with TFLM's
reference kernels to compare with."""
