"""Inductive Guided Filter data pipeline (Li et al. 2019, section 4.1) in tf.data.

Training, per sample: a random background; a weak mask ``alpha > 0.5`` dilated and
eroded, in random order, with random square kernels of 5-30 px; samples whose mask keeps
less than half of the ``alpha > 0.5`` area are dropped; everything at the
shorter-side-600 resolution; one of 11 rotations; a random square crop resized to
512x512; a random horizontal flip (the paper composites with flipping); a random hue
change; the composite I = alpha * F + (1 - alpha) * B.

Speed (``benchmarks/data_pipeline.py``, docs/training_on_gpu.md): the decoded, resized
images are cached; rotation, crop, resize and flip are one ``cv2.warpAffine`` per image
(fg + alpha, mask, background) straight to the output size, in ``tf.numpy_function``s
(OpenCV releases the GIL, so the parallel maps scale with cores). That took the IGF
pipeline from 25 to 87 samples per CPU-second at 512 px.

Choices where the paper is silent:

- The mask is made at the shorter-side-600 working resolution, where the kernel sizes
  apply (OpenCV's ``dilate`` and ``erode``, anchor ``k // 2``, in either order with
  equal probability, as the shared ``alphamatting_val/mask`` protocol: see
  :func:`~keras_matting.protocol.weak_mask_np`). "Keeps" counts ``|mask AND (alpha > 0.5)|``.
- The mask is made before the rotation and rotated with the image (nearest), in the same
  warp: thresholding commutes with the rotation, and the kernels are random squares.
- The crop side is uniform in ``[crop_size, 600]`` px of the working resolution (the
  evaluation crop, 600, resized to 512, is the largest), anywhere in the image.
- Hue: the paper changes the hue of the composite image. A hue rotation does not commute
  with blending, so the same shift is applied to F and to B and the composite is made
  afterwards: I = alpha * hue(F) + (1 - alpha) * hue(B) holds exactly, and ``fg``/``bg``
  stay consistent with ``image`` (Fourier-type and composition losses need that).

Evaluation (``training=False``): the weak mask is seeded by the sample index (redrawn
until it keeps half the foreground), a fixed background per sample, a 600x600 centre crop
resized to 512 and the scoring trimap, unknown = dilate(mask, 20) - erode(mask, 20).
"""

import cv2
import numpy as np
import tensorflow as tf

from keras_matting.data import tf_utils
from keras_matting.protocol import (
    SCORING_KERNEL,
    WEAK_MASK_KERNEL_SIZES,
    composite,
    mask_keeps_foreground,
    scoring_trimap_np,
    segmenter_mask_np,
    weak_mask_np,
)

IGF_CROP_SIZE = 512
IGF_SHORT_SIDE = 600
IGF_MASK_KERNEL_SIZES = WEAK_MASK_KERNEL_SIZES
IGF_SCORING_KERNEL_SIZE = SCORING_KERNEL
IGF_HUE_DELTA = 0.1  # fraction of the hue circle (+-36 degrees)
# Section 4.1: "a flipping and 11 different rotation angles"; the angles are not given:
# ours are evenly spaced over +-30 degrees (0 included).
IGF_ROTATIONS = tuple(float(a) for a in np.linspace(-30.0, 30.0, 11))
_EVAL_ATTEMPTS = 8
# Photo realism (an extension, measured in saved_models/README.md): probabilities and
# ranges of the augmentations that make composites look like photographs.
REALISM = {
    "segmenter_mask": 0.5,  # weak masks like a segmenter's instead of dilate/erode
    "segmenter_low_side": (64, 200),  # low-resolution side of those masks (px)
    "segmenter_threshold": (0.3, 0.7),
    "segmenter_shift": 6,  # px, each axis
    "harmonize": 0.5,  # move the foreground's mean colour towards the background's
    "harmonize_strength": 0.5,
    "defocus": 0.6,  # background blurred as by a shallow depth of field
    "defocus_factor": (1.5, 8.0),  # area-down / bilinear-up factor
    "noise": 0.5,  # sensor noise on the composite
    "noise_sigma": (0.004, 0.03),
    "jpeg": 0.5,  # JPEG compression of the composite
    "jpeg_quality": (40, 95),
}


