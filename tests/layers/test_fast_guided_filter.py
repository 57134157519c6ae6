import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_matting.filters.guided_filter import fast_guided_filter, guided_filter
from keras_matting.layers.fast_guided_filter import FastGuidedFilter, area_downsample

to_np = keras.ops.convert_to_numpy


@pytest.mark.parametrize("shape", [(40, 64), (37, 53), (30, 42)])
@pytest.mark.parametrize("channels", [3, 1])
def test_matches_numpy(shape, channels):
    rng = np.random.default_rng(0)
    image = rng.random(shape + (3,)).astype("float32")[..., :channels]
    p = (rng.random(shape) > 0.5).astype("float32")
    out = to_np(FastGuidedFilter(8, 1e-3, 4)([image[None], p[None, ..., None]]))[0, ..., 0]
    np.testing.assert_allclose(out, fast_guided_filter(image, p, 8, 1e-3, 4), atol=1e-5)


def test_area_downsample_matches_opencv():
    import cv2

    x = np.random.default_rng(1).random((37, 53, 3)).astype("float32")
    out = to_np(area_downsample(x[None], (9, 13)))[0]
    np.testing.assert_allclose(out, cv2.resize(x, (13, 9), interpolation=cv2.INTER_AREA), atol=1e-5)


def test_subsample_one_is_the_guided_filter():
    rng = np.random.default_rng(2)
    image = rng.random((24, 30, 3)).astype("float32")
    p = (rng.random((24, 30)) > 0.5).astype("float32")
    out = to_np(FastGuidedFilter(3, 1e-2, 1)([image[None], p[None, ..., None]]))[0, ..., 0]
    np.testing.assert_allclose(out, guided_filter(image, p, 3, 1e-2), atol=1e-5)


@pytest.mark.tf_only
def test_dynamic_shapes_and_serialization():
    layer = FastGuidedFilter(8, 1e-3, 4)
    fn = tf.function(
        lambda g, p: layer([g, p]),
        input_signature=[tf.TensorSpec([None, None, None, 3]), tf.TensorSpec([None, None, None, 1])],
    )
    assert fn(tf.ones((1, 21, 35, 3)), tf.ones((1, 21, 35, 1))).shape == (1, 21, 35, 1)
    clone = keras.layers.deserialize(keras.layers.serialize(layer))
    assert clone.get_config() == layer.get_config()
