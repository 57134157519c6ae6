import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_matting.models.alphagan import AlphaGAN

from .conftest import make_batch, make_tiny_alphagan


def _dataset(batch):
    return tf.data.Dataset.from_tensor_slices(batch).batch(2)


@pytest.mark.parametrize("jit_compile", [False, True])
@pytest.mark.slow
def test_fit_two_steps_updates_both_networks(jit_compile):
    model = make_tiny_alphagan()
    model.compile(jit_compile=jit_compile)
    g_before = [w.numpy().copy() for w in model.generator.trainable_weights]
    d_before = [w.numpy().copy() for w in model.discriminator.trainable_weights]
    history = model.fit(_dataset(make_batch(4, 16, 16)), epochs=1, verbose=0, shuffle=False)
    assert set(history.history) == {"d_loss", "g_loss", "alpha_loss", "comp_loss", "gan_loss"}
    assert all(np.isfinite(v[-1]) for v in history.history.values())
    assert int(model.g_optimizer.iterations) == 2 and int(model.d_optimizer.iterations) == 2
    for before, weights in ((g_before, model.generator), (d_before, model.discriminator)):
        assert any(
            not np.array_equal(b, w.numpy())
            for b, w in zip(before, weights.trainable_weights, strict=True)
        )


@pytest.mark.slow
def test_evaluate_reports_unknown_region_sad_and_mse():
    model = make_tiny_alphagan()
    model.compile()
    batch = make_batch(2, 16, 24, seed=7)
    result = model.evaluate(_dataset(batch), verbose=0, return_dict=True)
    pred = model.generator(np.concatenate([batch["image"], batch["trimap"]], -1)).numpy()
    unknown = batch["trimap"] == 0.5
    err = (pred - batch["alpha"]) * unknown
    np.testing.assert_allclose(result["sad"], np.abs(err).sum(axis=(1, 2, 3)).mean() / 1000,
                               rtol=1e-4)
    mse = (err**2).sum(axis=(1, 2, 3)) / unknown.sum(axis=(1, 2, 3))
    np.testing.assert_allclose(result["mse"], mse.mean(), rtol=1e-4)
    assert {"alpha_loss", "comp_loss"} <= set(result)


def test_other_backgrounds_never_reuse_own_for_batches_over_one():
    model = make_tiny_alphagan(seed=3)
    bg = np.arange(5, dtype="float32").reshape(5, 1, 1, 1) * np.ones((5, 2, 2, 3), "float32")
    for _ in range(5):
        picked = model._other_backgrounds(bg).numpy()[:, 0, 0, 0]
        assert sorted(picked) == [0, 1, 2, 3, 4] and np.all(picked != np.arange(5))
    np.testing.assert_array_equal(model._other_backgrounds(bg[:1]).numpy(), bg[:1])


@pytest.mark.slow
def test_keras_round_trip_of_compiled_trainer(tmp_path):
    model = make_tiny_alphagan(seed=5)
    model.compile(
        g_optimizer=keras.optimizers.Adam(1e-4), alpha_loss_weight=0.5, gan_loss_weight=0.1,
    )
    model.d_optimizer.iterations.assign(3)
    path = tmp_path / "alphagan.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded, AlphaGAN)
    batch = make_batch(1, 24, 40, seed=9)
    x = np.concatenate([batch["image"], batch["trimap"]], -1)
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
    np.testing.assert_array_equal(loaded(batch).numpy(), model(x).numpy())
    np.testing.assert_array_equal(loaded.discriminator(x).numpy(), model.discriminator(x).numpy())
    assert loaded.alpha_loss_weight == 0.5 and loaded.gan_loss_weight == 0.1
    assert float(loaded.g_optimizer.learning_rate) == pytest.approx(1e-4)
    assert int(loaded.d_optimizer.iterations) == 3
