"""Run matting methods on an evaluation dataset and score them (``keras-matting evaluate --dataset``).

The dataset has the evaluation layout of ``../shared/data/alphamatting_val``: ``image/``,
``alpha/``, ``trimap/<NAME>/`` and/or ``mask/``, files matched by stem. Three protocols:

- ``trimap:NAME``: scored on ``trimap/NAME``. Trimap methods (AlphaGAN, closed-form, KNN)
  get that trimap; mask methods (IGF, the guided filter) get its foreground and unknown
  pixels (``trimap >= 128``) as their mask.
- ``mask``: the weak-mask protocol of the IGF paper (Li et al. 2019, sec. 4.1). Mask
  methods get ``mask/``; trimap methods get the trimap derived from the mask (unknown =
  dilate(mask, 20x20) - erode(mask, 20x20)). Scored on ``trimap/Weak`` when the dataset
  has it, else on that same derived trimap (identical on alphamatting_val, see
  :mod:`keras_matting.protocol`).
- ``portraits``: person photos with ``image/`` and ``alpha/`` only, the layout of
  ``../shared/data/portraits_val``. Mask methods get the automatic person mask
  (:func:`keras_matting.inference.person_mask.person_mask`, what ``--mask auto`` uses),
  or ``mask/`` when the dataset has one; trimap methods get the trimap derived from that
  mask as in the ``mask`` protocol. The standard errors are scored on that derived trimap.

The baseline ``mask`` is no matting at all: the binary mask given to the mask methods,
taken as the alpha ("the mask itself"); it exists under the mask-based protocols only.

Each alpha goes through :func:`keras_matting.api.matte` (what a user gets). Two sets of
errors are computed on it:

- the standard errors: quantised to 8 bits, its known region clamped from the scoring
  trimap, SAD, MSE, Grad and Conn with :mod:`keras_matting.metrics.reference` over the
  unknown region (the protocol of ``keras-matting evaluate --pred --trimap``);
- what a user sees, on the same alpha without clamping, against the ground truth alone:
  whole-image SAD and MSE, band SAD, holes % and halo %
  (:mod:`keras_matting.metrics.whole_image`).

A method that fails on an image is recorded with a one-line reason; the others go on.
"""

import os
import sys
import time

import numpy as np

from keras_matting.errors import MattingInputError
from keras_matting.metrics import whole_image
from keras_matting.protocol import SCORING_KERNEL

__all__ = [
    "BASELINES",
    "MASK_KERNEL",
    "PROTOCOLS",
    "SCORE_KEYS",
    "input_description",
    "list_samples",
    "load_sample",
    "mask_description",
    "mask_source",
    "parse_protocol",
    "predict",
    "resolve_methods",
    "run_benchmark",
    "score",
    "summarize",
]

BASELINES = ("closed-form", "knn", "guided-filter", "mask")
MASK_BASELINE = "mask"  # the binary mask itself as the alpha
PROTOCOLS = ("trimap:NAME", "mask", "portraits")
MASK_KERNEL = SCORING_KERNEL
WEAK_TRIMAP = "Weak"
METRICS = ("sad", "mse", "grad", "conn")
SCORE_KEYS = whole_image.SCORE_KEYS  # what users see: whole image, no clamping
AUTO_MASK = "auto"

_BASELINE_SETTINGS = {
    "closed-form": "pymatting estimate_alpha_cf, defaults (Levin et al. 2008)",
    "knn": "pymatting estimate_alpha_knn, defaults (Chen et al. 2013)",
    "guided-filter": "fast guided filter, colour guide, r=64, eps=1e-5, s=4 (He & Sun 2015)",
    "mask": "no matting: the binary mask given to the mask methods, taken as the alpha",
}
_BASELINE_CONDITIONS = {"mask": "mask"}


def _method(label, model, condition, kind, settings):
    """One method to evaluate: label, what runs (a name or a generator), what guides it."""
    return {"label": label, "model": model, "condition": condition, "kind": kind,
            "settings": settings}


