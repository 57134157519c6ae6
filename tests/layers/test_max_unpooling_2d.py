import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_matting.layers.max_pooling_with_argmax_2d import MaxPoolingWithArgmax2D
from keras_matting.layers.max_unpooling_2d import MaxUnpooling2D

to_np = keras.ops.convert_to_numpy


def _scatter_unpool(x, values, k=3, s=2):
    """Reference: tf.nn.max_pool_with_argmax indices + tf.scatter_nd (sums duplicates)."""
    _, flat = tf.nn.max_pool_with_argmax(x, k, s, "VALID", include_batch_in_index=True)
    out = tf.scatter_nd(tf.reshape(flat, (-1, 1)), tf.reshape(values, (-1,)), [x.size])
    return tf.reshape(out, x.shape).numpy()


@pytest.mark.parametrize("shape", [(2, 10, 12, 3), (1, 11, 13, 2), (2, 9, 16, 4), (1, 7, 8, 1)])
def test_exact_against_scatter_nd(shape):
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal(shape).astype("float32")
    pooled, mask = MaxPoolingWithArgmax2D(3, 2)(x)
    # integer-valued updates: sums of overlapping windows are exact in any order
    values = rng.integers(-50, 50, pooled.shape).astype("float32")
    got = to_np(MaxUnpooling2D(3, 2)(values, mask, x))
    np.testing.assert_array_equal(got, _scatter_unpool(x, values))
    continuous = rng.standard_normal(pooled.shape).astype("float32")
    np.testing.assert_allclose(
        to_np(MaxUnpooling2D(3, 2)(continuous, mask, x)),
        _scatter_unpool(x, continuous), rtol=0, atol=1e-6,
    )


@pytest.mark.parametrize("size", [(12, 16), (11, 13)])
def test_cropping_matches_padded_scatter(size):
    rng = np.random.default_rng(size[0])
    x = np.maximum(rng.standard_normal((2, *size, 3)), 0).astype("float32")  # post-ReLU
    padded = to_np(keras.layers.ZeroPadding2D(1)(x))
    pooled, mask = MaxPoolingWithArgmax2D(3, 2)(padded)
    values = rng.integers(1, 50, pooled.shape).astype("float32")
    want = _scatter_unpool(padded, values)[:, 1:-1, 1:-1, :]
    got = to_np(MaxUnpooling2D(3, 2, cropping=1)(values, mask, x))
    np.testing.assert_array_equal(got, want)
    if size[0] % 2 == 0 and size[1] % 2 == 0:  # even sizes need no reference
        np.testing.assert_array_equal(to_np(MaxUnpooling2D(3, 2, cropping=1)(values, mask)), want)


@pytest.mark.tf_only
def test_xla_matches_eager():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 10, 14, 2)).astype("float32")
    pooled, mask = MaxPoolingWithArgmax2D(3, 2)(x)
    layer = MaxUnpooling2D(3, 2)
    got = tf.function(layer, jit_compile=True)(pooled, mask)
    np.testing.assert_array_equal(got.numpy(), layer(pooled, mask).numpy())


def test_invalid_cropping_and_config():
    with pytest.raises(ValueError, match="cropping"):
        MaxUnpooling2D(3, 2, cropping=3)
    layer = MaxUnpooling2D(3, 2, cropping=1)
    assert MaxUnpooling2D.from_config(layer.get_config()).cropping == 1
