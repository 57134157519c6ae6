import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_matting.layers.max_pooling_with_argmax_2d import MaxPoolingWithArgmax2D

to_np = keras.ops.convert_to_numpy


def _reference_window_offsets(x, k=3, s=2):
    """Window offset (dy * k + dx) of tf.nn.max_pool_with_argmax's flat indices."""
    _, flat = tf.nn.max_pool_with_argmax(x, k, s, "VALID", include_batch_in_index=True)
    n, h, w, c = x.shape
    flat = flat.numpy()
    rem = flat % (h * w * c)
    row, col = rem // (w * c), (rem // c) % w
    ph, pw = flat.shape[1:3]
    dy = row - s * np.arange(ph)[None, :, None, None]
    dx = col - s * np.arange(pw)[None, None, :, None]
    return dy * k + dx


@pytest.mark.parametrize("shape", [(2, 10, 12, 3), (1, 11, 13, 2), (2, 9, 16, 4), (1, 3, 3, 1)])
def test_matches_tf_max_pool_with_argmax(shape):
    x = np.random.default_rng(sum(shape)).standard_normal(shape).astype("float32")
    pooled, mask = (to_np(t) for t in MaxPoolingWithArgmax2D(3, 2)(x))
    ref_pooled, _ = tf.nn.max_pool_with_argmax(x, 3, 2, "VALID")
    np.testing.assert_array_equal(pooled, ref_pooled.numpy())
    assert mask.shape == pooled.shape[:3] + (9,) + pooled.shape[3:]
    np.testing.assert_array_equal(mask.sum(axis=3), 1.0)
    np.testing.assert_array_equal(mask.argmax(axis=3), _reference_window_offsets(x))


def test_ties_pick_first_in_row_major_order():
    # post-ReLU zeros after a zero pad: every window ties at 0 -> offset 0 (top-left, the pad)
    x = np.zeros((1, 6, 6, 1), "float32")
    x[0, 2, 1, 0] = 1.0  # padded (3, 2): offset (1, 0) of window (1, 1)
    x[0, 2, 2, 0] = 1.0  # padded (3, 3): offset (1, 1), a tie
    padded = to_np(keras.layers.ZeroPadding2D(1)(x))
    _, mask = MaxPoolingWithArgmax2D(3, 2)(padded)
    index = to_np(mask)[0, :, :, :, 0].argmax(axis=-1)
    assert index[1, 1] == 3  # (dy, dx) = (1, 0)
    assert index[0, 0] == 0
    np.testing.assert_array_equal(index, _reference_window_offsets(padded)[0, :, :, 0])


def test_negative_zero_ties_with_zero():
    # tf.nn.max_pool_with_argmax: -0.0 == 0.0, the first one wins
    x = np.zeros((1, 3, 3, 1), "float32")
    x[0, 0, 0, 0] = -0.0
    _, mask = MaxPoolingWithArgmax2D(3, 2)(x)
    assert to_np(mask)[0, 0, 0, :, 0].argmax() == 0 == _reference_window_offsets(x)[0, 0, 0, 0]


@pytest.mark.tf_only
def test_xla_and_dynamic_shapes():
    layer = MaxPoolingWithArgmax2D(3, 2)
    x = np.random.default_rng(1).random((1, 13, 10, 2)).astype("float32")
    fn = tf.function(layer, jit_compile=True)
    eager = layer(x)
    for got, want in zip(fn(x), eager, strict=True):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    dynamic = tf.function(layer, input_signature=[tf.TensorSpec((None, None, None, 2))])
    np.testing.assert_array_equal(dynamic(x)[1].numpy(), eager[1].numpy())


def test_config_round_trip():
    layer = MaxPoolingWithArgmax2D(pool_size=2, strides=2, name="p")
    clone = MaxPoolingWithArgmax2D.from_config(layer.get_config())
    assert (clone.pool_size, clone.strides, clone.name) == (2, 2, "p")
