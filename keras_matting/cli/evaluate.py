"""``keras-matting evaluate``: score alpha mattes against ground truth.

Two modes::

    keras-matting evaluate --pred DIR --gt DIR [--trimap DIR] [--json FILE]

    keras-matting evaluate --dataset DIR --model NAME|PATH|none
        --protocol trimap:NAME|mask|portraits
        [--baseline closed-form knn guided-filter mask]
        --report DIR [--limit N] [--no-figures]

The first scores saved predictions. The second runs a model and/or classical baselines
on every image of a dataset in the evaluation layout (``image/``, ``alpha/``,
``trimap/<NAME>/``, ``mask/``; portraits: ``image/`` and ``alpha/``, the mask of each
photo from the automatic person segmenter unless the dataset has ``mask/``; see
:mod:`keras_matting.evaluation.benchmark` for what each method is given under each
protocol) and writes a report folder: ``results.json`` (per image and method: errors and
runtime; command, dataset, protocol, mask source, machine), ``report.md`` (means per
method, best per column in bold, in two tables) and figures (``sad_per_image.png``,
``grid_<name>.png``; matplotlib, ``[report]`` extra). The baseline ``mask`` is the mask
itself taken as the alpha (mask-based protocols only).

Two sets of errors, both on 8-bit alphas, files matched by name (stem, any extension):

- standard (needs a trimap): each prediction's known region is first clamped from the
  trimap (0 -> 0, 255 -> 1), then SAD, MSE, Grad and Conn are computed over the unknown
  region with :mod:`keras_matting.metrics.reference`;
- what users see (always): on the prediction as it is, nothing clamped, against the
  ground truth alone: whole-image SAD and MSE, band SAD, holes % and halo %
  (:mod:`keras_matting.metrics.whole_image`). Without ``--trimap`` only these are reported.

Exit status: 0 scored (dataset mode: report written, every method ran on every image);
1 (dataset mode) report written but some method failed on some image (each failure is in
the report with its reason); 2 bad arguments or missing folders/files (one line).
"""

import argparse
import json
import os
import shlex
import sys

from keras_matting.errors import MattingInputError
from keras_matting.evaluation.benchmark import BASELINES, MASK_KERNEL, SCORE_KEYS
from keras_matting.metrics import whole_image

METRICS = ("sad", "mse", "grad", "conn")
_HEADERS = {"sad": "SAD", "mse": "MSE", "grad": "Grad", "conn": "Conn",
            "whole_sad": "whole SAD", "whole_mse": "whole MSE", "band_sad": "band SAD",
            "holes_pct": "holes %", "halo_pct": "halo %"}
_FORMATS = {"sad": "{:9.2f}", "mse": "{:9.4f}", "grad": "{:9.2f}", "conn": "{:9.2f}",
            "whole_sad": "{:11.2f}", "whole_mse": "{:11.4f}", "band_sad": "{:11.2f}",
            "holes_pct": "{:11.2f}", "halo_pct": "{:11.2f}"}

