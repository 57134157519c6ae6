import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_matting.layers.bilinear_up_sampling_2d import BilinearUpSampling2D

to_np = keras.ops.convert_to_numpy
# bit-identical on TensorFlow (the same kernel); other backends' resize agrees to float32 rounding
ATOL = 0.0 if keras.backend.backend() == "tensorflow" else 1e-6


@pytest.mark.parametrize("size", [2, 4, 8])
def test_matches_tf_image_resize(size):
    x = np.random.default_rng(size).standard_normal((2, 5, 7, 3)).astype("float32")
    # the TensorFlow implementation this layer replaced: size computed in the graph
    shape = tf.shape(x)
    want = tf.image.resize(x, tf.stack([shape[1] * size, shape[2] * size]), method="bilinear")
    got = to_np(BilinearUpSampling2D(size)(x))
    np.testing.assert_allclose(got, want.numpy(), rtol=0, atol=ATOL)
    keras_up = keras.layers.UpSampling2D(size, interpolation="bilinear")(x)
    np.testing.assert_allclose(got, to_np(keras_up), atol=1e-6)


@pytest.mark.tf_only
def test_runs_with_dynamic_sizes():
    x = np.random.default_rng(0).random((2, 5, 7, 3)).astype("float32")
    layer = BilinearUpSampling2D(2)
    fn = tf.function(layer, input_signature=[tf.TensorSpec((None, None, None, 3))])
    np.testing.assert_array_equal(fn(x).numpy(), layer(x).numpy())
    assert BilinearUpSampling2D.from_config(layer.get_config()).size == 2
