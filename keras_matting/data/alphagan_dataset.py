"""AlphaGAN training pipeline (Lutz et al., BMVC 2018, section 3.1) in tf.data.

Per sample: a random background; foreground and alpha rotated by an angle ~ N(0, 5 deg);
a trimap from the ground truth with a random kernel of size 2-20; a square crop centred on
an unknown pixel, side uniform in 320-720 (clamped to the image), resized to 320x320; a
random horizontal flip; and the composite I = alpha * F + (1 - alpha) * B made on the fly.

Choices where the paper is silent:

- Trimap: unknown = dilate(alpha > 0) - erode(alpha >= 1) (Deep Image Matting's recipe),
  foreground = erode(alpha >= 1). A drawn size ``k`` is used as a symmetric square kernel
  of radius ``k // 2`` (side ``2 * (k // 2) + 1``, so even sizes round up). It is computed
  at the foreground's own resolution from chessboard distance maps (exactly equal to
  OpenCV's dilate/erode with that kernel), which are cached, so per sample it is a threshold.
- Rotation, crop, resize and the trimap's placement are one projective warp from the
  output pixels into the source image (bilinear for colours and alpha, as Deep Image
  Matting's ``cv2.resize``; nearest for the trimap). The centre pixel of the crop (shifted
  only as far as needed to keep the window inside the image) samples the chosen unknown
  pixel exactly, so every crop contains unknown pixels. Rotated-in corners get alpha 0.
- The background is scaled to cover the foreground frame at a random offset and cropped
  with the same window (not rotated, as in the paper, where only fg and alpha rotate).
"""

import math

import tensorflow as tf

from keras_matting.data import tf_utils
from keras_matting.protocol import TRIMAP_KERNEL_SIZES, chessboard_distances_np, composite

ALPHAGAN_CROP_SIZE = 320
ALPHAGAN_CROP_SIDES = (320, 720)
ALPHAGAN_KERNEL_SIZES = TRIMAP_KERNEL_SIZES
ALPHAGAN_ROTATION_STDDEV = 5.0  # degrees


def _distances(alpha):
    d = tf.numpy_function(chessboard_distances_np, [alpha], tf.uint8, stateful=False)
    d.set_shape([None, None, 2])
    return d


def alphagan_trimap(distances, radius):
    """Trimap {0, 0.5, 1} (H, W, 1) from :func:`chessboard_distances_np` maps and a radius."""
    d = tf.cast(distances, tf.int32)
    d_in, level = d[..., 0:1], d[..., 1:2]
    radius = tf.cast(radius, tf.int32)
    return tf.where(level <= radius, 0.5, tf.where(d_in > radius, 1.0, 0.0))


