"""The GAN trainers' updates: each step moves its own network the right way and no other.

Every check is against an independent numpy computation of the quantity the step must
change (critic margin, generator adversarial loss, gradient penalty), on a fixed batch.
The critics are stateless (no BatchNorm, no spectral-norm power iteration), so a value
measured before and after a step differs only by the step's update.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_matting.models.alphagan import AlphaGAN, PatchGANDiscriminator
from keras_matting.models.igf import IGF, IGFGenerator

from .alphagan.conftest import make_batch, make_tiny_generator

SIZE = 32


def plain_critic(channels):
    """A two-layer conv critic without BatchNormalization or spectral normalisation."""
    return keras.Sequential([
        keras.Input((None, None, channels)),
        keras.layers.Conv2D(4, 3, padding="same", activation="tanh"),
        keras.layers.Conv2D(1, 3, padding="same"),
    ])


def tiny_igf(seed=0, discriminator=None):
    keras.utils.set_random_seed(seed)
    generator = IGFGenerator(encoder_channels=(4, 4, 4, 4, 4), decoder_channels=(4, 4, 4),
                             num_residual_blocks=1)
    return IGF(generator, discriminator or plain_critic(5), seed=seed)


def tiny_alphagan(seed=0):
    keras.utils.set_random_seed(seed)
    # filters=(8,): one C8 layer, which has no BatchNormalization in the PatchGAN.
    return AlphaGAN(make_tiny_generator(shallow=True), PatchGANDiscriminator(filters=(8,)),
                    seed=seed)


def igf_batch(n=2, seed=0):
    rng = np.random.default_rng(seed)
    alpha = np.zeros((n, SIZE, SIZE, 1), "float32")
    alpha[:, 8:24, 8:24] = 1.0
    alpha[:, 6:26, 6:26] = np.maximum(alpha[:, 6:26, 6:26], rng.random((n, 20, 20, 1)) * 0.8)
    return {
        "image": rng.random((n, SIZE, SIZE, 3)).astype("float32"),
        "mask": (alpha > 0.5).astype("float32"),
        "alpha": alpha,
    }


# Loss weights that leave only the adversarial term of the generator loss.
ADVERSARIAL_ONLY = {
    "igf": {"global_loss_weight": 0.0, "local_loss_weight": 0.0, "gabor_loss_weight": 0.0},
    "alphagan": {"alpha_loss_weight": 0.0, "comp_loss_weight": 0.0},
}


def make(kind, **compile_kwargs):
    """A tiny trainer compiled with SGD(0.05) for both networks, and a prepared batch."""
    model = tiny_igf() if kind == "igf" else tiny_alphagan()
    batch = igf_batch() if kind == "igf" else make_batch(2, SIZE, SIZE, seed=1)
    model.compile(g_optimizer=keras.optimizers.SGD(0.05),
                  d_optimizer=keras.optimizers.SGD(0.05), jit_compile=False, **compile_kwargs)
    batch = {k: tf.constant(v) for k, v in batch.items()}
    return model, model.prepare_batch(batch)


def critic_scores(kind, model, data, fake):
    """``(D(real), D(fake))`` as numpy, the critic in inference mode."""
    if kind == "igf":
        cond = [data["image"], data["mask"]]
        real = np.concatenate([*cond, data["alpha"]], -1)
        fake = np.concatenate([*cond, fake], -1)
    else:
        fg, bg, trimap = (np.asarray(data[k]) for k in ("fg", "bg", "trimap"))
        alpha = np.asarray(data["alpha"])
        real = np.concatenate([alpha * fg + (1 - alpha) * bg, trimap], -1)
        pred = np.asarray(fake)
        fake = np.concatenate([pred * fg + (1 - pred) * np.asarray(data["fake_bg"]), trimap], -1)
    return (model.discriminator(real, training=False).numpy(),
            model.discriminator(fake, training=False).numpy())


def generator_adversarial_loss(kind, model, data):
    """The generator's adversarial loss on ``data``: LSGAN ``E[(D(G) - 1)^2]`` (IGF),
    non-saturating ``E[-log sigmoid(D(G))]`` (AlphaGAN)."""
    fake = model.generate(data, training=True).numpy()
    _, scores = critic_scores(kind, model, data, fake)
    if kind == "igf":
        return float(np.mean((scores - 1.0) ** 2))
    return float(np.mean(np.logaddexp(0.0, -scores.astype(np.float64))))


def values(variables):
    return [np.array(v.numpy()) for v in variables]


@pytest.mark.parametrize("kind", ["igf", "alphagan"])
def test_critic_step_separates_real_from_fake_and_leaves_the_generator(kind):
    # The penalty alone pulls the critic elsewhere; test_gradient_penalty_* checks it.
    model, data = make(kind, **({"gradient_penalty_weight": 0.0} if kind == "igf" else {}))
    fake = model.generate(data, training=True)
    real_scores, fake_scores = critic_scores(kind, model, data, fake)
    margin_before = real_scores.mean() - fake_scores.mean()
    generator_before = values(model.generator.variables)

    model.critic_step(data, fake)

    real_scores, fake_scores = critic_scores(kind, model, data, fake)
    margin_after = real_scores.mean() - fake_scores.mean()
    assert margin_after > margin_before + 1e-3, (margin_before, margin_after)
    for before, after in zip(generator_before, values(model.generator.variables), strict=True):
        np.testing.assert_array_equal(before, after)
    assert int(model.d_optimizer.iterations) == 1 and int(model.g_optimizer.iterations) == 0


@pytest.mark.parametrize("kind", ["igf", "alphagan"])
def test_generator_step_lowers_its_adversarial_loss_and_leaves_the_critic(kind):
    model, data = make(kind, **ADVERSARIAL_ONLY[kind])
    loss_before = generator_adversarial_loss(kind, model, data)
    critic_before = values(model.discriminator.variables)
    generator_before = values(model.generator.trainable_variables)

    model.generator_step(data)

    loss_after = generator_adversarial_loss(kind, model, data)
    assert loss_after < loss_before - 1e-5, (loss_before, loss_after)
    for before, after in zip(critic_before, values(model.discriminator.variables), strict=True):
        np.testing.assert_array_equal(before, after)
    assert any(not np.array_equal(b, a) for b, a in
               zip(generator_before, values(model.generator.trainable_variables), strict=True))
    assert int(model.g_optimizer.iterations) == 1 and int(model.d_optimizer.iterations) == 0


@pytest.mark.parametrize("kind", ["igf", "alphagan"])
def test_train_step_is_a_critic_step_then_a_generator_step(kind):
    """``fit`` (one step, traced) equals generate -> critic_step -> generator_step, eagerly,
    from the same weights and seed: the skeleton detaches and orders the updates."""
    reference, data = make(kind)
    fake = reference.generate(data, training=True)
    reference.critic_step(data, fake)
    reference.generator_step(data)  # runs the generator again: same weights, same output

    model, _ = make(kind)
    batch = igf_batch() if kind == "igf" else make_batch(2, SIZE, SIZE, seed=1)
    model.fit(tf.data.Dataset.from_tensor_slices(batch).batch(2), epochs=1, verbose=0,
              shuffle=False)
    for a, b in zip(values(model.trainable_variables),
                    values(reference.trainable_variables), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def exponential_critic(image_weights, alpha_weight):
    """``D(x)_p = exp(w . [image, mask]_p + k alpha_p)``: a 1x1 conv, gradients in closed form."""
    critic = keras.Sequential([
        keras.Input((None, None, 5)),
        keras.layers.Conv2D(1, 1, use_bias=False, activation="exponential"),
    ])
    kernel = np.array([*image_weights, alpha_weight], "float32").reshape(1, 1, 5, 1)
    critic.layers[-1].kernel.assign(kernel)
    return critic


def test_gradient_penalty_equals_the_closed_form():
    """GP = mean_i (||grad_x c_i||_2 - 1)^2 at x_i = eps_i alpha_i + (1 - eps_i) pred_i, with
    c_i the mean of the score map; for D = exp(w.[I, M] + k x) per pixel,
    dc_i/dx_p = k D_p / P, computed here in numpy with eps_i ~ U(0, 1) per sample from
    the trainer's seed."""
    rng = np.random.default_rng(3)
    n, h, w = 3, 8, 6
    image = rng.random((n, h, w, 3)).astype("float32")
    mask = (rng.random((n, h, w, 1)) > 0.5).astype("float32")
    scale = np.array([0.2, 1.0, 1.5], "float32").reshape(n, 1, 1, 1)  # norms ~0.5, 1.3, 3.5
    alpha = (rng.random((n, h, w, 1)) * scale).astype("float32")
    pred = (rng.random((n, h, w, 1)) * scale).astype("float32")
    weights, k = (0.3, -0.2, 0.1, 0.5), 2.0

    def penalty(seed):
        model = tiny_igf(discriminator=exponential_critic(weights, k))
        model.seed_generator = keras.random.SeedGenerator(seed)
        return float(model.gradient_penalty(image, mask, alpha, pred))

    eps = keras.random.uniform((n, 1, 1, 1), seed=keras.random.SeedGenerator(7)).numpy()
    x = eps * alpha + (1 - eps) * pred
    logits = np.concatenate([image, mask], -1).astype(np.float64) @ np.array(weights[:4])
    scores = np.exp(logits[..., None] + k * x)
    norms = np.sqrt(np.sum((k * scores / (h * w)) ** 2, axis=(1, 2, 3)))
    assert norms.min() < 1 < norms.max()  # both sides of the penalty's kink
    expected = np.mean((norms - 1) ** 2)

    np.testing.assert_allclose(penalty(7), expected, rtol=1e-5)
    assert penalty(7) == penalty(7)  # seeded
    assert abs(penalty(8) - expected) > 1e-3  # the draw depends on the seed


