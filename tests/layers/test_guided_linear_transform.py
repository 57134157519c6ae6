import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_matting.layers.guided_linear_transform import GuidedLinearTransform

to_np = keras.ops.convert_to_numpy


def test_applies_upsampled_coefficients():
    rng = np.random.default_rng(0)
    guide = rng.random((2, 16, 24, 4)).astype("float32")
    coeffs = rng.normal(0, 0.5, (2, 4, 6, 4)).astype("float32")
    up = tf.image.resize(coeffs, (16, 24), method="bilinear").numpy()
    raw = (up[..., :3] * guide[..., :3]).sum(-1, keepdims=True) + up[..., 3:]
    out = to_np(GuidedLinearTransform()([guide, coeffs]))
    np.testing.assert_allclose(out, np.clip(raw, 0, 1), atol=1e-5)
    unclipped = to_np(GuidedLinearTransform(clip=False)([guide, coeffs]))
    np.testing.assert_allclose(unclipped, raw, atol=1e-5)
    assert unclipped.min() < 0 or unclipped.max() > 1


def test_gray_guide_without_extra_channels():
    guide = np.full((1, 8, 8, 1), 0.5, "float32")
    coeffs = np.concatenate([np.full((1, 2, 2, 1), 0.4), np.full((1, 2, 2, 1), 0.1)], -1)
    out = to_np(GuidedLinearTransform()([guide, coeffs.astype("float32")]))
    np.testing.assert_allclose(out, 0.3, atol=1e-6)


def test_serialization():
    layer = GuidedLinearTransform(clip=False)
    clone = keras.layers.deserialize(keras.layers.serialize(layer))
    assert clone.get_config() == layer.get_config()


@pytest.mark.tf_only
def test_training_clip_passes_gradients_outside_unit_range():
    guide = np.ones((1, 8, 8, 2), "float32")
    # A = 0, B = -0.5: the raw output is below 0 everywhere; the target is 1.
    coeffs = tf.Variable(
        np.concatenate([np.zeros((1, 2, 2, 1)), np.full((1, 2, 2, 1), -0.5)], -1).astype("float32")
    )
    layer = GuidedLinearTransform()
    grads = {}
    for training in (False, True):
        with tf.GradientTape() as tape:
            out = layer([guide, coeffs], training=training)
            loss = tf.reduce_mean(tf.abs(1.0 - out))
        np.testing.assert_allclose(out.numpy(), 0.0)  # same forward value either way
        grads[training] = tape.gradient(loss, coeffs).numpy()
    assert not np.any(grads[False])  # a hard clip: stuck
    assert np.all(grads[True][..., 1] < 0)  # straight-through: B is pushed up