PROTOCOL = (
    "known regions of each prediction clamped from the trimap (0 -> 0, 255 -> 1); "
    "8-bit alphas; errors over the unknown region (trimap == 128); "
    "SAD, Grad and Conn divided by 1000"
)
USER_PROTOCOL = (
    "what users see: 8-bit alphas, nothing clamped, whole image against the ground truth "
    "alone; whole SAD = sum |p - g| / 1000, whole MSE = mean (p - g)^2; band SAD "
    f"(/1000) inside dilate(g > 0.5) - erode(g > 0.5), {whole_image.BAND_KERNEL}x"
    f"{whole_image.BAND_KERNEL} kernels; holes % = share of g > 0.99 eroded by "
    f"{whole_image.SURE_KERNEL // 2} px ({whole_image.SURE_KERNEL}x{whole_image.SURE_KERNEL}) "
    f"predicted below {whole_image.HOLE_THRESHOLD}; halo % = share of g < 0.01 eroded the "
    f"same way predicted above {whole_image.HALO_THRESHOLD}"
)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="keras-matting evaluate",
        description=(
            "Score alpha mattes against ground truth: SAD, MSE, gradient and connectivity "
            "errors over the trimap's unknown region (Rhemann et al. 2009, as in the "
            "evaluation code of Xu et al. 2017), and what users see: whole-image SAD and "
            "MSE, edge-band SAD, holes % and halo %, with no clamping."
        ),
        epilog=(
            "Standard protocol: the known regions of each prediction are clamped from the "
            "trimap (0 -> 0, 255 -> 1) before scoring; SAD, Grad and Conn are divided "
            "by 1000, MSE is the mean over the unknown pixels. What users see (always "
            "reported, no trimap needed): the prediction as it is, nothing clamped, over "
            "the whole image; band = dilate(gt > 0.5) - erode(gt > 0.5) with "
            f"{whole_image.BAND_KERNEL}x{whole_image.BAND_KERNEL} kernels; holes % = share of "
            f"the sure interior (gt > 0.99 eroded by {whole_image.SURE_KERNEL // 2} px) "
            f"predicted below {whole_image.HOLE_THRESHOLD}; halo % = share of the sure "
            f"exterior (gt < 0.01 eroded by {whole_image.SURE_KERNEL // 2} px) predicted above "
            f"{whole_image.HALO_THRESHOLD}; SADs divided by 1000. Alphas are scored as 8-bit "
            "values (16-bit or float files are rounded to 8 bits). Files are matched by name "
            "(the stem, any image extension)."
        ),
    )
    folders = parser.add_argument_group(
        "score saved predictions",
        "compare a folder of predicted alphas with ground truth (--pred and --gt needed; "
        "without --trimap only what users see is reported)",
    )
    folders.add_argument("--pred", metavar="DIR", help="predicted alpha mattes")
    folders.add_argument("--gt", metavar="DIR", help="ground-truth alpha mattes")
    folders.add_argument(
        "--trimap", metavar="DIR",
        help="trimaps that define the scored (unknown) region of the standard errors; "
        "optional",
    )
    output = parser.add_argument_group("output")
    output.add_argument(
        "--json", metavar="FILE", help="also write per-image and mean errors to FILE (JSON)"
    )
    bench = parser.add_argument_group(
        "run methods on a dataset",
        "run a model and/or baselines on every image of DIR (image/, alpha/, trimap/<NAME>/, "
        "mask/; portraits: image/ and alpha/) and write a report with the standard errors "
        "and what users see; exit 1 if a method failed on an image (recorded in the "
        "report), 2 on bad arguments or missing folders",
    )
    bench.add_argument("--dataset", metavar="DIR", help="evaluation folder")
    bench.add_argument(
        "--model", metavar="NAME|PATH",
        help="igf, a .keras generator (e.g. an AlphaGAN you trained), or 'none' to run only "
        "the baselines",
    )
    bench.add_argument(
        "--protocol", metavar="trimap:NAME|mask|portraits",
        help="trimap:NAME: scored on trimap/NAME, trimap methods get it, mask methods get "
        "its pixels >= 128 as mask; mask: mask methods get mask/, trimap methods a trimap "
        f"derived from it (unknown = dilate - erode, {MASK_KERNEL}x{MASK_KERNEL}), scored on "
        "trimap/Weak if present, else on that derived trimap; portraits: person photos "
        "with image/ and alpha/, mask methods get the automatic person mask (as --mask "
        "auto; mask/ instead when the dataset has it), trimap methods the trimap derived "
        "from it, standard errors scored on that derived trimap",
    )
    bench.add_argument(
        "--baseline", nargs="+", metavar="NAME", choices=BASELINES, default=[],
        help="classical baselines: closed-form and knn (pymatting, the [baselines] extra), "
        "guided-filter (fast guided filter, colour guide, r=64, eps=1e-5, s=4), mask (the "
        "mask itself as the alpha; --protocol mask or portraits)",
    )
    bench.add_argument("--report", metavar="DIR", help="report folder (created)")
    bench.add_argument("--limit", metavar="N", type=int, help="only the first N images by name")
    bench.add_argument(
        "--no-figures", action="store_true", help="skip the matplotlib figures"
    )
    return parser