def _one_line(text):
    return " ".join(str(text).split())


def parse_protocol(text):
    """``"mask"`` -> ``("mask", None)``; ``"portraits"`` -> ``("portraits", None)``;
    ``"trimap:NAME"`` -> ``("trimap", NAME)``."""
    text = str(text).strip()
    if text in ("mask", "portraits"):
        return text, None
    if text.startswith("trimap:"):
        name = text[len("trimap:") :]
        if name and "/" not in name and "\\" not in name and name not in (".", ".."):
            return "trimap", name
    raise MattingInputError(
        f"--protocol {text!r} is not 'mask', 'portraits' or 'trimap:NAME' (NAME a folder "
        "under trimap/, e.g. trimap:Trimap1)"
    )


def resolve_methods(model, baselines, protocol=None):
    """The method dicts: the model (unless ``None``/``"none"``), then the baselines.

    ``protocol`` (``"trimap"``, ``"mask"``, ``"portraits"`` or None) is checked against
    the baselines before any model is loaded: ``mask`` needs a mask-based protocol.

    Raises:
        MattingInputError: the model cannot be loaded, a baseline does not fit the
            protocol, or there is nothing to run.
    """
    from keras_matting.models.registry import CLASSICAL_MODELS, condition_of, load

    if protocol == "trimap" and MASK_BASELINE in (baselines or ()):
        raise MattingInputError(
            "--baseline mask scores the mask itself, and --protocol trimap:NAME has no mask "
            "(mask methods get trimap >= 128): use it with --protocol mask or portraits"
        )
    methods = []
    if model is not None and str(model).lower() != "none":
        if isinstance(model, str) and model in CLASSICAL_MODELS:
            raise MattingInputError(
                f"--model {model} is a classical method: pass it with --baseline {model} "
                "(and --model none, or a Keras model)"
            )
        generator = load(model)
        path = os.fspath(model)
        label = path if path in ("alphagan", "igf") else os.path.splitext(os.path.basename(path))[0]
        settings = f"{type(generator).__name__} from '{path}'"
        methods.append(_method(label, generator, condition_of(generator), "model", settings))
    seen = set()
    for name in baselines or ():
        if name not in BASELINES:
            raise MattingInputError(
                f"--baseline {name!r} is unknown: use {', '.join(BASELINES)}"
            )
        if name in seen:
            continue
        seen.add(name)
        condition = _BASELINE_CONDITIONS.get(name) or CLASSICAL_MODELS[name]
        methods.append(_method(name, name, condition, "baseline", _BASELINE_SETTINGS[name]))
    labels = [m["label"] for m in methods]
    for method in methods:
        if method["kind"] == "model" and labels.count(method["label"]) > 1:
            method["label"] = f"{method['label']} (model)"
    if not methods:
        raise MattingInputError(
            "nothing to evaluate: --model none needs at least one --baseline "
            f"({', '.join(BASELINES)})"
        )
    return methods


def _folder_files(folder, what, names):
    from keras_matting.protocol import images_by_stem

    found = images_by_stem(folder, what)
    missing = [n for n in names if n not in found]
    if missing:
        shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
        raise MattingInputError(
            f"{what} folder '{folder}' lacks {len(missing)} of the {len(names)} image names "
            f"({shown}): files are matched by name, add them or fix the folder"
        )
    return [found[n] for n in names]


