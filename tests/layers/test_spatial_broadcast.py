import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_matting.layers.spatial_broadcast import SpatialBroadcast


def test_broadcasts_to_reference_size():
    pooled = np.random.default_rng(0).random((2, 1, 1, 3)).astype("float32")
    reference = np.zeros((2, 5, 7, 8), "float32")
    out = keras.ops.convert_to_numpy(SpatialBroadcast()(pooled, reference))
    np.testing.assert_array_equal(out, np.broadcast_to(pooled, (2, 5, 7, 3)))


@pytest.mark.tf_only
def test_broadcasts_to_dynamic_reference_size():
    pooled = np.random.default_rng(0).random((2, 1, 1, 3)).astype("float32")
    reference = np.zeros((2, 5, 7, 8), "float32")
    layer = SpatialBroadcast()
    fn = tf.function(layer, input_signature=[tf.TensorSpec((None, 1, 1, 3)),
                                             tf.TensorSpec((None, None, None, 8))])
    for out in (layer(pooled, reference), fn(pooled, reference)):
        np.testing.assert_array_equal(out.numpy(), np.broadcast_to(pooled, (2, 5, 7, 3)))
