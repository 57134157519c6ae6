"""Pad inputs to a network's stride and crop outputs back: in TF graphs, or numpy arrays."""

import numpy as np


def pad_to_multiple(x, multiple, mode="REFLECT"):
    """Pad an NHWC tensor at the bottom/right so H and W are multiples of ``multiple``.

    Reflect padding (the default) avoids the artificial edges zero padding puts
    at the border of a matte. Reflection needs the pad to be smaller than the
    side, so images smaller than ``multiple`` fall back to symmetric padding
    repeated as needed.

    Returns:
        ``(padded, (height, width))`` where ``(height, width)`` is the original
        size, for :func:`crop_to_size`.
    """
    import tensorflow as tf

    shape = tf.shape(x)
    height, width = shape[1], shape[2]
    pad_h = (multiple - height % multiple) % multiple
    pad_w = (multiple - width % multiple) % multiple
    paddings = [[0, 0], [0, pad_h], [0, pad_w], [0, 0]]
    if mode == "REFLECT":
        # REFLECT requires pad < size; SYMMETRIC requires pad <= size. Repeat
        # symmetric padding until the target size is reached for tiny inputs.
        small = tf.logical_or(pad_h >= height, pad_w >= width)
        padded = tf.cond(
            small,
            lambda: _grow_symmetric(x, height + pad_h, width + pad_w),
            lambda: tf.pad(x, paddings, mode="REFLECT"),
        )
    else:
        padded = tf.pad(x, paddings, mode=mode)
    return padded, (height, width)


def _grow_symmetric(x, target_h, target_w):
    import tensorflow as tf

    def cond(y):
        s = tf.shape(y)
        return tf.logical_or(s[1] < target_h, s[2] < target_w)

    def body(y):
        s = tf.shape(y)
        ph = tf.minimum(target_h - s[1], s[1])
        pw = tf.minimum(target_w - s[2], s[2])
        return (tf.pad(y, [[0, 0], [0, tf.maximum(ph, 0)], [0, tf.maximum(pw, 0)], [0, 0]],
                       mode="SYMMETRIC"),)

    (y,) = tf.while_loop(cond, body, (x,),
                         shape_invariants=(tf.TensorShape([None, None, None, x.shape[-1]]),))
    return y


def pad_array_to_multiple(x, multiple):
    """:func:`pad_to_multiple` (reflect mode) of a numpy NHWC array, on the host.

    Same values as the TensorFlow version: reflect padding at the bottom/right, or,
    when a pad is not smaller than its side, symmetric padding repeated (the periodic
    extension ``x0 .. x(n-1), x(n-1) .. x0, x0 ..``) in both directions. Any Keras backend
    can then run the network on the padded array.

    Returns:
        ``(padded, (height, width))`` as :func:`pad_to_multiple`.
    """
    height, width = x.shape[1], x.shape[2]
    pad_h = (multiple - height % multiple) % multiple
    pad_w = (multiple - width % multiple) % multiple
    paddings = [(0, 0), (0, pad_h), (0, pad_w), (0, 0)]
    if pad_h >= height or pad_w >= width:
        return np.pad(x, paddings, mode="symmetric"), (height, width)
    return np.pad(x, paddings, mode="reflect"), (height, width)


def crop_to_size(x, size):
    """Crop an NHWC tensor back to ``size = (height, width)`` (top-left anchored)."""
    height, width = size
    return x[:, :height, :width, :]
