"""Procedural soundscapes for the ten TAU scenes.

Each scene is a recipe of *ranges*: a coloured background texture (spectral tilt and a broad resonance),
slow loudness modulation, an optional harmonic source, and Poisson-timed events. A recording location
draws its own values inside the ranges (so locations differ and the train/evaluate split by location
matters) and each segment jitters them a little. Ranges of related scenes overlap on purpose (bus/tram,
metro/metro_station, street_pedestrian/public_square, airport/shopping_mall), as in the real data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from asc_edge.data.synth.dsp import (
    db_to_gain,
    harmonic_tone,
    highpass_db,
    log_bump_db,
    lowpass_db,
    rms,
    shaped_noise,
    slow_envelope,
    tilt_db,
)
from asc_edge.data.synth.events import add_events

Range = tuple[float, float]


@dataclass(frozen=True)
class EventSpec:
    kind: str
    rate_per_s: Range
    band_hz: Range
    level_db: Range  # relative to the background texture


@dataclass(frozen=True)
class SceneRecipe:
    level_db: Range  # overall RMS, dB full scale
    tilt_db_per_octave: Range
    bump_hz: Range
    bump_db: Range
    modulation_hz: Range
    modulation_depth: Range
    tone_f0_hz: Range | None = None
    tone_db: Range = (-12.0, -6.0)
    tone_harmonics: int = 4
    events: tuple[EventSpec, ...] = field(default_factory=tuple)


E = EventSpec
RECIPES: dict[str, SceneRecipe] = {
    "airport": SceneRecipe(
        level_db=(-32, -26), tilt_db_per_octave=(-4.0, -2.0),
        bump_hz=(400, 900), bump_db=(6, 10),
        modulation_hz=(0.1, 0.3), modulation_depth=(0.1, 0.3),
        tone_f0_hz=(80, 120), tone_db=(-14, -8), tone_harmonics=4,
        events=(
            E("chime", rate_per_s=(0.03, 0.08), band_hz=(500, 900), level_db=(0, 6)),
            E("click", rate_per_s=(0.5, 2), band_hz=(1500, 3000), level_db=(-6, 0)),
        ),
    ),
    "bus": SceneRecipe(
        level_db=(-24, -18), tilt_db_per_octave=(-7.0, -5.0),
        bump_hz=(100, 250), bump_db=(8, 12),
        modulation_hz=(0.05, 0.2), modulation_depth=(0.3, 0.5),
        tone_f0_hz=(35, 70), tone_db=(-6, 0), tone_harmonics=8,
        events=(
            E("click", rate_per_s=(0.5, 1.5), band_hz=(800, 2500), level_db=(-4, 2)),
            E("chime", rate_per_s=(0.01, 0.03), band_hz=(700, 1100), level_db=(0, 6)),
        ),
    ),
    "metro": SceneRecipe(
        level_db=(-22, -16), tilt_db_per_octave=(-5.0, -3.0),
        bump_hz=(150, 400), bump_db=(8, 12),
        modulation_hz=(0.2, 0.6), modulation_depth=(0.2, 0.4),
        tone_f0_hz=(90, 200), tone_db=(-10, -4), tone_harmonics=5,
        events=(
            E("squeal", rate_per_s=(0.05, 0.2), band_hz=(2000, 4500), level_db=(0, 6)),
            E("click", rate_per_s=(1, 3), band_hz=(300, 1200), level_db=(0, 6)),
        ),
    ),
    "metro_station": SceneRecipe(
        level_db=(-30, -24), tilt_db_per_octave=(-4.0, -2.5),
        bump_hz=(300, 800), bump_db=(6, 9),
        modulation_hz=(0.05, 0.2), modulation_depth=(0.2, 0.5),
        tone_f0_hz=(100, 150), tone_db=(-14, -8), tone_harmonics=4,
        events=(
            E("pass", rate_per_s=(0.03, 0.1), band_hz=(400, 900), level_db=(4, 10)),
            E("chime", rate_per_s=(0.03, 0.08), band_hz=(500, 1000), level_db=(0, 6)),
            E("squeal", rate_per_s=(0.02, 0.06), band_hz=(2000, 4000), level_db=(-4, 2)),
            E("click", rate_per_s=(0.5, 2), band_hz=(1500, 3000), level_db=(-6, 0)),
        ),
    ),
    "park": SceneRecipe(
        level_db=(-42, -34), tilt_db_per_octave=(-6.0, -3.0),
        bump_hz=(1500, 3000), bump_db=(3, 6),
        modulation_hz=(0.1, 0.4), modulation_depth=(0.3, 0.6),
        events=(
            E("chirp", rate_per_s=(0.5, 3), band_hz=(2500, 6000), level_db=(4, 10)),
            E("pass", rate_per_s=(0.01, 0.04), band_hz=(300, 600), level_db=(-4, 2)),
        ),
    ),
    "public_square": SceneRecipe(
        level_db=(-34, -28), tilt_db_per_octave=(-4.0, -2.0),
        bump_hz=(350, 900), bump_db=(5, 8),
        modulation_hz=(0.1, 0.3), modulation_depth=(0.2, 0.4),
        events=(
            E("click", rate_per_s=(1, 3), band_hz=(1200, 3000), level_db=(-4, 2)),
            E("chirp", rate_per_s=(0.1, 0.5), band_hz=(2000, 5000), level_db=(0, 6)),
            E("pass", rate_per_s=(0.02, 0.08), band_hz=(400, 900), level_db=(0, 6)),
        ),
    ),
    "shopping_mall": SceneRecipe(
        level_db=(-32, -26), tilt_db_per_octave=(-4.0, -2.0),
        bump_hz=(400, 1000), bump_db=(6, 10),
        modulation_hz=(0.05, 0.2), modulation_depth=(0.1, 0.3),
        tone_f0_hz=(150, 400), tone_db=(-12, -6), tone_harmonics=5,
        events=(
            E("click", rate_per_s=(1, 3), band_hz=(1500, 3000), level_db=(-6, 0)),
            E("chime", rate_per_s=(0.02, 0.05), band_hz=(600, 1200), level_db=(0, 6)),
        ),
    ),
    "street_pedestrian": SceneRecipe(
        level_db=(-30, -24), tilt_db_per_octave=(-4.0, -2.5),
        bump_hz=(300, 800), bump_db=(4, 7),
        modulation_hz=(0.1, 0.3), modulation_depth=(0.2, 0.4),
        events=(
            E("click", rate_per_s=(1.5, 4), band_hz=(1000, 2500), level_db=(-2, 4)),
            E("pass", rate_per_s=(0.05, 0.15), band_hz=(400, 1000), level_db=(2, 8)),
            E("chirp", rate_per_s=(0.05, 0.3), band_hz=(2500, 5000), level_db=(-2, 4)),
        ),
    ),
    "street_traffic": SceneRecipe(
        level_db=(-24, -18), tilt_db_per_octave=(-6.0, -4.0),
        bump_hz=(80, 300), bump_db=(6, 10),
        modulation_hz=(0.1, 0.4), modulation_depth=(0.3, 0.6),
        tone_f0_hz=(25, 50), tone_db=(-10, -4), tone_harmonics=6,
        events=(
            E("pass", rate_per_s=(0.2, 0.5), band_hz=(500, 1500), level_db=(4, 10)),
            E("chime", rate_per_s=(0.01, 0.05), band_hz=(300, 500), level_db=(2, 8)),
            E("click", rate_per_s=(0.2, 0.8), band_hz=(600, 1500), level_db=(-6, 0)),
        ),
    ),
    "tram": SceneRecipe(
        level_db=(-24, -18), tilt_db_per_octave=(-5.0, -3.0),
        bump_hz=(200, 500), bump_db=(6, 10),
        modulation_hz=(0.1, 0.3), modulation_depth=(0.2, 0.4),
        tone_f0_hz=(300, 700), tone_db=(-14, -8), tone_harmonics=3,
        events=(
            E("click", rate_per_s=(0.5, 2), band_hz=(300, 1000), level_db=(0, 6)),
            E("squeal", rate_per_s=(0.03, 0.1), band_hz=(2000, 4000), level_db=(0, 6)),
            E("chime", rate_per_s=(0.01, 0.03), band_hz=(800, 1500), level_db=(0, 6)),
        ),
    ),
}

#: How far (fraction of each range's width) a segment may wander from its location's values.
SEGMENT_JITTER = 0.15


class LocationDraw:
    """One location's values inside a scene recipe; segments jitter around them."""

    def __init__(self, recipe: SceneRecipe, rng: np.random.Generator) -> None:
        self.recipe = recipe
        self._centre: dict[str, float] = {}
        self._width: dict[str, float] = {}
        for name in ("level_db", "tilt_db_per_octave", "bump_hz", "bump_db", "modulation_hz",
                     "modulation_depth", "tone_db"):
            lo, hi = getattr(recipe, name)
            self._centre[name] = rng.uniform(lo, hi)
            self._width[name] = hi - lo
        if recipe.tone_f0_hz is not None:
            lo, hi = recipe.tone_f0_hz
            self._centre["tone_f0_hz"], self._width["tone_f0_hz"] = rng.uniform(lo, hi), hi - lo
        self.event_rates = [rng.uniform(*e.rate_per_s) for e in recipe.events]
        self.event_bands = [rng.uniform(*e.band_hz) for e in recipe.events]
        self.event_levels = [rng.uniform(*e.level_db) for e in recipe.events]

    def value(self, name: str, rng: np.random.Generator) -> float:
        return self._centre[name] + SEGMENT_JITTER * self._width[name] * rng.uniform(-1, 1)


