import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_matting.filters.guided_filter import guided_filter
from keras_matting.layers.guided_filter import GuidedFilter

to_np = keras.ops.convert_to_numpy


def data(seed=0, h=37, w=53):
    rng = np.random.default_rng(seed)
    image = rng.random((h, w, 3)).astype("float32")
    p = (cv_blur(rng.random((h, w))) > 0.5).astype("float32")
    return image, p


def cv_blur(x):
    import cv2

    return cv2.blur(x, (5, 5))


@pytest.mark.parametrize("eps", [1e-2, 1e-4])
@pytest.mark.parametrize("channels", [3, 1])
def test_matches_numpy(eps, channels):
    image, p = data()
    guide = image[..., :channels]
    out = to_np(GuidedFilter(radius=4, epsilon=eps)([guide[None], p[None, ..., None]]))[0, ..., 0]
    np.testing.assert_allclose(out, guided_filter(guide, p, 4, eps), atol=1e-5)


def test_multichannel_p_filtered_independently():
    image, p = data()
    p2 = np.stack([p, 1 - p], -1)
    out = to_np(GuidedFilter(3, 1e-3)([image[None], p2[None]]))[0]
    np.testing.assert_allclose(out, guided_filter(image, p2, 3, 1e-3), atol=1e-5)


@pytest.mark.tf_only
def test_differentiable_and_serializable():
    image, p = data()
    layer = GuidedFilter(3, 1e-3)
    p_var = tf.Variable(p[None, ..., None])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer([image[None], p_var]))
    grad = tape.gradient(loss, p_var)
    assert grad is not None and np.isfinite(grad.numpy()).all()
    clone = keras.layers.deserialize(keras.layers.serialize(layer))
    assert clone.get_config() == layer.get_config()
