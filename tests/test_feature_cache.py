import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from asc_edge.audio.frontend import LogMelFrontend
from asc_edge.audio.io import read_audio
from asc_edge.audio.profiles import get_profile
from asc_edge.data.features import build_feature_cache, cache_dir_for
from asc_edge.data.tau import load_tau
from asc_edge.plumbing.errors import AudioError, DataError


@pytest.fixture
def dataset(tiny_synth: Path, tmp_path: Path):
    copy = tmp_path / "data"
    shutil.copytree(tiny_synth, copy, ignore=shutil.ignore_patterns(".asc-cache"))
    return load_tau(copy)


def test_features_equal_the_frontend_and_are_memory_mapped(dataset) -> None:
    config = get_profile("small")
    feats = build_feature_cache(dataset, config, progress=False)
    assert isinstance(feats.features, np.memmap)
    assert feats.features.shape[0] == len(dataset.clips)
    clip = dataset.evaluate[3]
    expected = LogMelFrontend(config)(read_audio(dataset.path(clip), config.sample_rate).samples)
    np.testing.assert_array_equal(feats.features[feats.rows([clip])[0]], expected)


def test_cache_is_reused_and_keyed_by_config(dataset) -> None:
    config = get_profile("small")
    first = build_feature_cache(dataset, config, progress=False, workers=1)
    stamp = (first.path / "features.npy").stat().st_mtime_ns
    second = build_feature_cache(dataset, config, progress=False)
    assert second.path == first.path and (second.path / "features.npy").stat().st_mtime_ns == stamp
    assert not first.reused and second.reused
    other = build_feature_cache(dataset, get_profile("small").__class__(
        **{**config.to_dict(), "hop_length": 256}), progress=False)
    assert other.path != first.path and other.features.shape[2] > first.features.shape[2]


def test_half_written_cache_is_never_reused(dataset) -> None:
    config = get_profile("small")
    folder = cache_dir_for(dataset, config)
    folder.mkdir(parents=True)
    # what an interrupted writer under the final name would look like
    np.save(folder / "features.npy", np.zeros((len(dataset.clips), 40, 48), dtype=np.float32))
    (folder / "manifest.json").write_text(json.dumps({"format": 1, "complete": False}))
    feats = build_feature_cache(dataset, config, progress=False)
    assert not feats.reused
    assert np.abs(np.asarray(feats.features)).sum() > 0
    assert json.loads((folder / "manifest.json").read_text())["complete"] is True
    leftovers = [p.name for p in folder.parent.iterdir() if p.name != folder.name]
    assert leftovers == []


def test_unreadable_clip_fails_without_leaving_a_cache(dataset) -> None:
    config = get_profile("small")
    dataset.path(dataset.clips[7]).write_bytes(b"RIFF garbage")
    with pytest.raises(AudioError, match="not a readable audio file"):
        build_feature_cache(dataset, config, progress=False, workers=1)
    root = cache_dir_for(dataset, config).parent
    assert not root.exists() or list(root.iterdir()) == []


def test_unwritable_cache_location_is_a_clear_error(dataset, tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    with pytest.raises(DataError, match="cannot create the feature cache"):
        build_feature_cache(dataset, get_profile("small"), cache_root=blocker / "cache", progress=False)


def test_clips_outside_both_splits_are_not_computed(dataset) -> None:
    split = dataset.root / "evaluation_setup" / "fold1_evaluate.csv"
    lines = split.read_text().splitlines(keepends=True)
    split.write_text("".join(lines[:-3]))  # three clips now belong to neither split, as happens in TAU
    reloaded = load_tau(dataset.root)
    feats = build_feature_cache(reloaded, get_profile("small"), progress=False)
    assert feats.features.shape[0] == len(reloaded.clips) - 3
    assert len(feats.rows(reloaded.evaluate)) == len(reloaded.evaluate)


def test_the_default_cache_is_in_the_users_cache_home_never_in_the_data(dataset, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    before = sorted(p.relative_to(dataset.root) for p in dataset.root.rglob("*"))
    monkeypatch.delenv("ASC_EDGE_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    feats = build_feature_cache(dataset, get_profile("small"), progress=False, workers=1)
    assert feats.path.parent.parent == tmp_path / "xdg" / "asc-edge" / "features"
    assert feats.path.parent.name.startswith("data-")  # the data folder's name, then its path's digest
    assert sorted(p.relative_to(dataset.root) for p in dataset.root.rglob("*")) == before  # nothing written there
    monkeypatch.setenv("ASC_EDGE_CACHE", str(tmp_path / "mine"))
    assert str(cache_dir_for(dataset, get_profile("small"))).startswith(str(tmp_path / "mine" / "features"))