def test_model_optimizer_is_the_generators_and_compile_config_round_trips(tmp_path):
    model = tiny_igf()
    model.compile(g_optimizer=keras.optimizers.Adam(3e-4), jit_compile=False,
                  gabor_loss_weight=50.0)
    assert model.optimizer is model.g_optimizer
    config = model.get_compile_config()
    assert config["jit_compile"] is False and config["gabor_loss_weight"] == 50.0
    path = tmp_path / "igf.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert loaded.optimizer is loaded.g_optimizer
    assert loaded.get_compile_config()["jit_compile"] is False
    assert float(loaded.g_optimizer.learning_rate) == pytest.approx(3e-4)
    # dict configs are accepted for the networks, as from_config passes them
    clone = IGF(keras.saving.serialize_keras_object(model.generator),
                keras.saving.serialize_keras_object(model.discriminator))
    assert isinstance(clone.generator, IGFGenerator)
    with pytest.raises(ValueError, match="g_optimizer"):
        model.compile(optimizer="adam")


def test_resume_checkpoint_of_the_previous_trainer_loads_without_optimizer_warnings(tmp_path):
    """``checkpoints/igf_realism/trainer_best.keras`` was saved when ``model.optimizer`` was
    an unused RMSprop: it loads with its Adam states, and a save/resume round trip of the
    weights (what ``BackupAndRestore`` does) warns about no skipped variables."""
    import os
    import warnings

    path = os.path.join(os.path.dirname(__file__), "..", "..", "checkpoints", "igf_realism",
                        "trainer_best.keras")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = keras.saving.load_model(path, safe_mode=True)
        assert isinstance(model, IGF) and model.optimizer is model.g_optimizer
        assert int(model.g_optimizer.iterations) > 0
        weights = str(tmp_path / "latest.weights.h5")
        model.save_weights(weights)
        model.g_optimizer.iterations.assign(0)
        model.load_weights(weights)
    skipped = [str(w.message) for w in caught if "Skipping variable loading" in str(w.message)]
    assert not skipped, skipped
    assert int(model.g_optimizer.iterations) > 0


