"""``keras-matting synth``: write a procedural matting training set (``fg/``, ``alpha/``)."""

import argparse
import os
import sys

from keras_matting.errors import MattingInputError


def _positive(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def _size(text):
    value = _positive(text)
    if value < 32:
        raise argparse.ArgumentTypeError(f"{value} is too small; use at least 32 pixels")
    return value


def build_parser():
    parser = argparse.ArgumentParser(
        prog="keras-matting synth",
        description=(
            "Generate procedural foregrounds with exact alpha mattes (hair, fur, glass, "
            "smoke, veils, nets, lace, blurred and solid objects) in the Deep Image Matting "
            "training layout: OUT/fg/NNNNN.png and OUT/alpha/NNNNN.png."
        ),
    )
    parser.add_argument("--out", required=True, help="output folder (created)")
    parser.add_argument("--count", required=True, type=_positive, help="number of samples")
    parser.add_argument("--size", required=True, type=_size, help="side of the square samples, px")
    parser.add_argument(
        "--seed", type=int, default=0, help="seed; sample i depends on (seed, i) only"
    )
    parser.add_argument(
        "--textures",
        default=None,
        help="folder of photographs (searched recursively) to texture foregrounds with; "
        "procedural noise textures otherwise",
    )
    parser.add_argument(
        "--workers", type=_positive, default=None, help="processes (default: all CPU cores)"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


def parse_args(args):
    return build_parser().parse_args(args)


def main(argv=None):
    try:
        args = parse_args(sys.argv[1:] if argv is None else list(argv))
    except SystemExit as exc:  # argparse: 2 for bad arguments, 0 for --help
        return int(exc.code or 0)
    if args.textures is not None and not os.path.isdir(args.textures):
        raise MattingInputError(
            f"{args.textures}: texture folder not found; pass an existing folder"
        )
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise MattingInputError(f"{args.out}: exists and is not a folder; choose another --out")
    from keras_matting.data.synthetic import write_dataset
    from keras_matting.tempfiles import remove_stale_temporaries

    for sub in ("fg", "alpha"):  # what an earlier, killed run left (.tmp-XXXXXXXX.png)
        remove_stale_temporaries(os.path.join(args.out, sub))
    stats = write_dataset(
        args.out,
        args.count,
        args.size,
        seed=args.seed,
        texture_dir=args.textures,
        workers=args.workers,
        progress=not args.no_progress,
    )
    print(
        f"wrote {stats['count']} samples of {args.size}x{args.size} to {args.out} in "
        f"{stats['seconds']:.1f} s ({stats['rate']:.2f} samples/s)"
    )
    return 0


if __name__ == "__main__":
    from keras_matting.cli.main import run_guarded

    sys.exit(run_guarded(main))
