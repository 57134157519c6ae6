"""``keras-matting predict``: alpha mattes, cutouts and composites for an image or a folder.

    keras-matting predict --model igf|closed-form|knn|guided-filter|PATH
        --image FILE|DIR (--trimap FILE|DIR | --mask FILE|DIR|auto) --out DIR
        [--cutout] [--background FILE|#RRGGBB] [--max-side N] [--trimap-from-mask PX]
        [--bits 8|16]

Writes, atomically, ``DIR/<stem>.png`` (alpha), ``DIR/<stem>_cutout.png`` (RGBA with the
estimated foreground colours) and ``DIR/<stem>_composite.png``. Folders are matched by
file stem. Exit status: 0 all written; 1 some images failed (each reported on one line,
the others written, a summary at the end); 2 bad arguments, or a single image that cannot
be processed.

Everything that can be checked is checked before the first image is computed (exit 2):
the inputs exist; ``--out`` is not a file, has no image extension (``--out alpha.png``
is refused: it is a folder), is an existing folder or can be created under an existing
one, and is writable (a probe file is created and removed; the folder itself is created
only when the first output is written); ``--background`` decodes. ``--out`` may not
produce a file with the stem of an input in the same folder: in a folder run, writing
into the image (or trimap / mask) folder is refused, since the outputs would overwrite
the inputs or share their stems (the next run on that folder would stop on duplicate
names, or take the outputs for inputs); use a subfolder such as ``--out photos/mattes``.
A single-image run may write next to its image (``--out .``): only overwriting an input
is refused, and a warning says when an output shares the image's stem.

Large images run by a trimap-guided network (AlphaGAN) are tiled; a progress bar of the
tiles appears on stderr when the image takes more than a few seconds.
"""

import argparse
import os
import sys
import time
import warnings

from keras_matting.errors import MattingInputError

MODELS = ("igf", "closed-form", "knn", "guided-filter")
EXIT_SOME_FAILED = 1
DEBUG_ENV = "KERAS_MATTING_DEBUG"
PROGRESS_DELAY_S = 3.0  # the tile progress bar shows only for runs longer than this