@pytest.mark.parametrize("step", ["critic", "generator"])
def test_optimizer_loss_scale_factor_leaves_the_update_unchanged(step):
    """Optimizers divide gradients by their ``loss_scale_factor`` in ``apply``; the steps
    must scale the loss by it (``optimizer.scale_loss``), or the update shrinks by it."""
    updated = []
    for factor in (None, 1024.0):
        model, data = make("igf")
        optimizer = keras.optimizers.SGD(0.05, loss_scale_factor=factor)
        key = "d_optimizer" if step == "critic" else "g_optimizer"
        model.compile(**{key: optimizer}, jit_compile=False)
        if step == "critic":
            model.critic_step(data, model.generate(data, training=True))
            updated.append(values(model.discriminator.trainable_variables))
        else:
            model.generator_step(data)
            updated.append(values(model.generator.trainable_variables))
    for a, b in zip(*updated, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def _under_policy(policy, build):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        return build()
    finally:
        keras.config.set_dtype_policy(previous)


def test_mixed_bfloat16_step_is_close_to_float32():
    """Same weights, same batch: one fit step under ``mixed_bfloat16`` logs finite losses
    within 1% of float32's (bfloat16 keeps 8 bits of mantissa)."""
    logs = {}
    for policy in ("float32", "mixed_bfloat16"):
        model = _under_policy(policy, tiny_igf)
        assert model.generator.dtype_policy.name == policy
        model.compile(jit_compile=False)
        history = model.fit(tf.data.Dataset.from_tensor_slices(igf_batch()).batch(2),
                            epochs=1, verbose=0, shuffle=False).history
        logs[policy] = {k: v[-1] for k, v in history.items()}
    for name, value in logs["float32"].items():
        assert np.isfinite(logs["mixed_bfloat16"][name]), name
        np.testing.assert_allclose(logs["mixed_bfloat16"][name], value, rtol=1e-2, err_msg=name)


def test_mixed_float16_updates_are_loss_scaled():
    """Under ``mixed_float16`` both optimizers are ``LossScaleOptimizer``s: a loss of
    ~1e-7 has float16 activation gradients that underflow to 0 unscaled; scaled, the
    generator step still moves the weights."""
    model = _under_policy("mixed_float16", tiny_igf)
    model.compile(g_optimizer=keras.optimizers.SGD(1e4), jit_compile=False,
                  global_loss_weight=1e-7, local_loss_weight=0.0, gabor_loss_weight=0.0,
                  adversarial_loss_weight=0.0)
    assert isinstance(model.g_optimizer, keras.optimizers.LossScaleOptimizer)
    assert isinstance(model.d_optimizer, keras.optimizers.LossScaleOptimizer)
    assert model.optimizer is model.g_optimizer
    data = {k: tf.constant(v) for k, v in igf_batch().items()}
    before = values(model.generator.trainable_variables)
    model.generator_step(data)
    assert any(not np.array_equal(b, a) for b, a in
               zip(before, values(model.generator.trainable_variables), strict=True))