def _np_train_mask(alpha, k_dilate, k_erode, erode_first, segmenter=False, low_side=2,
                   threshold=0.5, shift_y=0, shift_x=0):
    if segmenter:
        mask = segmenter_mask_np(alpha[..., 0], int(low_side), float(threshold), int(shift_y),
                                 int(shift_x))
    else:
        mask = weak_mask_np(alpha[..., 0], int(k_dilate), int(k_erode), bool(erode_first))
    keep = mask_keeps_foreground(mask, alpha[..., 0])
    return mask[..., None], np.bool_(keep)


# cv2.warpAffine samples bilinearly without a low-pass filter; beyond this downscale
# the source is first area-resized (the paper's crops, 512-600 px to 512, stay below).
_MAX_BILINEAR_DOWNSCALE = 1.25


def _train_affine(hw, degrees, y0, x0, side, crop_size, flip):
    """2x3 map from output pixels to source pixels (integer coordinates = pixel centres).

    The composition of: a rotation by ``degrees`` about the centre of the ``hw`` image
    (output ``(x, y)`` samples ``(c (x - cx) - s (y - cy) + cx, s (x - cx) + c (y - cy) +
    cy)``), the square window ``[y0, y0 + side) x [x0, x0 + side)`` of the rotated image
    resized to ``crop_size`` (half-pixel centres, as ``tf.image.resize``) and a
    horizontal flip. One warp instead of three resamplings.
    """
    theta = np.deg2rad(float(degrees))
    c, s = np.cos(theta), np.sin(theta)
    cy, cx = (hw[0] - 1.0) / 2.0, (hw[1] - 1.0) / 2.0
    k = float(side) / crop_size
    by = y0 + 0.5 * k - 0.5
    if flip:  # u -> crop - 1 - u
        a, bx = -k, x0 + (crop_size - 0.5) * k - 0.5
    else:
        a, bx = k, x0 + 0.5 * k - 0.5
    return np.array(
        [
            [c * a, -s * k, c * (bx - cx) - s * (by - cy) + cx],
            [s * a, c * k, s * (bx - cx) + c * (by - cy) + cy],
        ],
        np.float64,
    )


def _warp(src, affine, crop_size, interpolation, border=cv2.BORDER_CONSTANT):
    """``cv2.warpAffine`` of ``src`` to ``crop_size``^2 at ``affine`` (zeros outside).

    OpenCV releases the GIL, so parallel tf.data maps scale with cores; it is about 30x
    faster than ``ImageProjectiveTransformV3`` on uint8 (benchmarks/data_pipeline.py).
    """
    scale = np.hypot(affine[0, 0], affine[1, 0])  # source pixels per output pixel
    if scale > _MAX_BILINEAR_DOWNSCALE and interpolation != cv2.INTER_NEAREST:
        h, w = src.shape[:2]
        size = (max(1, round(w / scale)), max(1, round(h / scale)))
        src = cv2.resize(src, size, interpolation=cv2.INTER_AREA)
        fx, fy = size[0] / w, size[1] / h
        affine = np.array(
            [
                [fx * affine[0, 0], fx * affine[0, 1], fx * (affine[0, 2] + 0.5) - 0.5],
                [fy * affine[1, 0], fy * affine[1, 1], fy * (affine[1, 2] + 0.5) - 0.5],
            ]
        )
    out = cv2.warpAffine(
        np.ascontiguousarray(src), affine, (crop_size, crop_size),
        flags=interpolation | cv2.WARP_INVERSE_MAP, borderMode=border, borderValue=0,
    )
    return out.reshape(crop_size, crop_size, -1)