def render_segment(location: LocationDraw, city_tilt_db: float, duration_s: float, sample_rate: int,
                   rng: np.random.Generator) -> np.ndarray:
    """A soundscape as it reaches the microphones, before any device (float64, mono)."""
    n = int(round(duration_s * sample_rate))
    recipe = location.recipe
    tilt = location.value("tilt_db_per_octave", rng) + city_tilt_db
    bump_hz = location.value("bump_hz", rng)
    bump_db = location.value("bump_db", rng)

    def background_db(f: np.ndarray) -> np.ndarray:
        return tilt_db(f, tilt) + log_bump_db(f, bump_hz, bump_db, 0.8) + highpass_db(f, 20.0, 2)

    out = shaped_noise(n, sample_rate, background_db, rng)
    out *= slow_envelope(n, sample_rate, location.value("modulation_hz", rng),
                         location.value("modulation_depth", rng), rng)
    if recipe.tone_f0_hz is not None:
        tone = harmonic_tone(n, sample_rate, location.value("tone_f0_hz", rng), recipe.tone_harmonics,
                             rolloff_db=3.0, vibrato=0.02, rng=rng)
        out += db_to_gain(location.value("tone_db", rng)) * tone
    for spec, rate, band, level in zip(recipe.events, location.event_rates, location.event_bands,
                                       location.event_levels):
        add_events(out, sample_rate, spec.kind, rate * rng.uniform(0.7, 1.3), band, db_to_gain(level), rng)
    # A faint generic city background shared by all scenes blurs the classes a little more.
    city = shaped_noise(n, sample_rate, lambda f: lowpass_db(f, 600.0, 1) + highpass_db(f, 40.0, 2), rng)
    out += db_to_gain(rng.uniform(-20, -10)) * city
    return out / rms(out) * db_to_gain(location.value("level_db", rng))
