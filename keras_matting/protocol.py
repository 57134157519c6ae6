"""The matting protocol: the one definition of every convention the package shares.

Trainers, data pipelines, evaluators, the CLI and the exporters import these names from
here; change a convention here and nowhere else.

- **Trimaps.** Files hold uint8 {0, 128, 255}; arrays and tensors hold {0, 0.5, 1}.
  Reading classifies a value ``v`` of 0..255 as background below 85, foreground above
  170, unknown otherwise (``1/3 <= t <= 2/3`` on the unit scale).
- **Compositing.** ``I = alpha F + (1 - alpha) B``: :func:`composite` ``(alpha, fg, bg)``.
- **Morphology.** Square ``k x k`` kernels with OpenCV's conventions (anchor ``k // 2``,
  pixels outside the image never win a max/min), for odd and even ``k``: numpy/OpenCV
  (``*_np``) and a backend-neutral ``keras.ops`` twin, equal bit for bit.
- **Scoring trimap** of the weak-mask protocol (IGF, Li et al. 2019, sec. 4.2): unknown =
  ``dilate(M, 20) - erode(M, 20)``. It reproduces the scoring trimaps of
  ``alphamatting_val`` (``trimap/Weak``) exactly (measured: 100 % of pixels on GT01).
- **Weak masks** for training (IGF sec. 4.1) and the AlphaGAN training trimap.
- **Image folders.** :data:`IMAGE_EXTENSIONS`, :func:`list_images`, :func:`images_by_stem`.
- **Atomic writes** live in :mod:`keras_matting.tempfiles` (re-exported here).
- **Guided-filter defaults** (r = 64, eps = 1e-5, s = 4): the baseline of the weak-mask
  protocol and the IGF generator's prior.

Keras is imported only inside the Keras twins, so importing this module stays light.
"""

import os

import cv2
import numpy as np

from keras_matting.errors import MattingInputError
from keras_matting.tempfiles import atomic_save, write_bytes_atomic, write_json_atomic

__all__ = [
    "GUIDED_FILTER",
    "GUIDED_FILTER_EPS",
    "GUIDED_FILTER_RADIUS",
    "GUIDED_FILTER_SUBSAMPLE",
    "IMAGE_EXTENSIONS",
    "SCORING_KERNEL",
    "TF_IMAGE_EXTENSIONS",
    "TRIMAP_BACKGROUND",
    "TRIMAP_BACKGROUND_BELOW",
    "TRIMAP_FOREGROUND",
    "TRIMAP_FOREGROUND_ABOVE",
    "TRIMAP_KERNEL_SIZES",
    "TRIMAP_UNKNOWN",
    "UNKNOWN_HIGH",
    "UNKNOWN_LOW",
    "WEAK_MASK_KERNEL_SIZES",
    "atomic_save",
    "chessboard_distances_np",
    "composite",
    "dilate",
    "dilate_np",
    "erode",
    "erode_np",
    "images_by_stem",
    "list_images",
    "mask_keeps_foreground",
    "scoring_trimap",
    "scoring_trimap_np",
    "segmenter_mask_np",
    "trimap_from_alpha_np",
    "trimap_from_mask",
    "trimap_to_uint8",
    "trimap_to_unit",
    "unknown_region",
    "weak_mask_np",
    "write_bytes_atomic",
    "write_json_atomic",
]

# ------------------------------------------------------------------------------ trimaps

TRIMAP_BACKGROUND, TRIMAP_UNKNOWN, TRIMAP_FOREGROUND = 0, 128, 255
# Reading: v < 85 background, v > 170 foreground, else unknown (0..255 scale) ...
TRIMAP_BACKGROUND_BELOW = 85
TRIMAP_FOREGROUND_ABOVE = 170
# ... the same classes on the unit scale: unknown <=> 1/3 <= t <= 2/3.
UNKNOWN_LOW = 1.0 / 3.0
UNKNOWN_HIGH = 2.0 / 3.0

SCORING_KERNEL = 20
# Weak masks: dilation and erosion with square kernels of 5-30 px (IGF sec. 4.1).
WEAK_MASK_KERNEL_SIZES = (5, 30)
# Training trimaps of the AlphaGAN recipe: kernels of 2-20 px (Lutz et al. 2018, sec. 3.1).
TRIMAP_KERNEL_SIZES = (2, 20)


def trimap_to_uint8(trimap):
    """Unit trimap {0, 0.5, 1} -> uint8 {0, 128, 255} (the file convention)."""
    t = np.asarray(trimap)
    return np.where(
        t >= 1.0, TRIMAP_FOREGROUND, np.where(t > 0.0, TRIMAP_UNKNOWN, TRIMAP_BACKGROUND)
    ).astype(np.uint8)