def _np_train_warp(fg_alpha, mask, bg, degrees, y0, x0, side, flip, bg_oy, bg_ox, crop_size):
    """The training crop of one sample: fg, alpha, mask and background, uint8.

    ``fg_alpha``: ``(H, W, 4)``, the foreground's colour channels then its alpha.

    The background is not rotated: its window covers the same frame as the foreground's
    (scaled so the background covers the whole foreground image, offset by ``bg_oy,
    bg_ox`` in [0, 1] of the slack), flipped with it.
    """
    crop_size = int(crop_size)
    hw = fg_alpha.shape[:2]
    affine = _train_affine(hw, degrees, y0, x0, side, crop_size, bool(flip))
    fga = _warp(fg_alpha, affine, crop_size, cv2.INTER_LINEAR)
    mask = _warp(mask, affine, crop_size, cv2.INTER_NEAREST)
    bh, bw = bg.shape[:2]
    sc = max(hw[0] / bh, hw[1] / bw)  # foreground pixels per background pixel
    bside = side / sc
    by = min(max((y0 + bg_oy * (sc * bh - hw[0])) / sc, 0.0), bh - bside)
    bx = min(max((x0 + bg_ox * (sc * bw - hw[1])) / sc, 0.0), bw - bside)
    bg_affine = _train_affine(bg.shape[:2], 0.0, by, bx, bside, crop_size, bool(flip))
    # edges replicated, as tf.image.resize: an upsampled window reaches half a pixel out
    bg = _warp(bg, bg_affine, crop_size, cv2.INTER_LINEAR, cv2.BORDER_REPLICATE)
    return fga[..., :3], fga[..., 3:], mask, bg


def noise_bank(seed, crop_size):
    """Standard normal noise, ``(2 crop, 2 crop, 3)``, seeded: per-sample sensor noise is a
    random window of it (a normal draw per pixel costs ~8 ms per 512^2 sample on one
    core, more than the rest of the sample; a window is a copy)."""
    side = 2 * int(crop_size)
    return tf.random.stateless_normal([side, side, 3], [int(seed), 77])


def _photo_realism(rnd, out, realism, noise):
    """Harmonised foreground, defocused background, then noise and JPEG on the composite.

    Each augmentation is drawn with its probability and computed only when drawn.
    ``noise``: :func:`noise_bank`.
    """
    fg, bg, alpha = out["fg"], out["bg"], out["alpha"]
    if realism["harmonize"]:
        t = rnd.uniform(0.0, realism["harmonize_strength"])

        def harmonize():
            weight = tf.reduce_sum(alpha) + 1e-3
            fg_mean = tf.reduce_sum(fg * alpha, axis=(0, 1)) / weight
            bg_mean = tf.reduce_mean(bg, axis=(0, 1))
            return tf.clip_by_value(fg + t * (bg_mean - fg_mean), 0.0, 1.0)

        fg = tf.cond(rnd.uniform() < realism["harmonize"], harmonize, lambda: fg)
    if realism["defocus"]:
        factor = rnd.uniform(*realism["defocus_factor"])

        def defocus():
            size = tf.shape(bg)[:2]
            small = tf.maximum(tf.cast(tf.cast(size, tf.float32) / factor, tf.int32), 1)
            return tf.image.resize(tf.image.resize(bg, small, method="area"), size, "bilinear")

        bg = tf.cond(rnd.uniform() < realism["defocus"], defocus, lambda: bg)
        bg.set_shape(out["bg"].shape)
    image = composite(alpha, fg, bg)
    if realism["noise"]:
        sigma = rnd.uniform(*realism["noise_sigma"])
        hw = tf.shape(image)[:2]
        oy = rnd.integer(0, tf.shape(noise)[0] - hw[0])
        ox = rnd.integer(0, tf.shape(noise)[1] - hw[1])

        def add_noise():
            window = noise[oy : oy + hw[0], ox : ox + hw[1]]
            return tf.clip_by_value(image + sigma * window, 0.0, 1.0)

        image = tf.cond(rnd.uniform() < realism["noise"], add_noise, lambda: image)
    if realism["jpeg"]:
        quality = rnd.integer(*realism["jpeg_quality"])

        def jpeg():
            compressed = tf.image.adjust_jpeg_quality(image, quality)
            compressed.set_shape(image.shape)
            return compressed

        image = tf.cond(rnd.uniform() < realism["jpeg"], jpeg, lambda: image)
    return dict(out, fg=fg, bg=bg, image=image)


