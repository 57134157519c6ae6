import numpy as np
import pytest
import tensorflow as tf

from keras_matting.inference.high_resolution import (
    blend_weights,
    predict_mask_reduced,
    predict_trimap_tiled,
    tile_starts,
)


@pytest.mark.parametrize("length,tile,overlap", [(100, 100, 10), (1000, 256, 32), (777, 200, 50)])
def test_tile_starts_cover_with_overlap(length, tile, overlap):
    starts = tile_starts(length, tile, overlap)
    assert starts[0] == 0 and starts[-1] + min(tile, length) == length
    assert all(b - a <= tile - overlap for a, b in zip(starts[:-1], starts[1:], strict=True))


def test_tiled_equals_whole_for_a_pointwise_model_and_skips_known_tiles():
    rng = np.random.default_rng(0)
    h, w = 300, 410
    image = rng.random((h, w, 3)).astype(np.float32)
    trimap = np.zeros((h, w), np.float32)
    trimap[:, 250:] = 1
    trimap[40:120, 200:300] = 0.5  # unknown only in the top middle
    calls = []

    def predict(img, tri):  # pointwise: tiling must not change it
        calls.append(img.shape)
        return img[..., 0] * 0.8 + 0.1

    tiled = predict_trimap_tiled(predict, image, trimap, tile=128, overlap=32, max_pixels=0)
    whole = predict_trimap_tiled(predict, image, trimap, max_pixels=h * w)
    np.testing.assert_allclose(tiled, whole, atol=1e-6)
    assert np.all(tiled[trimap == 0] == 0) and np.all(tiled[trimap == 1] == 1)
    grid = len(tile_starts(h, 128, 32)) * len(tile_starts(w, 128, 32))
    assert 1 <= len(calls) - 1 < grid  # tiles without unknown pixels were skipped


def test_blend_weights_are_positive_and_flat_at_borders():
    weights = blend_weights(64, 64, 16, True, False, False, True)
    assert weights.min() > 0 and weights[0, -1] == 1 and weights[-1, 0] < 0.1


@pytest.fixture(scope="module")
def tiny_igf():
    from keras_matting.models.igf import IGFGenerator

    return IGFGenerator(encoder_channels=(4, 4, 4, 4, 8), decoder_channels=(4, 4, 4))


def test_reduced_igf_at_full_size_equals_predict_alpha(tiny_igf):
    rng = np.random.default_rng(1)
    image = rng.random((45, 70, 3)).astype(np.float32)
    mask = (rng.random((45, 70)) > 0.5).astype(np.float32)
    reference = tiny_igf.predict_alpha(image, mask)
    np.testing.assert_allclose(predict_mask_reduced(tiny_igf, image, mask), reference, atol=1e-5)


def test_reduced_igf_applies_low_resolution_coefficients_at_full_size(tiny_igf):
    import keras

    rng = np.random.default_rng(2)
    h, w = 128, 192  # network input 64x96 (multiple of 32): coefficients 16x24
    image = rng.random((h, w, 3)).astype(np.float32)
    mask = np.zeros((h, w), np.float32)
    mask[30:100, 40:150] = 1
    result = predict_mask_reduced(tiny_igf, image, mask, inference_side=96)
    # independent reference: the same coefficients, upsampled by TF to the full size
    import cv2

    low = np.concatenate(
        [cv2.resize(image, (96, 64), interpolation=cv2.INTER_AREA),
         cv2.resize(mask, (96, 64), interpolation=cv2.INTER_AREA)[..., None]], -1)[None]
    sub = keras.Model(tiny_igf.inputs[0], tiny_igf.get_layer("phi_ab").output)
    coeffs = tf.image.resize(sub(low, training=False), (h, w), method="bilinear")[0].numpy()
    reference = np.clip((coeffs[..., :3] * image).sum(-1) + coeffs[..., 3], 0, 1)
    np.testing.assert_allclose(result, reference, atol=1e-5)


def test_tiled_run_reports_progress_per_tile():
    h, w = 300, 410
    image = np.zeros((h, w, 3), np.float32)
    trimap = np.zeros((h, w), np.float32)
    trimap[40:120, 200:300] = 0.5
    calls, reports = [], []

    def predict(img, tri):
        calls.append(img.shape)
        return img[..., 0]

    predict_trimap_tiled(predict, image, trimap, tile=128, overlap=32, max_pixels=0,
                         progress=lambda done, total: reports.append((done, total)))
    total = len(calls)
    assert reports == [(i, total) for i in range(total + 1)]  # skipped tiles not counted
    reports.clear()
    predict_trimap_tiled(predict, image, trimap, max_pixels=h * w, progress=reports.append)
    assert reports == []  # a whole-image run has no tiles to report
