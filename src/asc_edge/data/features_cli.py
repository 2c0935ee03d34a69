"""``asc-features DATA_DIR``: validate a TAU-layout folder or a folder per label, build its feature cache, print a
summary."""

from __future__ import annotations

import argparse
import time

from asc_edge.audio.profiles import DEFAULT_PROFILE, PROFILES
from asc_edge.data.layout import add_folder_layout_flags
from asc_edge.plumbing.cli_util import add_cache_dir, add_quiet, add_workers, make_entry_point


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="asc-features",
        description="Check a TAU Urban Acoustic Scenes 2020 Mobile layout folder (real or asc-synth) or a folder "
                    "per label (DATA_DIR/<label>/**/*.wav|flac|ogg), compute or reuse its log-mel feature cache, "
                    "and print a summary per fold and device (a folder per label: per label, with its split).")
    parser.add_argument("data_dir", help="dataset folder: meta.csv, audio/ and evaluation_setup/ (TAU layout), "
                                         "or one folder per label")
    parser.add_argument("--frontend", default=DEFAULT_PROFILE, choices=sorted(PROFILES),
                        help=f"frontend profile (default: {DEFAULT_PROFILE})")
    add_folder_layout_flags(parser)
    add_cache_dir(parser, data="DATA_DIR")
    add_workers(parser)
    add_quiet(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    from asc_edge.audio.profiles import get_profile
    from asc_edge.data.features import build_feature_cache
    from asc_edge.data.layout import folder_options, load_dataset
    from asc_edge.data.summary import device_band_levels, format_features, format_summary, layout_summary

    args = build_parser().parse_args(argv)
    config = get_profile(args.frontend)
    dataset = load_dataset(args.data_dir, config.sample_rate, folder_options(args))
    start = time.monotonic()
    features = build_feature_cache(dataset, config, cache_root=args.cache_dir, workers=args.workers,
                                   progress=not args.quiet)
    seconds = time.monotonic() - start
    if dataset.layout == "tau":
        print(format_summary(layout_summary(dataset), features, device_band_levels(dataset, features), seconds))
    else:
        print("\n".join([*dataset.summary_lines(), *format_features(features, seconds)]))
    return 0


entry_point = make_entry_point(main, "asc-features")


if __name__ == "__main__":
    entry_point()
