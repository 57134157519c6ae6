"""``keras-matting evaluate``: score predicted alpha mattes against ground truth.

    keras-matting evaluate --pred DIR --gt DIR --trimap DIR [--json FILE]

Files are matched by name (stem, any image extension). Each prediction's known region
is first clamped from the trimap (0 -> 0, 255 -> 1), as the standard protocol does, then
SAD, MSE, Grad and Conn are computed on 8-bit alphas over the unknown region with
:mod:`keras_matting.metrics.reference`.
"""

import argparse
import json
import sys

from keras_matting.errors import MattingInputError

METRICS = ("sad", "mse", "grad", "conn")
_HEADERS = {"sad": "SAD", "mse": "MSE", "grad": "Grad", "conn": "Conn"}
_FORMATS = {"sad": "{:9.2f}", "mse": "{:9.4f}", "grad": "{:9.2f}", "conn": "{:9.2f}"}

PROTOCOL = (
    "known regions of each prediction clamped from the trimap (0 -> 0, 255 -> 1); "
    "8-bit alphas; errors over the unknown region (trimap == 128); "
    "SAD, Grad and Conn divided by 1000"
)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="keras-matting evaluate",
        description=(
            "Score alpha mattes against ground truth: SAD, MSE, gradient and connectivity "
            "errors over the trimap's unknown region (Rhemann et al. 2009, as in the "
            "evaluation code of Xu et al. 2017)."
        ),
        epilog=(
            "Standard protocol: the known regions of each prediction are clamped from the "
            "trimap (0 -> 0, 255 -> 1) before scoring; alphas are scored as 8-bit values "
            "(16-bit or float files are rounded to 8 bits); SAD, Grad and Conn are divided "
            "by 1000, MSE is the mean over the unknown pixels. Files are matched by name "
            "(the stem, any image extension)."
        ),
    )
    folders = parser.add_argument_group(
        "score saved predictions",
        "compare a folder of predicted alphas with ground truth (all three needed)",
    )
    folders.add_argument("--pred", metavar="DIR", help="predicted alpha mattes")
    folders.add_argument("--gt", metavar="DIR", help="ground-truth alpha mattes")
    folders.add_argument(
        "--trimap", metavar="DIR", help="trimaps that define the scored (unknown) region"
    )
    output = parser.add_argument_group("output")
    output.add_argument(
        "--json", metavar="FILE", help="also write per-image and mean errors to FILE (JSON)"
    )
    return parser


def parse_args(args):
    parser = build_parser()
    namespace = parser.parse_args(args)
    missing = [f"--{name}" for name in ("pred", "gt", "trimap") if getattr(namespace, name) is None]
    if missing:
        parser.error(f"missing {' '.join(missing)}: --pred, --gt and --trimap are all needed")
    return namespace


def _matched_files(pred_dir, gt_dir, trimap_dir):
    """Return ``[(name, pred, gt, trimap)]`` for every ground-truth file, and unused predictions."""
    from keras_matting.io import list_images

    gts = list_images(gt_dir, "ground-truth")
    preds = list_images(pred_dir, "prediction")
    trimaps = list_images(trimap_dir, "trimap")
    if not gts:
        raise MattingInputError(f"ground-truth folder '{gt_dir}' has no image file")
    for folder, found, what in ((pred_dir, preds, "prediction"), (trimap_dir, trimaps, "trimap")):
        missing = sorted(set(gts) - set(found))
        if missing:
            shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
            raise MattingInputError(
                f"{what} folder '{folder}' lacks {len(missing)} of the {len(gts)} ground-truth "
                f"names ({shown}): files are matched by name, add them or fix the folder"
            )
    extra = sorted(set(preds) - set(gts))
    return [(name, preds[name], gts[name], trimaps[name]) for name in sorted(gts)], extra


def evaluate_folders(pred_dir, gt_dir, trimap_dir):
    """Score every ground-truth file; returns ``(rows, mean, unused_predictions)``.

    ``rows`` is a list of ``dict(name=, sad=, mse=, grad=, conn=)``.
    """
    from keras_matting.io import quantize, read_alpha, read_trimap
    from keras_matting.metrics.reference import clamp_known, compute_metrics

    files, extra = _matched_files(pred_dir, gt_dir, trimap_dir)
    rows = []
    for name, pred_path, gt_path, trimap_path in files:
        gt = quantize(read_alpha(gt_path), 8)
        trimap = read_trimap(trimap_path, image_shape=gt.shape, image_path=gt_path)
        pred = quantize(read_alpha(pred_path), 8)
        if pred.shape != gt.shape:
            raise MattingInputError(
                f"prediction '{pred_path}' is {pred.shape[1]}x{pred.shape[0]} (width x height) "
                f"but ground truth '{gt_path}' is {gt.shape[1]}x{gt.shape[0]}: predict at the "
                "image's full resolution"
            )
        rows.append({"name": name, **compute_metrics(clamp_known(pred, trimap), gt, trimap)})
    mean = {key: sum(row[key] for row in rows) / len(rows) for key in METRICS}
    return rows, mean, extra


def format_table(rows, mean):
    width = max(len("image"), len("mean"), *(len(row["name"]) for row in rows))
    header = f"{'image':<{width}}" + "".join(f"{_HEADERS[key]:>9}" for key in METRICS)
    lines = [header, "-" * len(header)]
    for row in [*rows, None, {"name": "mean", **mean}]:
        if row is None:
            lines.append("-" * len(header))
            continue
        values = "".join(_FORMATS[key].format(row[key]) for key in METRICS)
        lines.append(f"{row['name']:<{width}}{values}")
    return "\n".join(lines)


def _evaluate(args):
    from keras_matting.io import atomic_write

    rows, mean, extra = evaluate_folders(args.pred, args.gt, args.trimap)
    print(format_table(rows, mean))
    print(f"{len(rows)} images; {PROTOCOL}")
    if extra:
        print(f"note: {len(extra)} prediction(s) without ground truth ignored", file=sys.stderr)
    if args.json:
        report = {
            "pred": args.pred,
            "gt": args.gt,
            "trimap": args.trimap,
            "protocol": PROTOCOL,
            "count": len(rows),
            "mean": mean,
            "images": rows,
        }
        text = json.dumps(report, indent=2) + "\n"
        print(f"wrote {atomic_write(args.json, text)}")
    return 0


def main(argv=None):
    from keras_matting.cli.main import run_guarded

    args = parse_args(sys.argv[1:] if argv is None else list(argv))
    return run_guarded(_evaluate, args)


if __name__ == "__main__":
    sys.exit(main())
