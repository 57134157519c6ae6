import keras
import numpy as np
import pytest

from keras_matting.metrics import UnknownMSE, mse


def _batch(seed=0, batch=3, size=(12, 10)):
    rng = np.random.default_rng(seed)
    gt = rng.random((batch, *size, 1)).astype("float32")
    pred = rng.random((batch, *size, 1)).astype("float32")
    trimap = rng.choice(np.array([0.0, 0.5, 1.0], "float32"), (batch, *size, 1))
    return gt, pred, trimap


def _per_image(gt, pred, trimap):
    return [
        mse(p[..., 0], g[..., 0], np.round(t[..., 0] * 255).astype(np.uint8), quantize=False)
        for g, p, t in zip(gt, pred, trimap, strict=True)
    ]


def test_matches_numpy_per_image_mean():
    gt, pred, trimap = _batch(0)
    metric = UnknownMSE()
    metric.update_state(gt, pred, trimap=trimap)
    assert float(metric.result()) == pytest.approx(np.mean(_per_image(gt, pred, trimap)), rel=1e-5)


def test_images_without_unknown_pixels_are_skipped_and_weights_apply():
    gt, pred, trimap = _batch(1)
    trimap[1] = 1.0  # no unknown pixel: MSE undefined (nan in numpy), skipped here
    values = _per_image(gt, pred, trimap)
    assert np.isnan(values[1])
    metric = UnknownMSE()
    metric.update_state(np.concatenate([gt, trimap], -1), pred, sample_weight=[2.0, 5.0, 1.0])
    expected = (2 * values[0] + values[2]) / 3
    assert float(metric.result()) == pytest.approx(expected, rel=1e-5)


def test_serialization_round_trip():
    metric = UnknownMSE()
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(metric))
    assert isinstance(restored, UnknownMSE) and restored.name == "unknown_mse"