def trimap_to_unit(trimap):
    """uint8 trimap {0, 128, 255} (as :func:`keras_matting.io.read_trimap` returns) -> {0, 0.5, 1}."""
    t = np.asarray(trimap)
    return np.where(t == TRIMAP_UNKNOWN, 0.5, t / 255.0).astype(np.float32)


def trimap_from_mask(mask, pixels):
    """A user's trimap from a binary mask: unknown band of ``pixels`` each side of its edge.

    Foreground = mask eroded, background = outside the mask dilated, by a disc of radius
    ``pixels`` (OpenCV, elliptical ``(2 px + 1)``-wide kernel, border replicated) — the
    ``--trimap-from-mask PX`` of ``keras-matting predict``, not the scoring trimap.

    Args:
        mask: ``(H, W)`` in {0, 1} (or > 0.5 for foreground).
        pixels: int >= 1, half-width of the unknown band.

    Returns:
        float32 ``(H, W)`` in {0, 0.5, 1}.
    """
    pixels = int(pixels)
    if pixels < 1:
        raise MattingInputError(f"--trimap-from-mask needs a band width >= 1 pixel, got {pixels}")
    binary = (np.asarray(mask) > 0.5).astype(np.uint8)
    if not binary.any():
        raise MattingInputError("the mask is empty (no foreground pixel): nothing to matte")
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * pixels + 1, 2 * pixels + 1))
    fg = cv2.erode(binary, kernel, borderType=cv2.BORDER_REPLICATE) > 0
    band = cv2.dilate(binary, kernel, borderType=cv2.BORDER_REPLICATE) > 0
    return np.where(fg, 1.0, np.where(band, 0.5, 0.0)).astype(np.float32)


def unknown_region(trimap, dtype="float32"):
    """Mask (of ``dtype``) of the unknown region of a unit trimap tensor (``keras.ops``)."""
    from keras import ops

    return ops.cast(ops.logical_and(trimap >= UNKNOWN_LOW, trimap <= UNKNOWN_HIGH), dtype)


def composite(alpha, fg, bg):
    """``I = alpha * fg + (1 - alpha) * bg`` for numpy arrays or tensors (alpha broadcasts)."""
    return alpha * fg + (1.0 - alpha) * bg


# --------------------------------------------------------------------------- numpy


def _kernel_side(kernel_size):
    k = int(kernel_size)
    if k < 1:
        raise ValueError(f"kernel_size must be >= 1, got {kernel_size}")
    return k


def dilate_np(x, kernel_size):
    """Grey dilation of a 2-D array with a square ``k x k`` kernel (OpenCV)."""
    k = _kernel_side(kernel_size)
    return cv2.dilate(np.ascontiguousarray(x), np.ones((k, k), np.uint8))


def erode_np(x, kernel_size):
    """Grey erosion of a 2-D array with a square ``k x k`` kernel (OpenCV)."""
    k = _kernel_side(kernel_size)
    return cv2.erode(np.ascontiguousarray(x), np.ones((k, k), np.uint8))


def _as_unit(alpha):
    alpha = np.asarray(alpha)
    if alpha.dtype == np.uint8:
        return alpha.astype(np.float32) / 255.0
    return alpha.astype(np.float32)


def scoring_trimap_np(mask, kernel_size=SCORING_KERNEL):
    """Scoring trimap of the weak-mask protocol: unknown = dilate(M, k) - erode(M, k).

    Args:
        mask: ``(H, W)``; foreground where ``> 0.5`` (float) or ``> 0`` (integer, bool).

    Returns float32 ``(H, W)`` in {0, 0.5, 1} (1 = eroded mask).
    """
    m = np.asarray(mask)
    m = (m > (0.5 if np.issubdtype(m.dtype, np.floating) else 0)).astype(np.uint8)
    inner = erode_np(m, kernel_size) > 0
    outer = dilate_np(m, kernel_size) > 0
    return np.where(inner, 1.0, np.where(outer, 0.5, 0.0)).astype(np.float32)


def trimap_from_alpha_np(alpha, kernel_size):
    """Trimap of the AlphaGAN recipe: unknown = dilate(alpha > 0) - erode(alpha >= 1).

    Args:
        alpha: ``(H, W)`` uint8 (0-255) or float (0-1) alpha matte.
        kernel_size: side of the square kernel.

    Returns:
        float32 ``(H, W)`` with values {0, 0.5, 1}.
    """
    a = _as_unit(alpha)
    fg = erode_np((a >= 1.0).astype(np.uint8), kernel_size) > 0
    band = dilate_np((a > 0.0).astype(np.uint8), kernel_size) > 0
    return np.where(fg, 1.0, np.where(band, 0.5, 0.0)).astype(np.float32)