def build_parser():
    parser = argparse.ArgumentParser(
        prog="keras-matting predict",
        description="Compute alpha mattes (and cutouts, composites) for an image or a folder.",
        epilog=(
            "Models: igf (needs a mask), closed-form and knn "
            '(trimap; pip install "keras-matting[baselines]"), guided-filter (mask; fast '
            "guided filter r=64, eps=1e-5, s=4), or a path to a .keras generator (an "
            "AlphaGAN you trained with keras-matting train alphagan needs a trimap). Trimap "
            "values < 85 are background, > 170 foreground, the rest unknown; known pixels "
            "are kept exactly. Folders are matched by file stem. Example: keras-matting "
            "predict --model igf --image photos/ --mask auto --out mattes/ --cutout"
        ),
    )
    parser.add_argument(
        "--model", required=True, metavar="NAME|PATH",
        help=f"one of {', '.join(MODELS)}, or a .keras file",
    )
    parser.add_argument("--image", required=True, metavar="FILE|DIR", help="image or folder")
    guide = parser.add_mutually_exclusive_group(required=True)
    guide.add_argument("--trimap", metavar="FILE|DIR", help="trimap (or folder of trimaps)")
    guide.add_argument(
        "--mask", metavar="FILE|DIR|auto",
        help="binary mask (or folder); 'auto': person mask from MediaPipe's selfie segmenter",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (created)")
    parser.add_argument(
        "--cutout", action="store_true",
        help="also write <stem>_cutout.png: RGBA with the estimated foreground colours",
    )
    parser.add_argument(
        "--background", metavar="FILE|#RRGGBB",
        help="also write <stem>_composite.png on this image (resized to cover) or colour",
    )
    parser.add_argument(
        "--max-side", type=int, metavar="N",
        help="infer at most N pixels on the longer side (faster); alpha is upscaled back",
    )
    parser.add_argument(
        "--trimap-from-mask", type=int, metavar="PX",
        help="derive a trimap from the mask with an unknown band of PX pixels each side",
    )
    parser.add_argument(
        "--bits", type=int, choices=(8, 16), default=8, help="bit depth of the alpha PNG (8)"
    )
    return parser


def parse_args(args):
    return build_parser().parse_args(args)


def _one_line(text):
    return " ".join(str(text).split())


def _resolve_model(name):
    """``(model, condition)``: a classical name or a loaded generator, and what guides it."""
    from keras_matting.models.registry import CLASSICAL_MODELS, condition_of, load_inference

    if name in CLASSICAL_MODELS:
        return name, CLASSICAL_MODELS[name]
    model = load_inference(name)
    return model, condition_of(model)


def _check_guidance(args, condition, model_name):
    if condition == "trimap" and args.trimap is None and args.trimap_from_mask is None:
        raise MattingInputError(
            f"model '{model_name}' needs a trimap but only --mask was given: pass --trimap, "
            "or add --trimap-from-mask PX to derive one from the mask"
        )
    if condition == "mask" and args.mask is None:
        raise MattingInputError(
            f"model '{model_name}' needs a mask, not a trimap: pass --mask FILE|DIR, or "
            "--mask auto for person photos"
        )


def _background(value):
    if value is None:
        return None
    from keras_matting.api import parse_background

    parsed = parse_background(value)
    if isinstance(parsed, tuple):
        return parsed
    if value.startswith("#"):
        raise MattingInputError(
            f"--background {value!r} is not a #RRGGBB colour (six hex digits, e.g. #00b140)"
        )
    if not os.path.isfile(value):
        raise MattingInputError(
            f"background file '{value}' does not exist: pass an image or a #RRGGBB colour"
        )
    from keras_matting.io import read_image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_image(value, what="background")


def _jobs(args):
    """List of ``(stem, image path, guide path | "auto" | None, error | None)``."""
    from keras_matting.protocol import images_by_stem

    guide = args.trimap if args.trimap is not None else args.mask
    what = "trimap" if args.trimap is not None else "mask"
    if not os.path.exists(args.image):
        raise MattingInputError(f"image '{args.image}' does not exist: check the path")
    if guide != "auto" and not os.path.exists(guide):
        raise MattingInputError(f"{what} '{guide}' does not exist: check the path")
    if os.path.isdir(args.image):
        images = images_by_stem(args.image, "image")
        if guide != "auto" and not os.path.isdir(guide):
            raise MattingInputError(
                f"--{what} must be a folder (or 'auto') when --image is a folder, got '{guide}'"
            )
    else:
        images = {os.path.splitext(os.path.basename(args.image))[0]: args.image}
    guides = images_by_stem(guide, what) if guide != "auto" and os.path.isdir(guide) else None
    jobs = []
    for stem, path in images.items():
        if guides is None:
            jobs.append((stem, path, guide, None))
        elif stem in guides:
            jobs.append((stem, path, guides[stem], None))
        else:
            error = f"no {what} named '{stem}.*' in '{guide}' for image '{path}'"
            jobs.append((stem, path, None, error))
    return jobs


def _check_out(out):
    """Refuse an ``--out`` that is a file, looks like one, or cannot be written (nothing made)."""
    import tempfile

    from keras_matting.protocol import IMAGE_EXTENSIONS

    hint = "outputs are written inside it as <stem>.png"
    if not out:
        raise MattingInputError(f"--out is empty: pass a folder ({hint})")
    if os.path.exists(out) and not os.path.isdir(out):
        raise MattingInputError(f"--out '{out}' is a file, not a folder: pass a folder ({hint})")
    if not os.path.isdir(out):
        if os.path.splitext(out.rstrip("/\\"))[1].lower() in IMAGE_EXTENSIONS:
            parent = os.path.dirname(out.rstrip("/\\"))
            raise MattingInputError(
                f"--out '{out}' looks like an image file name, but --out is a folder ({hint}): "
                f"pass a folder, e.g. --out '{os.path.join(parent, 'mattes')}'"
            )
        existing = os.path.dirname(os.path.abspath(out))
        while not os.path.exists(existing):
            existing = os.path.dirname(existing)
        if not os.path.isdir(existing):
            raise MattingInputError(
                f"--out '{out}' cannot be created: '{existing}' is a file, not a folder; "
                "pass another folder"
            )
    else:
        existing = out
    try:
        fd, probe = tempfile.mkstemp(prefix=".keras-matting-probe-", dir=existing)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        where = "" if existing == out else f" (to create it in '{existing}')"
        raise MattingInputError(
            f"cannot write to --out '{out}'{where}: {exc.strerror or exc}; choose a writable "
            "folder"
        ) from None


def _check_collisions(args, jobs, single):
    """Refuse outputs that overwrite inputs, or (folder runs) share an input's stem."""
    out = os.path.realpath(args.out)
    outputs = {}
    for stem, *_ in jobs:
        for path in _outputs(args, stem).values():
            outputs[os.path.splitext(os.path.basename(path))[0]] = path
    inputs = [p for _, image, guide, _ in jobs for p in (image, guide) if p and p != "auto"]
    if args.background is not None and os.path.isfile(args.background):
        inputs.append(args.background)
    suggestion = os.path.join(args.out, "mattes")
    for path in inputs:
        real = os.path.realpath(path)
        stem = os.path.splitext(os.path.basename(real))[0]
        if os.path.dirname(real) != out or stem not in outputs:
            continue
        output = outputs[stem]
        if os.path.realpath(output) == real:
            raise MattingInputError(
                f"output '{output}' would overwrite an input file ('{path}'): choose another "
                f"--out folder, e.g. --out '{suggestion}'"
            )
        message = (
            f"output '{output}' shares the stem '{stem}' of the input '{path}' in the same "
            "folder, so a later folder run there would stop on duplicate names"
        )
        if single:
            print(f"keras-matting: warning: {message}", file=sys.stderr)
            return
        raise MattingInputError(
            f"--out '{args.out}' holds the inputs: {message} (or read the outputs as inputs); "
            f"choose another folder, e.g. --out '{suggestion}'"
        )


def _outputs(args, stem):
    paths = {"alpha": os.path.join(args.out, f"{stem}.png")}
    if args.cutout:
        paths["cutout"] = os.path.join(args.out, f"{stem}_cutout.png")
    if args.background is not None:
        paths["composite"] = os.path.join(args.out, f"{stem}_composite.png")
    return paths


def _tile_progress(stem):
    """``(callback, close)``: a tile progress bar on stderr, shown after PROGRESS_DELAY_S."""
    from tqdm import tqdm

    bars = []

    def progress(done, total):
        if not bars:
            bars.append(tqdm(total=total, desc=stem, unit="tile", file=sys.stderr, leave=False,
                             delay=PROGRESS_DELAY_S, dynamic_ncols=True))
        bars[0].update(done - bars[0].n)

    def close():
        for bar in bars:
            bar.close()

    return progress, close


def _process(args, model, image_path, guide_path, background, paths, inputs, progress=None):
    """Compute everything for one image, then write its files (nothing written on error)."""
    import numpy as np

    from keras_matting.api import composite, matte
    from keras_matting.inference.foreground import estimate_foreground
    from keras_matting.io import read_image, write_alpha, write_cutout, write_image

    for path in paths.values():
        if os.path.realpath(path) in inputs:
            raise MattingInputError(
                f"output '{path}' would overwrite an input file: choose another --out folder"
            )
    alpha = matte(
        image_path,
        trimap=guide_path if args.trimap is not None else None,
        mask=guide_path if args.mask is not None else None,
        model=model,
        trimap_from_mask_px=args.trimap_from_mask,
        max_side=args.max_side,
        progress=progress,
    )
    results = {"alpha": alpha}
    if "cutout" in paths or "composite" in paths:
        image = read_image(image_path)
        fg = estimate_foreground(image, alpha)
        if "cutout" in paths:
            results["cutout"] = fg
        if "composite" in paths:
            results["composite"] = composite(alpha, fg, background)
    for kind, path in paths.items():
        if kind == "alpha":
            write_alpha(path, alpha, bits=args.bits)
        elif kind == "cutout":
            write_cutout(path, results["cutout"], alpha)
        else:
            write_image(path, np.clip(results["composite"], 0, 1))
    return alpha.shape


def _predict(args):
    start = time.perf_counter()
    if args.max_side is not None and args.max_side < 8:
        raise MattingInputError(f"--max-side must be at least 8 pixels, got {args.max_side}")
    if args.trimap_from_mask is not None and args.trimap_from_mask < 1:
        raise MattingInputError(f"--trimap-from-mask must be >= 1 pixel, got {args.trimap_from_mask}")
    jobs = _jobs(args)
    single = len(jobs) == 1 and not os.path.isdir(args.image)
    _check_out(args.out)
    _check_collisions(args, jobs, single)
    if os.path.isdir(args.out):  # what a run killed while writing left behind
        from keras_matting.tempfiles import remove_stale_temporaries

        remove_stale_temporaries(args.out)
    background = _background(args.background)
    model, condition = _resolve_model(args.model)
    _check_guidance(args, condition, args.model)
    inputs = {os.path.realpath(p) for _, p, g, _ in jobs for p in (p, g) if p and p != "auto"}

    from tqdm import tqdm

    ok, failed = 0, []
    debug = bool(os.environ.get(DEBUG_ENV))
    bar = tqdm(jobs, unit="image", file=sys.stderr, disable=single or None, dynamic_ncols=True)
    for stem, image_path, guide_path, error in bar:
        bar.set_postfix_str(stem, refresh=False)
        paths = _outputs(args, stem)
        try:
            if error is not None:
                raise MattingInputError(error)
            progress, close_progress = _tile_progress(stem)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    shape = _process(
                        args, model, image_path, guide_path, background, paths, inputs, progress
                    )
                finally:
                    close_progress()
            said = set()  # the image is read twice with --cutout/--composite: say it once
            for warning in caught:
                # our own input warnings (e.g. a transparent RGBA image), one line each
                text = _one_line(warning.message)
                if text not in said and (
                    "keras_matting" in warning.filename or "keras-matting" in text
                ):
                    said.add(text)
                    tqdm.write(f"keras-matting: warning: {text}", file=sys.stderr)
        except MattingInputError as exc:
            if single:
                raise
            failed.append(stem)
            tqdm.write(f"keras-matting: skipped {stem}: {_one_line(exc)}", file=sys.stderr)
            continue
        except MemoryError:
            message = f"out of memory on '{image_path}': retry with --max-side 2048"
            if single:
                raise MattingInputError(message) from None
            failed.append(stem)
            tqdm.write(f"keras-matting: skipped {stem}: {message}", file=sys.stderr)
            continue
        except Exception as exc:  # never a traceback for one bad image
            if debug:
                raise
            failed.append(stem)
            tqdm.write(
                f"keras-matting: failed {stem} ('{image_path}'): {type(exc).__name__}: "
                f"{_one_line(exc)[:300]} (set {DEBUG_ENV}=1 for the traceback)",
                file=sys.stderr,
            )
            continue
        ok += 1
        if single:
            height, width = shape
            written = ", ".join(paths.values())
            print(f"wrote {written} ({args.model}, {width}x{height}, {args.bits}-bit, "
                  f"{time.perf_counter() - start:.2f} s)")
    bar.close()
    if not single:
        seconds = time.perf_counter() - start
        summary = f"{ok} ok, {len(failed)} failed in {seconds:.1f} s; outputs in '{args.out}'"
        if failed:
            shown = ", ".join(failed[:10]) + (", ..." if len(failed) > 10 else "")
            summary += f"; failed: {shown}"
        print(summary)
    return EXIT_SOME_FAILED if failed else 0


def main(argv=None):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from keras_matting.cli.main import run_guarded

    args = parse_args(sys.argv[1:] if argv is None else list(argv))
    return run_guarded(_predict, args)


if __name__ == "__main__":
    sys.exit(main())
