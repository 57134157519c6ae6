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


def memory_cache_limit():
    """Bytes a decoded stream may keep in memory under ``cache="auto"``: a quarter of
    the machine's memory, at least :data:`DEFAULT_CACHE_BYTES`."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return DEFAULT_CACHE_BYTES
    return max(DEFAULT_CACHE_BYTES, total // 4)


def _estimated_bytes(paths, bytes_per_pixel, short_side, max_short_side):
    h, w = _shape_of(paths[0])
    if short_side is None and max_short_side is not None and min(h, w) > max_short_side:
        short_side = max_short_side
    if short_side is not None:
        scale = short_side / min(h, w)
        h, w = h * scale, w * scale
    return len(paths) * h * w * bytes_per_pixel


def _file_cache_prefix(folder, paths, what, settings):
    """A cache file prefix that changes when the files or the settings change."""
    import hashlib

    digest = hashlib.sha256(repr(settings).encode())
    for path in paths:
        st = os.stat(path)
        digest.update(f"{os.path.abspath(path)}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return os.path.join(os.fspath(folder), f"{what}-{digest.hexdigest()[:16]}")


def cache_stream(ds, cache, paths, bytes_per_pixel, what, short_side=None, max_short_side=None):
    """Cache a stream of decoded images, so each file is decoded (and resized) once.

    Args:
        ds: the stream, one element per path.
        cache: True (memory), False, ``"auto"`` (memory when the stream fits in
            :func:`memory_cache_limit`; otherwise a note says each epoch decodes again)
            or a folder: TensorFlow's file cache there, named after the files (path,
            size, modification time) and the settings, so changed data is decoded anew.
        paths: the stream's files (the first one's size estimates the whole).
        bytes_per_pixel: of a decoded element.
        what: a name for messages and cache files ("foregrounds", "backgrounds").
        short_side, max_short_side: the resizing applied when decoding.
    """
    if cache is True or cache is False:
        return ds.cache() if cache else ds
    if cache == "auto":
        need = _estimated_bytes(paths, bytes_per_pixel, short_side, max_short_side)
        if need <= memory_cache_limit():
            return ds.cache()
        print(
            f"note: the decoded {what} ({need / 2**30:.1f} GiB) exceed the memory cache "
            f"({memory_cache_limit() / 2**30:.1f} GiB): each epoch decodes them again; "
            "give a cache folder (--cache DIR) to decode them once",
            flush=True,
        )
        return ds
    if not isinstance(cache, (str, os.PathLike)):
        raise MattingInputError(f"cache={cache!r}: use True, False, 'auto' or a folder")
    folder = os.fspath(cache)
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise MattingInputError(
            f"{folder}: cannot create the cache folder ({exc.strerror}); give a writable one"
        ) from None
    prefix = _file_cache_prefix(folder, paths, what, (bytes_per_pixel, short_side, max_short_side))
    for name in os.listdir(folder):
        if name.startswith(os.path.basename(prefix)) and name.endswith(".lockfile"):
            raise MattingInputError(
                f"{os.path.join(folder, name)}: another run is writing this cache, or one "
                "was stopped while writing it; if no other run uses it, delete that file"
            )
    return ds.cache(prefix)


def shrink_short_side(img, short):
    """uint8 ``img`` area-resized so its shorter side is ``short``, if it is longer."""
    hw = tf.shape(img)[:2]
    return tf.cond(
        tf.reduce_min(hw) > short,
        lambda: tf.cast(tf.round(resize_short_side(tf.cast(img, tf.float32), short)), tf.uint8),
        lambda: img,
    )


def background_stream(bg_paths, seed, cache, short_side=None):
    """Infinite stream of decoded uint8 backgrounds in a seeded random order.

    ``short_side``: backgrounds with a longer shorter side are area-resized to it when
    decoded (what is cached), for pipelines that never need more.
    """

    def load(path):
        img = decode_image(path, 3)
        return img if short_side is None else shrink_short_side(img, short_side)

    ds = tf.data.Dataset.from_tensor_slices(bg_paths)
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE)
    ds = cache_stream(ds, cache, bg_paths, 3, "backgrounds", max_short_side=short_side)
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
