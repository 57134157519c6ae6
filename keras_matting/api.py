"""The Python API: ``matte``, ``estimate_foreground``, ``cutout``, ``composite``.

Arrays or paths in, float32 arrays out::

    import keras_matting
    alpha = keras_matting.matte("photo.jpg", trimap="trimap.png")     # closed-form
    alpha = keras_matting.matte("photo.jpg", mask="auto")             # the shipped IGF
    rgba = keras_matting.cutout("photo.jpg", alpha)          # foreground colours + alpha
    new = keras_matting.composite(alpha, rgba[..., :3], "#00b140")

Models are loaded once and cached (:func:`keras_matting.load`).
"""

import os
import re

import cv2
import numpy as np

from keras_matting.errors import MattingInputError
from keras_matting.io import _name as _source
from keras_matting.io import read_image, read_mask, read_trimap
from keras_matting.protocol import GUIDED_FILTER, trimap_from_mask, trimap_to_unit
from keras_matting.protocol import composite as _composite

__all__ = [
    "composite",
    "cutout",
    "estimate_foreground",
    "matte",
    "parse_background",
    "trimap_from_mask",
]

_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")


def _describe(source):
    return "the image" if isinstance(source, np.ndarray) else f"'{source}'"



def _resize_inputs(image, trimap, mask, max_side):
    height, width = image.shape[:2]
    scale = max_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    if trimap is not None:
        trimap = cv2.resize(trimap, size, interpolation=cv2.INTER_NEAREST)
    if mask is not None:
        mask = cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST)
    return image, trimap, mask


def _run(model, condition, image, trimap, mask, progress=None):
    """Alpha ``(h, w)`` from a model name or a loaded generator."""
    if isinstance(model, str) and model in ("closed-form", "knn"):
        from keras_matting.filters.classical import CLASSICAL_METHODS

        try:
            return CLASSICAL_METHODS[model](image, trimap)
        except ImportError as exc:
            raise MattingInputError(str(exc)) from None
    if isinstance(model, str) and model == "guided-filter":
        from keras_matting.filters.guided_filter import fast_guided_filter

        alpha = fast_guided_filter(image, mask, **GUIDED_FILTER)
        return np.clip(alpha, 0.0, 1.0).astype(np.float32)
    from keras_matting.inference.high_resolution import (
        predict_mask_reduced,
        predict_trimap_tiled,
    )

    if condition == "trimap":
        return predict_trimap_tiled(model.predict_alpha, image, trimap, progress=progress)
    return predict_mask_reduced(model, image, mask)