def _np_eval_mask(alpha, kernels, scoring_kernel):
    a = alpha[..., 0]
    for k_dilate, k_erode in kernels:
        mask = weak_mask_np(a, int(k_dilate), int(k_erode))
        if mask_keeps_foreground(mask, a):
            break
    else:  # a closing with one odd (symmetric) kernel contains the foreground
        k = int(kernels[-1][0]) | 1
        mask = weak_mask_np(a, k, k)
    trimap = scoring_trimap_np(mask, int(scoring_kernel))
    return mask[..., None], trimap[..., None]


def _crop_resize(img, y0, x0, side, size, method="bilinear"):
    win = img[y0 : y0 + side, x0 : x0 + side]
    antialias = method != "nearest"
    return tf.image.resize(
        tf.cast(win, tf.float32), [size, size], method=method, antialias=antialias
    )


def _background_window(rnd, bg, hw, y0, x0, side, size, centred):
    """Crop of the background scaled to cover the foreground frame, same window."""
    bhw = tf.cast(tf.shape(bg)[:2], tf.float32)
    fhw = tf.cast(hw, tf.float32)
    sc = tf.reduce_max(fhw / bhw)  # foreground pixels per background pixel
    slack = sc * bhw - fhw
    if centred:
        oy, ox = slack[0] / 2.0, slack[1] / 2.0
    else:
        oy, ox = rnd.uniform() * slack[0], rnd.uniform() * slack[1]
    bside = tf.maximum(tf.cast(tf.round(tf.cast(side, tf.float32) / sc), tf.int32), 1)
    bshape = tf.shape(bg)[:2]
    bside_y, bside_x = tf.minimum(bside, bshape[0]), tf.minimum(bside, bshape[1])
    by = tf.clip_by_value(
        tf.cast((tf.cast(y0, tf.float32) + oy) / sc, tf.int32), 0, bshape[0] - bside_y
    )
    bx = tf.clip_by_value(
        tf.cast((tf.cast(x0, tf.float32) + ox) / sc, tf.int32), 0, bshape[1] - bside_x
    )
    win = tf.cast(bg[by : by + bside_y, bx : bx + bside_x], tf.float32)
    return tf.image.resize(win, [size, size], method="bilinear", antialias=True)


def _finish_sample(out, crop_size):
    for key, v in out.items():
        v.set_shape([crop_size, crop_size, 3 if key in ("image", "fg", "bg") else 1])
    return out


