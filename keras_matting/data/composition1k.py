"""Rebuild the Composition-1k test set (Xu et al., CVPR 2017) from the Adobe dataset.

Users who hold the Adobe Deep Image Matting dataset (foregrounds, alphas and the name
lists ``test_fg_names.txt`` / ``test_bg_names.txt``) and the PASCAL VOC 2012 backgrounds
can rebuild the 1,000 test composites pixel for pixel, in the evaluation layout that
``keras-matting evaluate --dataset`` reads (``image/``, ``alpha/``, ``trimap/<NAME>/``).

The rule is that of ``compose_image`` / ``composite4`` in the dataset's
``Combined_Dataset/Test_set/.../composition_code.py`` (Adobe, Apache-2.0), implemented
here from its description, with Pillow for decoding and resizing as there:

- 20 backgrounds per foreground, taken in the order of the name lists: foreground ``i``
  (0-based line of ``test_fg_names.txt``) gets the backgrounds on lines
  ``20 i + j``, ``j = 0..19``, of ``test_bg_names.txt``.
- The foreground is converted to RGB unless it is RGB or RGBA (then its RGB channels are
  used), the background to RGB, the alpha to 8-bit gray (``L``).
- ``ratio = max(w / bw, h / bh)`` (``w x h`` the foreground, ``bw x bh`` the
  background). Only when ``ratio > 1`` (the background is smaller than the foreground
  on some side) is the background upscaled, bicubically (Pillow ``BICUBIC``), to
  ``ceil(bw ratio) x ceil(bh ratio)``: both sides are then at least the foreground's.
  It is then cropped from the top-left corner to ``w x h``.
- ``I = alpha F + (1 - alpha) B`` with ``alpha = a / 255``, in double precision, then
  truncated to 8 bits (Python's ``int()`` in the reference, not rounding; ``alpha = 1``
  copies ``F``, ``alpha = 0`` keeps ``B``, which the formula also gives exactly).
- The output is named ``name[:-4] + "_" + str(j) + ".png"`` (the reference strips the
  last four characters of the foreground's file name: its stem for ``.png``/``.jpg``).

Each composite's ground truth is the foreground's alpha, written as
``alpha/<output name>``. Trimaps, when given, are looked up as ``<output stem>.*`` (the
1,000 per-composite trimaps of the test set) or else ``<foreground stem>.*``.
"""

import math
import os

import numpy as np

from keras_matting.errors import MattingInputError
from keras_matting.protocol import composite

__all__ = [
    "BACKGROUNDS_PER_FOREGROUND",
    "build_composition1k",
    "composite_image",
    "composition_plan",
    "fit_background",
    "output_stem",
    "read_name_list",
]

BACKGROUNDS_PER_FOREGROUND = 20
_PILLOW_HINT = "rebuilding Composition-1k needs Pillow: pip install pillow"


def _pil():
    try:
        from PIL import Image
    except ImportError as exc:
        raise MattingInputError(_PILLOW_HINT) from exc
    return Image