def chessboard_distances_np(alpha):
    """Chessboard distances that give the AlphaGAN trimap for every kernel at once.

    Returns uint8 ``(H, W, 2)`` (clipped to 255): channel 0 is ``d_in``, the distance of a
    pixel to the nearest ``alpha < 1`` pixel; channel 1 is the *level*
    ``max(d_out, d_in)`` where ``d_out`` is the distance to the nearest ``alpha > 0`` pixel.
    With a symmetric kernel of radius ``r`` (side ``2r + 1``): unknown <=> level <= r,
    foreground <=> d_in > r. This equals :func:`trimap_from_alpha_np` with ``2r + 1``.
    """
    a = np.asarray(alpha)
    if a.ndim == 3:
        a = a[..., 0]
    if a.dtype != np.uint8:
        a = np.clip(np.round(a * 255.0), 0, 255).astype(np.uint8)
    big = 255.0

    def dist_to_zero(src):
        if not src.any():
            return np.zeros(src.shape, np.float32)
        if src.all():
            return np.full(src.shape, big, np.float32)
        return cv2.distanceTransform(src.astype(np.uint8), cv2.DIST_C, 3)

    d_out = dist_to_zero(a == 0)
    d_in = dist_to_zero(a == 255)
    level = np.maximum(d_out, d_in)
    out = np.stack([d_in, level], axis=-1)
    return np.clip(out, 0, big).astype(np.uint8)


def weak_mask_np(alpha, dilate_size, erode_size, erode_first=False):
    """IGF weak mask (Li et al. 2019, sec. 4.1): ``alpha > 0.5``, dilated and eroded.

    The paper applies "dilation and erosion together" without an order. Both orders
    occur in the shared ``alphamatting_val/mask`` protocol: each of its 14 masks equals,
    pixel for pixel, ``erode(dilate(fg, d), e)`` or ``dilate(erode(fg, e), d)`` for some
    ``d, e`` in 5-30 (7 of each order; measured by exhaustive search). Eroding first
    removes thin structures (hair, petals) and squares off holes; dilating first fills
    them.

    Args:
        alpha: ``(H, W)`` uint8 or float alpha.
        dilate_size, erode_size: square kernel sides.
        erode_first: bool, erode before dilating (an opening-like mask) instead of
            dilating first (a closing-like mask).

    Returns uint8 ``(H, W)`` in {0, 1}.
    """
    mask = (_as_unit(alpha) > 0.5).astype(np.uint8)
    if erode_first:
        return dilate_np(erode_np(mask, erode_size), dilate_size)
    return erode_np(dilate_np(mask, dilate_size), erode_size)


def segmenter_mask_np(alpha, low_side, threshold, shift_y=0, shift_x=0):
    """A weak mask like a segmentation network's: low resolution, smooth, thin parts lost.

    Person segmenters (e.g. MediaPipe's selfie segmenter, 256 x 256) predict at low
    resolution and are upsampled: their masks have smooth outlines, miss hair strands
    and thin parts, and can be shifted by a few pixels. This makes such a mask from
    the alpha: area-downsampled so its shorter side is ``low_side``, bilinearly
    upsampled, thresholded at ``threshold`` and translated by ``(shift_y, shift_x)``.

    Args:
        alpha: ``(H, W)`` uint8 (0-255) or float (0-1) alpha matte.
        low_side: int, shorter side of the low-resolution mask (>= 2).
        threshold: float in (0, 1).
        shift_y, shift_x: translation in pixels (border replicated).

    Returns:
        uint8 ``(H, W)`` mask in {0, 1}.
    """
    a = _as_unit(alpha)
    h, w = a.shape
    scale = max(int(low_side), 2) / min(h, w)
    size = (max(2, round(w * scale)), max(2, round(h * scale)))
    low = cv2.resize(a, size, interpolation=cv2.INTER_AREA)
    up = cv2.resize(low, (w, h), interpolation=cv2.INTER_LINEAR)
    mask = (up > float(threshold)).astype(np.uint8)
    if shift_y or shift_x:
        shift = np.float32([[1, 0, float(shift_x)], [0, 1, float(shift_y)]])
        mask = cv2.warpAffine(mask, shift, (w, h), flags=cv2.INTER_NEAREST,
                              borderMode=cv2.BORDER_REPLICATE)
    return mask


def mask_keeps_foreground(mask, alpha, min_fraction=0.5):
    """IGF rule: the mask must keep at least ``min_fraction`` of the ``alpha > 0.5`` area.

    The kept area is ``|mask AND (alpha > 0.5)|``; an alpha with no foreground passes.
    """
    fg = _as_unit(alpha) > 0.5
    area = int(fg.sum())
    return int(np.logical_and(fg, np.asarray(mask) > 0).sum()) >= min_fraction * area


