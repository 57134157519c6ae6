"""tf.data building blocks shared by the AlphaGAN, IGF and evaluation pipelines."""

import os

import cv2
import numpy as np
import tensorflow as tf

from keras_matting.data.folders import pair_by_name
from keras_matting.errors import MattingInputError
from keras_matting.protocol import TF_IMAGE_EXTENSIONS, list_images

DEFAULT_CACHE_BYTES = 2 << 30  # decoded data kept in memory when below this (per stream)


def resolve_seed(seed):
    """An int seed; a fresh random one when ``seed`` is None."""
    if seed is None:
        return int(np.random.SeedSequence().entropy % (2**31 - 1))
    return int(seed)


class KeyedRandom:
    """Stateless random draws keyed by ``(seed, element index, draw number)``.

    Results depend only on the seed and the element's position in the stream, never on
    thread scheduling, so parallel maps are reproducible.
    """

    def __init__(self, seed, index, stream=0):
        # `stream` separates independent families of draws of one element (e.g. the
        # photo-realism augmentations) without counting the draws made elsewhere.
        self.seed = tf.cast(seed, tf.int64) + tf.constant(1_000_003, tf.int64) * int(stream)
        self.index = tf.cast(index, tf.int64)
        self.count = 0

    def _key(self):
        self.count += 1
        return tf.stack([self.seed, self.index * 64 + self.count])

    def uniform(self, minval=0.0, maxval=1.0):
        return tf.random.stateless_uniform([], self._key(), minval=minval, maxval=maxval)

    def integer(self, minval, maxval):
        """Uniform int32 in ``[minval, maxval]`` (both inclusive)."""
        lo = tf.cast(minval, tf.int32)
        hi = tf.cast(maxval, tf.int32) + 1
        u = tf.random.stateless_uniform([], self._key(), minval=0.0, maxval=1.0)
        return tf.minimum(
            lo + tf.cast(tf.floor(u * tf.cast(hi - lo, tf.float32)), tf.int32), hi - 1
        )

    def normal(self, stddev=1.0):
        return tf.random.stateless_normal([], self._key()) * stddev


def decode_image(path, channels):
    """Decode PNG/JPEG/BMP/GIF to uint8 ``(H, W, channels)``."""
    img = tf.io.decode_image(
        tf.io.read_file(path), channels=channels, dtype=tf.uint8, expand_animations=False
    )
    img.set_shape([None, None, channels])
    return img


def assert_same_size(a, b, path_a, path_b):
    msg = tf.strings.join(
        [path_a, ": size differs from ", path_b, "; give fg and alpha the same size"]
    )
    tf.debugging.assert_equal(tf.shape(a)[:2], tf.shape(b)[:2], message=msg)
    return a


def resize_short_side(img, short, method="area"):
    """Resize so the shorter side is ``short`` (antialiased); returns float32."""
    shape = tf.cast(tf.shape(img)[:2], tf.float32)
    scale = tf.cast(short, tf.float32) / tf.reduce_min(shape)
    new = tf.cast(tf.round(shape * scale), tf.int32)
    new = tf.maximum(new, short)
    return tf.image.resize(img, new, method=method, antialias=True)


def training_pairs(fg_dir, alpha_dir):
    """Names and paths of the fg/alpha pairs of a Deep-Image-Matting training folder."""
    return pair_by_name(fg_dir, alpha_dir, "fg", "alpha")


def background_paths(bg_dir):
    return list_images(bg_dir, recursive=True, what="background", extensions=TF_IMAGE_EXTENSIONS)


def _shape_of(path):
    img = cv2.imread(os.fspath(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise MattingInputError(f"{path}: cannot read image; remove or replace it")
    return img.shape[:2]


def should_cache(cache, paths, bytes_per_pixel, short_side=None, limit=DEFAULT_CACHE_BYTES):
    """Decide whether a stream fits in memory (``cache`` True/False/"auto")."""
    if cache in (True, False):
        return cache
    if cache != "auto":
        raise MattingInputError(f"cache={cache!r}: use True, False or 'auto'")
    h, w = _shape_of(paths[0])
    if short_side is not None:
        scale = short_side / min(h, w)
        h, w = h * scale, w * scale
    return len(paths) * h * w * bytes_per_pixel <= limit


def background_stream(bg_paths, seed, cache):
    """Infinite stream of decoded uint8 backgrounds in a seeded random order."""
    ds = tf.data.Dataset.from_tensor_slices(bg_paths)
    ds = ds.map(lambda p: decode_image(p, 3), num_parallel_calls=tf.data.AUTOTUNE)
    if should_cache(cache, bg_paths, 3):
        ds = ds.cache()
    ds = ds.shuffle(len(bg_paths), seed=seed, reshuffle_each_iteration=True)
    return ds.repeat()


def finish(ds, batch_size, repeat):
    """Batch (dropping the ragged last batch of an infinite stream) and prefetch."""
    if batch_size:
        ds = ds.batch(batch_size, drop_remainder=repeat, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def projective_transform(img, transform, out_hw, interpolation, fill_mode, fill_value=0.0):
    """Sample ``img`` (H, W, C) at ``transform(output pixel)``; ``transform`` has 8 floats."""
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=img[None],
        transforms=tf.reshape(tf.cast(transform, tf.float32), [1, 8]),
        output_shape=tf.cast(out_hw, tf.int32),
        fill_value=tf.constant(fill_value, tf.float32),
        interpolation=interpolation,
        fill_mode=fill_mode,
    )[0]
