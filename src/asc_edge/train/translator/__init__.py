"""Device translation: learn, from parallel recordings, how each device turns reference-device log-mels into its
own, then use it to make reference-device training clips sound like other devices.

Two kinds, each in its own module: ``parametric`` (the default: a per-device frequency response, dynamics and
noise floor) and ``conv`` (the report's small conv net per device). ``common`` holds what both share (the
parallel pairs and their seeded split, the step back to log-mels); ``registry`` names the kinds, their fits and
file readers. The names callers use are re-exported here.
"""

from asc_edge.train.translator.common import PairSplit, parallel_pairs, split_parallel_pairs, to_log_mels
from asc_edge.train.translator.conv import ConvTranslator, fit_conv_translator
from asc_edge.train.translator.parametric import DeviceTranslator, device_response, fit_translator
from asc_edge.train.translator.registry import KINDS, Translator, fit_of_kind, format_fit_report, load_translator

__all__ = ["KINDS", "ConvTranslator", "DeviceTranslator", "PairSplit", "Translator", "device_response",
           "fit_conv_translator", "fit_of_kind", "fit_translator", "format_fit_report", "load_translator",
           "parallel_pairs", "split_parallel_pairs", "to_log_mels"]
