import cv2
import keras
import numpy as np
import pytest

from keras_matting.layers.mask_band_blend import MaskBandBlend
from keras_matting.models.igf.igf_generator import IGFGenerator


def _reference(coeffs, mask, radius, ramp):
    """Independent numpy/OpenCV version: band = dilate - erode, box-averaged."""
    k = np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)
    m = mask.astype(np.float32)
    band = cv2.dilate(m, k, borderType=cv2.BORDER_REPLICATE) - cv2.erode(
        m, k, borderType=cv2.BORDER_REPLICATE
    )
    if ramp:
        n = 2 * ramp + 1
        ones = np.ones_like(band)
        band = cv2.boxFilter(band, -1, (n, n), normalize=False, borderType=cv2.BORDER_CONSTANT)
        band /= cv2.boxFilter(ones, -1, (n, n), normalize=False, borderType=cv2.BORDER_CONSTANT)
    w = band[..., None]
    return np.concatenate([coeffs[..., :-1] * w, coeffs[..., -1:] * w + (1 - w) * m[..., None]], -1)


@pytest.mark.parametrize("radius, ramp", [(1, 0), (3, 1), (5, 2)])
def test_matches_numpy_reference(radius, ramp):
    rng = np.random.default_rng(radius)
    mask = (cv2.GaussianBlur(rng.random((40, 52)).astype(np.float32), (0, 0), 4) > 0.5)
    mask = mask.astype(np.float32)
    mask[5:9, 30:33] = 0.5  # fractional values of an area-downsampled edge
    coeffs = rng.normal(size=(40, 52, 4)).astype(np.float32)
    guide = np.concatenate([rng.random((40, 52, 3)), mask[..., None]], -1).astype(np.float32)
    out = MaskBandBlend(radius, ramp=ramp)([coeffs[None], guide[None]])
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(out)[0], _reference(coeffs, mask, radius, ramp), atol=1e-5
    )


def test_generator_alpha_is_the_mask_away_from_its_edge():
    # random (untrained) weights: the network's own output is arbitrary, yet outside the
    # band the alpha must be exactly the mask, and inside it must not be
    gen = IGFGenerator(mask_band_radius=16)
    rng = np.random.default_rng(0)
    image = rng.random((1, 128, 160, 3)).astype(np.float32)
    mask = np.zeros((1, 128, 160, 1), np.float32)
    mask[:, 32:96, 40:120] = 1.0
    alpha = keras.ops.convert_to_numpy(gen(np.concatenate([image, mask], -1)))[0, ..., 0]
    far = np.ones((128, 160), bool)
    far[32 - 28 : 96 + 28, 40 - 28 : 120 + 28] = False  # outside
    inside = np.zeros_like(far)
    inside[32 + 28 : 96 - 28, 40 + 28 : 120 - 28] = True
    np.testing.assert_array_equal(alpha[far], 0.0)
    np.testing.assert_array_equal(alpha[inside], 1.0)
    edge = alpha[30:34, 50:110]
    assert np.abs(edge - mask[0, 30:34, 50:110, 0]).max() > 1e-3


def test_config_round_trip(tmp_path):
    gen = IGFGenerator(
        encoder_channels=(4, 4, 4, 4, 8), decoder_channels=(4, 4, 4), guided_filter_prior=True,
        mask_band_radius=12,
    )
    path = str(tmp_path / "g.keras")
    gen.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.mask_band_radius == 12
    x = np.random.default_rng(1).random((1, 64, 64, 4)).astype(np.float32)
    x[..., 3] = x[..., 3] > 0.5
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded(x)),
                                  keras.ops.convert_to_numpy(gen(x)))


def test_rejects_bad_arguments():
    with pytest.raises(ValueError):
        MaskBandBlend(0)
    with pytest.raises(ValueError):
        MaskBandBlend(2, ramp=-1)