def matte(
    image,
    trimap=None,
    mask=None,
    model=None,
    trimap_from_mask_px=None,
    max_side=None,
    progress=None,
):
    """Alpha matte of an image, guided by a trimap or a mask.

    Args:
        image: RGB image: a path or an array (uint8, uint16 or float in [0, 1]; gray and
            RGBA are converted).
        trimap: path or array (uint8 {0, 128, 255}, or float {0, 0.5, 1}); for trimap
            models (``closed-form``, ``knn``, a trained AlphaGAN). Known pixels are kept
            exactly in the result, whatever the model.
        mask: path, array ({0, 1} or 0/255) or ``"auto"`` (MediaPipe person segmenter); for
            mask models (``igf``, ``guided-filter``), or, with ``trimap_from_mask_px``,
            to build a trimap.
        model: None (default: the best on alphamatting_val for the guidance given,
            :data:`keras_matting.models.registry.DEFAULT_MODELS`: ``"closed-form"`` for a trimap,
            also one derived with ``trimap_from_mask_px``, ``"igf"`` for a mask),
            ``"igf"``, ``"closed-form"``, ``"knn"``, ``"guided-filter"``, a path to a
            ``.keras`` generator (e.g. an AlphaGAN you trained), or a loaded generator /
            trainer.
        trimap_from_mask_px: when given and no trimap is, derive the trimap from the mask
            with an unknown band of this many pixels each side of its edge.
        max_side: if given, infer on the inputs downscaled so the longer side is at most
            ``max_side``; the alpha is upscaled back (bilinear) and known trimap pixels
            re-applied at full resolution.
        progress: optional ``progress(done, total)``, called after each tile when a large
            image runs tiled (trimap-guided networks; see
            :func:`keras_matting.inference.high_resolution.predict_trimap_tiled`).

    Returns:
        float32 ``(H, W)`` alpha in [0, 1].

    Raises:
        MattingInputError: unreadable input, size mismatch, missing guidance, a mask
            without foreground, a trimap without background or foreground for
            ``closed-form`` / ``knn``, bad model.
    """
    from keras_matting.models.registry import (
        CLASSICAL_MODELS,
        DEFAULT_MODELS,
        condition_of,
        load,
        load_inference,
    )

    if model is None:
        if trimap is None and mask is None:
            raise MattingInputError(
                f"no guidance for {_describe(image)}: pass a trimap (trimap=) or a mask (mask=)"
            )
        derived = trimap_from_mask_px is not None
        model = DEFAULT_MODELS["trimap" if trimap is not None or derived else "mask"]
    if isinstance(model, str) and model not in CLASSICAL_MODELS:
        model = load_inference(model)
    elif isinstance(model, os.PathLike):
        model = load(model)
    elif not isinstance(model, str) and hasattr(model, "generator"):
        model = model.generator
    condition = condition_of(model)
    name = _describe(image)
    rgb = read_image(image)
    height, width = rgb.shape[:2]
    image_path = None if isinstance(image, np.ndarray) else image
    trimap_u = None
    if trimap is not None:
        trimap_u = trimap_to_unit(read_trimap(trimap, rgb.shape, image_path))
    binary = None
    if isinstance(mask, str) and mask == "auto":
        from keras_matting.inference.person_mask import person_mask

        binary = person_mask(rgb)
        if not binary.any():
            raise MattingInputError(
                f"--mask auto found no person in {name}: pass a mask or a trimap for it"
            )
    elif mask is not None:
        binary = read_mask(mask, rgb.shape, image_path)
        if not binary.any():
            raise MattingInputError(
                f"mask {_source(mask)} for {name} has no foreground pixel (white, >= 128 "
                "of 255): nothing to matte; pass the subject's mask (white on black), or "
                "--mask auto for person photos"
            )
    if condition == "trimap" and trimap_u is None:
        if binary is None:
            raise MattingInputError(f"the model needs a trimap for {name}: pass --trimap (trimap=)")
        if trimap_from_mask_px is None:
            raise MattingInputError(
                f"the model needs a trimap but only a mask was given for {name}: "
                "add --trimap-from-mask PX (trimap_from_mask_px=) to derive one from the mask"
            )
        trimap_u = trimap_from_mask(binary, trimap_from_mask_px)
    if condition == "mask" and binary is None:
        raise MattingInputError(
            f"the model needs a mask for {name}: pass --mask FILE, or --mask auto for person photos"
        )
    small_image, small_trimap, small_mask = rgb, trimap_u, binary
    if max_side is not None and max(height, width) > int(max_side):
        if int(max_side) < 8:
            raise MattingInputError(f"--max-side must be at least 8 pixels, got {max_side}")
        small_image, small_trimap, small_mask = _resize_inputs(rgb, trimap_u, binary, int(max_side))
        if small_trimap is not None and not np.any(small_trimap == 0.5):
            raise MattingInputError(
                f"the unknown region of {name} vanishes at --max-side {max_side}: use a larger value"
            )
    if isinstance(model, str) and model in ("closed-form", "knn"):
        _check_known_regions(trimap_u, small_trimap, model, trimap, mask, name, max_side)
    alpha = np.asarray(
        _run(model, condition, small_image, small_trimap, small_mask, progress), np.float32
    )
    alpha = alpha.reshape(small_image.shape[:2])
    if alpha.shape != (height, width):
        alpha = cv2.resize(alpha, (width, height), interpolation=cv2.INTER_LINEAR)
    alpha = np.clip(alpha, 0.0, 1.0)
    if trimap_u is not None:
        alpha[trimap_u == 0.0] = 0.0
        alpha[trimap_u == 1.0] = 1.0
    return alpha


def _check_known_regions(trimap, small_trimap, model, trimap_source, mask_source, name,
                         max_side):
    """closed-form / knn solve for alpha from known pixels: both kinds must be present."""
    for value, kind, colour in ((0.0, "background", "black, < 85 of 255"),
                                (1.0, "foreground", "white, > 170 of 255")):
        if np.any(trimap == value):
            if not np.any(small_trimap == value):
                raise MattingInputError(
                    f"the {kind} region of {name} vanishes at --max-side {max_side}: use a "
                    "larger value"
                )
            continue
        if trimap_source is not None:
            source = f"trimap {_source(trimap_source)}"
            fix = (f"mark some {kind} in {colour.split(',')[0]}, or pass a trained trimap "
                   "model (--model PATH)")
        else:
            auto = isinstance(mask_source, str) and mask_source == "auto"
            source = "the trimap derived from " + (
                "the person mask (--mask auto)" if auto else f"mask {_source(mask_source)}"
            )
            if kind == "background":
                fix = "the mask covers the whole image; pass a trimap, or a mask with background"
            else:
                fix = "the mask is thinner than the band; use a smaller --trimap-from-mask"
        raise MattingInputError(
            f"{source} for {name} has no {kind} pixel ({colour}): {model} needs known "
            f"background and foreground; {fix}"
        )


