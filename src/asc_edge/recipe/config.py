"""``asc-train recipe`` configurations: the packaged ``quick`` and ``paper`` TOML files and user overrides.

A config is a TOML file of sections (``[run]``, ``[translator]``, ``[teacher]``, ``[student]``, ``[prune]``,
``[int8]``, ``[export]``). A user file starts from ``base = "quick"`` (default) or ``base = "paper"`` and
overrides any field; unknown sections or fields, wrong types and out-of-range values are refused with one
line naming ``section.field``. The export gates are not fields: the recipe always exports with
``asc-export``'s defaults.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from asc_edge.audio.profiles import PROFILES
from asc_edge.plumbing.errors import ConfigError
from asc_edge.train.presets import PRESETS
from asc_edge.train.translator import KINDS as TRANSLATOR_KINDS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.9/3.10 use the tomli backport (declared in pyproject's train extra)
    import tomli as tomllib

BUILTIN = ("quick", "paper")
TRANSLATORS = (*TRANSLATOR_KINDS, "none")


@dataclass(frozen=True)
class Field:
    """One config field: its type, and its bounds or choices (inclusive unless ``above``)."""

    kind: type
    minimum: float | None = None
    maximum: float | None = None
    above: float | None = None
    choices: tuple[str, ...] | None = None
    optional: bool = False  # may be omitted / given as "default" to mean asc-train's own default

    def check(self, name: str, value: Any) -> Any:
        if self.optional and value == "default":
            return None
        if self.kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, self.kind) or (self.kind is int and isinstance(value, bool)):
            expected = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}[self.kind]
            raise ConfigError(f"{name}: expected {expected}, got {value!r}")
        if self.choices is not None and value not in self.choices:
            raise ConfigError(f"{name}: must be one of {', '.join(self.choices)}, got {value!r}")
        if self.minimum is not None and value < self.minimum:
            raise ConfigError(f"{name}: must be at least {self.minimum:g}, got {value}")
        if self.maximum is not None and value > self.maximum:
            raise ConfigError(f"{name}: must be at most {self.maximum:g}, got {value}")
        if self.above is not None and not value > self.above:
            raise ConfigError(f"{name}: must be above {self.above:g}, got {value}")
        return value


_FRACTION = Field(float, 0.0, 1.0)
_BELOW_ONE = Field(float, 0.0, 0.95)  # pruning: removing (nearly) everything is not a model
_LR = Field(float, above=0.0, maximum=10.0, optional=True)

SCHEMA: dict[str, dict[str, Field]] = {
    "run": {"frontend": Field(str, choices=tuple(sorted(PROFILES))), "batch_size": Field(int, 1, 4096),
            "seed": Field(int, 0, 2**31 - 1), "mixup": Field(float, 0.0, 10.0), "spec_augment": Field(bool),
            "roll": _FRACTION},
    "translator": {"kind": Field(str, choices=TRANSLATORS), "steps": Field(int, 1, 100_000),
                   "translate_prob": _FRACTION},
    "teacher": {"count": Field(int, 0, 16), "preset": Field(str, choices=tuple(sorted(PRESETS))),
                "epochs": Field(int, 1, 10_000), "lr": _LR},
    "student": {"preset": Field(str, choices=tuple(sorted(PRESETS))), "epochs": Field(int, 1, 10_000),
                "lr": _LR, "kd_temperature": Field(float, above=0.0, maximum=100.0), "kd_alpha": _FRACTION},
    "prune": {"structured": _BELOW_ONE, "unstructured": _BELOW_ONE, "epochs": Field(int, 1, 10_000),
              "lr": _LR},
    "int8": {"qat_epochs": Field(int, 0, 10_000), "qat_lr": Field(float, above=0.0, maximum=10.0)},
    "export": {"enabled": Field(bool), "calibration_clips": Field(int, 1, 100_000), "c_array": Field(bool),
               "activations": Field(str, choices=("int8", "int16"))},
}


@dataclass(frozen=True)
class RecipeConfig:
    """A validated config: ``values[section][field]``, every field present; ``source`` says where it came from."""

    name: str
    source: str
    values: dict[str, dict[str, Any]]

    def get(self, section: str, key: str) -> Any:
        return self.values[section][key]

    def section(self, name: str) -> dict[str, Any]:
        return dict(self.values[name])

    def to_dict(self) -> dict:
        return {"name": self.name, "source": self.source, **{s: dict(v) for s, v in self.values.items()}}


def _read_toml(text: str, where: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML ({exc})") from None


def _builtin_table(name: str) -> dict:
    text = resources.files("asc_edge.recipe").joinpath("configs", f"{name}.toml").read_text(encoding="utf-8")
    return _read_toml(text, f"packaged config {name!r}")


def _apply(values: dict[str, dict[str, Any]], table: dict, where: str, complete: bool) -> None:
    """Check ``table`` against the schema and write its fields into ``values``."""
    for section, fields in table.items():
        if section == "base":
            continue
        if section not in SCHEMA:
            raise ConfigError(f"{where}: unknown section [{section}] (known: {', '.join(SCHEMA)})")
        if not isinstance(fields, dict):
            raise ConfigError(f"{where}: {section} must be a [{section}] table")
        for key, value in fields.items():
            if key not in SCHEMA[section]:
                raise ConfigError(f"{where}: unknown field {section}.{key} "
                                  f"(known: {', '.join(SCHEMA[section])})")
            values.setdefault(section, {})[key] = SCHEMA[section][key].check(f"{where}: {section}.{key}", value)
    if complete:
        for section, fields in SCHEMA.items():
            for key in fields:
                if key not in values.get(section, {}):
                    raise ConfigError(f"{where}: {section}.{key} is missing")


def load_config(spec: str = "quick") -> RecipeConfig:
    """``quick``, ``paper`` or a TOML file path (its ``base`` config, overridden field by field)."""
    if spec in BUILTIN:
        values: dict[str, dict[str, Any]] = {}
        _apply(values, _builtin_table(spec), f"packaged config {spec!r}", complete=True)
        return RecipeConfig(name=spec, source=spec, values=values)
    path = Path(spec)
    if not path.is_file():
        raise ConfigError(f"{spec}: no such config file (use quick, paper or a .toml file)")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{spec}: cannot read the config ({exc})") from None
    table = _read_toml(text, spec)
    base = table.get("base", "quick")
    if base not in BUILTIN:
        raise ConfigError(f"{spec}: base must be one of {', '.join(BUILTIN)}, got {base!r}")
    config = load_config(base)
    values = {section: dict(fields) for section, fields in config.values.items()}
    _apply(values, table, spec, complete=False)
    return RecipeConfig(name=f"{base}+{path.name}", source=str(path), values=values)
