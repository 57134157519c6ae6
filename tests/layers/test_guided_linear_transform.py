import keras
import numpy as np
import tensorflow as tf

from keras_matting.layers.guided_linear_transform import GuidedLinearTransform


def test_applies_upsampled_coefficients():
    rng = np.random.default_rng(0)
    guide = rng.random((2, 16, 24, 4)).astype("float32")
    coeffs = rng.normal(0, 0.5, (2, 4, 6, 4)).astype("float32")
    up = tf.image.resize(coeffs, (16, 24), method="bilinear").numpy()
    raw = (up[..., :3] * guide[..., :3]).sum(-1, keepdims=True) + up[..., 3:]
    out = GuidedLinearTransform()([guide, coeffs]).numpy()
    np.testing.assert_allclose(out, np.clip(raw, 0, 1), atol=1e-5)
    unclipped = GuidedLinearTransform(clip=False)([guide, coeffs]).numpy()
    np.testing.assert_allclose(unclipped, raw, atol=1e-5)
    assert unclipped.min() < 0 or unclipped.max() > 1


def test_gray_guide_without_extra_channels():
    guide = np.full((1, 8, 8, 1), 0.5, "float32")
    coeffs = np.concatenate([np.full((1, 2, 2, 1), 0.4), np.full((1, 2, 2, 1), 0.1)], -1)
    out = GuidedLinearTransform()([guide, coeffs.astype("float32")]).numpy()
    np.testing.assert_allclose(out, 0.3, atol=1e-6)


def test_serialization():
    layer = GuidedLinearTransform(clip=False)
    clone = keras.layers.deserialize(keras.layers.serialize(layer))
    assert clone.get_config() == layer.get_config()
