"""``asc-synth OUT_DIR``: write a device-imbalanced acoustic scene dataset in the TAU 2020 Mobile layout."""

from __future__ import annotations

import argparse
import time

from asc_edge.plumbing.cli_util import add_quiet, add_workers, bounded, make_entry_point, non_negative_int, positive_int


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="asc-synth",
        description="Generate a procedural, device-imbalanced acoustic scene dataset in the TAU Urban "
                    "Acoustic Scenes 2020 Mobile development layout (meta.csv, audio/, evaluation_setup/).")
    parser.add_argument("out_dir", help="folder to create (must be empty or absent unless --overwrite)")
    parser.add_argument("--clips-per-class", type=positive_int, default=40, metavar="N",
                        help="time segments per scene; device a records every train segment, each other "
                             "train device a tenth of them, and all 9 devices record every evaluate "
                             "segment (default: 40)")
    parser.add_argument("--duration", type=bounded(float, above=0.0), default=10.0, metavar="SECONDS",
                        help="length of each clip (default: 10, as in TAU)")
    parser.add_argument("--sample-rate", type=bounded(int, minimum=8000, maximum=192000), default=44100, metavar="HZ",
                        help="sample rate of the written WAV files (default: 44100, as in TAU)")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="the dataset is a pure function of the seed")
    parser.add_argument("--overwrite", action="store_true", help="replace a non-empty OUT_DIR")
    add_workers(parser)
    add_quiet(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    from asc_edge.data.synth.generate import generate_dataset

    args = build_parser().parse_args(argv)
    start = time.monotonic()
    info = generate_dataset(args.out_dir, clips_per_class=args.clips_per_class, duration=args.duration,
                            sample_rate=args.sample_rate, seed=args.seed, overwrite=args.overwrite,
                            workers=args.workers, progress=not args.quiet)
    per_device = info["clips_per_device"]
    print(f"asc-synth: wrote {info['clips']} clips to {args.out_dir} in {time.monotonic() - start:.1f} s")
    for fold in ("train", "evaluate"):
        cells = "  ".join(f"{d}:{n}" for d, n in per_device[fold].items())
        print(f"  {fold:<8} {sum(per_device[fold].values()):>6} clips  {cells}")
    return 0


entry_point = make_entry_point(main, "asc-synth")


if __name__ == "__main__":
    entry_point()