def parse_args(args):
    parser = build_parser()
    namespace = parser.parse_args(args)
    dataset_options = ("dataset", "model", "protocol", "report", "limit")
    if any(getattr(namespace, name) is not None for name in dataset_options) or (
        namespace.baseline or namespace.no_figures
    ):
        mixed = [f"--{name}" for name in ("pred", "gt", "trimap", "json")
                 if getattr(namespace, name) is not None]
        if mixed:
            parser.error(f"{' '.join(mixed)} belong to the --pred mode; --dataset runs methods")
        missing = [f"--{name}" for name in ("dataset", "model", "protocol", "report")
                   if getattr(namespace, name) is None]
        if missing:
            parser.error(
                f"missing {' '.join(missing)}: --dataset, --model (or none), --protocol and "
                "--report are all needed"
            )
        if namespace.limit is not None and namespace.limit < 1:
            parser.error(f"--limit must be at least 1, got {namespace.limit}")
        return namespace
    missing = [f"--{name}" for name in ("pred", "gt") if getattr(namespace, name) is None]
    if missing:
        parser.error(
            f"missing {' '.join(missing)}: --pred and --gt are both needed (--trimap for the "
            "standard errors)"
        )
    return namespace


def _matched_files(pred_dir, gt_dir, trimap_dir=None):
    """Return ``[(name, pred, gt, trimap)]`` for every ground-truth file, and unused predictions.

    ``trimap`` is None for every file when ``trimap_dir`` is None.
    """
    from keras_matting.protocol import images_by_stem

    gts = images_by_stem(gt_dir, "ground-truth")
    preds = images_by_stem(pred_dir, "prediction")
    trimaps = images_by_stem(trimap_dir, "trimap") if trimap_dir is not None else None
    checks = [(pred_dir, preds, "prediction")]
    if trimaps is not None:
        checks.append((trimap_dir, trimaps, "trimap"))
    for folder, found, what in checks:
        missing = sorted(set(gts) - set(found))
        if missing:
            shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
            raise MattingInputError(
                f"{what} folder '{folder}' lacks {len(missing)} of the {len(gts)} ground-truth "
                f"names ({shown}): files are matched by name, add them or fix the folder"
            )
    extra = sorted(set(preds) - set(gts))
    files = [(name, preds[name], gts[name], trimaps[name] if trimaps is not None else None)
             for name in sorted(gts)]
    return files, extra


def _mean(values):
    """Mean of the finite values (None and NaN left out); None when there is none."""
    import math

    finite = [v for v in values if v is not None and math.isfinite(v)]
    return sum(finite) / len(finite) if finite else None


def score_keys(with_trimap=True):
    """The keys of a folder-mode row: the standard errors (with a trimap), then the user view."""
    return (*METRICS, *SCORE_KEYS) if with_trimap else SCORE_KEYS


