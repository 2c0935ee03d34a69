"""The translator kinds by name: which fit function makes each, and which reader loads each kind's file.

It imports every kind; the kinds import only :mod:`asc_edge.train.translator.common`, so no kind imports another
or this registry (the import circle between the two kinds' modules is gone)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Union

from asc_edge.plumbing.errors import CheckpointError
from asc_edge.train.checkpoint import load_file
from asc_edge.train.translator.conv import FORMAT as CONV_FORMAT
from asc_edge.train.translator.conv import ConvTranslator, conv_translator_from_dict, fit_conv_translator
from asc_edge.train.translator.parametric import FORMAT as PARAMETRIC_FORMAT
from asc_edge.train.translator.parametric import DeviceTranslator, fit_translator, parametric_translator_from_dict

Translator = Union[DeviceTranslator, ConvTranslator]  # Union, not |: evaluated at run time on Python 3.9
KINDS = ("parametric", "conv")  # conv: the report's spectrogram-to-spectrogram kind
_FITS: dict[str, Callable[..., Translator]] = {"parametric": fit_translator, "conv": fit_conv_translator}
_READERS: dict[str, Callable[[dict, str], Translator]] = {PARAMETRIC_FORMAT: parametric_translator_from_dict,
                                                           CONV_FORMAT: conv_translator_from_dict}


def fit_of_kind(kind: str) -> Callable[..., Translator]:
    """The fit function of a translator kind; both take ``(data, steps=, holdout=, seed=, max_pairs=)``."""
    if kind not in _FITS:
        raise ValueError(f"unknown translator kind {kind!r} (one of {', '.join(KINDS)})")
    return _FITS[kind]


def load_translator(path: str) -> Translator:
    """A translator file of either kind, told apart by its format tag."""
    data = load_file(path, kind="translator")
    tag = data.get("format")
    reader = _READERS.get(tag) if isinstance(tag, str) else None  # any value may stand there, even a list
    if reader is None:
        raise CheckpointError(f"{path}: not an asc-edge device translator (train one with asc-train translator)")
    return reader(data, path)


def format_fit_report(translator: Translator) -> str:
    """The held-out fit per device, for either kind (the conv translator has no single dynamics slope)."""
    lines = ["device  pairs(fit/held-out)  MSE untranslated  MSE translated  slope"]
    for device, r in translator.fit_report.items():
        slope = f"{r['slope']:.3f}" if "slope" in r else "-"
        lines.append(f"{device:<7} {r['pairs_fit']:>8}/{r['pairs_held_out']:<10} {r['mse_untranslated']:>16.3f} "
                     f"{r['mse_translated']:>15.3f}  {slope}")
    return "\n".join(lines)
