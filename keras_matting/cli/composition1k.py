"""``keras-matting composition1k``: rebuild the Composition-1k test composites.

    keras-matting composition1k --fg DIR [DIR ...] --alpha DIR [DIR ...] --bg DIR [DIR ...]
        --fg-names test_fg_names.txt --bg-names test_bg_names.txt --out DIR
        [--trimap DIR] [--trimap-name NAME]

For users who hold the Adobe Deep Image Matting dataset and the PASCAL VOC 2012
backgrounds: the 1,000 test images are composed exactly as the dataset's
``composition_code.py`` does (see :mod:`keras_matting.data.composition1k`) and written in
the evaluation layout (``image/``, ``alpha/``, ``trimap/<NAME>/``) that
``keras-matting evaluate --dataset`` reads. Exit status 0, or 2 with one line on bad input.
"""

import argparse
import sys


def build_parser():
    parser = argparse.ArgumentParser(
        prog="keras-matting composition1k",
        description=(
            "Rebuild the Composition-1k test set (Xu et al. 2017) from the Adobe foregrounds "
            "and alphas and the VOC backgrounds, as the dataset's composition_code.py does."
        ),
        epilog=(
            "Foreground i of the fg list gets the backgrounds on lines 20i .. 20i+19 of the bg "
            "list; a background smaller than the foreground on some side is upscaled "
            "bicubically so both sides cover it, then every background is cropped from the "
            "top-left; I = alpha F + (1 - alpha) B in float, truncated to 8 bits; outputs are "
            "named <fg name minus its 4-character extension>_<j>.png. Example: keras-matting "
            "composition1k --fg Test_set/Adobe-licensed\\ images/fg Test_set/Other/fg --alpha "
            "... --bg VOC2012/JPEGImages --fg-names test_fg_names.txt --bg-names "
            "test_bg_names.txt --out comp1k"
        ),
    )
    parser.add_argument("--fg", nargs="+", required=True, metavar="DIR",
                        help="foreground folder(s), searched in order")
    parser.add_argument("--alpha", nargs="+", required=True, metavar="DIR",
                        help="alpha folder(s), same file names as the foregrounds")
    parser.add_argument("--bg", nargs="+", required=True, metavar="DIR",
                        help="background folder(s) (VOC 2012 JPEGImages)")
    parser.add_argument("--fg-names", required=True, metavar="FILE", help="test_fg_names.txt")
    parser.add_argument("--bg-names", required=True, metavar="FILE", help="test_bg_names.txt")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (created)")
    parser.add_argument("--trimap", metavar="DIR",
                        help="trimaps, named like the composites (<stem>_<j>) or the foregrounds")
    parser.add_argument("--trimap-name", default="Adobe", metavar="NAME",
                        help="write trimaps to OUT/trimap/NAME (default: Adobe)")
    return parser


def parse_args(args):
    return build_parser().parse_args(args)


def _compose(args):
    from keras_matting.data.composition1k import build_composition1k

    count = build_composition1k(args.fg, args.alpha, args.bg, args.fg_names, args.bg_names,
                                args.out, trimap_dir=args.trimap, trimap_name=args.trimap_name)
    print(f"wrote {count} composites to '{args.out}' (image/, alpha/"
          + (f", trimap/{args.trimap_name}/" if args.trimap else "") + ")")
    return 0


def main(argv=None):
    from keras_matting.cli.main import run_guarded

    args = parse_args(sys.argv[1:] if argv is None else list(argv))
    return run_guarded(_compose, args)


if __name__ == "__main__":
    sys.exit(main())
