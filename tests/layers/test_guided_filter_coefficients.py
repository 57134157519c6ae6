import keras
import numpy as np

from keras_matting.filters.guided_filter import guided_filter
from keras_matting.layers import GuidedFilterCoefficients, GuidedLinearTransform


def test_coefficients_reproduce_the_guided_filter():
    rng = np.random.default_rng(0)
    image = rng.random((1, 40, 52, 3)).astype("float32")
    mask = (rng.random((1, 40, 52, 1)) > 0.5).astype("float32")
    x = np.concatenate([image, mask], axis=-1)
    coeffs = GuidedFilterCoefficients(radius=5, epsilon=1e-3)(x)
    assert coeffs.shape == (1, 40, 52, 4)
    out = keras.ops.convert_to_numpy(GuidedLinearTransform(clip=False)([x, coeffs]))[0, ..., 0]
    expected = guided_filter(image[0].astype("float64"), mask[0, ..., 0].astype("float64"), 5, 1e-3)
    np.testing.assert_allclose(out, expected, atol=1e-4)


def test_serialization():
    layer = GuidedFilterCoefficients(radius=3, epsilon=1e-4, name="gf")
    clone = keras.layers.deserialize(keras.layers.serialize(layer))
    assert clone.get_config() == layer.get_config()