def list_samples(root, protocol, trimap_name=None, limit=None):
    """Paths of the dataset, one dict per image (sorted by name, the first ``limit``).

    Returns:
        ``(samples, scoring)``: ``samples`` is a list of ``{"name", "image", "alpha",
        "trimap"?, "mask"?}``; ``scoring`` says where the scoring trimap comes from
        (``"trimap/NAME"``, or ``"derived"`` for the mask protocol without trimap/Weak and
        for the portraits protocol). Under ``portraits`` a sample has ``"mask"`` only when
        the dataset has ``mask/`` (else the mask is computed: :func:`mask_source`).

    Raises:
        MattingInputError: a missing folder or file.
    """
    from keras_matting.protocol import images_by_stem

    root = os.fspath(root)
    if not os.path.isdir(root):
        raise MattingInputError(
            f"dataset folder '{root}' does not exist: pass a folder with image/, alpha/, "
            "trimap/<NAME>/ and/or mask/ (portraits: image/ and alpha/)"
        )
    images = images_by_stem(os.path.join(root, "image"), "image")
    names = sorted(images)
    if limit is not None:
        names = names[: int(limit)]
    samples = [{"name": n, "image": images[n]} for n in names]
    columns = {"alpha": ("alpha", "ground-truth alpha")}
    scoring = None
    if protocol == "trimap":
        columns["trimap"] = (os.path.join("trimap", trimap_name), "trimap")
        scoring = f"trimap/{trimap_name}"
    elif protocol == "portraits":
        if os.path.isdir(os.path.join(root, "mask")):
            columns["mask"] = ("mask", "mask")
        scoring = "derived"
    else:
        columns["mask"] = ("mask", "mask")
        weak = os.path.join(root, "trimap", WEAK_TRIMAP)
        if os.path.isdir(weak):
            columns["trimap"] = (os.path.join("trimap", WEAK_TRIMAP), "trimap")
            scoring = f"trimap/{WEAK_TRIMAP}"
        else:
            scoring = "derived"
    for key, (folder, what) in columns.items():
        paths = _folder_files(os.path.join(root, folder), what, names)
        for sample, path in zip(samples, paths, strict=True):
            sample[key] = path
    return samples, scoring


def mask_source(samples, protocol):
    """Where the mask of the mask methods comes from: ``"mask/"``, ``"auto"`` or None.

    ``"auto"``: the portraits protocol on a dataset without ``mask/``, the automatic person
    mask; None under ``trimap:NAME`` (the mask is ``trimap >= 128``).
    """
    if protocol == "trimap":
        return None
    if protocol == "portraits" and not all("mask" in s for s in samples):
        return AUTO_MASK
    return "mask/"


def mask_description(source):
    """The mask given to the mask methods, in words (for the report)."""
    if source == AUTO_MASK:
        return ("the automatic person mask (MediaPipe selfie segmenter, probability > 0.5, "
                "what --mask auto uses)")
    return "mask/"


def input_description(method, protocol, trimap_name, source="mask/"):
    """What ``method`` is given under ``protocol`` (one line, for the report).

    ``source`` is the mask source of :func:`mask_source` (mask-based protocols).
    """
    if protocol == "trimap":
        if method["condition"] == "trimap":
            return f"image + trimap/{trimap_name}"
        return f"image + mask = trimap/{trimap_name} >= 128 (foreground and unknown)"
    mask = "automatic person mask" if source == AUTO_MASK else "mask/"
    if _is_mask_baseline(method):
        return f"{mask} itself, as the alpha"
    if method["condition"] == "mask":
        return f"image + {mask}"
    return (
        f"image + trimap derived from {mask} (unknown = dilate(mask, "
        f"{MASK_KERNEL}x{MASK_KERNEL}) - erode(mask, {MASK_KERNEL}x{MASK_KERNEL}))"
    )


def _derived_trimap(mask):
    from keras_matting.protocol import scoring_trimap_np, trimap_to_uint8

    return trimap_to_uint8(scoring_trimap_np(mask, MASK_KERNEL))


def _auto_mask(image, image_path):
    from keras_matting.inference.person_mask import person_mask

    try:
        mask = person_mask(image)
    except ImportError as exc:
        raise MattingInputError(
            f"the automatic person mask of '{image_path}' needs the LiteRT interpreter "
            f"({exc}): install ai-edge-litert, or add a mask/ folder to the dataset"
        ) from None
    if not mask.any():
        raise MattingInputError(
            f"the automatic person mask found no person in image '{image_path}': add "
            "mask/<name> files to the dataset, or leave this image out"
        )
    return mask


