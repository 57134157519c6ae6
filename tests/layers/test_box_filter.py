import keras
import numpy as np
import pytest

from keras_matting.filters.guided_filter import box_mean
from keras_matting.layers.box_filter import BoxFilter

to_np = keras.ops.convert_to_numpy


def naive_box(x, r, normalize):
    h, w = x.shape[:2]
    out = np.zeros_like(x, dtype=np.float64)
    for i in range(h):
        for j in range(w):
            win = x[max(0, i - r) : i + r + 1, max(0, j - r) : j + r + 1]
            out[i, j] = win.mean(axis=(0, 1)) if normalize else win.sum(axis=(0, 1))
    return out


@pytest.mark.parametrize("radius", [0, 1, 3, 20])
@pytest.mark.parametrize("normalize", [True, False])
def test_matches_naive_windows(radius, normalize):
    x = np.random.default_rng(radius).random((2, 13, 17, 2)).astype("float32")
    out = to_np(BoxFilter(radius, normalize=normalize)(x))
    for n in range(2):
        np.testing.assert_allclose(out[n], naive_box(x[n], radius, normalize), rtol=1e-5, atol=1e-5)


def test_matches_numpy_box_mean():
    x = np.random.default_rng(0).random((1, 40, 31, 3)).astype("float32")
    np.testing.assert_allclose(to_np(BoxFilter(6)(x))[0], box_mean(x[0], 6), atol=1e-6)


def test_serialization_round_trip():
    layer = BoxFilter(4, normalize=False, name="box")
    clone = keras.layers.deserialize(keras.layers.serialize(layer))
    assert clone.get_config() == layer.get_config()