def _augment(index, fg, alpha, dist, bg, seed, crop_size, crop_sides, kernel_sizes, rot_std):
    rnd = tf_utils.KeyedRandom(seed, index)
    k = rnd.integer(kernel_sizes[0], kernel_sizes[1])
    radius = k // 2
    level = tf.cast(dist[..., 1], tf.int32)
    candidates = tf.where(level <= radius)  # (N, 2) [y, x]; N > 0 (filtered at load)
    pick = rnd.integer(0, tf.shape(candidates)[0] - 1)
    p = tf.cast(candidates[pick], tf.float32)
    py, px = p[0], p[1]

    hw = tf.shape(alpha)[:2]
    H, W = tf.cast(hw[0], tf.float32), tf.cast(hw[1], tf.float32)
    side = tf.cast(rnd.integer(crop_sides[0], crop_sides[1]), tf.float32)
    side = tf.minimum(side, tf.minimum(H, W))
    c = float(crop_size)
    s = side / c  # source pixels per output pixel
    theta = rnd.normal(rot_std * math.pi / 180.0)
    cos, sin = tf.cos(theta), tf.sin(theta)
    cx, cy = (W - 1.0) / 2.0, (H - 1.0) / 2.0
    # p in the rotated frame: x_rot = c + R^T (x - c)
    dx, dy = px - cx, py - cy
    prx, pry = cx + cos * dx + sin * dy, cy - sin * dx + cos * dy

    def place(pr, extent):  # output index of p keeping the window inside [0, extent - 1]
        lo = (pr + s * (c - 1.0) - (extent - 1.0)) / s
        hi = pr / s
        q = tf.clip_by_value(tf.constant(float(crop_size // 2)), lo, tf.maximum(lo, hi))
        return tf.clip_by_value(tf.round(q), 0.0, c - 1.0)

    qx, qy = place(prx, W), place(pry, H)
    # output (u, v) -> rotated frame (prx + s (u - qx), pry + s (v - qy)) -> source frame
    ax, ay = prx - cx - s * qx, pry - cy - s * qy
    src = tf.stack(
        [
            s * cos,
            -s * sin,
            cx + cos * ax - sin * ay,
            s * sin,
            s * cos,
            cy + sin * ax + cos * ay,
            0.0,
            0.0,
        ]
    )
    out_hw = tf.constant([crop_size, crop_size])
    fg_c = tf_utils.projective_transform(
        tf.cast(fg, tf.float32), src, out_hw, "BILINEAR", "NEAREST"
    )
    a_c = tf_utils.projective_transform(
        tf.cast(alpha, tf.float32), src, out_hw, "BILINEAR", "CONSTANT"
    )
    trimap_full = alphagan_trimap(dist, radius)
    t_c = tf_utils.projective_transform(trimap_full, src, out_hw, "NEAREST", "CONSTANT")

    # background: scaled to cover the (rotated) foreground frame, random offset
    bhw = tf.cast(tf.shape(bg)[:2], tf.float32)
    sc = tf.maximum(H / bhw[0], W / bhw[1])  # foreground pixels per background pixel
    ox = rnd.uniform(0.0, 1.0) * (sc * bhw[1] - W)
    oy = rnd.uniform(0.0, 1.0) * (sc * bhw[0] - H)
    bsrc = tf.stack(
        [s / sc, 0.0, (prx - s * qx + ox) / sc, 0.0, s / sc, (pry - s * qy + oy) / sc, 0.0, 0.0]
    )
    bg_c = tf_utils.projective_transform(
        tf.cast(bg, tf.float32), bsrc, out_hw, "BILINEAR", "NEAREST"
    )

    fg_c = tf.clip_by_value(fg_c / 255.0, 0.0, 1.0)
    a_c = tf.clip_by_value(a_c / 255.0, 0.0, 1.0)
    bg_c = tf.clip_by_value(bg_c / 255.0, 0.0, 1.0)
    flip = rnd.uniform() < 0.5
    out = {"trimap": t_c, "alpha": a_c, "fg": fg_c, "bg": bg_c}
    out = {
        key: tf.cond(flip, lambda v=v: tf.reverse(v, [1]), lambda v=v: v) for key, v in out.items()
    }
    out["image"] = composite(out["alpha"], out["fg"], out["bg"])
    for key, v in out.items():
        v.set_shape([crop_size, crop_size, 1 if key in ("alpha", "trimap") else 3])
    return {key: out[key] for key in ("image", "trimap", "alpha", "fg", "bg")}


def build_alphagan_dataset(
    fg_dir,
    alpha_dir,
    bg_dir,
    batch_size=1,
    crop_size=ALPHAGAN_CROP_SIZE,
    seed=None,
    repeat=True,
    crop_sides=None,
    kernel_sizes=ALPHAGAN_KERNEL_SIZES,
    rotation_stddev=ALPHAGAN_ROTATION_STDDEV,
    shuffle=True,
    cache="auto",
):
    """AlphaGAN training data as a batched ``tf.data.Dataset`` of dicts.

    Args:
        fg_dir: folder of foreground colour images.
        alpha_dir: folder of alpha mattes with the same file names (any extension).
        bg_dir: folder of background photos, searched recursively.
        batch_size: batch size (``None`` or 0: unbatched elements).
        crop_size: output side (the paper: 320).
        seed: int for a reproducible stream (stateless ops keyed by (seed, element
            index)); None draws one.
        repeat: loop forever (the last partial batch is dropped); False: one pass.
        crop_sides: ``(min, max)`` crop side in source pixels before resizing; default
            ``(crop_size, crop_size * 720 / 320)``, the paper's 320-720.
        kernel_sizes: ``(min, max)`` trimap kernel size (paper: 2-20).
        rotation_stddev: standard deviation of the rotation in degrees (paper: 5).
        shuffle: visit foregrounds in a seeded random order each epoch.
        cache: decode (and resize) each foreground and background once: True (in
            memory), False, "auto" (in memory when they fit in a quarter of the
            machine's memory) or a folder for a file cache (see
            :func:`~keras_matting.data.tf_utils.cache_stream`).

    Returns:
        ``tf.data.Dataset`` of ``{"image", "trimap", "alpha", "fg", "bg"}``, float32,
        ``(B, crop, crop, C)``; trimap in {0, 0.5, 1}, others in [0, 1].

    Example:
        >>> ds = build_alphagan_dataset("train/fg", "train/alpha", "bsds500", batch_size=8)
        >>> model.fit(ds, steps_per_epoch=1000)

    Reference:
        Lutz, Amplianitis, Smolic, "AlphaGAN: Generative adversarial networks for
        natural image matting", BMVC 2018, section 3.1.
    """
    seed = tf_utils.resolve_seed(seed)
    crop_size = int(crop_size)
    if crop_sides is None:
        crop_sides = (crop_size, int(round(crop_size * 720 / 320)))
    crop_sides = (int(crop_sides[0]), int(crop_sides[1]))
    kernel_sizes = (int(kernel_sizes[0]), int(kernel_sizes[1]))
    _, fg_paths, alpha_paths = tf_utils.training_pairs(fg_dir, alpha_dir)
    bg_paths = tf_utils.background_paths(bg_dir)

    def load(fp, ap):
        fg = tf_utils.decode_image(fp, 3)
        alpha = tf_utils.decode_image(ap, 1)
        fg = tf_utils.assert_same_size(fg, alpha, fp, ap)
        return fg, alpha, _distances(alpha)

    ds = tf.data.Dataset.from_tensor_slices((fg_paths, alpha_paths))
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE)
    # a sample needs an unknown pixel for the smallest kernel (else it is skipped)
    min_radius = kernel_sizes[0] // 2
    ds = ds.filter(lambda fg, a, d: tf.reduce_any(tf.cast(d[..., 1], tf.int32) <= min_radius))
    ds = tf_utils.cache_stream(ds, cache, fg_paths, 6, "foregrounds")
    if shuffle:
        ds = ds.shuffle(len(fg_paths), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    bgs = tf_utils.background_stream(bg_paths, seed, cache)
    ds = tf.data.Dataset.zip((ds, bgs)).enumerate()

    def augment(index, pair):
        (fg, alpha, dist), bg = pair
        return _augment(
            index,
            fg,
            alpha,
            dist,
            bg,
            seed,
            crop_size,
            crop_sides,
            kernel_sizes,
            float(rotation_stddev),
        )

    ds = ds.map(augment, num_parallel_calls=tf.data.AUTOTUNE)
    return tf_utils.finish(ds, batch_size, repeat)


__all__ = ["build_alphagan_dataset", "alphagan_trimap"]
