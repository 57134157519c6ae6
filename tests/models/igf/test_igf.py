import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_matting.models.igf import (
    IGF,
    IGFDiscriminator,
    IGFGenerator,
    igf_learning_rate_schedule,
    igf_optimizer,
)

SIZE = 32


def batches(n=4, size=SIZE, seed=0, trimap=False):
    rng = np.random.default_rng(seed)
    alpha = np.zeros((n, size, size, 1), "float32")
    alpha[:, 8:24, 8:24] = 1.0
    alpha[:, 6:26, 6:26] = np.maximum(alpha[:, 6:26, 6:26], rng.random((n, 20, 20, 1)) * 0.8)
    data = {
        "image": rng.random((n, size, size, 3)).astype("float32"),
        "mask": (alpha > 0.5).astype("float32"),
        "alpha": alpha,
        "fg": rng.random((n, size, size, 3)).astype("float32"),
        "bg": rng.random((n, size, size, 3)).astype("float32"),
    }
    if trimap:
        data["trimap"] = np.where(alpha == 1.0, 1.0, np.where(alpha == 0.0, 0.0, 0.5)).astype(
            "float32"
        )
    return tf.data.Dataset.from_tensor_slices(data).batch(2)


def tiny_igf(seed=0):
    keras.utils.set_random_seed(seed)
    gen = IGFGenerator(
        encoder_channels=(4, 4, 4, 4, 4), decoder_channels=(4, 4, 4), num_residual_blocks=1
    )
    disc = IGFDiscriminator(filters=2, num_layers=2)
    return IGF(gen, disc, seed=seed)


@pytest.mark.parametrize("jit_compile", [False, True])
@pytest.mark.slow
def test_fit_two_steps(jit_compile):
    igf = tiny_igf()
    igf.compile(jit_compile=jit_compile)
    before = [v.numpy().copy() for v in igf.generator.trainable_variables]
    d_before = [v.numpy().copy() for v in igf.discriminator.trainable_variables]
    history = igf.fit(batches(), epochs=1, verbose=0, shuffle=False).history
    for name in ("g_loss", "d_loss", "global_loss", "local_loss", "gabor_loss", "gradient_penalty"):
        assert np.isfinite(history[name][-1]), name
    assert history["gradient_penalty"][-1] > 0.0
    assert history["local_loss"][-1] > 0.0 and history["gabor_loss"][-1] > 0.0
    assert igf.g_optimizer.iterations.numpy() == 2 and igf.d_optimizer.iterations.numpy() == 2
    assert any(not np.array_equal(a, v.numpy()) for a, v in zip(before, igf.generator.trainable_variables, strict=True))
    assert any(
        not np.array_equal(a, v.numpy()) for a, v in zip(d_before, igf.discriminator.trainable_variables, strict=True)
    )


def test_evaluate_reports_unknown_region_errors():
    igf = tiny_igf()
    igf.compile()
    with_trimap = igf.evaluate(batches(trimap=True), verbose=0, return_dict=True)
    from_mask = igf.evaluate(batches(), verbose=0, return_dict=True)
    for logs in (with_trimap, from_mask):
        assert set(logs) >= {"sad", "mse"}
        assert np.isfinite(logs["sad"]) and logs["sad"] > 0 and 0 < logs["mse"] <= 1


def test_keras_round_trip(tmp_path):
    igf = tiny_igf()
    schedule = igf_learning_rate_schedule(total_steps=100, warmup_steps=10)
    igf.compile(g_optimizer=igf_optimizer(schedule), d_optimizer=igf_optimizer(schedule))
    rng = np.random.default_rng(2)
    for layer in igf.generator.layers + igf.discriminator.layers:
        if isinstance(layer, keras.layers.BatchNormalization):  # non-trivial statistics
            c = layer.gamma.shape[0]
            layer.moving_mean.assign(rng.normal(0, 0.1, c).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.5, 1.5, c).astype("float32"))
    path = tmp_path / "igf.keras"
    igf.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded, IGF)
    x = np.random.default_rng(0).random((2, SIZE, SIZE, 4)).astype("float32")
    np.testing.assert_array_equal(loaded(x).numpy(), igf(x).numpy())
    triplet = np.random.default_rng(1).random((2, SIZE, SIZE, 5)).astype("float32")
    np.testing.assert_array_equal(
        loaded.discriminator(triplet).numpy(), igf.discriminator(triplet).numpy()
    )
    assert loaded.gabor_loss_weight == 200.0 and loaded.gradient_penalty_weight == 10.0
    assert loaded.g_optimizer.beta_1 == 0.5
    assert float(loaded.g_optimizer.learning_rate) == pytest.approx(0.0)  # warm-up step 0


def test_learning_rate_schedule_warmup_then_cosine():
    schedule = igf_learning_rate_schedule(total_steps=110, warmup_steps=10)
    lr = [float(schedule(s)) for s in (0, 5, 10, 60, 110)]
    assert lr[0] == pytest.approx(0.0) and lr[1] == pytest.approx(5e-5)
    assert lr[2] == pytest.approx(1e-4) and lr[3] == pytest.approx(5e-5, rel=1e-4)
    assert lr[4] == pytest.approx(0.0, abs=1e-12)
    clone = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(schedule))
    assert float(clone(60)) == pytest.approx(lr[3])
    adam = igf_optimizer(schedule)
    assert adam.beta_1 == 0.5 and adam.beta_2 == 0.999