def load_sample(sample, protocol):
    """Arrays of one sample: image, gt (uint8), scoring trimap, and each condition's guide.

    Under ``portraits`` without ``sample["mask"]`` the mask is the automatic person mask
    of the image.

    Returns:
        dict with ``image`` (float32 HxWx3), ``gt`` (uint8 HxW), ``scoring`` (uint8
        {0, 128, 255}), ``trimap`` (uint8, the trimap given to trimap methods) and
        ``mask`` (float32 {0, 1}, the mask given to mask methods).
    """
    from keras_matting.io import quantize, read_alpha, read_image, read_mask, read_trimap

    image = read_image(sample["image"])
    gt = quantize(read_alpha(sample["alpha"]), 8)
    if gt.shape != image.shape[:2]:
        raise MattingInputError(
            f"ground truth '{sample['alpha']}' is {gt.shape[1]}x{gt.shape[0]} but image "
            f"'{sample['image']}' is {image.shape[1]}x{image.shape[0]} (width x height)"
        )
    out = {"image": image, "gt": gt}
    if protocol == "trimap":
        trimap = read_trimap(sample["trimap"], image.shape, sample["image"])
        out.update(scoring=trimap, trimap=trimap, mask=(trimap >= 128).astype(np.float32))
    else:
        if "mask" in sample:
            mask = read_mask(sample["mask"], image.shape, sample["image"])
            what = f"mask '{sample['mask']}'"
        else:
            mask = _auto_mask(image, sample["image"])
            what = f"the automatic person mask of '{sample['image']}'"
        derived = _derived_trimap(mask)
        if "trimap" in sample:
            scoring = read_trimap(sample["trimap"], image.shape, sample["image"])
        else:
            scoring = derived
            if not np.any(scoring == 128):
                raise MattingInputError(
                    f"{what} is empty or full: its derived scoring trimap has no unknown "
                    "pixel; use a mask with both person and background"
                )
        out.update(scoring=scoring, trimap=derived, mask=mask)
    return out


def _is_mask_baseline(method):
    return method["kind"] == "baseline" and method["model"] == MASK_BASELINE


def predict(method, data):
    """Alpha (float32 HxW) of ``method`` on one loaded sample, through ``matte``.

    The ``mask`` baseline returns the mask itself.
    """
    from keras_matting.api import matte

    if _is_mask_baseline(method):
        return np.asarray(data["mask"], np.float32).copy()
    if method["condition"] == "trimap":
        return matte(data["image"], trimap=data["trimap"], model=method["model"])
    return matte(data["image"], mask=data["mask"], model=method["model"])


def score(alpha, data):
    """Errors of one alpha: ``(scored, metrics)``.

    ``scored`` is the alpha in 8 bits with its known region clamped from the scoring
    trimap; ``metrics`` has the standard errors of ``scored`` (``sad``, ``mse``, ``grad``,
    ``conn``) and what a user sees on the unclamped alpha (:data:`SCORE_KEYS`:
    ``whole_sad``, ``whole_mse``, ``band_sad``, ``holes_pct``, ``halo_pct``).
    """
    from keras_matting.io import quantize
    from keras_matting.metrics.reference import clamp_known, compute_metrics

    alpha8 = quantize(alpha, 8)
    scored = clamp_known(alpha8, data["scoring"])
    metrics = compute_metrics(scored, data["gt"], data["scoring"])
    metrics.update(whole_image.whole_image_scores(alpha8, data["gt"]))
    return scored, metrics


def _error_text(exc):
    if isinstance(exc, MattingInputError):
        return _one_line(exc)[:300]
    if isinstance(exc, MemoryError):
        return "out of memory"
    return f"{type(exc).__name__}: {_one_line(exc)[:300]}"


