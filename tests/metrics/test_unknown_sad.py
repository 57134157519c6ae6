import keras
import numpy as np
import pytest

from keras_matting.metrics import UnknownSAD, sad


def _batch(seed=0, batch=3, size=(12, 10)):
    rng = np.random.default_rng(seed)
    gt = rng.random((batch, *size, 1)).astype("float32")
    pred = rng.random((batch, *size, 1)).astype("float32")
    trimap = rng.choice(np.array([0.0, 0.5, 1.0], "float32"), (batch, *size, 1))
    return gt, pred, trimap


def _reference(gt, pred, trimap, weights=None):
    values = [
        sad(p[..., 0], g[..., 0], np.round(t[..., 0] * 255).astype(np.uint8), quantize=False)
        for g, p, t in zip(gt, pred, trimap, strict=True)
    ]
    return np.average(values, weights=weights)


def test_matches_numpy_with_trimap_argument():
    metric = UnknownSAD()
    gt, pred, trimap = _batch(0)
    metric.update_state(gt, pred, trimap=trimap)
    gt2, pred2, trimap2 = _batch(1, batch=2)
    metric.update_state(gt2[..., 0], pred2[..., 0], trimap=(trimap2 * 255).round().astype("uint8"))
    expected = _reference(
        np.concatenate([gt, gt2]), np.concatenate([pred, pred2]), np.concatenate([trimap, trimap2])
    )
    assert float(metric.result()) == pytest.approx(expected, rel=1e-5)
    metric.reset_state()
    assert float(metric.result()) == 0.0


def test_stacked_y_true_and_sample_weight():
    gt, pred, trimap = _batch(2)
    weights = np.array([1.0, 0.0, 3.0], "float32")
    metric = UnknownSAD()
    metric.update_state(np.concatenate([gt, trimap], axis=-1), pred, sample_weight=weights)
    assert float(metric.result()) == pytest.approx(_reference(gt, pred, trimap, weights), rel=1e-5)
    with pytest.raises(ValueError, match="trimap="):
        metric.update_state(gt, pred, trimap)  # a trimap passed as sample_weight
    with pytest.raises(ValueError, match="stack"):
        metric.update_state(gt, pred)


def test_serialization_round_trip():
    metric = UnknownSAD(name="sad_u")
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(metric))
    assert isinstance(restored, UnknownSAD) and restored.name == "sad_u"
    assert UnknownSAD.from_config(metric.get_config()).get_config() == metric.get_config()


def test_in_model_compile():
    gt, pred, trimap = _batch(4, batch=4, size=(8, 8))
    inputs = keras.Input((8, 8, 1))
    model = keras.Model(inputs, keras.layers.Identity()(inputs))
    model.compile(loss=lambda y_true, y_pred: keras.ops.mean(y_pred), metrics=[UnknownSAD()])
    logs = model.evaluate(
        pred, np.concatenate([gt, trimap], -1), batch_size=2, verbose=0, return_dict=True
    )
    assert logs["unknown_sad"] == pytest.approx(_reference(gt, pred, trimap), rel=1e-5)


def test_in_compiled_custom_step():
    import tensorflow as tf

    gt, pred, trimap = _batch(5)
    metric = UnknownSAD()

    @tf.function
    def test_step(alpha_true, alpha_pred, trimap):
        metric.update_state(alpha_true, alpha_pred, trimap=trimap)

    test_step(gt, pred, (trimap * 255).round().astype("uint8"))
    assert float(metric.result()) == pytest.approx(_reference(gt, pred, trimap), rel=1e-5)