def read_name_list(path, what="name list"):
    """Non-empty lines of a name list (``test_fg_names.txt``), stripped, in order."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise MattingInputError(f"{what} '{path}' does not exist: check the path")
    with open(path, encoding="utf-8") as f:
        names = [line.strip() for line in f if line.strip()]
    if not names:
        raise MattingInputError(f"{what} '{path}' is empty: one file name per line expected")
    return names


def output_stem(fg_name, j):
    """Output stem of composite ``j`` of ``fg_name``: ``fg_name[:-4] + "_" + str(j)``."""
    return f"{fg_name[:-4]}_{j}"


def composition_plan(fg_names, bg_names, per_foreground=BACKGROUNDS_PER_FOREGROUND):
    """``[(fg_name, j, bg_name, output_stem)]``: background ``i * 20 + j`` for foreground ``i``.

    Raises:
        MattingInputError: fewer than ``20 * len(fg_names)`` background names.
    """
    needed = per_foreground * len(fg_names)
    if len(bg_names) < needed:
        raise MattingInputError(
            f"the background list has {len(bg_names)} names but {len(fg_names)} foregrounds "
            f"need {needed} ({per_foreground} each): pass the matching test_bg_names.txt"
        )
    return [
        (fg, j, bg_names[i * per_foreground + j], output_stem(fg, j))
        for i, fg in enumerate(fg_names)
        for j in range(per_foreground)
    ]


def fit_background(background, width, height):
    """Upscale (bicubic, only if smaller on some side) and crop top-left to ``width x height``.

    Args:
        background: a ``PIL.Image`` (converted to RGB) or an RGB uint8 array.

    Returns:
        uint8 ``(height, width, 3)``.
    """
    Image = _pil()
    if isinstance(background, np.ndarray):
        background = Image.fromarray(np.ascontiguousarray(background, np.uint8))
    if background.mode != "RGB":
        background = background.convert("RGB")
    bw, bh = background.size
    ratio = max(width / bw, height / bh)
    if ratio > 1:
        size = (math.ceil(bw * ratio), math.ceil(bh * ratio))
        background = background.resize(size, Image.BICUBIC)
    return np.asarray(background.crop((0, 0, width, height)), np.uint8)


def composite_image(fg, alpha, bg):
    """``trunc(alpha F + (1 - alpha) B)`` in float64 with ``alpha = a / 255`` (8-bit in, out).

    Args:
        fg: uint8 ``(h, w, 3)``; alpha: uint8 ``(h, w)``; bg: uint8 ``(h, w, 3)`` (fitted).
    """
    a = (np.asarray(alpha, np.float64) / 255.0)[..., None]
    out = composite(a, np.asarray(fg, np.float64), np.asarray(bg, np.float64))
    return np.floor(out).astype(np.uint8)


def _find(dirs, name, what):
    for folder in dirs:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    shown = ", ".join(f"'{d}'" for d in dirs)
    raise MattingInputError(f"{what} '{name}' is in none of {shown}: check the folder(s) and the name list")


def _find_stem(folder, stems):
    from keras_matting.protocol import images_by_stem

    found = images_by_stem(folder, "trimap")
    for stem in stems:
        if stem in found:
            return found[stem]
    raise MattingInputError(
        f"trimap folder '{folder}' has no trimap named {' or '.join(stems)} (any image extension)"
    )


def _open(path, what):
    Image = _pil()
    try:
        image = Image.open(path)
        image.load()
    except Exception as exc:
        raise MattingInputError(f"cannot read {what} '{path}': {exc}") from None
    return image


def _foreground(path, alpha_path):
    fg = _open(path, "foreground")
    if fg.mode not in ("RGB", "RGBA"):
        fg = fg.convert("RGB")
    rgb = np.asarray(fg, np.uint8)[..., :3]
    alpha = _open(alpha_path, "alpha")
    if alpha.mode != "L":
        alpha = alpha.convert("L")
    alpha = np.asarray(alpha, np.uint8)
    if alpha.shape != rgb.shape[:2]:
        raise MattingInputError(
            f"alpha '{alpha_path}' is {alpha.shape[1]}x{alpha.shape[0]} but foreground "
            f"'{path}' is {rgb.shape[1]}x{rgb.shape[0]} (width x height)"
        )
    return rgb, alpha


def build_composition1k(fg_dirs, alpha_dirs, bg_dirs, fg_names, bg_names, out,
                        trimap_dir=None, trimap_name="Adobe", progress=True):
    """Write the composites, alphas (and trimaps) in the evaluation layout.

    Args:
        fg_dirs, alpha_dirs, bg_dirs: folders searched in order for each listed name
            (the Adobe test set splits foregrounds into ``Adobe-licensed images`` and
            ``Other``).
        fg_names, bg_names: name lists (lists of file names, or paths to the text files).
        out: output folder: ``image/``, ``alpha/`` and, with ``trimap_dir``,
            ``trimap/<trimap_name>/``.
        trimap_dir: optional folder of trimaps (per composite or per foreground).

    Returns:
        The number of composites written.
    """
    from keras_matting.io import write_alpha, write_image

    if isinstance(fg_names, (str, os.PathLike)):
        fg_names = read_name_list(fg_names, "foreground name list")
    if isinstance(bg_names, (str, os.PathLike)):
        bg_names = read_name_list(bg_names, "background name list")
    fg_dirs, alpha_dirs, bg_dirs = ([os.fspath(d) for d in ds] for ds in (fg_dirs, alpha_dirs, bg_dirs))
    for folder in (*fg_dirs, *alpha_dirs, *bg_dirs, *([trimap_dir] if trimap_dir else [])):
        if not os.path.isdir(folder):
            raise MattingInputError(f"folder '{folder}' does not exist: check the path")
    plan = composition_plan(fg_names, bg_names)
    stems = [stem for *_, stem in plan]
    if len(set(stems)) != len(stems):
        raise MattingInputError("the foreground list names a file twice: output names would collide")

    from tqdm import tqdm

    cache = {}
    for fg_name, _, bg_name, stem in tqdm(plan, unit="image", desc="composition1k",
                                         disable=not progress or None, dynamic_ncols=True):
        if fg_name not in cache:
            cache.clear()
            cache[fg_name] = _foreground(_find(fg_dirs, fg_name, "foreground"),
                                         _find(alpha_dirs, fg_name, "alpha"))
        rgb, alpha = cache[fg_name]
        height, width = alpha.shape
        bg = fit_background(_open(_find(bg_dirs, bg_name, "background"), "background"), width, height)
        write_image(os.path.join(out, "image", f"{stem}.png"), composite_image(rgb, alpha, bg))
        write_alpha(os.path.join(out, "alpha", f"{stem}.png"), alpha)
        if trimap_dir:
            import cv2

            path = _find_stem(trimap_dir, (stem, os.path.splitext(fg_name)[0]))
            trimap = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_GRAYSCALE)
            if trimap is None or trimap.shape != alpha.shape:
                raise MattingInputError(
                    f"trimap '{path}' is unreadable or not {width}x{height} like '{fg_name}'"
                )
            write_alpha(os.path.join(out, "trimap", trimap_name, f"{stem}.png"), trimap)
    return len(plan)