def run_benchmark(dataset, methods, protocol, trimap_name=None, limit=None, on_image=None,
                  progress=True):
    """Run every method on every image; returns the per-image results.

    Args:
        dataset: evaluation folder.
        methods: list of method dicts (see :func:`resolve_methods`).
        protocol: ``"trimap"``, ``"mask"`` or ``"portraits"``; ``trimap_name`` for the
            first.
        limit: only the first ``limit`` images (sorted by name).
        on_image: optional callback ``on_image(row, data, scored)`` after each image, with
            the loaded arrays and ``{label: scored uint8 alpha}`` (for figures and
            incremental writes); ``data`` is None when the image could not be read.
        progress: show a tqdm bar (images x methods) on stderr.

    Returns:
        ``(rows, scoring)``: ``rows`` is a list of ``{"name", "width", "height",
        "methods": {label: {"sad", "mse", "grad", "conn", *SCORE_KEYS, "seconds"} or
        {"error"}}}`` (``seconds`` is None for the ``mask`` baseline, which runs nothing).
    """
    from tqdm import tqdm

    samples, scoring = list_samples(dataset, protocol, trimap_name, limit)
    warmed = set()
    rows = []
    bar = tqdm(total=len(samples) * len(methods), unit="run", desc="evaluate", file=sys.stderr,
               disable=not progress or None, dynamic_ncols=True)
    try:
        for sample in samples:
            row = {"name": sample["name"], "width": None, "height": None, "methods": {}}
            scored_alphas = {}
            try:
                data = load_sample(sample, protocol)
                row["height"], row["width"] = data["gt"].shape
            except Exception as exc:  # a bad image is recorded for every method
                data = None
                reason = f"input: {_error_text(exc)}"
                for method in methods:
                    row["methods"][method["label"]] = {"error": reason}
                tqdm.write(f"keras-matting: failed {sample['name']}: {reason}", file=sys.stderr)
                bar.update(len(methods))
            for method in methods if data is not None else ():
                bar.set_postfix_str(f"{sample['name']} {method['label']}", refresh=False)
                try:
                    if method["kind"] == "model" and method["label"] not in warmed:
                        # the first call traces the graph: not part of the measured runtime
                        predict(method, data)
                        warmed.add(method["label"])
                    start = time.perf_counter()
                    alpha = predict(method, data)
                    # the mask baseline runs nothing: no runtime to compare
                    seconds = None if _is_mask_baseline(method) else time.perf_counter() - start
                    scored, metrics = score(alpha, data)
                except Exception as exc:
                    reason = _error_text(exc)
                    row["methods"][method["label"]] = {"error": reason}
                    tqdm.write(f"keras-matting: {method['label']} failed on {sample['name']}: {reason}",
                               file=sys.stderr)
                else:
                    row["methods"][method["label"]] = {**metrics, "seconds": seconds}
                    scored_alphas[method["label"]] = scored
                bar.update(1)
            rows.append(row)
            if on_image is not None:
                on_image(row, data, scored_alphas)
    finally:
        bar.close()
    return rows, scoring


def summarize(rows, methods):
    """Per method: means of the metrics and seconds over the images it succeeded on.

    A value that is None or not finite (MSE of an empty region, holes % of an image
    without sure interior) is left out of its mean; a mean of nothing is None.
    """
    summary = {}
    for method in methods:
        ok = [r["methods"][method["label"]] for r in rows if "error" not in r["methods"][method["label"]]]
        entry = {"count": len(ok), "failed": len(rows) - len(ok)}
        for key in (*METRICS, *SCORE_KEYS, "seconds"):
            values = [v[key] for v in ok if v.get(key) is not None and np.isfinite(v[key])]
            entry[key] = float(np.mean(values)) if values else None
        summary[method["label"]] = entry
    return summary