def build_igf_dataset(
    fg_dir,
    alpha_dir,
    bg_dir,
    batch_size=1,
    crop_size=IGF_CROP_SIZE,
    seed=None,
    repeat=True,
    training=True,
    short_side=IGF_SHORT_SIDE,
    kernel_sizes=IGF_MASK_KERNEL_SIZES,
    hue_delta=IGF_HUE_DELTA,
    scoring_kernel_size=IGF_SCORING_KERNEL_SIZE,
    shuffle=True,
    cache="auto",
    rotations=IGF_ROTATIONS,
    realism=None,
):
    """IGF training (or evaluation) data as a batched ``tf.data.Dataset`` of dicts.

    Args:
        fg_dir: folder of foreground colour images.
        alpha_dir: folder of alpha mattes with the same file names.
        bg_dir: folder of background photos, searched recursively.
        batch_size: batch size (``None`` or 0: unbatched elements).
        crop_size: output side (the paper: 512).
        seed: int for a reproducible stream (stateless ops keyed by (seed, element
            index)); None draws one (evaluation: 0).
        repeat: loop forever (the last partial batch is dropped); False: one pass.
            Evaluation ignores it (one pass).
        training: False for the evaluation variant (centre crop, scoring ``"trimap"``).
        short_side: working resolution, shorter side (the paper: 600); also the side of
            the evaluation centre crop.
        kernel_sizes: ``(min, max)`` weak-mask kernel sizes (the paper: 5-30).
        hue_delta: maximal hue shift, fraction of the hue circle (training only).
        scoring_kernel_size: kernel of the evaluation trimap (the paper: 20).
        shuffle: visit foregrounds in a seeded random order each epoch (training only).
        cache: decode (and resize) each foreground and background once: True (in
            memory), False, "auto" (in memory when they fit in a quarter of the
            machine's memory) or a folder for a file cache (see
            :func:`~keras_matting.data.tf_utils.cache_stream`).
        rotations: angles in degrees, one drawn per training sample (section 4.1: 11
            angles, with flipping); ``()`` for none.
        realism: None (the paper's data) or a dict like :data:`REALISM` (``REALISM``
            itself for our photo-realism augmentations): segmenter-like weak masks,
            colour harmonisation, background defocus, noise and JPEG (training only;
            ``image`` is then no longer exactly ``alpha * fg + (1 - alpha) * bg``).

    Returns:
        ``tf.data.Dataset`` of ``{"image", "mask", "alpha", "fg", "bg"}`` (+ ``"trimap"``
        when ``training=False``), float32 ``(B, crop, crop, C)``; mask in {0, 1}, trimap
        in {0, 0.5, 1}, others in [0, 1].

    Example:
        >>> ds = build_igf_dataset("train/fg", "train/alpha", "bsds500", batch_size=8)
        >>> model.fit(ds, steps_per_epoch=1000)

    Reference:
        Li, Zhang, Zhao, Lu, "Inductive Guided Filter: Real-time Deep Image Matting with
        Weakly Annotated Masks on Mobile Devices", 2019, section 4.1.
    """
    if seed is None and not training:
        seed = 0
    seed = tf_utils.resolve_seed(seed)
    crop_size, short_side = int(crop_size), int(short_side)
    kernel_sizes = (int(kernel_sizes[0]), int(kernel_sizes[1]))
    _, fg_paths, alpha_paths = tf_utils.training_pairs(fg_dir, alpha_dir)
    bg_paths = tf_utils.background_paths(bg_dir)
    repeat = bool(repeat) and training

    def load(fp, ap):
        fg = tf_utils.decode_image(fp, 3)
        alpha = tf_utils.decode_image(ap, 1)
        fg = tf_utils.assert_same_size(fg, alpha, fp, ap)
        both = tf.concat([tf.cast(fg, tf.float32), tf.cast(alpha, tf.float32)], axis=-1)
        both = tf_utils.resize_short_side(both, short_side)
        return tf.cast(tf.clip_by_value(tf.round(both), 0.0, 255.0), tf.uint8)

    ds = tf.data.Dataset.from_tensor_slices((fg_paths, alpha_paths))
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE)
    ds = tf_utils.cache_stream(ds, cache, fg_paths, 4, "foregrounds", short_side=short_side)
    if shuffle and training:
        ds = ds.shuffle(len(fg_paths), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    bgs = tf_utils.background_stream(bg_paths, seed, cache, short_side if training else None)
    ds = tf.data.Dataset.zip((ds, bgs)).enumerate()

    if not training:
        ds = ds.map(
            lambda i, pair: _eval_sample(
                i, pair, seed, crop_size, short_side, kernel_sizes, scoring_kernel_size
            ),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
        return tf_utils.finish(ds, batch_size, False)

    rotations = tf.constant(list(rotations) or [0.0], tf.float32)
    realism = dict(realism) if realism else None
    noise = noise_bank(seed, crop_size) if realism and realism["noise"] else None

    def make_mask(index, pair):
        fg_alpha, bg = pair
        rnd = tf_utils.KeyedRandom(seed, index)
        k_dilate = rnd.integer(*kernel_sizes)
        k_erode = rnd.integer(*kernel_sizes)
        erode_first = rnd.uniform() < 0.5
        extra = tf_utils.KeyedRandom(seed, index, stream=1)
        angle = rotations[extra.integer(0, int(rotations.shape[0]) - 1)]
        if realism:
            shift = realism["segmenter_shift"]
            mask_args = [
                extra.uniform() < realism["segmenter_mask"],
                extra.integer(*realism["segmenter_low_side"]),
                extra.uniform(*realism["segmenter_threshold"]),
                extra.integer(-shift, shift),
                extra.integer(-shift, shift),
            ]
        else:
            mask_args = [False, 2, 0.5, 0, 0]
        # The mask is made on the unrotated image and rotated with it, in the one warp
        # of the crop: rotation commutes with thresholding, and the kernels are square.
        mask, keep = tf.numpy_function(
            _np_train_mask,
            [fg_alpha[..., 3:], k_dilate, k_erode, erode_first, *mask_args],
            (tf.uint8, tf.bool),
            stateful=False,
        )
        mask.set_shape([None, None, 1])
        keep.set_shape([])
        return index, fg_alpha, mask, bg, angle, keep

    def augment(index, fg_alpha, mask, bg, angle, keep):
        rnd = tf_utils.KeyedRandom(seed, index, stream=3)
        hw = tf.shape(fg_alpha)[:2]
        short = tf.reduce_min(hw)
        side = rnd.integer(tf.minimum(crop_size, short), short)
        y0 = rnd.integer(0, hw[0] - side)
        x0 = rnd.integer(0, hw[1] - side)
        bg_oy, bg_ox = rnd.uniform(), rnd.uniform()
        flip = rnd.uniform() < 0.5
        fg_c, a_c, m_c, bg_c = tf.numpy_function(
            _np_train_warp,
            [fg_alpha, mask, bg, angle, y0, x0, side, flip, bg_oy, bg_ox, crop_size],
            (tf.uint8,) * 4,
            stateful=False,
        )
        for v, channels in ((fg_c, 3), (a_c, 1), (m_c, 1), (bg_c, 3)):
            v.set_shape([crop_size, crop_size, channels])
        out = {
            "fg": tf.cast(fg_c, tf.float32) / 255.0,
            "alpha": tf.cast(a_c, tf.float32) / 255.0,
            "mask": tf.cast(m_c, tf.float32),
            "bg": tf.cast(bg_c, tf.float32) / 255.0,
        }
        if hue_delta:
            delta = rnd.uniform(-float(hue_delta), float(hue_delta))
            for key in ("fg", "bg"):
                out[key] = tf.clip_by_value(tf.image.adjust_hue(out[key], delta), 0.0, 1.0)
        if realism:
            out = _photo_realism(
                tf_utils.KeyedRandom(seed, index, stream=2), out, realism, noise
            )
        else:
            out["image"] = composite(out["alpha"], out["fg"], out["bg"])
        out = {k: out[k] for k in ("image", "mask", "alpha", "fg", "bg")}
        return _finish_sample(out, crop_size)

    ds = ds.map(make_mask, num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.filter(lambda *e: e[-1])
    ds = ds.map(augment, num_parallel_calls=tf.data.AUTOTUNE)
    return tf_utils.finish(ds, batch_size, repeat)


def _eval_sample(index, pair, seed, crop_size, short_side, kernel_sizes, scoring_kernel):
    fg_alpha, bg = pair
    fg, alpha = fg_alpha[..., :3], fg_alpha[..., 3:]
    rnd = tf_utils.KeyedRandom(seed, index)
    kernels = tf.stack(
        [
            tf.stack([rnd.integer(*kernel_sizes), rnd.integer(*kernel_sizes)])
            for _ in range(_EVAL_ATTEMPTS)
        ]
    )
    mask, trimap = tf.numpy_function(
        _np_eval_mask, [alpha, kernels, scoring_kernel], (tf.uint8, tf.float32), stateful=False
    )
    mask.set_shape([None, None, 1])
    trimap.set_shape([None, None, 1])
    hw = tf.shape(alpha)[:2]
    side = tf.minimum(tf.reduce_min(hw), short_side)
    y0, x0 = (hw[0] - side) // 2, (hw[1] - side) // 2
    out = {
        "fg": tf.clip_by_value(_crop_resize(fg, y0, x0, side, crop_size) / 255.0, 0.0, 1.0),
        "alpha": tf.clip_by_value(_crop_resize(alpha, y0, x0, side, crop_size) / 255.0, 0.0, 1.0),
        "mask": _crop_resize(mask, y0, x0, side, crop_size, method="nearest"),
        "trimap": _crop_resize(trimap, y0, x0, side, crop_size, method="nearest"),
    }
    bg = _background_window(rnd, bg, hw, y0, x0, side, crop_size, centred=True) / 255.0
    out["bg"] = tf.clip_by_value(bg, 0.0, 1.0)
    out["image"] = composite(out["alpha"], out["fg"], out["bg"])
    out = {k: out[k] for k in ("image", "mask", "trimap", "alpha", "fg", "bg")}
    return _finish_sample(out, crop_size)


__all__ = ["build_igf_dataset"]