def _alpha_for(alpha, shape, what="alpha"):
    if isinstance(alpha, np.ndarray):
        alpha = np.asarray(alpha, np.float32)
        if alpha.ndim == 3 and alpha.shape[2] == 1:
            alpha = alpha[..., 0]
    else:
        from keras_matting.io import read_alpha

        alpha = read_alpha(alpha)
    if alpha.shape != tuple(shape[:2]):
        raise MattingInputError(
            f"{what} is {alpha.shape[1]}x{alpha.shape[0]} but the image is {shape[1]}x{shape[0]} "
            "(width x height): pass the alpha of this image"
        )
    return np.clip(alpha, 0.0, 1.0)


def estimate_foreground(image, alpha, method="auto"):
    """Foreground colours ``F`` (``I = alpha F + (1 - alpha) B``) of an image and its alpha.

    ``method="auto"``: blur-fusion (Forte & Pitie 2021, numpy/OpenCV, no compile step);
    ``"pymatting"`` and ``"tensorflow"``: Germer et al. 2020 multi-level estimation. See
    :mod:`keras_matting.inference.foreground` for the measurements behind the choice.

    Args:
        image: RGB path or array.
        alpha: path or ``(H, W)`` array in [0, 1].

    Returns:
        float32 ``(H, W, 3)`` in [0, 1].
    """
    from keras_matting.inference.foreground import estimate_foreground as _estimate

    rgb = read_image(image)
    return _estimate(rgb, _alpha_for(alpha, rgb.shape), method=method)


def cutout(image, alpha, method="auto"):
    """RGBA cutout: estimated foreground colours (not the raw image) and the alpha.

    Returns:
        float32 ``(H, W, 4)`` in [0, 1], straight (not premultiplied) alpha.
    """
    rgb = read_image(image)
    alpha = _alpha_for(alpha, rgb.shape)
    from keras_matting.inference.foreground import estimate_foreground as _estimate

    return np.dstack([_estimate(rgb, alpha, method=method), alpha]).astype(np.float32)


def parse_background(background):
    """``"#RRGGBB"`` -> RGB float triple; anything else is returned unchanged."""
    if isinstance(background, str):
        match = _HEX.match(background.strip())
        if match:
            value = match.group(1)
            return tuple(int(value[i : i + 2], 16) / 255.0 for i in (0, 2, 4))
    return background


def _cover(background, height, width):
    """Resize (keeping the aspect ratio) to cover ``height x width``, then centre-crop."""
    bh, bw = background.shape[:2]
    scale = max(height / bh, width / bw)
    size = (max(width, round(bw * scale)), max(height, round(bh * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(background, size, interpolation=interpolation)
    top, left = (size[1] - height) // 2, (size[0] - width) // 2
    return resized[top : top + height, left : left + width]


def composite(alpha, fg, background):
    """Composite ``alpha * fg + (1 - alpha) * background`` (:func:`keras_matting.protocol.composite`).

    Args:
        alpha: path or ``(H, W)`` array.
        fg: foreground colours (path or ``(H, W, 3)`` array), e.g. from
            :func:`estimate_foreground`.
        background: ``"#RRGGBB"``, an RGB triple in [0, 1], or an image (path or array),
            resized to cover the foreground's size and centre-cropped.

    Returns:
        float32 ``(H, W, 3)`` in [0, 1].
    """
    fg = read_image(fg)
    height, width = fg.shape[:2]
    alpha = _alpha_for(alpha, fg.shape)
    background = parse_background(background)
    if isinstance(background, tuple | list) and len(background) == 3:
        values = np.asarray(background, np.float32)
        if values.min() < 0 or values.max() > 1:
            raise MattingInputError(f"background colour {tuple(background)} must lie in [0, 1]")
        bg = np.broadcast_to(values, fg.shape)
    elif isinstance(background, str) and background.startswith("#"):
        raise MattingInputError(
            f"background colour {background!r} is not #RRGGBB (six hex digits, e.g. #00b140)"
        )
    else:
        bg = _cover(read_image(background, what="background"), height, width)
    return _composite(alpha[..., None], fg, bg).astype(np.float32)
