import keras
import numpy as np
import tensorflow as tf

from keras_matting.layers.bilinear_up_sampling_2d import BilinearUpSampling2D


def test_matches_keras_upsampling_and_runs_with_dynamic_sizes():
    x = np.random.default_rng(0).random((2, 5, 7, 3)).astype("float32")
    want = keras.layers.UpSampling2D(2, interpolation="bilinear")(x).numpy()
    layer = BilinearUpSampling2D(2)
    np.testing.assert_allclose(layer(x).numpy(), want, atol=1e-6)
    fn = tf.function(layer, input_signature=[tf.TensorSpec((None, None, None, 3))])
    np.testing.assert_allclose(fn(x).numpy(), want, atol=1e-6)
    assert BilinearUpSampling2D.from_config(layer.get_config()).size == 2
