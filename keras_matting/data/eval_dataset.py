"""Reader of evaluation folders: ``image/``, ``alpha/``, ``trimap/<name>/`` and/or ``mask/``.

The layout of ``../shared/data/alphamatting_val`` (validation only, never for training).
Trimaps are read as {0, 0.5, 1} (below 1/3 -> 0, above 2/3 -> 1), masks as ``> 0.5``.
"""

import os

import tensorflow as tf

from keras_matting.data import tf_utils
from keras_matting.data.folders import pair_by_name
from keras_matting.errors import MattingInputError
from keras_matting.protocol import TF_IMAGE_EXTENSIONS, images_by_stem


def _match(names, folder, what):
    paths = images_by_stem(folder, what=what, extensions=TF_IMAGE_EXTENSIONS)
    missing = [n for n in names if n not in paths]
    if missing:
        raise MattingInputError(
            f"{folder}: no {what} for {len(missing)} image(s) (e.g. {', '.join(missing[:3])}); "
            f"give every image/NAME a {what}/NAME"
        )
    return [paths[n] for n in names]


def list_eval_samples(root, trimap=None, mask=None):
    """Paths of an evaluation folder, one dict per image, sorted by name.

    Args:
        root: folder with ``image/`` and ``alpha/``.
        trimap: name of a trimap set under ``root/trimap/`` (e.g. ``"Trimap1"``,
            ``"Weak"``), or None for no trimap.
        mask: True to read ``root/mask/``, False not to, None when it exists.

    Returns:
        list of ``{"name", "image", "alpha"[, "trimap"][, "mask"]}`` path dicts.
    """
    root = os.fspath(root)
    if not os.path.isdir(root):
        raise MattingInputError(
            f"{root}: evaluation folder not found; pass a folder with image/ and alpha/"
        )
    names, images, alphas = pair_by_name(
        os.path.join(root, "image"), os.path.join(root, "alpha"), "image", "alpha"
    )
    samples = [
        {"name": n, "image": i, "alpha": a} for n, i, a in zip(names, images, alphas, strict=True)
    ]
    if trimap is not None:
        for s, p in zip(
            samples, _match(names, os.path.join(root, "trimap", str(trimap)), "trimap"), strict=True
        ):
            s["trimap"] = p
    if mask is None:
        mask = os.path.isdir(os.path.join(root, "mask"))
    if mask:
        for s, p in zip(samples, _match(names, os.path.join(root, "mask"), "mask"), strict=True):
            s["mask"] = p
    return samples


def _centre_crop_resize(img, side, size, method):
    hw = tf.shape(img)[:2]
    y0, x0 = (hw[0] - side) // 2, (hw[1] - side) // 2
    win = img[y0 : y0 + side, x0 : x0 + side]
    return tf.image.resize(win, [size, size], method=method, antialias=method != "nearest")


def build_eval_dataset(root, trimap=None, mask=None, batch_size=None, size=None, short_side=600):
    """Evaluation samples as a ``tf.data.Dataset`` of dicts (in name order, one pass).

    Args:
        root, trimap, mask: as :func:`list_eval_samples`.
        batch_size: None (default) for unbatched full-resolution samples (sizes differ).
        size: if given, the IGF test protocol: shorter side resized to ``short_side``, a
            ``short_side`` centre square cropped and resized to ``size`` (the paper: 600,
            512); trimaps and masks with nearest neighbour.
        short_side: see ``size``.

    Returns:
        ``tf.data.Dataset`` of ``{"name": string, "image": (H, W, 3), "alpha": (H, W, 1)
        [, "trimap": (H, W, 1) in {0, 0.5, 1}][, "mask": (H, W, 1) in {0, 1}]}``, float32.

    Example:
        >>> ds = build_eval_dataset("../shared/data/alphamatting_val", trimap="Weak")
    """
    samples = list_eval_samples(root, trimap=trimap, mask=mask)
    keys = [k for k in ("image", "alpha", "trimap", "mask") if k in samples[0]]
    columns = {"name": [s["name"] for s in samples]}
    columns.update({k: [s[k] for s in samples] for k in keys})

    def load(el):
        out = {"name": el["name"]}
        out["image"] = tf.cast(tf_utils.decode_image(el["image"], 3), tf.float32) / 255.0
        for k in keys[1:]:
            v = tf.cast(tf_utils.decode_image(el[k], 1), tf.float32) / 255.0
            tf_utils.assert_same_size(out["image"], v, el["image"], el[k])
            if k == "trimap":
                v = tf.where(v < 1.0 / 3.0, 0.0, tf.where(v > 2.0 / 3.0, 1.0, 0.5))
            elif k == "mask":
                v = tf.cast(v > 0.5, tf.float32)
            out[k] = v
        if size:
            for k in keys:
                v = out[k]
                if k in ("image", "alpha"):
                    v = tf_utils.resize_short_side(v, int(short_side), method="bilinear")
                    v = _centre_crop_resize(v, int(short_side), int(size), "bilinear")
                    v = tf.clip_by_value(v, 0.0, 1.0)
                else:
                    hw = tf.cast(tf.shape(v)[:2], tf.float32)
                    new = tf.cast(tf.round(hw * float(short_side) / tf.reduce_min(hw)), tf.int32)
                    v = tf.image.resize(v, new, method="nearest")
                    v = _centre_crop_resize(v, int(short_side), int(size), "nearest")
                out[k] = v
        return out

    ds = tf.data.Dataset.from_tensor_slices(columns)
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE)
    if batch_size:
        ds = ds.batch(batch_size)
    return ds.prefetch(tf.data.AUTOTUNE)


__all__ = ["build_eval_dataset", "list_eval_samples"]
