"""The CMSIS-DSP sources the generated frontend links against (its real FFT, ``arm_rfft_fast_f32``).

The generated code includes ``arm_math.h`` as MCU SDKs ship it; these are the files of CMSIS-DSP it needs,
paths relative to a CMSIS-DSP source tree (the ``cmsisdsp`` source distribution unpacks to one).
"""

from __future__ import annotations

# The version the tests fetch (scripts/system_packages.sh) and the host/emulator figures were measured with.
CMSIS_DSP_VERSION = "1.10.3"
CMSIS_DSP_SOURCES = (
    "Source/TransformFunctions/arm_rfft_fast_f32.c",
    "Source/TransformFunctions/arm_rfft_fast_init_f32.c",
    "Source/TransformFunctions/arm_cfft_f32.c",
    "Source/TransformFunctions/arm_cfft_init_f32.c",
    "Source/TransformFunctions/arm_cfft_radix8_f32.c",
    "Source/TransformFunctions/arm_bitreversal2.c",
    "Source/CommonTables/arm_common_tables.c",
    "Source/CommonTables/arm_const_structs.c",
)
CMSIS_DSP_INCLUDES = ("Include", "PrivateInclude")
# arm_rfft_fast_f32's sizes (arm_rfft_fast_init_<N>_f32 exists for each): the frontend's n_fft must be one.
RFFT_SIZES = (32, 64, 128, 256, 512, 1024, 2048, 4096)


def sources_comment() -> str:
    """The C comment lines that name what to compile and link with the frontend."""
    files = "\n".join(f" *   {path}" for path in CMSIS_DSP_SOURCES)
    return (f" * Link with CMSIS-DSP (tested with {CMSIS_DSP_VERSION}); include paths "
            f"{' and '.join(CMSIS_DSP_INCLUDES)}, sources:\n{files}\n"
            " * Without CMSIS Core's cmsis_compiler.h (a host build), compile with -D__GNUC_PYTHON__ as\n"
            " * CMSIS-DSP's own Python build does; an MCU SDK that ships CMSIS Core needs no define.\n")