def evaluate_folders(pred_dir, gt_dir, trimap_dir=None):
    """Score every ground-truth file; returns ``(rows, mean, unused_predictions)``.

    ``rows`` is a list of ``dict(name=, sad=, mse=, grad=, conn=, whole_sad=, whole_mse=,
    band_sad=, holes_pct=, halo_pct=)``: the standard errors on the prediction clamped from
    the trimap (left out when ``trimap_dir`` is None), what users see on the prediction as
    it is. ``mean`` has the same keys, the mean over the images where the value is
    finite (a percentage is NaN where its region is empty), None if there is none.
    """
    from keras_matting.io import quantize, read_alpha, read_trimap
    from keras_matting.metrics.reference import clamp_known, compute_metrics

    files, extra = _matched_files(pred_dir, gt_dir, trimap_dir)
    rows = []
    for name, pred_path, gt_path, trimap_path in files:
        gt = quantize(read_alpha(gt_path), 8)
        pred = quantize(read_alpha(pred_path), 8)
        if pred.shape != gt.shape:
            raise MattingInputError(
                f"prediction '{pred_path}' is {pred.shape[1]}x{pred.shape[0]} (width x height) "
                f"but ground truth '{gt_path}' is {gt.shape[1]}x{gt.shape[0]}: predict at the "
                "image's full resolution"
            )
        row = {"name": name}
        if trimap_path is not None:
            trimap = read_trimap(trimap_path, image_shape=gt.shape, image_path=gt_path)
            row.update(compute_metrics(clamp_known(pred, trimap), gt, trimap))
        row.update(whole_image.whole_image_scores(pred, gt))
        rows.append(row)
    keys = score_keys(trimap_dir is not None)
    mean = {key: _mean([row[key] for row in rows]) for key in keys}
    return rows, mean, extra


def format_table(rows, mean):
    """Plain-text table: one line per image, then the mean (columns: the keys of ``mean``)."""
    keys = [key for key in (*METRICS, *SCORE_KEYS) if key in mean]
    width = max(len("image"), len("mean"), *(len(row["name"]) for row in rows))
    header = f"{'image':<{width}}" + "".join(
        f"{_HEADERS[key]:>{len(_FORMATS[key].format(0.0))}}" for key in keys
    )
    lines = [header, "-" * len(header)]
    for row in [*rows, None, {"name": "mean", **mean}]:
        if row is None:
            lines.append("-" * len(header))
            continue
        values = "".join(
            _FORMATS[key].format(row[key]) if row[key] is not None
            else f"{'n/a':>{len(_FORMATS[key].format(0.0))}}"
            for key in keys
        )
        lines.append(f"{row['name']:<{width}}{values}")
    return "\n".join(lines)


def _evaluate(args):
    from keras_matting.evaluation.report import json_safe
    from keras_matting.io import atomic_write

    rows, mean, extra = evaluate_folders(args.pred, args.gt, args.trimap)
    print(format_table(rows, mean))
    if args.trimap is not None:
        print(f"{len(rows)} images; SAD, MSE, Grad, Conn: {PROTOCOL}")
        print(f"whole SAD, whole MSE, band SAD, holes %, halo %: {USER_PROTOCOL}")
    else:
        print(f"{len(rows)} images; no --trimap, so no standard errors; {USER_PROTOCOL}")
    if extra:
        print(f"note: {len(extra)} prediction(s) without ground truth ignored", file=sys.stderr)
    if args.json:
        report = {
            "pred": args.pred,
            "gt": args.gt,
            "trimap": args.trimap,
            "protocol": PROTOCOL if args.trimap is not None else None,
            "user_protocol": USER_PROTOCOL,
            "count": len(rows),
            "mean": mean,
            "images": rows,
        }
        text = json.dumps(json_safe(report), indent=2) + "\n"
        print(f"wrote {atomic_write(args.json, text)}")
    return 0


def _scoring_description(scoring, source="mask/"):
    if scoring == "derived":
        mask = "the automatic person mask" if source == "auto" else "mask/"
        return (f"the trimap derived from {mask} (unknown = dilate(mask, {MASK_KERNEL}x"
                f"{MASK_KERNEL}) - erode(mask, {MASK_KERNEL}x{MASK_KERNEL}))")
    return f"`{scoring}`"


