import numpy as np

from keras_matting.models.alphagan.alphagan_losses import (
    alpha_prediction_loss,
    compositional_loss,
    discriminator_loss,
    generator_adversarial_loss,
)


def _data(seed=0):
    rng = np.random.default_rng(seed)
    trimap = rng.choice([0.0, 0.5, 1.0], size=(2, 8, 9, 1)).astype("float32")
    alpha, pred = (rng.random((2, 8, 9, 1)).astype("float32") for _ in range(2))
    fg, bg = (rng.random((2, 8, 9, 3)).astype("float32") for _ in range(2))
    return trimap, alpha, pred, fg, bg


def test_alpha_and_compositional_losses_match_numpy():
    trimap, alpha, pred, fg, bg = _data()
    unknown = trimap[..., 0] == 0.5
    eps2 = 1e-12
    want = np.sqrt((pred - alpha)[..., 0][unknown].astype("float64") ** 2 + eps2).mean()
    np.testing.assert_allclose(float(alpha_prediction_loss(alpha, pred, trimap)), want, rtol=1e-5)
    image = alpha * fg + (1 - alpha) * bg
    comp = pred * fg + (1 - pred) * bg
    want = np.sqrt((comp - image)[unknown].astype("float64") ** 2 + eps2).mean()
    np.testing.assert_allclose(
        float(compositional_loss(image, fg, bg, pred, trimap)), want, rtol=1e-5
    )
    # perfect prediction: eps, not 0 (Xu et al.'s sqrt(d^2 + eps^2))
    np.testing.assert_allclose(float(alpha_prediction_loss(alpha, alpha, trimap)), 1e-6, rtol=1e-3)


def test_no_unknown_region_gives_zero():
    trimap, alpha, pred, fg, bg = _data(1)
    known = np.where(trimap == 0.5, 1.0, trimap).astype("float32")
    assert float(alpha_prediction_loss(alpha, pred, known)) == 0.0
    assert float(compositional_loss(fg, fg, bg, pred, known)) == 0.0


def test_adversarial_losses_are_stable_bce_on_logits():
    real = np.array([[[[3.0], [-2.0]], [[200.0], [-200.0]]]], "float32")
    fake = np.array([[[[-1.0], [0.5]], [[-300.0], [90.0]]]], "float32")

    def softplus(x):
        return np.logaddexp(0.0, x.astype("float64"))

    want_d = softplus(-real).mean() + softplus(fake).mean()  # -log s(r) - log(1 - s(f))
    np.testing.assert_allclose(float(discriminator_loss(real, fake)), want_d, rtol=1e-5)
    want_g = softplus(-fake).mean()  # -log s(f)
    np.testing.assert_allclose(float(generator_adversarial_loss(fake)), want_g, rtol=1e-5)
