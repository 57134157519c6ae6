import numpy as np
import pytest
import tensorflow as tf

from keras_matting.inference.padding import crop_to_size, pad_to_multiple


@pytest.mark.parametrize("height,width", [(8, 8), (9, 17), (3, 5), (333, 517)])
def test_pad_then_crop_is_identity(height, width):
    x = np.random.default_rng(0).random((2, height, width, 3)).astype("float32")
    padded, size = pad_to_multiple(tf.constant(x), 8)
    assert padded.shape[1] % 8 == 0 and padded.shape[2] % 8 == 0
    assert padded.shape[1] - height < 8 and padded.shape[2] - width < 8
    np.testing.assert_array_equal(crop_to_size(padded, size).numpy(), x)


def test_reflect_padding_mirrors_border():
    x = tf.reshape(tf.range(1.0, 10.0), (1, 3, 3, 1))
    padded, _ = pad_to_multiple(x, 4)
    # reflect (not symmetric): row 3 mirrors row 1 around row 2
    np.testing.assert_array_equal(padded[0, 3, :3, 0].numpy(), [4.0, 5.0, 6.0])