# ------------------------------------------------------------------- Keras (keras.ops)


def dilate(x, kernel_size):
    """Grey dilation of ``(H, W, C)`` or ``(B, H, W, C)`` float tensors, square kernel.

    Separable max-pooling after padding with ``-inf`` so that the window of output ``i``
    is ``x[i - k//2 : i - k//2 + k]``, OpenCV's anchor (a ``"same"`` max-pool anchors
    even kernels one pixel away). ``kernel_size`` must be a Python int.
    """
    from keras import ops

    k = _kernel_side(kernel_size)
    x = ops.convert_to_tensor(x)
    squeeze = len(x.shape) == 3
    if squeeze:
        x = x[None]
    before = k // 2
    after = k - 1 - before
    x = ops.pad(x, [[0, 0], [before, after], [before, after], [0, 0]],
                constant_values=float("-inf"))
    x = ops.max_pool(x, pool_size=(k, 1), strides=1, padding="valid", data_format="channels_last")
    x = ops.max_pool(x, pool_size=(1, k), strides=1, padding="valid", data_format="channels_last")
    return x[0] if squeeze else x


def erode(x, kernel_size):
    """Grey erosion (``-dilate(-x)``), same conventions as :func:`dilate`."""
    from keras import ops

    return -dilate(-ops.convert_to_tensor(x), kernel_size)


def scoring_trimap(mask, kernel_size=SCORING_KERNEL):
    """Keras twin of :func:`scoring_trimap_np` for float masks ``(H, W, 1)`` / ``(B, H, W, 1)``.

    Foreground where ``mask > 0.5``; returns float32 {0, 0.5, 1}.
    """
    from keras import ops

    m = ops.cast(ops.convert_to_tensor(mask) > 0.5, "float32")
    inner = erode(m, kernel_size) > 0.5
    outer = dilate(m, kernel_size) > 0.5
    return ops.where(inner, 1.0, ops.where(outer, 0.5, 0.0))


# ---------------------------------------------------------------------- image folders

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp")
# What tf.io.decode_image reads (the tf.data pipelines decode in TensorFlow).
TF_IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


def list_images(folder, what="image", recursive=False, extensions=IMAGE_EXTENSIONS):
    """Sorted paths of the image files in ``folder`` (and its subfolders if ``recursive``).

    Files and folders whose name starts with ``.`` are skipped; extensions match in any
    case.

    Raises:
        MattingInputError: the folder is missing, is a file, or holds no image file.
    """
    folder = os.fspath(folder)
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise MattingInputError(
            f"{what} path '{folder}' is a file, not a folder: pass the folder that holds "
            f"the {what} files"
        )
    if not os.path.isdir(folder):
        raise MattingInputError(f"{what} folder '{folder}' does not exist: check the path")
    paths = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        paths.extend(os.path.join(root, f) for f in files if not f.startswith("."))
        if not recursive:
            break
    paths = sorted(
        p for p in paths if os.path.splitext(p)[1].lower() in extensions and os.path.isfile(p)
    )
    if not paths:
        exts = ", ".join(extensions)
        raise MattingInputError(
            f"{what} folder '{folder}' has no image file ({exts}): put the {what} images in it"
        )
    return paths


def images_by_stem(folder, what="image", extensions=IMAGE_EXTENSIONS):
    """``{stem: path}`` of :func:`list_images` (not recursive); files are matched by stem.

    Raises:
        MattingInputError: as :func:`list_images`, or two files share a stem.
    """
    found = {}
    for path in list_images(folder, what, extensions=extensions):
        stem = os.path.splitext(os.path.basename(path))[0]
        if stem in found:
            raise MattingInputError(
                f"{what} folder '{folder}' has two files named {stem}: "
                f"'{os.path.basename(found[stem])}' and '{os.path.basename(path)}'; keep one"
            )
        found[stem] = path
    return found


# ------------------------------------------------------------- guided-filter defaults

# The fast guided filter of the weak-mask protocol's baseline (val SAD 8.68 on
# alphamatting_val, keras_matting/saved_models/README.md) and the IGF generator's prior.
GUIDED_FILTER_RADIUS = 64
GUIDED_FILTER_EPS = 1e-5
GUIDED_FILTER_SUBSAMPLE = 4
GUIDED_FILTER = {
    "radius": GUIDED_FILTER_RADIUS,
    "eps": GUIDED_FILTER_EPS,
    "subsample": GUIDED_FILTER_SUBSAMPLE,
}