def _evaluate_dataset(args, argv):
    import datetime

    from keras_matting.evaluation import benchmark, report

    protocol, trimap_name = benchmark.parse_protocol(args.protocol)
    if os.path.exists(args.report) and not os.path.isdir(args.report):
        raise MattingInputError(f"--report '{args.report}' is a file: pass a folder")
    # check the dataset before loading a model or running anything
    samples, scoring = benchmark.list_samples(args.dataset, protocol, trimap_name, args.limit)
    source = benchmark.mask_source(samples, protocol)
    methods = benchmark.resolve_methods(args.model, args.baseline, protocol)
    for method in methods:
        method["input"] = benchmark.input_description(method, protocol, trimap_name, source)
    try:
        os.makedirs(args.report, exist_ok=True)
    except OSError as exc:
        raise MattingInputError(
            f"cannot create --report '{args.report}': {exc.strerror or exc}"
        ) from None
    figures = {"grids": []}
    if args.no_figures:
        figures["skipped"] = "--no-figures"
    else:
        try:
            report.pyplot()
        except ImportError as exc:
            figures["skipped"] = str(exc)
            print(f"keras-matting: warning: {exc}", file=sys.stderr)
    labels = [m["label"] for m in methods]
    context = {
        "command": "keras-matting evaluate " + shlex.join(argv),
        "dataset": os.path.abspath(args.dataset),
        "limit": args.limit,
        "protocol": {
            "name": args.protocol,
            "kind": protocol,
            "trimap": trimap_name,
            "scoring_trimap": _scoring_description(scoring, source),
            "mask_source": source,
            "mask_description": benchmark.mask_description(source) if source else None,
            "inputs": {m["label"]: m["input"] for m in methods},
        },
        "metrics": PROTOCOL.replace("from the trimap", "from the scoring trimap"),
        "user_metrics": USER_PROTOCOL,
        "methods": [{k: m[k] for k in ("label", "kind", "condition", "input", "settings")}
                    for m in methods],
        "machine": report.machine_info(),
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    results_path = os.path.join(args.report, "results.json")
    done = []
    guide_title = {"auto": "auto mask", None: f"trimap/{trimap_name}"}.get(source, "mask")
    scoring_title = None if protocol == "trimap" else f"scored on {scoring.replace('derived', 'derived trimap')}"

    def on_image(row, data, scored):
        done.append(row)
        if data is not None and "skipped" not in figures:
            path = os.path.join(args.report, f"grid_{report.safe_name(row['name'])}.png")
            try:
                report.write_grid(path, row["name"], data, scored, labels, guide_title, scoring_title)
                figures["grids"].append((row["name"], os.path.basename(path)))
            except Exception as exc:  # a figure must not lose the scores
                print(f"keras-matting: warning: grid of {row['name']} not written: "
                      f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}", file=sys.stderr)
        # rewritten after every image, so an interrupted run keeps what it measured
        partial = benchmark.summarize(done, methods)
        report.write_results(results_path, report.results_document(context, done, partial, False))

    rows, _ = benchmark.run_benchmark(args.dataset, methods, protocol, trimap_name, args.limit,
                                      on_image=on_image)
    summary = benchmark.summarize(rows, methods)
    context["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec="seconds")
    document = report.results_document(context, rows, summary)
    if "skipped" not in figures:
        try:
            report.write_sad_figure(os.path.join(args.report, "sad_per_image.png"), rows, labels)
            figures["sad"] = "sad_per_image.png"
        except Exception as exc:
            print(f"keras-matting: warning: sad_per_image.png not written: {exc}", file=sys.stderr)
    report.write_results(results_path, document)
    markdown = report.format_markdown(document, figures)
    report.write_markdown(os.path.join(args.report, "report.md"), markdown)
    print("\n".join(report.format_mean_table(document)))
    print(f"\n{report.USER_TITLE}:")
    print("\n".join(report.format_user_table(document)))
    failed = len(document["failures"])
    print(f"{len(rows)} images, {len(methods)} method(s); report in '{args.report}'"
          + (f"; {failed} failed run(s), listed in report.md" if failed else ""))
    return 1 if failed else 0


def main(argv=None):
    from keras_matting.cli.main import run_guarded

    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    if args.dataset is not None:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        return run_guarded(_evaluate_dataset, args, argv)
    return run_guarded(_evaluate, args)


if __name__ == "__main__":
    sys.exit(main())
